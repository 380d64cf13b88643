"""The bill run page: starting a run and watching its progress."""

import pytest
from django.urls import reverse

from billing.models import BillRun
from tests.factories import BillRunFactory

pytestmark = pytest.mark.django_db


def test_staff_starts_run_over_htmx(
    client, staff_user, django_capture_on_commit_callbacks
):
    client.force_login(staff_user)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            reverse("billing:start_run"),
            {"period": "2026-11"},
            headers={"HX-Request": "true"},
        )

    assert response.status_code == 200
    assert "<html" not in response.text
    run = BillRun.objects.get()
    assert run.started_by == staff_user
    assert run.period.isoformat() == "2026-11-01"
    assert run.status == BillRun.Status.PENDING
    assert len(callbacks) == 1


def test_bad_period_rejected_with_message(client, staff_user):
    client.force_login(staff_user)

    response = client.post(
        reverse("billing:start_run"), {"period": "Nov"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 400
    assert "YYYY-MM" in response.text
    assert not BillRun.objects.exists()


def test_running_row_polls_for_progress(client, staff_user):
    run = BillRunFactory(
        status=BillRun.Status.RUNNING, accounts_total=40, accounts_done=10
    )
    client.force_login(staff_user)

    response = client.get(reverse("billing:run_row", args=[run.pk]))

    assert 'hx-trigger="every 2s"' in response.text
    assert 'value="25"' in response.text


def test_finished_row_stops_polling(client, staff_user):
    run = BillRunFactory(status=BillRun.Status.SUCCEEDED)
    client.force_login(staff_user)

    response = client.get(reverse("billing:run_row", args=[run.pk]))

    assert "hx-trigger" not in response.text


def test_customer_cannot_start_run(client, customer_user):
    client.force_login(customer_user)

    response = client.post(reverse("billing:start_run"), {"period": "2026-11"})

    assert response.status_code == 403
    assert not BillRun.objects.exists()
