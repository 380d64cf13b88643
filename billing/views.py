"""Office pages for bill runs, the review queue and single bills."""

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from billing import runs as bill_runs
from billing.models import Bill, BillRun
from meterops.decorators import office_permission_required

RUNS_SHOWN = 20


def previous_month(today: datetime.date) -> datetime.date:
    """Return the first day of the month before `today`'s month."""
    return (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


@office_permission_required("billing.view_billrun")
def runs(request):
    """List bill runs with their progress and offer to start one."""
    today = timezone.localdate()
    context = {
        "runs": BillRun.objects.select_related("started_by")[:RUNS_SHOWN],
        "default_period": previous_month(today).strftime("%Y-%m"),
    }
    return render(request, "billing/runs.html", context)


@require_POST
@office_permission_required("billing.add_billrun")
def start_run(request):
    """Queue a bill run for the posted period (YYYY-MM)."""
    period_text = request.POST.get("period", "")
    try:
        first_day = bill_runs.parse_period(period_text)
        bill_runs.check_period_ended(first_day, timezone.localdate())
    except ValidationError as error:
        if request.htmx:
            return render(
                request,
                "billing/partials/run_table.html",
                {
                    "runs": BillRun.objects.all()[:RUNS_SHOWN],
                    "error": error.messages[0],
                },
                status=400,
            )
        messages.error(request, error.messages[0])
        return redirect("billing:runs")

    bill_runs.start_bill_run(first_day, started_by=request.user)
    if request.htmx:
        return render(
            request,
            "billing/partials/run_table.html",
            {"runs": BillRun.objects.select_related("started_by")[:RUNS_SHOWN]},
        )
    messages.success(
        request, _("Bill run for %(period)s queued.") % {"period": period_text}
    )
    return redirect("billing:runs")


@office_permission_required("billing.view_billrun")
def run_row(request, pk):
    """Return one run's table row; HTMX polls it while the run is in progress."""
    run = get_object_or_404(BillRun.objects.select_related("started_by"), pk=pk)
    return render(request, "billing/partials/run_row.html", {"run": run})


@office_permission_required("billing.view_billrun")
def run_detail(request, pk):
    """Show one run's counts and the accounts it could not bill, with reasons."""
    run = get_object_or_404(BillRun.objects.select_related("started_by"), pk=pk)
    return render(request, "billing/run_detail.html", {"run": run})


@office_permission_required("billing.view_bill")
def review(request):
    """List the bills held for review, oldest period first."""
    bills = (
        Bill.objects.filter(status=Bill.Status.HELD)
        .select_related("account__customer", "meter", "bill_run__started_by")
        .order_by("period_start", "account__number")
    )
    return render(request, "billing/review.html", {"bills": bills})


@require_POST
@office_permission_required("billing.view_bill")
def decide(request, pk, decision):
    """Approve or reject a held bill; HTMX swaps the review row in place."""
    bill = get_object_or_404(
        Bill.objects.select_related("account__customer", "bill_run__started_by"), pk=pk
    )
    error = None
    status = 200
    try:
        bill = bill_runs.decide_bill(
            bill, request.user, decision, note=request.POST.get("note", "")
        )
    except PermissionDenied as denied:
        error, status = str(denied), 403
    except ValidationError as invalid:
        error, status = invalid.messages[0], 409

    if request.htmx:
        return render(
            request,
            "billing/partials/review_row.html",
            {"bill": bill, "error": error},
            status=status,
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(
            request,
            _("Bill %(bill)s: %(status)s.")
            % {"bill": bill, "status": bill.get_status_display()},
        )
    return redirect("billing:review")


@office_permission_required("billing.view_bill")
def bill_detail(request, pk):
    bill = get_object_or_404(
        Bill.objects.select_related(
            "account__customer", "account__premise", "meter", "tariff_version__tariff"
        ).prefetch_related("lines", "approvals__decided_by"),
        pk=pk,
    )
    return render(request, "billing/bill_detail.html", {"bill": bill})


@office_permission_required("billing.view_bill")
def bill_pdf(request, pk):
    """Return any bill's PDF to office staff, held bills included."""
    from billing.invoices import render_invoice_pdf

    bill = get_object_or_404(
        Bill.objects.select_related("account__customer", "account__premise"), pk=pk
    )
    response = HttpResponse(render_invoice_pdf(bill), content_type="application/pdf")
    filename = f"bill-{bill.account.number}-{bill.period_start:%Y-%m}.pdf"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
