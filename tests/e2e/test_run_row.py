"""The bill run page in Chromium while an interrupted run waits for its retry."""

import pytest
from django.contrib.auth.models import Group

from billing.models import BillRun
from meterops.roles import STAFF, ensure_roles
from tests.e2e.conftest import log_in
from tests.factories import BillRunFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_error_row_not_repeated(browser, live_server):
    # A transactional test starts from a flushed database, without the groups.
    ensure_roles()
    user = UserFactory(username="staff")
    user.groups.add(Group.objects.get(name=STAFF))
    BillRunFactory(
        status=BillRun.Status.PENDING, last_error="OperationalError: deadlock"
    )
    page = browser.new_page()
    log_in(page, live_server, "staff")

    page.goto(f"{live_server.url}/billing/runs/")
    # The pending row polls every 2 s, so three polls fit in 7 s.
    page.wait_for_timeout(7000)

    assert page.locator(".error-text").count() == 1
