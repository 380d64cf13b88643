"""Server-rendered SVG charts: consumption per hour from energy readings."""

import itertools
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Bar:
    """One bar of a chart, in SVG units, with the energy it stands for."""

    x: float
    y: float
    width: float
    height: float
    kwh: Decimal
    label: str


def hourly_consumption(readings) -> list[tuple]:
    """Return (hour start, kWh) from consecutive (local time, value) readings.

    Each step between two readings counts toward the hour its first reading
    falls in. A decrease (a reset or a replaced meter) counts as nothing
    rather than as negative use; the review rules deal with such readings.
    """
    hours: dict = {}
    for (start, first), (_end, second) in itertools.pairwise(readings):
        hour = start.replace(minute=0, second=0, microsecond=0)
        step = second - first if second >= first else Decimal(0)
        hours[hour] = hours.get(hour, Decimal(0)) + step
    return sorted(hours.items())


def consumption_bars(
    readings, width: float = 720, height: float = 180, multiplier=Decimal(1)
) -> list[Bar]:
    """Lay out one bar per hour, scaled to the tallest, in SVG units."""
    hours = hourly_consumption(readings)
    if not hours:
        return []
    tallest = max(kwh for _hour, kwh in hours) * multiplier or Decimal(1)
    slot = width / len(hours)
    bars = []
    for index, (hour, kwh) in enumerate(hours):
        energy = kwh * multiplier
        bar_height = float(energy / tallest) * height
        bars.append(
            Bar(
                x=index * slot,
                y=height - bar_height,
                width=max(slot - 1, 1),
                height=bar_height,
                kwh=energy,
                label=f"{hour:%m-%d %H:00}",
            )
        )
    return bars
