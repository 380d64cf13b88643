"""One meter serving an out-of-range float must not lose its neighbours' readings."""

import datetime

import pytest

from devices import polling
from devices.models import Concentrator, PollRound, Reading
from tests.devices.modbus_stub import StubServer
from tests.factories import SHANGHAI, ConcentratorFactory, MeterFactory, catalog_model

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("bad_value", [3.4e38, 1e15], ids=["float32-max", "1e15"])
def test_poll_bad_value_keeps_others(settings, bad_value):
    settings.METEROPS_POLL_TIMEOUT = 0.5
    behaviours = {1: ("value", 1234.5), 2: ("value", bad_value), 3: ("value", 2345.5)}
    with StubServer(behaviours) as server:
        row = ConcentratorFactory(port=server.port)
        for unit in behaviours:
            MeterFactory(
                serial=f"M{unit}",
                unit_id=unit,
                concentrator=row,
                model=catalog_model("chint-dtsu666"),
                installed_at=datetime.datetime(2025, 1, 1, tzinfo=SHANGHAI),
            )
        outcome = polling.poll_concentrator(row.pk)

    assert outcome.status == Concentrator.PollStatus.PARTIAL
    energy = Reading.objects.filter(quantity="import_kwh")
    stored = set(energy.values_list("meter__serial", flat=True))
    assert stored == {"M1", "M3"}
    assert PollRound.objects.filter(concentrator=row).count() == 1
