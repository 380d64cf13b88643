"""Hourly consumption bars for the meter page."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from devices.charts import bucket_minutes, consumption_bars, interval_consumption
from tests.factories import SHANGHAI, MeterFactory, ReadingFactory

D = Decimal


def at(hour, minute=0):
    return datetime.datetime(2026, 12, 1, hour, minute, tzinfo=SHANGHAI)


def test_steps_summed_per_hour():
    readings = [(at(8), D(10)), (at(8, 30), D(11)), (at(9), D(13)), (at(9, 30), D(14))]

    assert interval_consumption(readings) == [(at(8), D(3)), (at(9), D(1))]


def test_decrease_counts_as_nothing():
    readings = [(at(8), D(10)), (at(9), D(5)), (at(10), D(6))]

    assert interval_consumption(readings) == [(at(8), D(0)), (at(9), D(1))]


def test_bars_scaled_to_tallest_with_multiplier():
    readings = [(at(8), D(0)), (at(9), D(1)), (at(10), D(3))]

    bars = consumption_bars(readings, width=200, height=100, multiplier=D(20))

    assert [bar.kwh for bar in bars] == [D(20), D(40)]
    assert bars[1].height == 100
    assert bars[0].height == 50
    assert bars[0].y == 50
    # Fewer intervals than the minimum slot count keep the slot width.
    assert bars[1].x == pytest.approx(200 / 12)


def test_no_bars_from_one_reading():
    assert consumption_bars([(at(8), D(1))]) == []


@pytest.mark.django_db
def test_meter_page_draws_chart(client, staff_user):
    meter = MeterFactory(serial="CHART-1")
    now = datetime.datetime.now(tz=SHANGHAI).replace(microsecond=0)
    for step in range(4):
        ReadingFactory(
            meter=meter,
            value=D(100 + step),
            read_at=now - datetime.timedelta(hours=3 - step),
        )
    client.force_login(staff_user)

    response = client.get(reverse("devices:meter_detail", args=["CHART-1"]))

    assert response.status_code == 200
    # Three hours of readings: quarter-hour bars from the first to the last
    # interval with a reading, gaps drawn as empty bars.
    assert response.text.count("<rect") == 9


@pytest.mark.django_db
def test_meter_page_unknown_serial_404(client, staff_user):
    client.force_login(staff_user)

    assert client.get(reverse("devices:meter_detail", args=["NONE"])).status_code == 404


def test_quarter_hour_buckets():
    readings = [(at(8), D(10)), (at(8, 20), D(11)), (at(8, 40), D(13))]

    assert interval_consumption(readings, 15) == [(at(8), D(1)), (at(8, 15), D(2))]


def test_bucket_width_follows_span():
    short = [(at(8), D(1)), (at(10), D(2))]
    long = [(at(1), D(1)), (at(20), D(2))]

    assert bucket_minutes(short) == 15
    assert bucket_minutes(long) == 60


@pytest.mark.django_db
def test_meter_page_without_consumption_says_so(client, staff_user):
    meter = MeterFactory(serial="CHART-0")
    now = datetime.datetime.now(tz=SHANGHAI).replace(microsecond=0)
    for step in range(3):
        ReadingFactory(
            meter=meter, value=D(100), read_at=now - datetime.timedelta(hours=step)
        )
    client.force_login(staff_user)

    response = client.get(reverse("devices:meter_detail", args=["CHART-0"]))

    assert "No consumption in this window." in response.text
    assert "<rect" not in response.text


def test_one_interval_draws_narrow_bar():
    readings = [(at(8), D(1)), (at(8, 5), D(2))]

    bars = consumption_bars(readings, width=120, minutes=15)

    assert len(bars) == 1
    assert bars[0].width == 9


def test_gap_keeps_time_slot():
    readings = [(at(8), D(1)), (at(8, 5), D(2)), (at(10), D(2)), (at(10, 5), D(4))]

    bars = consumption_bars(readings, minutes=60)

    assert [bar.kwh for bar in bars] == [D(1), D(0), D(2)]


def test_display_value_drops_trailing_zeros():
    from devices.models import Reading

    assert Reading(value=D("1170.9000")).display_value == "1170.9"
    assert Reading(value=D("50.0000")).display_value == "50"
    assert Reading(value=D("0.0000")).display_value == "0"
