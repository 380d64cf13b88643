"""The concentrator simulator, read over real Modbus/TCP on 127.0.0.1."""

import socket
import threading
import time
from datetime import datetime
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connections
from pymodbus.client import ModbusTcpClient

from devices.catalog import register_rows
from devices.management.commands.simulate_concentrators import database_layout
from devices.modbus.decoding import DecodingError, RegisterSpec, decode_value
from devices.models import MeterModel
from devices.simulator.load import meter_energy_kwh
from devices.simulator.server import (
    SimulatedConcentrator,
    SimulatedMeter,
    SimulationClock,
    SimulatorError,
    SimulatorThread,
    wait_for_port,
)
from tests.factories import AccountFactory, ConcentratorFactory, MeterFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
INSTALLED = datetime(2025, 1, 1, tzinfo=SHANGHAI)
# A Wednesday evening, when a household uses more than its average.
SIMULATED_START = datetime(2026, 10, 14, 19, 0, tzinfo=SHANGHAI)
# Simulated time that barely moves, so two reads see the same values.
FROZEN_SPEED = 1e-9
GATEWAY_NO_RESPONSE = 0x0B
ILLEGAL_ADDRESS = 0x02


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def spec_of(model_code: str, quantity: str) -> RegisterSpec:
    for row in register_rows(model_code):
        if row["quantity"] == quantity:
            return RegisterSpec(**row)
    raise LookupError(f"{model_code} has no {quantity} register")


def read(client, spec: RegisterSpec, unit_id: int, function_code=None):
    function_code = function_code or spec.function_code
    if function_code == 4:
        return client.read_input_registers(
            spec.address, count=spec.count, device_id=unit_id
        )
    return client.read_holding_registers(
        spec.address, count=spec.count, device_id=unit_id
    )


def read_value(client, model_code, quantity, unit_id) -> Decimal:
    spec = spec_of(model_code, quantity)
    response = read(client, spec, unit_id)
    assert not response.isError(), response
    return decode_value(response.registers, spec)


def meter(unit_id, model_code, load_class="household", annual=2400, **kwargs):
    return SimulatedMeter(
        serial=f"SIM{unit_id:03d}",
        unit_id=unit_id,
        model_code=model_code,
        load_class=load_class,
        annual_kwh=Decimal(annual),
        installed_at=INSTALLED,
        **kwargs,
    )


METERS = {
    1: meter(1, "chint-dtsu666"),
    2: meter(2, "chint-ddsu666", "commercial", 20000),
    3: meter(3, "chint-dtsu666", fault="nan"),
    4: meter(4, "chint-dtsu666", fault="offline"),
    5: meter(5, "acrel-ddsy1352", initial_kwh=Decimal("1000.00")),
}


@pytest.fixture(scope="module")
def simulator():
    clock = SimulationClock(speed=FROZEN_SPEED, start=SIMULATED_START)
    concentrator = SimulatedConcentrator("TEST-01", free_port(), list(METERS.values()))
    with SimulatorThread([concentrator], clock=clock) as running:
        yield running


@pytest.fixture
def client(simulator):
    port = simulator.concentrators[0].port
    modbus = ModbusTcpClient("127.0.0.1", port=port, timeout=3, retries=0)
    assert modbus.connect()
    yield modbus
    modbus.close()


def expected_energy(unit_id, at=SIMULATED_START) -> Decimal:
    target = METERS[unit_id]
    return meter_energy_kwh(
        target.load_class,
        target.annual_kwh,
        target.installed_at,
        at,
        target.initial_kwh,
    )


def test_dtsu666_import_energy(client):
    value = read_value(client, "chint-dtsu666", "import_kwh", 1)

    assert abs(value - expected_energy(1)) <= Decimal("0.01")


def test_fc4_matches_fc3(client):
    for row in register_rows("chint-dtsu666"):
        spec = RegisterSpec(**row)
        holding = read(client, spec, 1, function_code=3)
        inputs = read(client, spec, 1, function_code=4)

        assert not holding.isError(), (spec.quantity, holding)
        assert not inputs.isError(), (spec.quantity, inputs)
        assert inputs.registers == holding.registers, spec.quantity


def test_dtsu666_instantaneous_values(client):
    voltage = read_value(client, "chint-dtsu666", "voltage_l1", 1)
    power = read_value(client, "chint-dtsu666", "active_power", 1)
    current = read_value(client, "chint-dtsu666", "current_l1", 1)
    power_factor = read_value(client, "chint-dtsu666", "power_factor", 1)
    frequency = read_value(client, "chint-dtsu666", "frequency", 1)
    export = read_value(client, "chint-dtsu666", "export_kwh", 1)

    assert Decimal(220) <= voltage <= Decimal(240)
    assert power > 0
    assert abs(current - power / (3 * voltage * power_factor)) <= Decimal("0.002")
    assert power_factor == Decimal("0.950")
    assert frequency == Decimal("50.00")
    assert export == 0


def test_voltages_vary_by_line(client):
    voltages = {
        read_value(client, "chint-dtsu666", f"voltage_l{line}", 1) for line in (1, 2, 3)
    }

    assert len(voltages) == 3


