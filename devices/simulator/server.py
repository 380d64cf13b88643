"""Modbus/TCP servers that stand in for concentrators and the meters behind them.

Each concentrator is one pymodbus server on its own port. Each meter is a
pymodbus `SimDevice` at its unit id that serves its catalog model's register
map, with one register block shared by FC3 and FC4 at the same addresses. The
registers are filled at request time from the BDEW load profiles, so the energy
register advances with a realistic daily and seasonal shape.
"""

import asyncio
import concurrent.futures
import logging
import math
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from devices.catalog import CATALOG, register_rows
from devices.modbus.decoding import DATA_TYPES, RegisterSpec, encode_value
from devices.simulator.load import average_power_w, check_load_class, meter_energy_kwh

logger = logging.getLogger(__name__)

FAULTS = ("nan", "offline")
MAX_UNIT_ID = 247

NOMINAL_VOLTAGE = 230.0
# Peak deviation from the nominal voltage over a day, in volts.
VOLTAGE_SWING = 3.0
POWER_FACTOR = Decimal("0.950")
FREQUENCY_HZ = Decimal("50.00")

# NOTE: a fixed split of the import energy, not one computed from tariff
# periods, so these registers will not match a TOU split of interval data.
TOU_SHARES = {
    "import_kwh_sharp": Decimal("0.10"),
    "import_kwh_peak": Decimal("0.30"),
    "import_kwh_flat": Decimal("0.35"),
    "import_kwh_valley": Decimal("0.25"),
}
# Values served for mapped quantities that the load profile does not drive.
OTHER_QUANTITIES = {
    "import_kvarh": Decimal(0),
    "max_demand_kw": Decimal("5.000"),
}


class SimulatorError(RuntimeError):
    """A simulated concentrator that cannot start."""


@dataclass(frozen=True)
class SimulatedMeter:
    """A meter behind a simulated concentrator.

    `fault` is None for a working meter, "nan" to serve NaN in the import
    energy register (float32 and float64 models only), or "offline" to respond
    to every request for the unit with exception 0x0B.
    """

    serial: str
    unit_id: int
    model_code: str
    load_class: str
    annual_kwh: Decimal
    installed_at: datetime
    initial_kwh: Decimal = Decimal(0)
    fault: str | None = None

    def __post_init__(self):
        if not 1 <= self.unit_id <= MAX_UNIT_ID:
            raise ValueError(
                f"Meter {self.serial}: unit id {self.unit_id} is invalid; "
                f"use 1 to {MAX_UNIT_ID}."
            )
        if self.model_code not in CATALOG:
            raise ValueError(
                f"Meter {self.serial}: meter model {self.model_code!r} is not in "
                f"the catalog; use one of {', '.join(CATALOG)}."
            )
        check_load_class(self.load_class)
        if self.annual_kwh < 0:
            raise ValueError(
                f"Meter {self.serial}: annual_kwh {self.annual_kwh} is negative."
            )
        if self.installed_at.utcoffset() is None:
            raise ValueError(
                f"Meter {self.serial}: installed_at "
                f"{self.installed_at.isoformat()} is a naive datetime; "
                "pass an aware datetime."
            )
        if self.fault is not None and self.fault not in FAULTS:
            raise ValueError(
                f"Meter {self.serial}: fault {self.fault!r} is invalid; "
                f"use None or one of {', '.join(FAULTS)}."
            )
        if self.fault == "nan" and not self._import_register_is_float():
            raise ValueError(
                f"Meter {self.serial}: fault 'nan' needs a float import energy "
                f"register, and model {self.model_code} stores an integer."
            )

    def _import_register_is_float(self) -> bool:
        for row in register_rows(self.model_code):
            if row["quantity"] == "import_kwh":
                return row["data_type"].startswith("float")
        return False

    @property
    def phases(self) -> int:
        """Return the number of phases of the meter's model."""
        return CATALOG[self.model_code]["phases"]

    def register_specs(self) -> list[RegisterSpec]:
        """Return the register map of the meter's model."""
        return [RegisterSpec(**row) for row in register_rows(self.model_code)]


@dataclass(frozen=True)
class SimulatedConcentrator:
    """A concentrator served on one TCP port, with the meters behind it."""

    name: str
    port: int
    meters: list[SimulatedMeter] = field(default_factory=list)

    def __post_init__(self):
        if not 1 <= self.port <= 65535:
            raise ValueError(
                f"Concentrator {self.name}: port {self.port} is invalid; "
                "use 1 to 65535."
            )
        seen = set()
        for meter in self.meters:
            if meter.unit_id in seen:
                raise ValueError(
                    f"Concentrator {self.name}: unit id {meter.unit_id} is used "
                    "by more than one meter; give each meter its own unit id."
                )
            seen.add(meter.unit_id)


