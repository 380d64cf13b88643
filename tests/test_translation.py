"""The office works in Simplified Chinese: the catalog ships and is used."""

import pytest
from django.urls import reverse
from django.utils import translation

from billing.models import Bill
from tests.factories import BillFactory

pytestmark = pytest.mark.django_db


def test_catalog_translates_review_heading():
    with translation.override("zh-hans"):
        assert translation.gettext("Bills held for review") == "待审核账单"


def test_office_pages_default_to_chinese(client, settings, supervisor):
    settings.LANGUAGE_CODE = "zh-hans"
    BillFactory(status=Bill.Status.HELD, hold_reasons=["zero"])
    client.force_login(supervisor)

    response = client.get(reverse("billing:review"))

    assert "待审核账单" in response.text
    assert 'lang="zh-hans"' in response.text


def test_english_chosen_by_browser(client, settings, supervisor):
    settings.LANGUAGE_CODE = "zh-hans"
    client.force_login(supervisor)

    response = client.get(reverse("billing:review"), HTTP_ACCEPT_LANGUAGE="en")

    assert "Bills held for review" in response.text