def test_ddsu666_serves_own_map(client):
    energy = read_value(client, "chint-ddsu666", "import_kwh", 2)
    voltage = read_value(client, "chint-ddsu666", "voltage_l1", 2)
    power = read_value(client, "chint-ddsu666", "active_power", 2)
    current = read_value(client, "chint-ddsu666", "current_l1", 2)

    assert abs(energy - expected_energy(2)) <= Decimal("0.01")
    assert Decimal(220) <= voltage <= Decimal(240)
    # The DDSU666 register is in kW, and the catalog scale of 1000 gives W.
    assert abs(current - power / (voltage * Decimal("0.95"))) <= Decimal("0.01")


def test_ddsu666_lacks_dtsu666_address(client):
    response = read(client, spec_of("chint-dtsu666", "import_kwh"), 2)

    assert response.isError()
    assert response.exception_code == ILLEGAL_ADDRESS


def test_integer_model_encoding(client):
    energy = read_value(client, "acrel-ddsy1352", "import_kwh", 5)
    peak = read_value(client, "acrel-ddsy1352", "import_kwh_peak", 5)
    voltage = read_value(client, "acrel-ddsy1352", "voltage_l1", 5)

    assert energy == expected_energy(5)
    assert energy > Decimal("1000.00")
    assert 0 < peak < energy
    assert Decimal(220) <= voltage <= Decimal(240)


def test_nan_fault_fails_decoding(client):
    spec = spec_of("chint-dtsu666", "import_kwh")

    response = read(client, spec, 3)

    assert not response.isError()
    with pytest.raises(DecodingError, match="not a finite number"):
        decode_value(response.registers, spec)


def test_nan_fault_keeps_other_values(client):
    voltage = read_value(client, "chint-dtsu666", "voltage_l1", 3)

    assert Decimal(220) <= voltage <= Decimal(240)


def test_offline_unit_responds_0x0b(client):
    spec = spec_of("chint-dtsu666", "import_kwh")

    offline = read(client, spec, 4)
    holding_other = read(client, spec_of("chint-dtsu666", "voltage_l1"), 4)
    inputs = read(client, spec, 4, function_code=4)
    neighbour = read(client, spec, 1)

    assert offline.isError()
    assert offline.exception_code == GATEWAY_NO_RESPONSE
    assert holding_other.exception_code == GATEWAY_NO_RESPONSE
    assert inputs.exception_code == GATEWAY_NO_RESPONSE
    assert not neighbour.isError()


def test_unknown_unit_responds_0x0b(client):
    response = read(client, spec_of("chint-dtsu666", "import_kwh"), 9)

    assert response.isError()
    assert response.exception_code == GATEWAY_NO_RESPONSE


def test_writes_rejected(client):
    spec = spec_of("chint-dtsu666", "import_kwh")

    response = client.write_registers(spec.address, [0, 0], device_id=1)
    after = read_value(client, "chint-dtsu666", "import_kwh", 1)

    assert response.isError()
    assert abs(after - expected_energy(1)) <= Decimal("0.01")


def test_speed_advances_register():
    clock = SimulationClock(speed=3600, start=SIMULATED_START)
    concentrator = SimulatedConcentrator("FAST-01", free_port(), [METERS[1]])

    with SimulatorThread([concentrator], clock=clock):
        modbus = ModbusTcpClient("127.0.0.1", port=concentrator.port, retries=0)
        assert modbus.connect()
        before_read = clock.now()
        first = read_value(modbus, "chint-dtsu666", "import_kwh", 1)
        time.sleep(1.0)
        second = read_value(modbus, "chint-dtsu666", "import_kwh", 1)
        after_read = clock.now()
        modbus.close()

    # One real second is one simulated evening hour, a few tenths of a kWh for
    # a household using 2400 kWh a year. In real time it would add 0.0001 kWh.
    assert second - first > Decimal("0.1")
    assert first >= expected_energy(1, before_read) - Decimal("0.01")
    assert second <= expected_energy(1, after_read) + Decimal("0.01")


def test_real_time_clock():
    clock = SimulationClock()
    before = datetime.now(SHANGHAI)

    simulated = clock.now()

    assert abs((simulated - before).total_seconds()) < 1


def test_clock_rejects_bad_speed():
    with pytest.raises(ValueError, match="0"):
        SimulationClock(speed=0)


def test_busy_port_names_port():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        concentrator = SimulatedConcentrator("BUSY-01", port, [METERS[1]])

        with (
            pytest.raises(SimulatorError, match=str(port)),
            SimulatorThread([concentrator]),
        ):
            pass


def test_duplicate_unit_rejected():
    with pytest.raises(ValueError, match="unit id 1"):
        SimulatedConcentrator("DUP-01", 5020, [METERS[1], meter(1, "chint-ddsu666")])


def test_nan_fault_needs_float_model():
    with pytest.raises(ValueError, match="acrel-ddsy1352"):
        meter(6, "acrel-ddsy1352", fault="nan")


def test_unknown_model_rejected():
    with pytest.raises(ValueError, match="'acme-x1'"):
        meter(6, "acme-x1")


