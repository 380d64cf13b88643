"""Bill runs after a database outage longer than the task's retries."""

import datetime
import re
from decimal import Decimal

import pytest
from django.db import OperationalError
from django.urls import reverse

from billing import runs
from billing.models import BillRun
from billing.tasks import execute_bill_run_task
from tests.billing.test_bill_run_faults import metered_account
from tests.factories import BillRunFactory

pytestmark = pytest.mark.django_db


def test_outage_past_retries_not_left_pending(monkeypatch):
    metered_account("3100000001", Decimal(100), Decimal(200))

    def database_down(*args, **kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(runs, "bill_account", database_down)
    run = BillRun.objects.create(period=datetime.date(2026, 11, 1))

    # The last retry: the task has already been retried max_retries times.
    execute_bill_run_task.push_request(retries=execute_bill_run_task.max_retries)
    try:
        with pytest.raises(OperationalError):
            execute_bill_run_task.run(run.pk)
    finally:
        execute_bill_run_task.pop_request()

    run.refresh_from_db()
    # No task is queued for the run any more, so "pending" would never end.
    assert run.status == BillRun.Status.FAILED
    assert "could not connect" in run.last_error


def test_outage_before_last_retry_leaves_run_pending(monkeypatch):
    metered_account("3100000001", Decimal(100), Decimal(200))

    def database_down(*args, **kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(runs, "bill_account", database_down)
    run = BillRun.objects.create(period=datetime.date(2026, 11, 1))

    with pytest.raises(OperationalError):
        runs.execute_bill_run(run.pk)

    run.refresh_from_db()
    assert run.status == BillRun.Status.PENDING


def test_interrupted_row_swaps_one_element(client, staff_user):
    # An interrupted run waits for its retry: pending, with the error shown.
    run = BillRunFactory(
        status=BillRun.Status.PENDING, last_error="OperationalError: deadlock"
    )
    client.force_login(staff_user)

    response = client.get(
        reverse("billing:run_row", args=[run.pk]), headers={"HX-Request": "true"}
    )

    # hx-swap="outerHTML" on the row inserts every top-level element it gets,
    # so each 2 s poll would add one more error row under the run.
    assert 'hx-swap="outerHTML"' in response.text
    assert len(re.findall(r"<tr\b", response.text)) == 1
