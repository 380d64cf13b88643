"""Poll claims and slots: a long poll, a late task, a backlog of beat ticks."""

import datetime
import threading
import time
from unittest import mock

import pytest
from django.db import connection
from django.utils import timezone

from devices import polling, tasks
from devices.models import Reading
from tests.devices.modbus_stub import StubServer
from tests.factories import SHANGHAI, ConcentratorFactory, MeterFactory, catalog_model

INSTALLED = datetime.datetime(2025, 1, 1, tzinfo=SHANGHAI)


def add_meters(row, units):
    for unit in units:
        MeterFactory(
            serial=f"M{unit}",
            unit_id=unit,
            concentrator=row,
            model=catalog_model("chint-dtsu666"),
            installed_at=INSTALLED,
        )


@pytest.mark.django_db(transaction=True)
def test_claim_held_for_whole_poll(settings, monkeypatch):
    # Scaled down from the defaults: 300 s claim, 3 s timeout, so a gateway
    # with 100 or more silent meters outlives its claim the same way.
    settings.METEROPS_POLL_TIMEOUT = 0.3
    monkeypatch.setattr(polling, "CLAIM_SECONDS", 1)
    units = range(1, 7)
    with StubServer({unit: "silent" for unit in units}) as server:
        row = ConcentratorFactory(port=server.port)
        add_meters(row, units)

        def first_poll():
            polling.poll_concentrator(row.pk)
            connection.close()

        worker = threading.Thread(target=first_poll)
        worker.start()
        time.sleep(1.3)
        second_claimed = polling.claim(row.pk, timezone.now())
        first_still_running = worker.is_alive()
        worker.join(timeout=10)

    assert first_still_running
    assert not second_claimed


@pytest.mark.django_db
def test_late_task_not_backdated(settings):
    settings.METEROPS_POLL_TIMEOUT = 0.5
    with StubServer({1: ("value", 1234.5)}) as server:
        row = ConcentratorFactory(port=server.port, poll_interval=900)
        add_meters(row, [1])
        # A task queued for a slot two hours ago runs only now (worker backlog).
        old_slot = polling.poll_slot(
            timezone.now() - datetime.timedelta(hours=2), row.poll_interval
        )
        started = timezone.now()
        polling.poll_concentrator(row.pk, old_slot)

    earliest = started - datetime.timedelta(seconds=row.poll_interval)
    assert not Reading.objects.filter(read_at__lt=earliest).exists()


@pytest.mark.django_db
def test_beat_ticks_queue_one_poll(django_capture_on_commit_callbacks):
    ConcentratorFactory(poll_interval=900)
    with mock.patch.object(tasks.poll_concentrator, "delay") as delay:
        with django_capture_on_commit_callbacks(execute=True):
            tasks.poll_due_concentrators()
        # 30 s later the first task still waits in the queue.
        with django_capture_on_commit_callbacks(execute=True):
            tasks.poll_due_concentrators()

    assert delay.call_count == 1


def test_daily_slot_starts_local_midnight():
    # A daily poll's reading should fall on the office's midnight, where bill
    # periods start, not on UTC midnight (08:00 in Shanghai).
    at = datetime.datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI)
    slot = polling.poll_slot(at, 86400)
    assert slot == datetime.datetime(2026, 12, 1, tzinfo=SHANGHAI)
