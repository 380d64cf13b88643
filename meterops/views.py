"""The landing page and the office dashboard."""

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.utils import timezone

from billing.models import Bill, BillRun
from devices.models import Concentrator, Meter, PollRound, Reading
from meterops.decorators import office_permission_required
from meterops.roles import is_office_user


@login_required
def home(request):
    """Send office users to the dashboard and customers to their portal."""
    if is_office_user(request.user):
        return redirect("dashboard")
    return redirect("customers:portal")


@office_permission_required("devices.view_concentrator")
def dashboard(request):
    """Show collection and billing at a glance; the body refreshes over HTMX."""
    now = timezone.now()
    day_start = timezone.localtime(now).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    concentrators = Concentrator.objects.annotate(
        meter_count=Count("meters", filter=Q(meters__removed_at__isnull=True))
    ).select_related("transformer_area")
    context = {
        "now": now,
        "concentrators": concentrators,
        "meter_count": Meter.objects.filter(removed_at__isnull=True).count(),
        "readings_today": Reading.objects.filter(read_at__gte=day_start).count(),
        "held_count": Bill.objects.filter(status=Bill.Status.HELD).count(),
        "failed_count": Concentrator.objects.filter(
            enabled=True, last_poll_status=Concentrator.PollStatus.FAILED
        ).count(),
        "recent_rounds": PollRound.objects.select_related("concentrator")[:8],
        "recent_runs": BillRun.objects.select_related("started_by")[:5],
    }
    template = "partials/dashboard_body.html" if request.htmx else "dashboard.html"
    return render(request, template, context)
