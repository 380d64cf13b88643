"""The PDF invoice: its text, its single page and its embedded CJK font."""

import io
import socket
from decimal import Decimal

import pytest
from pypdf import PdfReader

from billing.invoices import (
    InvoiceResourceError,
    InvoiceTooLongError,
    MissingCJKFontError,
    invoice_filename,
    render_invoice_pdf,
)
from billing.models import Bill, BillLine
from tests.factories import (
    AccountFactory,
    BillFactory,
    BillLineFactory,
    CustomerFactory,
    PremiseFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def bill():
    account = AccountFactory(
        number="3100012345",
        customer=CustomerFactory(name="王建国"),
        premise=PremiseFactory(address="张家口市桥西区和平路 12 号"),
    )
    bill = BillFactory(
        account=account,
        start_reading=Decimal("1000.00"),
        end_reading=Decimal("1100.00"),
        consumption_kwh=Decimal("100.00"),
        total=Decimal("52.00"),
    )
    BillLineFactory(
        bill=bill,
        sequence=1,
        description="电度电费 Energy",
        quantity_kwh=Decimal("100.00"),
        unit_price=Decimal("0.488300"),
        amount=Decimal("48.83"),
    )
    BillLineFactory(
        bill=bill,
        sequence=2,
        kind=BillLine.Kind.SURCHARGE,
        description="政府性基金及附加 Government funds",
        quantity_kwh=Decimal("100.00"),
        unit_price=Decimal("0.031700"),
        amount=Decimal("3.17"),
    )
    return bill


@pytest.fixture
def pdf(bill):
    return render_invoice_pdf(bill)


@pytest.fixture
def reader(pdf):
    return PdfReader(io.BytesIO(pdf))


@pytest.fixture
def text(reader):
    return "".join(page.extract_text() for page in reader.pages)


def test_pdf_starts_with_pdf_header(pdf):
    assert pdf.startswith(b"%PDF-")


def test_pdf_has_one_page(reader):
    assert len(reader.pages) == 1


def test_pdf_page_is_a4(reader):
    box = reader.pages[0].mediabox
    # A4 is 210 mm × 297 mm, that is 595.28 pt × 841.89 pt.
    assert round(float(box.width)) == 595
    assert round(float(box.height)) == 842


def test_pdf_text_contains_total(text):
    assert "52.00" in text


def test_pdf_text_contains_account_number(text):
    assert "3100012345" in text


def test_pdf_text_contains_chinese_labels(text):
    assert "户号" in text
    assert "电量" in text
    assert "合计" in text


def test_pdf_text_contains_english_labels(text):
    assert "Account No." in text
    assert "Consumption" in text


def test_pdf_text_contains_customer_and_address(text):
    assert "王建国" in text
    assert "和平路" in text


def test_pdf_text_contains_period(text):
    assert "2026-11-01" in text
    assert "2026-11-30" in text


def test_pdf_text_contains_readings_and_dates(text):
    assert "1000.00" in text
    assert "1100.00" in text
    assert "2026-12-01 00:00" in text


def test_pdf_text_contains_every_line(text):
    assert "电度电费" in text
    assert "政府性基金及附加" in text
    assert "48.83" in text
    assert "3.17" in text


def test_pdf_unit_price_keeps_significant_digits(text):
    assert "0.4883" in text
    assert "0.0317" in text


def test_pdf_money_has_two_decimals(bill):
    bill.total = Decimal("1234.5")
    bill.save()

    text = PdfReader(io.BytesIO(render_invoice_pdf(bill))).pages[0].extract_text()

    assert "1,234.50" in text


def test_pdf_embeds_cjk_font(reader):
    fonts = reader.pages[0]["/Resources"]["/Font"]
    embedded = []
    for reference in fonts.values():
        font = reference.get_object()
        # WeasyPrint writes CJK text through a Type0 font whose descendant
        # carries the descriptor with the embedded glyph subset.
        descendants = font.get("/DescendantFonts") or [font]
        for descendant in descendants:
            descriptor = descendant.get_object()["/FontDescriptor"].get_object()
            has_file = "/FontFile2" in descriptor or "/FontFile3" in descriptor
            if has_file:
                embedded.append(str(descriptor["/FontName"]))

    assert any("WenQuanYi" in name or "CJK" in name for name in embedded), embedded


def test_approved_pdf_has_no_warning(text):
    assert "未审核" not in text


def test_held_pdf_is_marked_not_approved(bill):
    bill.status = Bill.Status.HELD
    bill.save()

    text = PdfReader(io.BytesIO(render_invoice_pdf(bill))).pages[0].extract_text()

    assert "未审核" in text


def test_twenty_lines_fit_on_one_page(bill):
    for sequence in range(3, 21):
        BillLineFactory(bill=bill, sequence=sequence, description=f"附加 {sequence}")

    reader = PdfReader(io.BytesIO(render_invoice_pdf(bill)))

    assert len(reader.pages) == 1


def test_too_many_lines_raise(bill):
    for sequence in range(3, 80):
        BillLineFactory(bill=bill, sequence=sequence)

    with pytest.raises(InvoiceTooLongError, match="one A4 page"):
        render_invoice_pdf(bill)


def test_missing_cjk_font_raises(bill, monkeypatch):
    monkeypatch.setattr("billing.invoices.CJK_FONT_FAMILIES", ("No Such Font Family",))

    with pytest.raises(MissingCJKFontError, match="fonts-wqy-microhei"):
        render_invoice_pdf(bill)


def test_remote_url_is_not_fetched(bill, settings, tmp_path):
    # The listening socket plays the remote host, so the test can check that
    # the renderer never connected to it.
    server = socket.create_server(("127.0.0.1", 0))
    server.setblocking(False)
    port = server.getsockname()[1]
    template_dir = tmp_path / "billing"
    template_dir.mkdir()
    template_dir.joinpath("invoice_pdf.html").write_text(
        f'<html><body><img src="http://127.0.0.1:{port}/logo.png"></body></html>'
    )
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]

    with server:
        with pytest.raises(InvoiceResourceError, match="disallowed protocol"):
            render_invoice_pdf(bill)
        with pytest.raises(BlockingIOError):
            server.accept()


def test_filename_has_account_and_month(bill):
    assert invoice_filename(bill) == "bill-3100012345-2026-11.pdf"
