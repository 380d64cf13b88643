from django.contrib.auth.decorators import permission_required
from django.shortcuts import render


@permission_required("devices.view_reading", raise_exception=True)
def readings(request):
    return render(request, "devices/readings.html", {})