class SimulationClock:
    """Simulated time that runs `speed` times as fast as real time.

    Simulated time starts at `start` (default: the real time when the clock
    is created) and advances by `speed` simulated seconds per real second.
    Elapsed real time comes from the monotonic clock, so a change of the
    system clock does not make simulated time jump.
    """

    def __init__(self, speed: float = 1.0, start: datetime | None = None):
        if not (math.isfinite(speed) and speed > 0):
            raise ValueError(f"Clock speed {speed} is invalid; use a number above 0.")
        if start is not None and start.utcoffset() is None:
            raise ValueError(
                f"Clock start {start.isoformat()} is a naive datetime; "
                "pass an aware datetime."
            )
        self.speed = speed
        self.start = start or datetime.now(UTC)
        self._anchor = time.monotonic()

    def now(self) -> datetime:
        """Return the current simulated time as an aware datetime."""
        elapsed = time.monotonic() - self._anchor
        return self.start + timedelta(seconds=elapsed * self.speed)


def _line_voltage(meter: SimulatedMeter, line: int, at: datetime) -> Decimal:
    """Return a voltage near 230 V that drifts over the day, by line and unit."""
    day_angle = 2 * math.pi * (at.timestamp() % 86400) / 86400
    phase_angle = 2 * math.pi * line / 3 + meter.unit_id
    volts = NOMINAL_VOLTAGE + VOLTAGE_SWING * math.sin(day_angle + phase_angle)
    return Decimal(f"{volts:.1f}")


def meter_values(meter: SimulatedMeter, at: datetime) -> dict[str, Decimal | float]:
    """Return every quantity a meter serves at simulated time `at`.

    Values are in the units of the Quantity choices: kWh, V, A, W, var, Hz.
    Current is the apparent current, P / (phases x V x power factor).
    """
    import_kwh = meter_energy_kwh(
        meter.load_class,
        meter.annual_kwh,
        meter.installed_at,
        at,
        meter.initial_kwh,
    )
    power_w = average_power_w(meter.load_class, meter.annual_kwh, at)
    reactive_factor = Decimal(math.sqrt(1 - POWER_FACTOR**2)) / POWER_FACTOR

    values: dict[str, Decimal | float] = {
        "import_kwh": import_kwh,
        "export_kwh": Decimal(0),
        "active_power": power_w,
        "reactive_power": (power_w * reactive_factor).quantize(Decimal("0.1")),
        "power_factor": POWER_FACTOR,
        "frequency": FREQUENCY_HZ,
    }
    for line in range(1, 4):
        voltage = _line_voltage(meter, line, at)
        current = power_w / (meter.phases * voltage * POWER_FACTOR)
        values[f"voltage_l{line}"] = voltage
        values[f"current_l{line}"] = current.quantize(Decimal("0.001"))
    for quantity, share in TOU_SHARES.items():
        values[quantity] = (import_kwh * share).quantize(Decimal("0.01"))
    values.update(OTHER_QUANTITIES)

    if meter.fault == "nan":
        values["import_kwh"] = math.nan
    return values


def _clamp_to_data_type(value: Decimal | float, spec: RegisterSpec):
    """Clamp `value` to the range of an integer register of `spec`.

    encode_value packs with struct.pack, which raises on an out-of-range integer.
    """
    if spec.data_type.startswith("float"):
        return value
    bits = 16 * DATA_TYPES[spec.data_type][1]
    if spec.data_type.startswith("u"):
        low, high = 0, 2**bits - 1
    else:
        low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    return min(max(value, low * spec.scale), high * spec.scale)


