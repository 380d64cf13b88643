"""Energy and power of simulated meters from the BDEW standard load profiles.

The profiles come from demandlib 0.2.2 (`demandlib.bdew.ElecSlp`): H0 for
households and G0 for commercial accounts, one value per 15-minute interval,
normalised so that a calendar year sums to 1. Chinese public holidays, from the
`holidays` package, take the Sunday profile. The profile's wall-clock times are
read as Asia/Shanghai local time, which has had no daylight saving time since
1991, so every local year has exactly 96 intervals a day.
"""

import math
import threading
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from unittest import mock
from zoneinfo import ZoneInfo

import holidays
import numpy as np
from demandlib.bdew import ElecSlp

OFFICE_TIME_ZONE = ZoneInfo("Asia/Shanghai")
INTERVAL = timedelta(minutes=15)
INTERVALS_PER_HOUR = 4

# Account.LoadClass value -> BDEW profile name.
PROFILE_BY_LOAD_CLASS = {"household": "h0", "commercial": "g0"}


@dataclass(frozen=True)
class YearProfile:
    """The cumulative load profile of one local calendar year.

    `cumulative[k]` is the share of the year's energy used before interval k,
    so it starts at 0.0 and ends at exactly 1.0.
    """

    start: datetime
    cumulative: np.ndarray

    @property
    def interval_count(self) -> int:
        """Return the number of 15-minute intervals in the year."""
        return len(self.cumulative) - 1

    def _position(self, at: datetime) -> tuple[int, float]:
        position = (at - self.start) / INTERVAL
        index = math.floor(position)
        return index, position - index

    def share_until(self, at: datetime) -> float:
        """Return the share of the year's energy used before `at`.

        Inside an interval the energy grows linearly. The result is clamped to
        the end of the interval, so rounding can never make it decrease.
        """
        index, offset = self._position(at)
        if index < 0:
            return 0.0
        if index >= self.interval_count:
            return 1.0

        low = self.cumulative[index]
        high = self.cumulative[index + 1]
        return float(min(low + offset * (high - low), high))

    def interval_share(self, at: datetime) -> float:
        """Return the share of the year's energy used in the interval of `at`."""
        index, _offset = self._position(at)
        if not 0 <= index < self.interval_count:
            raise ValueError(f"{at.isoformat()} is outside the year {self.start.year}.")
        return float(self.cumulative[index + 1] - self.cumulative[index])


_cache: dict[int, dict[str, YearProfile]] = {}
_cache_lock = threading.Lock()


def _build_year_profiles(year: int) -> dict[str, YearProfile]:
    """Build the cumulative H0 and G0 profiles of `year`, keyed by load class."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # ElecSlp calls warnings.simplefilter("error") on the global filters,
        # which turns pandas 3.1's deprecation of `inplace=` (used inside
        # demandlib 0.2.2) into an exception. Patching simplefilter out for the
        # call keeps the "ignore" filter set above.
        with mock.patch.object(warnings, "simplefilter"):
            slp = ElecSlp(year, holidays=holidays.China(years=year))
        frame = slp.get_profiles(*PROFILE_BY_LOAD_CLASS.values())

    start = datetime(year, 1, 1, tzinfo=OFFICE_TIME_ZONE)
    profiles = {}
    for load_class, profile_name in PROFILE_BY_LOAD_CLASS.items():
        values = frame[profile_name].to_numpy(dtype=float)
        cumulative = np.concatenate(([0.0], np.cumsum(values)))
        cumulative /= cumulative[-1]
        cumulative[-1] = 1.0
        profiles[load_class] = YearProfile(start=start, cumulative=cumulative)
    return profiles


def year_profile(load_class: str, year: int) -> YearProfile:
    """Return the cumulative profile of `load_class` for local year `year`.

    Building a year means pandas merges over its 35,040 or more intervals, so
    each year is built once per process and kept.
    """
    check_load_class(load_class)
    with _cache_lock:
        if year not in _cache:
            _cache[year] = _build_year_profiles(year)
        return _cache[year][load_class]


def check_load_class(load_class: str) -> None:
    """Raise ValueError unless `load_class` has a load profile."""
    if load_class not in PROFILE_BY_LOAD_CLASS:
        raise ValueError(
            f"Load class {load_class!r} is invalid; "
            f"use one of {', '.join(PROFILE_BY_LOAD_CLASS)}."
        )


def _check_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{name}={value.isoformat()} is a naive datetime; "
            "pass an aware datetime, for example with tzinfo=ZoneInfo('Asia/Shanghai')."
        )


def _check_annual_kwh(annual_kwh: Decimal) -> None:
    if annual_kwh < 0:
        raise ValueError(f"annual_kwh={annual_kwh} is negative; pass 0 or more.")


def _round_to_hundredths(value: Fraction) -> Decimal:
    # round() on a Fraction is exact and rounds half to even, so the result is
    # monotonic in `value`, which decimal arithmetic at a fixed precision
    # could not promise across year boundaries.
    return Decimal(round(value * 100)).scaleb(-2)


def year_share_between(load_class: str, start: datetime, end: datetime) -> Fraction:
    """Return the profile energy between `start` and `end`, in years of energy.

    A whole year counts exactly 1, and the sum across year boundaries is exact.
    The result is 0 when `end` is not after `start`.
    """
    check_load_class(load_class)
    _check_aware("start", start)
    _check_aware("end", end)
    if end <= start:
        return Fraction(0)

    start_local = start.astimezone(OFFICE_TIME_ZONE)
    end_local = end.astimezone(OFFICE_TIME_ZONE)
    start_share = year_profile(load_class, start_local.year).share_until(start_local)
    end_share = year_profile(load_class, end_local.year).share_until(end_local)
    whole_years = end_local.year - start_local.year
    return whole_years + Fraction(end_share) - Fraction(start_share)


def meter_energy_kwh(
    load_class: str,
    annual_kwh: Decimal,
    installed_at: datetime,
    at: datetime,
    initial_kwh: Decimal = Decimal(0),
) -> Decimal:
    """Return a simulated meter's import energy register at `at`, in kWh.

    The register starts at `initial_kwh` when the meter is installed and grows
    by `annual_kwh` times the profile energy since then. The result is rounded
    to 0.01 kWh, is the same for the same arguments, and never decreases as
    `at` moves forward.
    """
    check_load_class(load_class)
    _check_aware("installed_at", installed_at)
    _check_aware("at", at)
    _check_annual_kwh(annual_kwh)

    if annual_kwh == 0 or at <= installed_at:
        return _round_to_hundredths(Fraction(initial_kwh))

    share = year_share_between(load_class, installed_at, at)
    return _round_to_hundredths(Fraction(initial_kwh) + Fraction(annual_kwh) * share)


def average_power_w(load_class: str, annual_kwh: Decimal, at: datetime) -> Decimal:
    """Return the mean power of the 15-minute interval containing `at`, in W.

    The result is rounded to 0.1 W.
    """
    check_load_class(load_class)
    _check_aware("at", at)
    _check_annual_kwh(annual_kwh)

    at_local = at.astimezone(OFFICE_TIME_ZONE)
    share = year_profile(load_class, at_local.year).interval_share(at_local)
    interval_kwh = Decimal(share) * Decimal(annual_kwh)
    watts = interval_kwh * INTERVALS_PER_HOUR * 1000
    return watts.quantize(Decimal("0.1"))
