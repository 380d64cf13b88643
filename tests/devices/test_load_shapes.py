"""Energy registers driven by the BDEW H0 and G0 load profiles."""

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from devices.simulator.load import average_power_w, meter_energy_kwh

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A large annual energy makes the 0.01 kWh rounding negligible in comparisons.
LARGE_KWH = Decimal(1_000_000)


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def energy_between(load_class, start, end, annual_kwh=LARGE_KWH) -> Decimal:
    """Return the energy a meter installed at `start` has used by `end`."""
    return meter_energy_kwh(load_class, annual_kwh, start, end)


def day_energy(load_class, day: datetime) -> Decimal:
    return energy_between(load_class, day, day + timedelta(days=1))


@pytest.mark.parametrize("load_class", ["household", "commercial"])
def test_year_sums_to_annual_kwh(load_class):
    annual = Decimal(2400)

    total = meter_energy_kwh(load_class, annual, local(2026, 1, 1), local(2027, 1, 1))

    assert abs(total - annual) <= Decimal("0.01")


def test_months_add_up_to_year():
    annual = Decimal(2400)
    installed = local(2026, 1, 1)
    month_starts = [local(2026, month, 1) for month in range(1, 13)]
    month_starts.append(local(2027, 1, 1))

    months = [
        meter_energy_kwh("household", annual, start, end)
        for start, end in itertools.pairwise(month_starts)
    ]
    year = meter_energy_kwh("household", annual, installed, local(2027, 1, 1))

    assert abs(sum(months) - year) <= Decimal("0.06")
    assert all(month > 0 for month in months)


def test_year_boundary_in_local_time():
    annual = Decimal(2400)
    # 2026-12-31 16:00 UTC is midnight on 1 January 2027 in Shanghai.
    new_year_utc = datetime(2026, 12, 31, 16, tzinfo=UTC)

    total = meter_energy_kwh("household", annual, local(2026, 1, 1), new_year_utc)

    assert total == Decimal("2400.00")


def test_whole_years_count_exactly():
    annual = Decimal(3650)

    two_years = meter_energy_kwh(
        "household", annual, local(2025, 1, 1), local(2027, 1, 1)
    )

    assert two_years == Decimal("7300.00")


def test_span_across_new_year():
    annual = Decimal(2400)
    installed = local(2025, 11, 1)
    at = local(2026, 2, 1)

    across = meter_energy_kwh("household", annual, installed, at)
    before_new_year = meter_energy_kwh(
        "household", annual, installed, local(2026, 1, 1)
    )
    after_new_year = meter_energy_kwh("household", annual, local(2026, 1, 1), at)

    assert abs(across - (before_new_year + after_new_year)) <= Decimal("0.01")


def test_household_evening_exceeds_night():
    day = local(2026, 10, 14)

    evening = energy_between(
        "household", day + timedelta(hours=18), day + timedelta(hours=22)
    )
    night = energy_between(
        "household", day + timedelta(hours=1), day + timedelta(hours=5)
    )

    assert evening > 2 * night


def test_commercial_weekday_exceeds_sunday():
    wednesday = local(2026, 10, 14)
    sunday = local(2026, 10, 18)

    assert day_energy("commercial", wednesday) > day_energy("commercial", sunday)


def test_holiday_has_sunday_profile():
    national_day = local(2026, 10, 1)  # a Thursday
    sunday = local(2026, 10, 18)
    thursday = local(2026, 10, 15)

    holiday_kwh = day_energy("household", national_day)
    sunday_kwh = day_energy("household", sunday)
    thursday_kwh = day_energy("household", thursday)

    assert abs(holiday_kwh - sunday_kwh) <= Decimal("0.02")
    # From 15 September to 31 October, H0 uses about 3 % more energy on a
    # Sunday than on a weekday.
    assert holiday_kwh - thursday_kwh > Decimal(50)


def test_holiday_noon_power_matches_sunday():
    annual = Decimal(2400)

    holiday_w = average_power_w("household", annual, local(2026, 10, 1, 12, 5))
    sunday_w = average_power_w("household", annual, local(2026, 10, 18, 12, 5))
    thursday_w = average_power_w("household", annual, local(2026, 10, 15, 12, 5))

    assert holiday_w == sunday_w
    assert holiday_w != thursday_w


