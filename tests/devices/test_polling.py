"""Polling concentrators over real Modbus/TCP against the simulator on 127.0.0.1."""

import datetime
import logging
import socket
import threading
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from devices import polling
from devices.models import Concentrator, PollRound, Reading
from devices.simulator.load import meter_energy_kwh
from devices.simulator.server import (
    SimulatedConcentrator,
    SimulatedMeter,
    SimulationClock,
    SimulatorThread,
)
from tests.factories import (
    SHANGHAI,
    AccountFactory,
    ConcentratorFactory,
    MeterFactory,
    catalog_model,
)

pytestmark = pytest.mark.django_db

INSTALLED = datetime.datetime(2026, 1, 1, tzinfo=SHANGHAI)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def simulated(serial, unit_id, annual_kwh, model_code="chint-dtsu666", fault=None):
    return SimulatedMeter(
        serial=serial,
        unit_id=unit_id,
        model_code=model_code,
        load_class="household",
        annual_kwh=Decimal(annual_kwh),
        installed_at=INSTALLED,
        fault=fault,
    )


def register_in_database(concentrator_row, meter: SimulatedMeter):
    account = AccountFactory(estimated_annual_kwh=meter.annual_kwh)
    return MeterFactory(
        serial=meter.serial,
        unit_id=meter.unit_id,
        concentrator=concentrator_row,
        account=account,
        model=catalog_model(meter.model_code),
        installed_at=meter.installed_at,
    )


@pytest.fixture
def meters_on_simulator():
    """Yield (concentrator row, simulated meters, clock) with a live simulator."""
    port = free_port()
    meters = [
        simulated("SIM-0001", 1, 2400),
        simulated("SIM-0002", 2, 36000),
        simulated("SIM-0003", 3, 4200, model_code="chint-ddsu666"),
    ]
    row = ConcentratorFactory(name="Zhangbei 01", port=port)
    for meter in meters:
        register_in_database(row, meter)
    clock = SimulationClock()
    with SimulatorThread([SimulatedConcentrator(row.name, port, meters)], clock=clock):
        yield row, meters, clock


def test_poll_stores_simulator_values(meters_on_simulator):
    row, meters, clock = meters_on_simulator
    before = clock.now()

    outcome = polling.poll_concentrator(row.pk)

    after = clock.now()
    assert outcome.status == Concentrator.PollStatus.OK
    assert outcome.meters_read == 3
    for meter in meters:
        stored = Reading.objects.get(meter__serial=meter.serial, quantity="import_kwh")
        low = meter_energy_kwh(
            meter.load_class, meter.annual_kwh, meter.installed_at, before
        )
        high = meter_energy_kwh(
            meter.load_class, meter.annual_kwh, meter.installed_at, after
        )
        assert low <= stored.value <= high, meter.serial
        assert stored.source == Reading.Source.POLL
        assert stored.value > 0


def test_poll_decodes_scaled_dtsu666_voltage(meters_on_simulator):
    row, _meters, _clock = meters_on_simulator

    polling.poll_concentrator(row.pk)

    voltage = Reading.objects.get(meter__serial="SIM-0001", quantity="voltage_l1")
    assert Decimal(200) < voltage.value < Decimal(260)


def test_second_poll_of_same_slot_adds_nothing(meters_on_simulator):
    row, _meters, _clock = meters_on_simulator
    slot = polling.poll_slot(timezone.now(), row.poll_interval)
    first = polling.poll_concentrator(row.pk, slot)
    count = Reading.objects.count()

    second = polling.poll_concentrator(row.pk, slot)

    assert first.readings_stored > 0
    assert second.readings_stored == 0
    assert Reading.objects.count() == count
    assert PollRound.objects.filter(concentrator=row).count() == 2


def test_poll_records_result_on_concentrator(meters_on_simulator):
    row, _meters, _clock = meters_on_simulator

    polling.poll_concentrator(row.pk)

    row.refresh_from_db()
    assert row.last_poll_status == Concentrator.PollStatus.OK
    assert row.last_poll_error == ""
    assert row.last_poll_at is not None
    assert row.poll_claimed_until is None


def test_refused_connection_recorded_as_failed():
    row = ConcentratorFactory(port=free_port())
    MeterFactory(concentrator=row, unit_id=1)

    outcome = polling.poll_concentrator(row.pk)

    row.refresh_from_db()
    assert outcome.status == Concentrator.PollStatus.FAILED
    assert row.last_poll_status == Concentrator.PollStatus.FAILED
    assert f"127.0.0.1:{row.port}" in row.last_poll_error
    assert row.poll_claimed_until is None
    assert not Reading.objects.exists()


