"""The customer portal: a customer's own approved bills and their PDFs."""

import io

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render

from billing.invoices import invoice_filename, render_invoice_pdf
from billing.models import Bill
from customers.models import Customer

BILLS_PER_PAGE = 24


def _customer_of(user) -> Customer | None:
    """Return the customer whose portal login is `user`, or None."""
    try:
        return user.customer
    except Customer.DoesNotExist:
        return None


def _visible_bills(customer: Customer):
    """Return the bills a customer may see: approved bills of their accounts.

    Held and rejected bills stay in the office until a supervisor approves
    them, so they never appear in the portal.
    """
    return Bill.objects.filter(
        account__customer=customer, status=Bill.Status.APPROVED
    ).select_related("account", "account__premise")


@login_required
def portal(request):
    """List the logged-in customer's approved bills, newest period first."""
    customer = _customer_of(request.user)
    if customer is None:
        return render(request, "customers/not_a_customer.html")

    bills = _visible_bills(customer).order_by("-period_start", "account__number")
    page = Paginator(bills, BILLS_PER_PAGE).get_page(request.GET.get("page"))

    return render(
        request, "customers/portal.html", {"customer": customer, "page": page}
    )


@login_required
def bill_pdf(request, bill_id):
    """Send one of the customer's approved bills as a PDF attachment.

    Return 404, not 403, for a bill the user may not see, so the response
    does not reveal which bill ids exist.
    """
    customer = _customer_of(request.user)
    if customer is None:
        raise Http404("Only customers can download bills from the portal.")

    bill = get_object_or_404(
        _visible_bills(customer)
        .select_related("account__customer", "meter")
        .prefetch_related("lines"),
        pk=bill_id,
    )
    pdf = render_invoice_pdf(bill)

    return FileResponse(
        io.BytesIO(pdf),
        as_attachment=True,
        filename=invoice_filename(bill),
        content_type="application/pdf",
    )
