"""Office pages about collection: the latest reading of every meter."""

import datetime
from decimal import Decimal

from django.core.paginator import Paginator
from django.db.models import OuterRef, Subquery
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from devices.charts import bucket_minutes, consumption_bars
from devices.models import Meter, Quantity, Reading
from meterops.decorators import office_permission_required

METERS_PER_PAGE = 50


def meters_with_latest_energy():
    """Return meters in service annotated with their latest import energy reading."""
    latest = Reading.objects.filter(
        meter=OuterRef("pk"), quantity=Quantity.IMPORT_ACTIVE_ENERGY
    ).order_by("-read_at")
    return (
        Meter.objects.filter(removed_at__isnull=True)
        .select_related("concentrator", "account__customer")
        .annotate(
            latest_value=Subquery(latest.values("value")[:1]),
            latest_read_at=Subquery(latest.values("read_at")[:1]),
            latest_source=Subquery(latest.values("source")[:1]),
        )
        .order_by("concentrator__name", "unit_id")
    )


@office_permission_required("devices.view_reading")
def readings(request):
    """Show each meter's latest energy reading; the table refreshes over HTMX."""
    page = Paginator(meters_with_latest_energy(), METERS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    for meter in page:
        meter.latest_source_label = (
            Reading.Source(meter.latest_source).label if meter.latest_source else ""
        )
    context = {"page": page, "now": timezone.now()}
    template = (
        "devices/partials/reading_table.html"
        if request.htmx
        else "devices/readings.html"
    )
    return render(request, template, context)


CHART_HOURS = 24


@office_permission_required("devices.view_reading")
def meter_detail(request, serial):
    """Show one meter: its latest values and a chart of the last day's usage."""
    meter = get_object_or_404(
        Meter.objects.select_related("model", "concentrator", "account__customer"),
        serial=serial,
    )

    now = timezone.now()
    energy = list(
        Reading.objects.filter(
            meter=meter,
            quantity=Quantity.IMPORT_ACTIVE_ENERGY,
            read_at__gte=now - datetime.timedelta(hours=CHART_HOURS),
        )
        .order_by("read_at")
        .values_list("read_at", "value")
    )
    local_energy = [(timezone.localtime(at), value) for at, value in energy]
    minutes = bucket_minutes(local_energy)
    bars = consumption_bars(local_energy, multiplier=meter.multiplier, minutes=minutes)

    latest_at = (
        Reading.objects.filter(meter=meter)
        .order_by("-read_at")
        .values_list("read_at", flat=True)
        .first()
    )
    order = {quantity: index for index, quantity in enumerate(Quantity.values)}
    latest = sorted(
        Reading.objects.filter(meter=meter, read_at=latest_at),
        key=lambda reading: order.get(reading.quantity, len(order)),
    )

    context = {
        "meter": meter,
        "bars": bars,
        "bar_minutes": minutes,
        "chart_max_kwh": max((bar.kwh for bar in bars), default=None),
        "chart_total_kwh": sum((bar.kwh for bar in bars), Decimal(0)),
        "chart_hours": CHART_HOURS,
        "latest": latest,
        "latest_at": latest_at,
    }
    return render(request, "devices/meter_detail.html", context)