@pytest.fixture
def silent_server():
    """Yield the port of a TCP server that accepts connections and never responds."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    listener.close()


def test_silent_concentrator_times_out(settings, silent_server):
    settings.METEROPS_POLL_TIMEOUT = 0.5
    row = ConcentratorFactory(port=silent_server)
    MeterFactory(concentrator=row, unit_id=1)
    MeterFactory(concentrator=row, unit_id=2)

    outcome = polling.poll_concentrator(row.pk)

    assert outcome.status == Concentrator.PollStatus.FAILED
    assert outcome.meters_read == 0
    assert "No response received" in outcome.error


def test_failing_concentrator_does_not_stop_others(meters_on_simulator):
    good, _meters, _clock = meters_on_simulator
    bad = ConcentratorFactory(name="Zhangbei 02", port=free_port())
    MeterFactory(concentrator=bad, unit_id=1)
    output = StringIO()

    call_command("poll", "--once", stdout=output)

    good.refresh_from_db()
    bad.refresh_from_db()
    assert good.last_poll_status == Concentrator.PollStatus.OK
    assert bad.last_poll_status == Concentrator.PollStatus.FAILED
    assert "Zhangbei 01: ok, 3/3 meters" in output.getvalue()
    assert "Zhangbei 02: failed" in output.getvalue()


def test_nan_value_rejected_and_logged(caplog):
    port = free_port()
    row = ConcentratorFactory(port=port)
    sick = simulated("SIM-NAN1", 1, 2400, fault="nan")
    healthy = simulated("SIM-OK01", 2, 2400)
    register_in_database(row, sick)
    register_in_database(row, healthy)

    with (
        caplog.at_level(logging.WARNING, logger="devices.modbus.client"),
        SimulatorThread([SimulatedConcentrator("nan", port, [sick, healthy])]),
    ):
        outcome = polling.poll_concentrator(row.pk)

    assert outcome.status == Concentrator.PollStatus.PARTIAL
    assert not Reading.objects.filter(meter__serial="SIM-NAN1", quantity="import_kwh")
    assert Reading.objects.filter(meter__serial="SIM-OK01", quantity="import_kwh")
    assert "SIM-NAN1" in caplog.text
    assert "not a finite number" in caplog.text
    assert "SIM-NAN1" in outcome.error


def test_offline_unit_does_not_stall_others():
    port = free_port()
    row = ConcentratorFactory(port=port)
    dead = simulated("SIM-DEAD", 1, 2400, fault="offline")
    alive = simulated("SIM-LIVE", 2, 2400)
    register_in_database(row, dead)
    register_in_database(row, alive)

    with SimulatorThread([SimulatedConcentrator("offline", port, [dead, alive])]):
        outcome = polling.poll_concentrator(row.pk)

    assert outcome.status == Concentrator.PollStatus.PARTIAL
    assert outcome.meters_read == 1
    assert Reading.objects.filter(meter__serial="SIM-LIVE").count() > 1
    assert not Reading.objects.filter(meter__serial="SIM-DEAD").exists()


def test_claimed_concentrator_not_polled_twice():
    row = ConcentratorFactory(
        poll_claimed_until=timezone.now() + datetime.timedelta(minutes=1)
    )

    assert polling.poll_concentrator(row.pk) is None


def test_disabled_concentrator_not_polled():
    row = ConcentratorFactory(enabled=False)

    assert polling.poll_concentrator(row.pk) is None


def test_removed_meter_not_read():
    row = ConcentratorFactory()
    MeterFactory(
        concentrator=row,
        unit_id=1,
        removed_at=timezone.now() - datetime.timedelta(days=1),
    )

    assert polling.meter_plans(row, timezone.now()) == []


def test_poll_slot_floors_to_interval():
    now = datetime.datetime(2026, 12, 4, 16, 7, 42, tzinfo=datetime.UTC)

    assert polling.poll_slot(now, 900) == datetime.datetime(
        2026, 12, 4, 16, 0, tzinfo=datetime.UTC
    )
    assert polling.poll_slot(now, 60) == datetime.datetime(
        2026, 12, 4, 16, 7, tzinfo=datetime.UTC
    )


def test_due_concentrators():
    now = timezone.now()
    never = ConcentratorFactory(name="never")
    fresh = ConcentratorFactory(name="fresh", last_poll_at=now, poll_interval=900)
    stale = ConcentratorFactory(
        name="stale", last_poll_at=now - datetime.timedelta(hours=1), poll_interval=900
    )
    ConcentratorFactory(name="off", enabled=False)

    due = polling.due_concentrators(now)

    assert {concentrator.pk for concentrator in due} == {never.pk, stale.pk}
    assert fresh not in due


def test_conflicting_value_kept_and_logged(caplog):
    meter = MeterFactory()
    slot = datetime.datetime(2026, 12, 1, tzinfo=SHANGHAI)
    Reading.objects.create(
        meter=meter,
        quantity="import_kwh",
        value=Decimal("10.00"),
        read_at=slot,
        source=Reading.Source.POLL,
    )
    from devices.modbus.client import MeterResult

    result = MeterResult(meter.pk, meter.serial, {"import_kwh": Decimal("10.50")})

    with caplog.at_level(logging.WARNING, logger="devices.polling"):
        stored, conflicting = polling.store_readings([result], slot)

    assert (stored, conflicting) == (0, 1)
    assert Reading.objects.get(meter=meter).value == Decimal("10.00")
    assert "discarded 10.50" in caplog.text
