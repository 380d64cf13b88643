"""The landing page and the office dashboard."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from meterops.roles import is_office_user


@login_required
def home(request):
    """Send office users to the dashboard and customers to their portal."""
    if is_office_user(request.user):
        return redirect("dashboard")
    return redirect("customers:portal")


@login_required
def dashboard(request):
    return render(request, "dashboard.html", {})
