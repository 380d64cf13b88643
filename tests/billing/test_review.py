"""The review queue and the approver rule."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from billing.models import Bill, BillApproval
from billing.runs import decide_bill
from tests.factories import BillFactory, BillRunFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def held_bill(supervisor):
    run = BillRunFactory(started_by=supervisor)
    return BillFactory(bill_run=run, status=Bill.Status.HELD, hold_reasons=["zero"])


def test_other_supervisor_approves(held_bill, second_supervisor):
    bill = decide_bill(held_bill, second_supervisor, "approved")

    assert bill.status == Bill.Status.APPROVED
    approval = BillApproval.objects.get(bill=bill)
    assert approval.decided_by == second_supervisor
    assert approval.decision == "approved"


def test_run_starter_cannot_approve(held_bill, supervisor):
    with pytest.raises(PermissionDenied, match="another supervisor"):
        decide_bill(held_bill, supervisor, "approved")

    held_bill.refresh_from_db()
    assert held_bill.status == Bill.Status.HELD
    assert not BillApproval.objects.exists()


def test_staff_cannot_approve(held_bill, staff_user):
    with pytest.raises(PermissionDenied, match="supervisor"):
        decide_bill(held_bill, staff_user, "approved")


def test_bill_of_system_run_approvable_by_any_supervisor(supervisor):
    bill = BillFactory(status=Bill.Status.HELD)

    assert decide_bill(bill, supervisor, "rejected").status == Bill.Status.REJECTED


def test_decided_bill_cannot_be_decided_again(held_bill, second_supervisor):
    decide_bill(held_bill, second_supervisor, "approved")

    with pytest.raises(ValidationError, match="no longer held"):
        decide_bill(held_bill, second_supervisor, "rejected")


def test_unknown_decision_rejected(held_bill, second_supervisor):
    with pytest.raises(ValidationError, match="maybe"):
        decide_bill(held_bill, second_supervisor, "maybe")


def test_review_page_lists_held_bills_only(client, supervisor, held_bill):
    approved = BillFactory(status=Bill.Status.APPROVED)
    client.force_login(supervisor)

    response = client.get(reverse("billing:review"))

    assert response.status_code == 200
    assert f'id="bill-{held_bill.pk}"' in response.text
    assert f'id="bill-{approved.pk}"' not in response.text
    assert "<html" in response.text


def test_review_page_query_count_bounded(
    client, supervisor, django_assert_max_num_queries
):
    for _ in range(15):
        BillFactory(status=Bill.Status.HELD)
    client.force_login(supervisor)

    with django_assert_max_num_queries(12):
        client.get(reverse("billing:review"))


def test_htmx_approve_returns_row_fragment(client, held_bill, second_supervisor):
    client.force_login(second_supervisor)

    response = client.post(
        reverse("billing:approve", args=[held_bill.pk]), headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert response.text.lstrip().startswith(f'<tr id="bill-{held_bill.pk}"')
    assert "<html" not in response.text
    held_bill.refresh_from_db()
    assert held_bill.status == Bill.Status.APPROVED


def test_plain_post_redirects_to_queue(client, held_bill, second_supervisor):
    client.force_login(second_supervisor)

    response = client.post(reverse("billing:reject", args=[held_bill.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("billing:review")
    held_bill.refresh_from_db()
    assert held_bill.status == Bill.Status.REJECTED


def test_starter_approval_error_in_row(client, held_bill, supervisor):
    client.force_login(supervisor)

    response = client.post(
        reverse("billing:approve", args=[held_bill.pk]), headers={"HX-Request": "true"}
    )

    assert response.status_code == 403
    assert "another supervisor" in response.text
    held_bill.refresh_from_db()
    assert held_bill.status == Bill.Status.HELD


def test_customer_cannot_open_review(client, customer_user):
    client.force_login(customer_user)

    assert client.get(reverse("billing:review")).status_code == 403


def test_customer_cannot_approve(client, customer_user, held_bill):
    client.force_login(customer_user)

    response = client.post(reverse("billing:approve", args=[held_bill.pk]))

    assert response.status_code == 403
    held_bill.refresh_from_db()
    assert held_bill.status == Bill.Status.HELD


def test_approve_requires_post(client, second_supervisor, held_bill):
    client.force_login(second_supervisor)

    assert (
        client.get(reverse("billing:approve", args=[held_bill.pk])).status_code == 405
    )
