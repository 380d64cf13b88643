"""Polling attacked: long intervals and polls that run late inside their slot."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from devices import polling
from devices.models import Reading
from tests.devices.modbus_stub import StubServer
from tests.factories import SHANGHAI, ConcentratorFactory, MeterFactory, catalog_model

INSTALLED = datetime.datetime(2025, 1, 1, tzinfo=SHANGHAI)


@pytest.mark.django_db
def test_daily_poll_late_in_slot_not_backdated(settings, monkeypatch):
    # The midnight poll of 1 December failed, so an operator polls by hand at
    # 15:00. The value read then includes 15 hours of December.
    settings.METEROPS_POLL_TIMEOUT = 0.5
    afternoon = datetime.datetime(2026, 12, 1, 15, 0, tzinfo=SHANGHAI)
    monkeypatch.setattr(timezone, "now", lambda: afternoon)
    with StubServer({1: ("value", 1234.5)}) as server:
        row = ConcentratorFactory(port=server.port, poll_interval=86400)
        MeterFactory(
            unit_id=1,
            concentrator=row,
            model=catalog_model("chint-dtsu666"),
            installed_at=INSTALLED,
        )
        polling.poll_concentrator(row.pk)

    stamps = set(Reading.objects.values_list("read_at", flat=True))
    assert stamps
    assert min(stamps) >= afternoon - datetime.timedelta(minutes=15)


@pytest.mark.django_db
def test_two_day_interval_not_due_daily():
    row = ConcentratorFactory(poll_interval=2 * 86400)
    try:
        row.full_clean()
    except ValidationError as error:
        # Rejecting intervals longer than a day is the other possible fix.
        assert "poll_interval" in error.message_dict
        return
    yesterday = datetime.datetime(2026, 11, 30, tzinfo=SHANGHAI)
    row.last_poll_at = yesterday
    row.save()

    due = polling.due_concentrators(
        datetime.datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI)
    )

    assert row not in due