def run_command_in_thread(*args) -> tuple[threading.Thread, StringIO, list]:
    output = StringIO()
    errors: list[BaseException] = []

    def target():
        try:
            call_command("simulate_concentrators", *args, stdout=output)
        except BaseException as error:  # the test asserts that none occurred
            errors.append(error)
        finally:
            # Connections are per thread; this one would outlive the test
            # database otherwise.
            connections.close_all()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, output, errors


def test_command_serves_generated_layout():
    port = free_port()

    thread, output, errors = run_command_in_thread(
        "--concentrators", "1", "--meters", "4", "--base-port", str(port),
        "--speed", "60", "--duration", "2",
    )  # fmt: skip
    wait_for_port("127.0.0.1", port, timeout=10)
    modbus = ModbusTcpClient("127.0.0.1", port=port, retries=0)
    assert modbus.connect()
    household = read_value(modbus, "chint-dtsu666", "import_kwh", 1)
    commercial = read_value(modbus, "chint-dtsu666", "import_kwh", 2)
    missing = read(modbus, spec_of("chint-dtsu666", "import_kwh"), 5)
    modbus.close()
    thread.join(timeout=10)

    assert errors == []
    assert not thread.is_alive()
    assert household > 0
    assert commercial > household
    assert missing.exception_code == GATEWAY_NO_RESPONSE
    assert f"SIM-01: 127.0.0.1:{port}, 4 meters" in output.getvalue()


def test_command_rejects_port_range():
    with pytest.raises(CommandError, match="65535"):
        call_command(
            "simulate_concentrators", "--concentrators", "2", "--base-port", "65535"
        )


def test_command_rejects_busy_port():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]

        with pytest.raises(CommandError, match=str(port)):
            call_command(
                "simulate_concentrators", "--base-port", str(port), "--duration", "1"
            )


def test_command_rejects_bad_speed():
    with pytest.raises(CommandError, match="--speed"):
        call_command("simulate_concentrators", "--meters", "1", "--speed", "0")


@pytest.mark.django_db
def test_command_needs_local_concentrator():
    ConcentratorFactory(host="10.20.0.7")

    with pytest.raises(CommandError, match=r"127\.0\.0\.1 or localhost"):
        call_command("simulate_concentrators", "--duration", "1")


@pytest.mark.django_db
def test_command_rejects_unmapped_model():
    concentrator = ConcentratorFactory(port=free_port())
    unmapped = MeterModel.objects.create(
        code="acme-x1", manufacturer="Acme", name="X1", phases=1
    )
    MeterFactory(serial="ACME0001", model=unmapped, concentrator=concentrator)

    with pytest.raises(CommandError, match=r"ACME0001.*'acme-x1'"):
        call_command("simulate_concentrators", "--duration", "1")


@pytest.mark.django_db
def test_database_layout_takes_account_values():
    local = ConcentratorFactory(host="localhost", port=free_port())
    ConcentratorFactory(host="10.20.0.7")
    ConcentratorFactory(enabled=False)
    commercial = AccountFactory(load_class="commercial", estimated_annual_kwh=36000)
    MeterFactory(serial="M-COM", concentrator=local, unit_id=2, account=commercial)
    MeterFactory(serial="M-NONE", concentrator=local, unit_id=3, account=None)
    MeterFactory(
        serial="M-OLD",
        concentrator=local,
        unit_id=2,
        removed_at=datetime(2026, 1, 1, tzinfo=SHANGHAI),
    )
    MeterFactory(
        serial="M-LEAVING",
        concentrator=local,
        unit_id=4,
        removed_at=datetime(2026, 12, 1, tzinfo=SHANGHAI),
    )

    layout = database_layout(datetime(2026, 11, 1, tzinfo=SHANGHAI))

    assert [concentrator.name for concentrator in layout] == [local.name]
    assert layout[0].port == local.port
    meters = {meter.serial: meter for meter in layout[0].meters}
    assert set(meters) == {"M-COM", "M-NONE", "M-LEAVING"}
    assert meters["M-COM"].load_class == "commercial"
    assert meters["M-COM"].annual_kwh == Decimal(36000)
    assert meters["M-COM"].unit_id == 2
    assert meters["M-COM"].model_code == "chint-dtsu666"
    assert meters["M-NONE"].load_class == "household"
    assert meters["M-NONE"].annual_kwh == 0


@pytest.mark.django_db
def test_database_layout_served():
    concentrator = ConcentratorFactory(port=free_port())
    account = AccountFactory(load_class="household", estimated_annual_kwh=3000)
    installed = MeterFactory(concentrator=concentrator, unit_id=7, account=account)
    clock = SimulationClock(speed=FROZEN_SPEED, start=SIMULATED_START)

    with SimulatorThread(database_layout(SIMULATED_START), clock=clock):
        modbus = ModbusTcpClient("127.0.0.1", port=concentrator.port, retries=0)
        assert modbus.connect()
        energy = read_value(modbus, "chint-dtsu666", "import_kwh", 7)
        modbus.close()

    expected = meter_energy_kwh(
        "household", Decimal(3000), installed.installed_at, SIMULATED_START
    )
    assert abs(energy - expected) <= Decimal("0.01")
