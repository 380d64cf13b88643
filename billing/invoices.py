"""The PDF invoice of one bill, rendered by WeasyPrint.

The invoice is a single A4 page. Its labels are printed in Chinese with the
English beside or beneath, whatever language the user has chosen. The text
is set in a CJK font found through fontconfig by family name, and WeasyPrint
embeds the subset of glyphs it uses, so the PDF opens correctly on machines
without that font. The Debian package fonts-wqy-microhei provides the first
family in the list.

The renderer reads only local files: `base_url` is the project directory and
the URL fetcher rejects every scheme except `file` and `data`.
"""

import logging
from decimal import Decimal

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint import HTML
from weasyprint.urls import FatalURLFetchingError, URLFetcher

from billing.models import Bill, BillLine
from billing.money import round_fen

logger = logging.getLogger(__name__)

TEMPLATE_NAME = "billing/invoice_pdf.html"

# The first family installed wins. The template's CSS lists the same names.
CJK_FONT_FAMILIES = ("WenQuanYi Micro Hei", "Noto Sans CJK SC")

LOCAL_URL_SCHEMES = ("file", "data")


class InvoiceError(Exception):
    """An invoice could not be rendered as a correct PDF."""


class InvoiceTooLongError(InvoiceError):
    """The bill's content does not fit on one A4 page."""


class MissingCJKFontError(InvoiceError):
    """No CJK font from CJK_FONT_FAMILIES was available to set the text."""


class InvoiceResourceError(InvoiceError):
    """The invoice template refers to a resource that cannot be read locally."""


def render_invoice_pdf(bill: Bill) -> bytes:
    """Render `bill` as a one-page A4 PDF and return the PDF's bytes.

    The bill's account, customer, premise, meter and lines are read through
    the bill, so pass a bill loaded with select_related and prefetch_related
    to avoid a query for each of them.

    Raise InvoiceTooLongError if the layout takes more than one page,
    MissingCJKFontError if none of CJK_FONT_FAMILIES is installed, and
    InvoiceResourceError if the template refers to a remote URL or to a
    file that does not exist.
    """
    lines = sorted(bill.lines.all(), key=lambda line: line.sequence)
    html = render_to_string(TEMPLATE_NAME, _invoice_context(bill, lines))
    fetcher = URLFetcher(allowed_protocols=LOCAL_URL_SCHEMES, fail_on_errors=True)

    # WeasyPrint's FatalURLFetchingError derives from BaseException, which
    # Django's request handling does not catch, so convert it here.
    try:
        document = HTML(
            string=html, base_url=str(settings.BASE_DIR), url_fetcher=fetcher
        ).render()
        pdf = document.write_pdf()
    except FatalURLFetchingError as error:
        raise InvoiceResourceError(
            f"Invoice of bill {bill.pk} refers to a resource that cannot be read "
            f"locally ({error.__cause__ or error}). Keep every stylesheet, image "
            f"and font of {TEMPLATE_NAME} inline or under the project directory."
        ) from error

    if len(document.pages) != 1:
        raise InvoiceTooLongError(
            f"Invoice of bill {bill.pk} takes {len(document.pages)} pages with "
            f"{len(lines)} lines, but it must fit on one A4 page. Shorten the "
            f"line descriptions or make the layout in {TEMPLATE_NAME} denser."
        )

    families = {font.family for font in document.fonts.values()}
    if families.isdisjoint(CJK_FONT_FAMILIES):
        raise MissingCJKFontError(
            f"Invoice of bill {bill.pk} was set in {sorted(families)}, none of "
            f"which is a CJK font, so its Chinese text would not display. "
            f"Install one of {list(CJK_FONT_FAMILIES)}, for example the Debian "
            f"package fonts-wqy-microhei."
        )

    logger.info("Rendered invoice of bill %s (%d bytes)", bill.pk, len(pdf))
    return pdf


def invoice_filename(bill: Bill) -> str:
    """Return the download name of the bill's PDF: bill-<account>-<YYYY-MM>.pdf."""
    return f"bill-{bill.account.number}-{bill.period_start:%Y-%m}.pdf"


def _invoice_context(bill: Bill, lines: list[BillLine]) -> dict:
    account = bill.account
    line_rows = [
        {
            "description": line.description,
            "quantity_kwh": _format_decimal(line.quantity_kwh, min_places=2),
            "unit_price": _format_decimal(line.unit_price, min_places=2),
            "amount": _format_money(line.amount),
        }
        for line in lines
    ]
    return {
        "bill": bill,
        "is_approved": bill.status == Bill.Status.APPROVED,
        "account_number": account.number,
        "customer_name": account.customer.name,
        "customer_number": account.customer.number,
        "address": account.premise.address,
        "meter_serial": bill.meter.serial,
        "period_start": f"{bill.billed_from:%Y-%m-%d}",
        "period_end": f"{bill.billed_to:%Y-%m-%d}",
        "period_month": f"{bill.period_start:%Y-%m}",
        "start_reading": _format_decimal(bill.start_reading, 2, grouping=False),
        "start_read_at": _format_time(bill.start_read_at),
        "end_reading": _format_decimal(bill.end_reading, 2, grouping=False),
        "end_read_at": _format_time(bill.end_read_at),
        "multiplier": _format_decimal(bill.multiplier, min_places=0),
        "consumption_kwh": _format_decimal(bill.consumption_kwh, min_places=2),
        "lines": line_rows,
        "total": _format_money(bill.total),
    }


def _format_money(amount: Decimal) -> str:
    """Format yuan with two decimals and thousands separators: 1,234.50."""
    return f"{round_fen(amount):,.2f}"


def _format_decimal(value: Decimal, min_places: int, grouping: bool = True) -> str:
    """Format `value` exactly, with at least `min_places` decimals.

    Trailing zeros beyond `min_places` are dropped, so 0.520000 yuan/kWh
    prints as 0.52 and 0.048300 as 0.0483. No digit is rounded away.
    """
    exponent = value.normalize().as_tuple().exponent
    places = max(min_places, -exponent) if isinstance(exponent, int) else min_places
    separator = "," if grouping else ""
    return f"{value:{separator}.{places}f}"


def _format_time(moment) -> str:
    """Format an aware datetime in the office's time zone, to the minute."""
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"
