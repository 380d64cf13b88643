"""The office flow in headless Chromium: approve a held bill, download the PDF."""

import io

import pytest
from pypdf import PdfReader

from billing.models import Bill
from tests.e2e.conftest import log_in
from tests.factories import BillFactory, BillLineFactory, BillRunFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_supervisor_approves_held_bill_in_place(
    browser, live_server, supervisor, second_supervisor
):
    run = BillRunFactory(started_by=supervisor)
    bill = BillFactory(bill_run=run, status=Bill.Status.HELD, hold_reasons=["high"])
    page = browser.new_page()
    log_in(page, live_server, second_supervisor.username)

    page.goto(f"{live_server.url}/billing/review/")
    # A marker on window survives an HTMX swap but not a page load.
    page.evaluate("window.sameDocument = true")
    page.click(f"#bill-{bill.pk} button.approve")
    page.wait_for_selector(f"#bill-{bill.pk} .decision")

    assert page.evaluate("window.sameDocument") is True
    bill.refresh_from_db()
    assert bill.status == Bill.Status.APPROVED
    assert bill.approvals.get().decided_by == second_supervisor


def test_run_starter_offered_no_decision(browser, live_server, supervisor):
    run = BillRunFactory(started_by=supervisor)
    bill = BillFactory(bill_run=run, status=Bill.Status.HELD, hold_reasons=["zero"])
    page = browser.new_page()
    log_in(page, live_server, supervisor.username)

    page.goto(f"{live_server.url}/billing/review/")
    row = page.locator(f"#bill-{bill.pk}")

    assert "another supervisor reviews it" in row.inner_text()
    assert row.locator("button.approve").count() == 0
    bill.refresh_from_db()
    assert bill.status == Bill.Status.HELD


def test_customer_downloads_bill_pdf(browser, live_server, customer_user):
    account = customer_user.customer.accounts.get()
    bill = BillFactory(account=account, total="167.00")
    BillLineFactory(bill=bill, amount="167.00")
    page = browser.new_page()
    log_in(page, live_server, customer_user.username)

    page.goto(f"{live_server.url}/portal/")
    with page.expect_download() as download_info:
        page.click(f"a[href='/portal/bills/{bill.pk}/pdf/']")
    download = download_info.value
    content = download.path().read_bytes()

    assert download.suggested_filename == f"bill-{account.number}-2026-11.pdf"
    text = PdfReader(io.BytesIO(content)).pages[0].extract_text()
    assert "167.00" in text
    assert account.number in text
