"""A real Celery worker, fed through Redis, runs a poll task end to end."""

import os
import socket
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from devices import polling
from devices.models import Concentrator, Reading
from devices.simulator.server import (
    SimulatedConcentrator,
    SimulatedMeter,
    SimulatorThread,
)
from devices.tasks import poll_concentrator
from meterops.celery import app
from tests.factories import SHANGHAI, AccountFactory, ConcentratorFactory, MeterFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

PROJECT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url() -> str:
    params = connection.settings_dict
    user = params["USER"] or "postgres"
    host = params["HOST"] or "127.0.0.1"
    port = params["PORT"] or "5432"
    return f"postgres://{user}@{host}:{port}/{params['NAME']}"


@pytest.fixture
def worker_queue():
    """Start a Celery worker on a private queue; yield the queue name."""
    if connection.vendor != "postgresql":
        pytest.skip("the worker shares the test database, which needs PostgreSQL")
    queue = f"test-{uuid.uuid4().hex[:8]}"
    environment = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DEBUG": "true",
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "meterops",
            "worker",
            "--queues",
            queue,
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=PROJECT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield queue
    finally:
        worker.terminate()
        try:
            output, _ = worker.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            output, _ = worker.communicate()
        print(output)


def test_worker_runs_poll_task(worker_queue):
    port = free_port()
    meter = SimulatedMeter(
        serial="WORKER-01",
        unit_id=1,
        model_code="chint-dtsu666",
        load_class="commercial",
        annual_kwh=Decimal(20000),
        installed_at=timezone.datetime(2026, 1, 1, tzinfo=SHANGHAI),
    )
    row = ConcentratorFactory(name="Worker test", port=port)
    MeterFactory(
        serial=meter.serial,
        unit_id=1,
        concentrator=row,
        account=AccountFactory(),
        installed_at=meter.installed_at,
    )
    slot = polling.poll_slot(timezone.now(), row.poll_interval)

    with SimulatorThread([SimulatedConcentrator(row.name, port, [meter])]):
        with app.connection_for_write(REDIS_URL) as broker:
            poll_concentrator.apply_async(
                args=[row.pk, slot.isoformat()], queue=worker_queue, connection=broker
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            row.refresh_from_db()
            if row.last_poll_status != Concentrator.PollStatus.NEVER:
                break
            time.sleep(0.5)

    assert row.last_poll_status == Concentrator.PollStatus.OK
    reading = Reading.objects.get(meter__serial="WORKER-01", quantity="import_kwh")
    assert reading.read_at == slot
    assert reading.value > 0
