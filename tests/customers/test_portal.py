"""The customer portal: which bills each user may view, and the PDF download."""

import datetime

import pytest
from django.urls import reverse

from billing.models import Bill
from tests.factories import AccountFactory, BillFactory

pytestmark = pytest.mark.django_db

PORTAL_URL = reverse("customers:portal")


def pdf_url(bill):
    return reverse("customers:bill_pdf", args=[bill.pk])


def template_names(response):
    return [template.name for template in response.templates]


def listed_bills(response):
    return list(response.context["page"].object_list)


@pytest.fixture
def account(customer_user):
    return customer_user.customer.accounts.get()


@pytest.fixture
def bill(account):
    return BillFactory(account=account)


@pytest.fixture
def other_bill(other_customer_user):
    return BillFactory(account=other_customer_user.customer.accounts.get())


# Access


def test_portal_anonymous_redirects_to_login(client):
    response = client.get(PORTAL_URL)

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_pdf_anonymous_redirects_to_login(client, bill):
    response = client.get(pdf_url(bill))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("persona", ["staff_user", "supervisor"])
def test_portal_office_user_sees_notice(client, request, persona):
    client.force_login(request.getfixturevalue(persona))

    response = client.get(PORTAL_URL)

    assert response.status_code == 200
    assert "customers/not_a_customer.html" in template_names(response)
    assert "customers/portal.html" not in template_names(response)


def test_portal_notice_links_office_user_to_dashboard(client, staff_user):
    client.force_login(staff_user)

    response = client.get(PORTAL_URL)

    assert reverse("dashboard").encode() in response.content


@pytest.mark.parametrize("persona", ["staff_user", "supervisor"])
def test_pdf_office_user_gets_404(client, request, persona, bill):
    client.force_login(request.getfixturevalue(persona))

    response = client.get(pdf_url(bill))

    assert response.status_code == 404


# The bill list


def test_portal_lists_own_approved_bill(client, customer_user, bill):
    client.force_login(customer_user)

    response = client.get(PORTAL_URL)

    assert response.status_code == 200
    assert listed_bills(response) == [bill]


def test_portal_shows_bill_figures_and_link(client, customer_user, bill):
    client.force_login(customer_user)

    content = client.get(PORTAL_URL).content.decode()

    assert bill.account.number in content
    assert "52.00" in content
    assert "100.00" in content
    assert "2026-11-01" in content
    assert pdf_url(bill) in content


def test_portal_hides_other_customers_bill(client, customer_user, bill, other_bill):
    client.force_login(customer_user)

    response = client.get(PORTAL_URL)

    assert other_bill not in listed_bills(response)
    assert pdf_url(other_bill) not in response.content.decode()


@pytest.mark.parametrize("status", [Bill.Status.HELD, Bill.Status.REJECTED])
def test_portal_hides_unapproved_bill(client, customer_user, account, status):
    BillFactory(account=account, status=status)
    client.force_login(customer_user)

    response = client.get(PORTAL_URL)

    assert listed_bills(response) == []


def test_portal_lists_bills_of_every_account(client, customer_user, account, bill):
    second_account = AccountFactory(customer=customer_user.customer)
    second_bill = BillFactory(account=second_account)
    client.force_login(customer_user)

    response = client.get(PORTAL_URL)

    assert set(listed_bills(response)) == {bill, second_bill}


def test_portal_lists_newest_period_first(client, customer_user, account):
    october = BillFactory(account=account, period_start=datetime.date(2026, 10, 1))
    november = BillFactory(account=account, period_start=datetime.date(2026, 11, 1))
    client.force_login(customer_user)

    response = client.get(PORTAL_URL)

    assert listed_bills(response) == [november, october]


def test_portal_without_bills_shows_empty_list(client, customer_user):
    client.force_login(customer_user)

    response = client.get(PORTAL_URL)

    assert response.status_code == 200
    assert listed_bills(response) == []


def test_portal_paginates_long_history(client, customer_user, account):
    for month in range(1, 13):
        for year in (2024, 2025, 2026):
            BillFactory(account=account, period_start=datetime.date(year, month, 1))
    client.force_login(customer_user)

    first = client.get(PORTAL_URL)
    second = client.get(PORTAL_URL, {"page": 2})

    assert len(listed_bills(first)) == 24
    assert len(listed_bills(second)) == 12
    assert listed_bills(first)[0].period_start == datetime.date(2026, 12, 1)


def test_portal_queries_do_not_grow_with_bills(
    client, customer_user, account, django_assert_max_num_queries
):
    # Session, user, customer, bill count, two permission look-ups for the
    # navigation, and the page of bills with their accounts and premises.
    max_queries = 7
    client.force_login(customer_user)
    BillFactory(account=account)
    with django_assert_max_num_queries(max_queries):
        client.get(PORTAL_URL)

    for month in range(1, 11):
        other_account = AccountFactory(customer=customer_user.customer)
        BillFactory(account=other_account, period_start=datetime.date(2025, month, 1))

    with django_assert_max_num_queries(max_queries):
        response = client.get(PORTAL_URL)

    assert len(listed_bills(response)) == 11


# The PDF download


def test_pdf_own_bill_is_attachment(client, customer_user, bill):
    client.force_login(customer_user)

    response = client.get(pdf_url(bill))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    expected_name = f"bill-{bill.account.number}-2026-11.pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="{expected_name}"'
    )


def test_pdf_own_bill_body_is_pdf(client, customer_user, bill):
    client.force_login(customer_user)

    response = client.get(pdf_url(bill))

    assert b"".join(response.streaming_content).startswith(b"%PDF-")


def test_pdf_other_customers_bill_gets_404(client, customer_user, other_bill):
    client.force_login(customer_user)

    response = client.get(pdf_url(other_bill))

    assert response.status_code == 404


@pytest.mark.parametrize("status", [Bill.Status.HELD, Bill.Status.REJECTED])
def test_pdf_unapproved_bill_gets_404(client, customer_user, account, status):
    unapproved = BillFactory(account=account, status=status)
    client.force_login(customer_user)

    response = client.get(pdf_url(unapproved))

    assert response.status_code == 404


def test_pdf_missing_bill_gets_404(client, customer_user):
    client.force_login(customer_user)

    response = client.get(reverse("customers:bill_pdf", args=[999_999]))

    assert response.status_code == 404
