from django.contrib.auth.decorators import permission_required
from django.shortcuts import render


@permission_required("billing.view_billrun", raise_exception=True)
def runs(request):
    return render(request, "billing/runs.html", {})


@permission_required("billing.view_bill", raise_exception=True)
def review(request):
    return render(request, "billing/review.html", {})
