"""Read the meters behind one concentrator over Modbus/TCP.

This module does network I/O only: it takes plain meter plans and returns
plain results, so the poller can keep database work outside the read.
"""

import asyncio
import logging
from dataclasses import dataclass, field
from decimal import Decimal

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from devices.modbus.decoding import DecodingError, RegisterSpec, decode_value

logger = logging.getLogger(__name__)


class ConcentratorUnreachable(Exception):
    """The concentrator refused the TCP connection or did not accept it in time."""


@dataclass(frozen=True)
class MeterPlan:
    """The read plan of one meter: its unit id and register specs."""

    meter_id: int
    serial: str
    unit_id: int
    specs: tuple[RegisterSpec, ...]


@dataclass
class MeterResult:
    """The values read from one meter, and the errors met on the way."""

    meter_id: int
    serial: str
    values: dict[str, Decimal] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.errors


async def _read_registers(client, spec: RegisterSpec, unit_id: int):
    if spec.function_code == 4:
        response = await client.read_input_registers(
            spec.address, count=spec.count, device_id=unit_id
        )
    else:
        response = await client.read_holding_registers(
            spec.address, count=spec.count, device_id=unit_id
        )
    if response.isError():
        code = getattr(response, "exception_code", None)
        raise ModbusException(
            f"unit {unit_id} returned exception {code} "
            f"for FC{spec.function_code} at {spec.address:#06x}"
        )
    return response.registers


async def read_meter(client, plan: MeterPlan) -> MeterResult:
    """Read every quantity of one meter; stop at the first transport failure.

    A meter that does not respond to one request is not asked for its other
    quantities, so one dead unit costs one timeout, not one per register.
    A value that decodes to NaN or infinity is rejected and logged.
    """
    result = MeterResult(meter_id=plan.meter_id, serial=plan.serial)
    for spec in plan.specs:
        try:
            registers = await _read_registers(client, spec, plan.unit_id)
        except ModbusException as error:
            message = f"{spec.quantity}: {error}"
            result.errors.append(message)
            logger.warning("Meter %s read failed: %s", plan.serial, message)
            break
        try:
            result.values[spec.quantity] = decode_value(registers, spec)
        except DecodingError as error:
            message = f"{spec.quantity}: {error}"
            result.errors.append(message)
            logger.warning("Meter %s value rejected: %s", plan.serial, message)
    return result


async def read_concentrator(
    host: str,
    port: int,
    plans: list[MeterPlan],
    timeout: float,
    between_meters=None,
) -> list[MeterResult]:
    """Connect to one concentrator and read each planned meter in turn.

    Meters share one TCP connection and are addressed by unit id, the way a
    gateway to an RS-485 line expects. `between_meters`, an async callable,
    runs before each meter after the first; when it returns False the poll
    stops and the meters left get no result. Raise ConcentratorUnreachable
    when the connection cannot be opened.
    """
    # retries=0 and reconnect_delay=0: the poller decides about retries, and a
    # failed meter must not make the client reconnect behind its back.
    client = AsyncModbusTcpClient(
        host, port=port, timeout=timeout, retries=0, reconnect_delay=0
    )
    try:
        connected = await asyncio.wait_for(client.connect(), timeout=timeout + 1)
    except (TimeoutError, OSError) as error:
        client.close()
        raise ConcentratorUnreachable(
            f"connection to {host}:{port} failed: {error or 'timed out'}"
        ) from error
    if not connected:
        client.close()
        raise ConcentratorUnreachable(
            f"connection to {host}:{port} was refused or timed out after {timeout} s"
        )
    try:
        results = []
        for plan in plans:
            if results and between_meters is not None and not await between_meters():
                logger.warning(
                    "Poll of %s:%s stopped before meter %s", host, port, plan.serial
                )
                break
            results.append(await read_meter(client, plan))
            if not client.connected:
                # The gateway dropped the connection: reconnect once for the rest.
                await client.connect()
        return results
    finally:
        client.close()