def test_register_is_monotonic():
    installed = local(2026, 12, 30, 7, 3)
    times = [installed + timedelta(minutes=7 * step) for step in range(800)]

    values = [meter_energy_kwh("household", LARGE_KWH, installed, at) for at in times]

    decreases = [
        (times[index], values[index], values[index + 1])
        for index in range(len(values) - 1)
        if values[index + 1] < values[index]
    ]
    assert decreases == []
    assert values[-1] > values[0]


def test_register_is_deterministic():
    arguments = (
        "commercial",
        Decimal(20000),
        local(2025, 3, 1),
        local(2026, 7, 1, 12, 7),
    )

    assert meter_energy_kwh(*arguments) == meter_energy_kwh(*arguments)


def test_linear_inside_interval():
    installed = local(2026, 10, 14)
    start = local(2026, 10, 14, 19, 0)

    at_start = meter_energy_kwh("household", LARGE_KWH, installed, start)
    at_middle = meter_energy_kwh(
        "household", LARGE_KWH, installed, start + timedelta(minutes=7.5)
    )
    at_end = meter_energy_kwh(
        "household", LARGE_KWH, installed, start + timedelta(minutes=15)
    )

    assert abs(at_middle - (at_start + at_end) / 2) <= Decimal("0.01")


def test_power_matches_interval_energy():
    annual = LARGE_KWH
    start = local(2026, 10, 14, 19, 0)

    interval_kwh = energy_between("household", start, start + timedelta(minutes=15))
    power_w = average_power_w("household", annual, start + timedelta(minutes=3))

    assert abs(power_w / 4 / 1000 - interval_kwh) <= Decimal("0.02")


def test_initial_before_installation():
    installed = local(2026, 5, 1)

    before = meter_energy_kwh(
        "household", Decimal(2400), installed, local(2026, 4, 1), Decimal("12.34")
    )
    at_install = meter_energy_kwh(
        "household", Decimal(2400), installed, installed, Decimal("12.34")
    )

    assert before == Decimal("12.34")
    assert at_install == Decimal("12.34")


def test_initial_is_added():
    installed = local(2026, 1, 1)
    at = local(2026, 6, 1)

    from_zero = meter_energy_kwh("household", Decimal(2400), installed, at)
    from_initial = meter_energy_kwh(
        "household", Decimal(2400), installed, at, Decimal(1000)
    )

    assert from_initial - from_zero == Decimal(1000)


def test_zero_annual_never_moves():
    installed = local(2025, 1, 1)

    values = {
        meter_energy_kwh("commercial", Decimal(0), installed, at, Decimal("55.5"))
        for at in (local(2025, 6, 1), local(2026, 1, 1), local(2026, 12, 31, 23))
    }

    assert values == {Decimal("55.50")}


def test_zero_annual_has_zero_power():
    assert average_power_w("household", Decimal(0), local(2026, 10, 14, 19)) == 0


def test_result_has_two_decimals():
    value = meter_energy_kwh(
        "household", Decimal(2400), local(2026, 1, 1), local(2026, 3, 3, 3, 3)
    )

    assert value.as_tuple().exponent == -2


def test_naive_datetime_rejected():
    naive = datetime(2026, 10, 1, 12)

    with pytest.raises(ValueError, match="naive"):
        meter_energy_kwh("household", Decimal(2400), local(2026, 1, 1), naive)
    with pytest.raises(ValueError, match="naive"):
        meter_energy_kwh("household", Decimal(2400), naive, local(2026, 11, 1))
    with pytest.raises(ValueError, match="naive"):
        average_power_w("household", Decimal(2400), naive)


def test_unknown_load_class_rejected():
    with pytest.raises(ValueError, match="'industrial'"):
        meter_energy_kwh(
            "industrial", Decimal(2400), local(2026, 1, 1), local(2026, 2, 1)
        )
    with pytest.raises(ValueError, match="'industrial'"):
        average_power_w("industrial", Decimal(2400), local(2026, 2, 1))


def test_negative_annual_rejected():
    with pytest.raises(ValueError, match="-5"):
        meter_energy_kwh("household", Decimal(-5), local(2026, 1, 1), local(2026, 2, 1))
