"""The office flow in headless Chromium: approve a held bill, download the PDF."""

import io
import os
import shutil

import pytest
from django.db import connections
from pypdf import PdfReader

from billing.models import Bill
from tests.factories import BillFactory, BillLineFactory, BillRunFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
PASSWORD = "correct-horse-9"


@pytest.fixture
def browser():
    if not shutil.which(CHROMIUM):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}. Install the Debian package "
            "chromium (make test does this as root) or set CHROMIUM_PATH."
        )
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own
    # ORM calls are synchronous and safe here.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield chromium
        # While Playwright's loop runs, Django keys connections by that
        # context: close the test's own here, or it outlives the test database.
        connections.close_all()
        chromium.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


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
