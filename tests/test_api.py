"""The REST API: pushing readings and reading bills, per persona."""

import datetime

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from billing.models import Bill
from devices.models import Reading
from tests.factories import BillFactory, MeterFactory, ReadingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


def push(api, **overrides):
    payload = {
        "meter": "DTSU-API-1",
        "quantity": "import_kwh",
        "value": "1234.56",
        "read_at": "2026-12-01T00:00:00+08:00",
        "source": "import",
    }
    payload.update(overrides)
    return api.post("/api/readings/", payload, format="json")


def test_staff_pushes_reading(api, staff_user):
    MeterFactory(serial="DTSU-API-1")
    api.force_authenticate(staff_user)

    response = push(api)

    assert response.status_code == 201
    reading = Reading.objects.get()
    assert str(reading.value) == "1234.5600"
    assert reading.source == Reading.Source.IMPORT


def test_token_authentication(api, staff_user):
    MeterFactory(serial="DTSU-API-1")
    token = Token.objects.create(user=staff_user)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    assert push(api).status_code == 201


def test_repeated_push_returns_stored_reading(api, staff_user):
    MeterFactory(serial="DTSU-API-1")
    api.force_authenticate(staff_user)
    push(api)

    response = push(api)

    assert response.status_code == 200
    assert Reading.objects.count() == 1


def test_conflicting_push_rejected_and_stored_value_kept(api, staff_user):
    MeterFactory(serial="DTSU-API-1")
    api.force_authenticate(staff_user)
    push(api)

    response = push(api, value="1300.00")

    assert response.status_code == 409
    assert "1300.00" in response.data["detail"]
    assert "1234.56" in response.data["detail"]
    assert str(Reading.objects.get().value) == "1234.5600"


def test_unknown_meter_named_in_error(api, staff_user):
    api.force_authenticate(staff_user)

    response = push(api, meter="NOPE-404")

    assert response.status_code == 400
    assert "NOPE-404" in str(response.data["meter"])


def test_negative_energy_rejected(api, staff_user):
    MeterFactory(serial="DTSU-API-1")
    api.force_authenticate(staff_user)

    response = push(api, value="-1")

    assert response.status_code == 400
    assert "negative" in str(response.data["value"])


def test_future_reading_rejected(api, staff_user):
    MeterFactory(serial="DTSU-API-1")
    api.force_authenticate(staff_user)

    tomorrow = timezone.now() + datetime.timedelta(days=1)

    response = push(api, read_at=tomorrow.isoformat())

    assert response.status_code == 400
    assert "future" in str(response.data["read_at"])


def test_customer_cannot_push_or_list_readings(api, customer_user):
    MeterFactory(serial="DTSU-API-1")
    api.force_authenticate(customer_user)

    assert push(api).status_code == 403
    assert api.get("/api/readings/").status_code == 403


def test_anonymous_rejected(api):
    assert api.get("/api/bills/").status_code in (401, 403)


def test_staff_lists_readings_of_one_meter(api, staff_user):
    meter = MeterFactory(serial="DTSU-API-1")
    ReadingFactory(meter=meter)
    ReadingFactory()
    api.force_authenticate(staff_user)

    response = api.get("/api/readings/", {"meter": "DTSU-API-1"})

    assert response.status_code == 200
    assert response.data["count"] == 1
    assert response.data["results"][0]["meter"] == "DTSU-API-1"


def test_customer_sees_only_own_approved_bills(api, customer_user, other_customer_user):
    account = customer_user.customer.accounts.get()
    own = BillFactory(account=account)
    BillFactory(account=account, status=Bill.Status.HELD, period_start="2026-10-01")
    BillFactory(account=other_customer_user.customer.accounts.get())
    api.force_authenticate(customer_user)

    response = api.get("/api/bills/")

    assert [bill["id"] for bill in response.data["results"]] == [own.pk]
    assert response.data["results"][0]["total"] == "52.00"


def test_customer_gets_404_for_other_bill(api, customer_user, other_customer_user):
    other = BillFactory(account=other_customer_user.customer.accounts.get())
    api.force_authenticate(customer_user)

    assert api.get(f"/api/bills/{other.pk}/").status_code == 404


def test_office_filters_bills_by_period(api, staff_user):
    november = BillFactory()
    BillFactory(period_start="2026-10-01")
    api.force_authenticate(staff_user)

    response = api.get("/api/bills/", {"period": "2026-11"})

    assert [bill["id"] for bill in response.data["results"]] == [november.pk]


def test_bill_list_query_count_bounded(api, staff_user, django_assert_max_num_queries):
    for _ in range(10):
        BillFactory()
    api.force_authenticate(staff_user)

    with django_assert_max_num_queries(6):
        api.get("/api/bills/")


def test_reading_outside_billable_years_rejected(api, staff_user):
    MeterFactory(serial="DTSU-API-1")
    api.force_authenticate(staff_user)

    response = push(api, read_at="1999-12-31T00:00:00+08:00")

    assert response.status_code == 400
    assert "between 2000 and 2099" in str(response.data["read_at"])


def test_bad_period_filter_rejected(api, staff_user):
    api.force_authenticate(staff_user)

    response = api.get("/api/bills/", {"period": "2026-13"})

    assert response.status_code == 400
    assert "YYYY-MM" in str(response.data["period"])
