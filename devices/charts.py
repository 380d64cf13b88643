"""Server-rendered SVG charts: consumption per interval from energy readings."""

import datetime
import itertools
from dataclasses import dataclass
from decimal import Decimal

# A chart has at least this many bar slots, so one or two intervals of data
# draw narrow bars instead of blocks across the whole chart.
MIN_SLOTS = 12


@dataclass(frozen=True)
class Bar:
    """One bar of a chart, in SVG units, with the energy it stands for."""

    x: float
    y: float
    width: float
    height: float
    kwh: Decimal
    label: str


def bucket_minutes(readings) -> int:
    """Return the bar width in minutes: 15 for up to six hours of readings, else 60."""
    if len(readings) < 2:
        return 60
    span = readings[-1][0] - readings[0][0]
    return 15 if span.total_seconds() <= 6 * 3600 else 60


def interval_consumption(readings, minutes: int = 60) -> list[tuple]:
    """Return (interval start, kWh) from consecutive (local time, value) readings.

    Each step between two readings counts toward the interval its first
    reading falls in. A decrease (a reset or a replaced meter) counts as
    nothing rather than as negative use; the review rules deal with it.
    """
    intervals: dict = {}
    for (start, first), (_end, second) in itertools.pairwise(readings):
        minute = start.minute - start.minute % minutes if minutes < 60 else 0
        key = start.replace(minute=minute, second=0, microsecond=0)
        step = second - first if second >= first else Decimal(0)
        intervals[key] = intervals.get(key, Decimal(0)) + step
    return sorted(intervals.items())


def _without_gaps(intervals: list[tuple], minutes: int) -> list[tuple]:
    """Insert zero intervals where no reading fell, so bars keep their time slot."""
    if not intervals:
        return []
    step = datetime.timedelta(minutes=minutes)
    known = dict(intervals)
    filled = []
    current, last = intervals[0][0], intervals[-1][0]
    while current <= last:
        filled.append((current, known.get(current, Decimal(0))))
        current += step
    return filled


def consumption_bars(
    readings,
    width: float = 720,
    height: float = 180,
    multiplier=Decimal(1),
    minutes: int = 60,
) -> list[Bar]:
    """Lay out one bar per interval, scaled to the tallest, in SVG units."""
    intervals = _without_gaps(interval_consumption(readings, minutes), minutes)
    if not intervals:
        return []
    tallest = max(kwh for _start, kwh in intervals) * multiplier or Decimal(1)
    slot = width / max(len(intervals), MIN_SLOTS)
    bars = []
    for index, (hour, kwh) in enumerate(intervals):
        energy = kwh * multiplier
        bar_height = float(energy / tallest) * height
        bars.append(
            Bar(
                x=index * slot,
                y=height - bar_height,
                width=max(slot - 1, 1),
                height=bar_height,
                kwh=energy,
                label=f"{hour:%m-%d %H:%M}",
            )
        )
    return bars
