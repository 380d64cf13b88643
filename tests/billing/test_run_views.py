"""The bill run page: starting a run and watching its progress."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from billing.models import BillRun
from tests.billing.test_bill_run import metered_account
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


def test_month_not_ended_rejected(client, staff_user):
    this_month = timezone.localdate().strftime("%Y-%m")
    client.force_login(staff_user)

    response = client.post(
        reverse("billing:start_run"),
        {"period": this_month},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 400
    assert "has not ended yet" in response.text
    assert not BillRun.objects.exists()


def test_run_detail_lists_problems(client, staff_user):
    run = BillRunFactory(
        accounts_total=3,
        accounts_done=3,
        bills_created=1,
        accounts_skipped=1,
        problems=[{"account": "3100000042", "message": "No meter was installed."}],
    )
    client.force_login(staff_user)

    response = client.get(reverse("billing:run_detail", args=[run.pk]))

    assert response.status_code == 200
    assert "3100000042" in response.text
    assert "No meter was installed." in response.text
    assert run.accounts_already_billed == 1


def test_command_rejects_month_not_ended():
    this_month = timezone.localdate().strftime("%Y-%m")

    with pytest.raises(CommandError, match="has not ended yet"):
        call_command("run_billing", "--period", this_month)

    assert not BillRun.objects.exists()


def test_command_reports_already_billed():
    metered_account(Decimal("1000.00"), Decimal("1100.00"))
    first, second = StringIO(), StringIO()

    call_command("run_billing", "--period", "2026-11", stdout=first)
    call_command("run_billing", "--period", "2026-11", stdout=second)

    assert "1 bills created" in first.getvalue()
    assert "0 bills created" in second.getvalue()
    assert "1 already billed" in second.getvalue()
