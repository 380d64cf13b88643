"""Bad input to the REST API must get a 400 or an empty list, never a 500."""

import pytest
from rest_framework.test import APIClient

from tests.factories import MeterFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(staff_user):
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(staff_user)
    return client


@pytest.mark.parametrize(
    "query",
    [
        {"period": "2026-²"},
        {"period": "99999-01"},
        {"account": "31\x0000"},
    ],
)
def test_bill_list_bad_query_not_500(api, query):
    response = api.get("/api/bills/", query)
    assert response.status_code < 500, (query, response.status_code)


@pytest.mark.parametrize(
    "query",
    [
        {"meter": "DTSU\x00"},
        {"quantity": "import_kwh\x00"},
        {"since": "0001-01-01T00:00:00"},
    ],
)
def test_reading_list_bad_query_not_500(api, query):
    response = api.get("/api/readings/", query)
    assert response.status_code < 500, (query, response.status_code)


def test_reading_push_year_one_not_500(api):
    meter = MeterFactory()
    payload = {
        "meter": meter.serial,
        "quantity": "import_kwh",
        "value": "1",
        "read_at": "0001-01-01T00:00:00",
    }
    response = api.post("/api/readings/", payload, format="json")
    assert response.status_code == 400, response.status_code
