"""Every office page, tried as each persona, whole and as an HTMX fragment."""

import pytest
from django.urls import reverse

from tests.factories import BillFactory, MeterFactory, ReadingFactory

pytestmark = pytest.mark.django_db

OFFICE_PAGES = ["dashboard", "devices:readings", "billing:runs", "billing:review"]


@pytest.mark.parametrize("name", OFFICE_PAGES)
def test_anonymous_redirected_to_login(client, name):
    response = client.get(reverse(name))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", OFFICE_PAGES)
@pytest.mark.parametrize("persona", ["staff_user", "supervisor"])
def test_office_user_sees_page(client, request, name, persona):
    client.force_login(request.getfixturevalue(persona))

    response = client.get(reverse(name))

    assert response.status_code == 200
    assert "<html" in response.text


@pytest.mark.parametrize("name", OFFICE_PAGES)
def test_customer_forbidden(client, customer_user, name):
    client.force_login(customer_user)

    assert client.get(reverse(name)).status_code == 403


@pytest.mark.parametrize("name", ["dashboard", "devices:readings"])
def test_htmx_refresh_returns_fragment(client, staff_user, name):
    client.force_login(staff_user)

    response = client.get(reverse(name), headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert "<html" not in response.text


def test_home_sends_staff_to_dashboard(client, staff_user):
    client.force_login(staff_user)

    assert client.get(reverse("home"))["Location"] == reverse("dashboard")


def test_home_sends_customer_to_portal(client, customer_user):
    client.force_login(customer_user)

    assert client.get(reverse("home"))["Location"] == reverse("customers:portal")


def test_readings_page_shows_latest_value(client, staff_user):
    meter = MeterFactory()
    ReadingFactory(meter=meter, value="100.00")
    ReadingFactory(meter=meter, value="123.45", read_at="2026-12-01T08:00:00+08:00")
    client.force_login(staff_user)

    response = client.get(reverse("devices:readings"))

    assert "123.45" in response.text
    assert "100.00" not in response.text


def test_readings_page_query_count_bounded(
    client, staff_user, django_assert_max_num_queries
):
    for _ in range(20):
        ReadingFactory()
    client.force_login(staff_user)

    with django_assert_max_num_queries(10):
        client.get(reverse("devices:readings"))


def test_bill_detail_shows_lines(client, staff_user):
    bill = BillFactory()
    client.force_login(staff_user)

    response = client.get(reverse("billing:bill_detail", args=[bill.pk]))

    assert response.status_code == 200
    assert bill.account.number in response.text
    assert "52.00" in response.text
