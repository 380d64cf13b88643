"""Bill runs attacked: occupant changes, suspensions, held predecessors, averages."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from pypdf import PdfReader

from billing import runs
from billing.invoices import render_invoice_pdf
from billing.models import Bill, BillRun
from customers.models import Account
from tests.factories import (
    SHANGHAI,
    AccountFactory,
    BillFactory,
    MeterFactory,
    ReadingFactory,
    TariffVersionFactory,
)

D = Decimal
NOV = datetime.date(2026, 11, 1)
DEC = datetime.date(2026, 12, 1)
NOV_1 = datetime.datetime(2026, 11, 1, tzinfo=SHANGHAI)
NOV_16 = datetime.datetime(2026, 11, 16, tzinfo=SHANGHAI)
DEC_1 = datetime.datetime(2026, 12, 1, tzinfo=SHANGHAI)
JAN_1 = datetime.datetime(2027, 1, 1, tzinfo=SHANGHAI)

pytestmark = pytest.mark.django_db


def run_period(first_day):
    return runs.execute_bill_run(BillRun.objects.create(period=first_day).pk)


def test_occupant_change_bills_both_occupants():
    # One meter serves the premise. The old occupant moves out on 15 November
    # and the meter is assigned to the new occupant's account from the 16th.
    version = TariffVersionFactory(energy_price=D("0.52"))
    old = AccountFactory(
        number="3100000001",
        tariff=version.tariff,
        status=Account.Status.CLOSED,
        closed_on=datetime.date(2026, 11, 15),
    )
    new = AccountFactory(
        number="3100000002",
        tariff=version.tariff,
        premise=old.premise,
        opened_on=datetime.date(2026, 11, 16),
    )
    meter = MeterFactory(account=new)
    ReadingFactory(meter=meter, value=D(0), read_at=NOV_1)
    ReadingFactory(meter=meter, value=D(100), read_at=NOV_16)
    ReadingFactory(meter=meter, value=D(130), read_at=DEC_1)

    run = run_period(NOV)

    assert run.problems == []
    assert Bill.objects.get(account=old).consumption_kwh == D(100)
    assert Bill.objects.get(account=new).consumption_kwh == D(30)


def test_suspended_account_billed_for_usage():
    # Active all of November and suspended on 2 December, before the run.
    version = TariffVersionFactory(energy_price=D("0.52"))
    account = AccountFactory(tariff=version.tariff, status=Account.Status.SUSPENDED)
    meter = MeterFactory(account=account)
    ReadingFactory(meter=meter, value=D(0), read_at=NOV_1)
    ReadingFactory(meter=meter, value=D(100), read_at=DEC_1)

    run_period(NOV)

    assert Bill.objects.filter(account=account).exists()


def test_held_predecessor_keeps_continuity(supervisor):
    version = TariffVersionFactory(energy_price=D("0.52"))
    account = AccountFactory(tariff=version.tariff)
    meter = MeterFactory(account=account)
    # October's bill of 20 kWh makes November's 100 kWh "high", so it is held.
    BillFactory(
        account=account,
        meter=meter,
        period_start=datetime.date(2026, 10, 1),
        period_end=datetime.date(2026, 10, 31),
        start_reading=D(0),
        start_read_at=datetime.datetime(2026, 10, 1, tzinfo=SHANGHAI),
        end_reading=D(20),
        end_read_at=NOV_1,
        consumption_kwh=D(20),
    )
    ReadingFactory(meter=meter, value=D(20), read_at=NOV_1)
    # The midnight poll of 1 December is missing when November is billed.
    ReadingFactory(
        meter=meter, value=D(120), read_at=DEC_1 - datetime.timedelta(hours=1)
    )
    ReadingFactory(meter=meter, value=D(320), read_at=JAN_1)
    run_period(NOV)
    november = Bill.objects.get(account=account, period_start=NOV)
    assert november.status == Bill.Status.HELD
    # December is billed while November still waits for review.
    run_period(DEC)
    # A supervisor rejects November. The midnight reading then arrives.
    runs.decide_bill(november, supervisor, "rejected")
    ReadingFactory(meter=meter, value=D(170), read_at=DEC_1)

    # November cannot be billed again while December starts from its end.
    blocked_run = run_period(NOV)
    assert "2026-12" in blocked_run.problems[0]["message"]

    # Once December is rejected too, both are billed again in order.
    december = Bill.objects.get(account=account, period_start=DEC)
    runs.decide_bill(december, supervisor, "rejected")
    run_period(NOV)
    run_period(DEC)

    live = Bill.objects.exclude(status=Bill.Status.REJECTED)
    november = live.get(account=account, period_start=NOV)
    december = live.get(account=account, period_start=DEC)
    assert december.start_reading == november.end_reading
    assert november.end_reading == D(170)
    assert november.consumption_kwh + december.consumption_kwh == D(300)


def test_partial_first_month_not_average():
    # Opened on 29 November: two days, 6 kWh. December is a normal 100 kWh.
    version = TariffVersionFactory(energy_price=D("0.52"))
    account = AccountFactory(
        tariff=version.tariff, opened_on=datetime.date(2026, 11, 29)
    )
    meter = MeterFactory(account=account)
    ReadingFactory(
        meter=meter,
        value=D(0),
        read_at=datetime.datetime(2026, 11, 29, tzinfo=SHANGHAI),
    )
    ReadingFactory(meter=meter, value=D(6), read_at=DEC_1)
    ReadingFactory(meter=meter, value=D(106), read_at=JAN_1)
    run_period(NOV)

    run_period(DEC)

    december = Bill.objects.get(account=account, period_start=DEC)
    assert december.hold_reasons == []


def test_unreviewed_negative_bill_not_average():
    version = TariffVersionFactory(energy_price=D("0.52"))
    account = AccountFactory(tariff=version.tariff)
    meter = MeterFactory(account=account)
    # A bad reading on 1 December makes November negative, so it is held.
    ReadingFactory(meter=meter, value=D(1000), read_at=NOV_1)
    ReadingFactory(meter=meter, value=D(950), read_at=DEC_1)
    ReadingFactory(meter=meter, value=D(1050), read_at=JAN_1)
    run_period(NOV)

    run_period(DEC)

    december = Bill.objects.get(account=account, period_start=DEC)
    assert Bill.HoldReason.HIGH not in december.hold_reasons


def test_approved_negative_bill_not_charged_twice(supervisor):
    version = TariffVersionFactory(energy_price=D("0.52"))
    account = AccountFactory(tariff=version.tariff)
    meter = MeterFactory(account=account)
    # The register reads 950 on 1 December where 1000 was read on 1 November.
    ReadingFactory(meter=meter, value=D(1000), read_at=NOV_1)
    ReadingFactory(meter=meter, value=D(950), read_at=DEC_1)
    ReadingFactory(meter=meter, value=D(1100), read_at=JAN_1)
    run_period(NOV)
    november = Bill.objects.get(account=account, period_start=NOV)
    try:
        runs.decide_bill(november, supervisor, "approved")
    except ValidationError:
        return  # Refusing to approve a negative bill is also a fix.

    run_period(DEC)

    charged_kwh = sum(
        line.quantity_kwh
        for bill in Bill.objects.filter(account=account)
        for line in bill.lines.filter(kind="energy")
    )
    # The register advanced 100 kWh from 1 November to 1 January.
    assert charged_kwh == D(100)


def test_tariff_from_mid_month_bills_new_account():
    # The tariff's first version starts on 15 November and the account opens
    # on the 16th.
    version = TariffVersionFactory(
        energy_price=D("0.52"), effective_from=datetime.date(2026, 11, 15)
    )
    account = AccountFactory(
        tariff=version.tariff, opened_on=datetime.date(2026, 11, 16)
    )
    meter = MeterFactory(account=account)
    ReadingFactory(meter=meter, value=D(0), read_at=NOV_16)
    ReadingFactory(meter=meter, value=D(30), read_at=DEC_1)

    run = run_period(NOV)

    assert run.problems == []
    assert Bill.objects.filter(account=account).exists()


def test_pdf_period_is_span_billed():
    version = TariffVersionFactory(energy_price=D("0.52"))
    account = AccountFactory(
        tariff=version.tariff, opened_on=datetime.date(2026, 11, 16)
    )
    meter = MeterFactory(account=account)
    ReadingFactory(meter=meter, value=D(0), read_at=NOV_1)
    ReadingFactory(meter=meter, value=D(100), read_at=NOV_16)
    ReadingFactory(meter=meter, value=D(130), read_at=DEC_1)
    run_period(NOV)
    bill = Bill.objects.get(account=account)

    text = PdfReader(io.BytesIO(render_invoice_pdf(bill))).pages[0].extract_text()

    # The customer was billed from 16 November, the day the account opened.
    assert "2026-11-16 至 2026-11-30" in text