class _MeterRegisters:
    """The register block of one meter, filled when a request arrives."""

    def __init__(self, meter: SimulatedMeter, clock: SimulationClock):
        self.meter = meter
        self.clock = clock
        self.specs = meter.register_specs()

    def encode_all(self, at: datetime) -> dict[int, list[int]]:
        """Return the registers of every mapped quantity, by start address."""
        values = meter_values(self.meter, at)
        encoded = {}
        for spec in self.specs:
            value = values.get(spec.quantity, Decimal(0))
            encoded[spec.address] = encode_value(_clamp_to_data_type(value, spec), spec)
        return encoded

    def device(self) -> SimDevice:
        """Return the pymodbus device that serves this meter's register map."""
        blocks = [
            SimData(
                address=spec.address,
                values=[0] * spec.count,
                datatype=DataType.REGISTERS,
                readonly=True,
            )
            for spec in self.specs
        ]
        return SimDevice(id=self.meter.unit_id, simdata=blocks, action=self.fill)

    async def fill(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        """Write the current values into `registers` before pymodbus reads them."""
        if function_code not in (3, 4):
            return ExcCodes.ILLEGAL_FUNCTION

        for register_address, words in self.encode_all(self.clock.now()).items():
            offset = register_address - start_address
            registers[offset : offset + len(words)] = words
        return None


async def _no_response(*_request) -> ExcCodes:
    return ExcCodes.GATEWAY_NO_RESPONSE


def _unreachable_device(unit_id: int) -> SimDevice:
    """Return a device that responds to every request with exception 0x0B.

    Its block covers the whole address range, because pymodbus checks the
    address before it calls the action.
    """
    every_address = SimData(address=0, count=65536, datatype=DataType.REGISTERS)
    return SimDevice(id=unit_id, simdata=[every_address], action=_no_response)


def build_devices(
    concentrator: SimulatedConcentrator, clock: SimulationClock
) -> list[SimDevice]:
    """Return the pymodbus devices of a concentrator.

    pymodbus serves unit ids without a device of their own from the device
    with id 0. A gateway responds to those unit ids with exception 0x0B
    (gateway target device failed to respond), and so does device 0 here.
    """
    devices = [_unreachable_device(0)]
    for meter in concentrator.meters:
        if meter.fault == "offline":
            devices.append(_unreachable_device(meter.unit_id))
            continue

        registers = _MeterRegisters(meter, clock)
        # Encoding once now builds the load profiles before the first request
        # and raises here, not in the server, if a value does not fit.
        registers.encode_all(clock.now())
        devices.append(registers.device())
    return devices


async def start_servers(
    concentrators: list[SimulatedConcentrator],
    host: str = "127.0.0.1",
    clock: SimulationClock | None = None,
) -> list[ModbusTcpServer]:
    """Start one listening Modbus/TCP server per concentrator and return them.

    Raise SimulatorError naming the port if a server cannot listen; the
    servers already started are stopped first.
    """
    clock = clock or SimulationClock()
    servers: list[ModbusTcpServer] = []
    try:
        for concentrator in concentrators:
            devices = build_devices(concentrator, clock)
            server = ModbusTcpServer(devices, address=(host, concentrator.port))
            try:
                await server.serve_forever(background=True)
            except RuntimeError as exc:
                raise SimulatorError(
                    f"Concentrator {concentrator.name}: could not listen on "
                    f"{host}:{concentrator.port}, because the port is in use or "
                    "not permitted. Stop the program using it or choose another "
                    "port."
                ) from exc
            servers.append(server)
            logger.info(
                "Concentrator %s listening on %s:%d with %d meters at speed %s",
                concentrator.name,
                host,
                concentrator.port,
                len(concentrator.meters),
                clock.speed,
            )
    except BaseException:
        await stop_servers(servers)
        raise
    return servers


async def stop_servers(servers: list[ModbusTcpServer]) -> None:
    """Stop the servers and close their client connections."""
    for server in servers:
        host, port = server.comm_params.source_address
        await server.shutdown()
        logger.info("Modbus/TCP server on %s:%d stopped", host, port)


async def serve(
    concentrators: list[SimulatedConcentrator],
    host: str = "127.0.0.1",
    clock: SimulationClock | None = None,
) -> None:
    """Serve the concentrators until the task is cancelled."""
    servers = await start_servers(concentrators, host, clock)
    try:
        await asyncio.Event().wait()
    finally:
        await stop_servers(servers)


def wait_for_port(host: str, port: int, timeout: float) -> None:
    """Wait until `host:port` accepts TCP connections, or raise SimulatorError."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError as exc:
            if time.monotonic() >= deadline:
                raise SimulatorError(
                    f"Port {port} on {host} did not accept connections within "
                    f"{timeout} s: {exc}"
                ) from exc
        time.sleep(0.05)


async def _cancel_other_tasks() -> None:
    current = asyncio.current_task()
    tasks = [task for task in asyncio.all_tasks() if task is not current]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


class SimulatorThread:
    """Run simulated concentrators in a background thread with its own loop.

    Use it as a context manager. Entering starts the servers and returns once
    every port accepts TCP connections. Leaving stops the servers and joins
    the thread.
    """

    def __init__(
        self,
        concentrators: list[SimulatedConcentrator],
        clock: SimulationClock | None = None,
        host: str = "127.0.0.1",
        timeout: float = 10.0,
    ):
        self.concentrators = list(concentrators)
        self.clock = clock or SimulationClock()
        self.host = host
        self.timeout = timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._servers: list[ModbusTcpServer] = []

    def __enter__(self) -> "SimulatorThread":
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="concentrator-simulator", daemon=True
        )
        self._thread.start()
        try:
            self._servers = self._run(
                start_servers(self.concentrators, self.host, self.clock)
            )
            for concentrator in self.concentrators:
                wait_for_port(self.host, concentrator.port, self.timeout)
        except BaseException:
            self._stop_loop()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        try:
            self._run(stop_servers(self._servers))
        finally:
            self._stop_loop()

    def _run(self, coroutine):
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        try:
            return future.result(timeout=self.timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise SimulatorError(
                f"The simulator did not finish starting or stopping within "
                f"{self.timeout} s."
            ) from None

    def _stop_loop(self) -> None:
        try:
            self._run(_cancel_other_tasks())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(self.timeout)
            self._loop.close()
