"""Bill runs: retries, concurrent execution, one bad account, rollover, continuity."""

import contextlib
import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import OperationalError
from django.utils import timezone

from billing import runs
from billing.models import Bill, BillRun, TariffBlock, TariffVersion
from tests.factories import (
    SHANGHAI,
    AccountFactory,
    MeterFactory,
    ReadingFactory,
    TariffVersionFactory,
)

D = Decimal
NOV_1 = datetime.datetime(2026, 11, 1, tzinfo=SHANGHAI)
DEC_1 = datetime.datetime(2026, 12, 1, tzinfo=SHANGHAI)
JAN_1 = datetime.datetime(2027, 1, 1, tzinfo=SHANGHAI)

pytestmark = pytest.mark.django_db


def metered_account(number, start, end, version=None, **meter_fields):
    version = version or TariffVersionFactory(energy_price=D("0.52"))
    account = AccountFactory(number=number, tariff=version.tariff)
    meter = MeterFactory(account=account, **meter_fields)
    ReadingFactory(meter=meter, value=start, read_at=NOV_1)
    ReadingFactory(meter=meter, value=end, read_at=DEC_1)
    return account


def new_run(first_day=datetime.date(2026, 11, 1)):
    return BillRun.objects.create(period=first_day)


def test_retry_after_deadlock_bills_rest(monkeypatch):
    for index in range(3):
        metered_account(f"310000000{index}", D(100), D(200))
    real_bill_account = runs.bill_account
    failures = []

    def deadlock_once(account, *args, **kwargs):
        if account.number == "3100000001" and not failures:
            failures.append(account.number)
            raise OperationalError("deadlock detected")
        return real_bill_account(account, *args, **kwargs)

    monkeypatch.setattr(runs, "bill_account", deadlock_once)
    run = new_run()

    # execute_bill_run_task retries on OperationalError by running this again.
    with pytest.raises(OperationalError):
        runs.execute_bill_run(run.pk)
    retried = runs.execute_bill_run(run.pk)

    assert retried is not None
    assert Bill.objects.count() == 3


def test_running_run_not_claimed_twice():
    for index in range(runs.PROGRESS_EVERY + 2):
        metered_account(f"31000000{index:02d}", D(100), D(200))
    run = new_run()
    second = []

    def start_again(progress_run):
        if not second:
            second.append(runs.execute_bill_run(progress_run.pk))

    runs.execute_bill_run(run.pk, progress=start_again)

    run.refresh_from_db()
    assert second == [None]
    assert run.bills_created == Bill.objects.filter(bill_run=run).count()


def overflowing_account(number):
    # CT 100/5 A and PT 10 kV/100 V: multiplier 2000. Both readings pass the
    # readings API (16 digits, 4 places); the consumption does not fit 16,4.
    return metered_account(
        number, D(0), D("999999999999"), ct_ratio=D(20), pt_ratio=D(100)
    )


def duplicate_block_account(number):
    version = TariffVersionFactory(block_basis=TariffVersion.BlockBasis.MONTHLY)
    TariffBlock.objects.create(version=version, upper_kwh=D(180), price=D("0.52"))
    TariffBlock.objects.create(version=version, upper_kwh=D(180), price=D("0.57"))
    return metered_account(number, D(100), D(200), version=version)


@pytest.mark.parametrize("make_bad", [overflowing_account, duplicate_block_account])
def test_bad_account_skipped_not_run_failed(make_bad):
    make_bad("3100000001")
    good = metered_account("3100000002", D(100), D(200))
    run = new_run()

    # The assertions below name what failed, so the exception itself is dropped.
    with contextlib.suppress(Exception):
        runs.execute_bill_run(run.pk)

    run.refresh_from_db()
    assert run.status == BillRun.Status.SUCCEEDED
    assert Bill.objects.filter(account=good).exists()
    assert [problem["account"] for problem in run.problems] == ["3100000001"]


def test_register_rollover_billed_forward():
    # A 6-digit register passes 999999 and starts from 0: 25 kWh were used.
    account = metered_account(
        "3100000001", D("999990.00"), D("15.00"), register_digits=6
    )

    runs.execute_bill_run(new_run().pk)

    bill = Bill.objects.get(account=account)
    assert bill.consumption_kwh == D(25)
    assert bill.total == D("13.00")


def test_next_bill_starts_at_last_end():
    version = TariffVersionFactory(energy_price=D("0.52"))
    account = AccountFactory(number="3100000001", tariff=version.tariff)
    meter = MeterFactory(account=account)
    ReadingFactory(meter=meter, value=D(0), read_at=NOV_1)
    # The midnight poll of 1 December was missed: November ends on 23:00.
    ReadingFactory(
        meter=meter, value=D(100), read_at=DEC_1 - datetime.timedelta(hours=1)
    )
    runs.execute_bill_run(new_run().pk)
    # The head-end pushes the midnight reading after November was billed.
    ReadingFactory(meter=meter, value=D(150), read_at=DEC_1)
    ReadingFactory(meter=meter, value=D(300), read_at=JAN_1)

    runs.execute_bill_run(new_run(datetime.date(2026, 12, 1)).pk)

    november, december = Bill.objects.order_by("period_start")
    assert december.start_reading == november.end_reading
    assert november.consumption_kwh + december.consumption_kwh == D(300)


def test_period_outside_billable_years_rejected():
    with pytest.raises(ValidationError, match="9999-12"):
        runs.parse_period("9999-12")


def test_last_month_period_not_stuck_running():
    run = new_run(datetime.date(9999, 12, 1))

    # The assertion below names what failed, so the exception itself is dropped.
    with contextlib.suppress(Exception):
        runs.execute_bill_run(run.pk)

    run.refresh_from_db()
    assert run.status == BillRun.Status.FAILED
    assert "OverflowError" in run.last_error


def test_new_occupant_billed_from_opening():
    # The previous occupant's account closed on 15 November; the meter stayed.
    version = TariffVersionFactory(energy_price=D("0.52"))
    account = AccountFactory(
        number="3100000002",
        tariff=version.tariff,
        opened_on=datetime.date(2026, 11, 16),
    )
    meter = MeterFactory(account=account)
    ReadingFactory(meter=meter, value=D(0), read_at=NOV_1)
    ReadingFactory(
        meter=meter,
        value=D(100),
        read_at=datetime.datetime(2026, 11, 16, tzinfo=SHANGHAI),
    )
    ReadingFactory(meter=meter, value=D(130), read_at=DEC_1)

    runs.execute_bill_run(new_run().pk)

    bill = Bill.objects.get(account=account)
    assert bill.consumption_kwh == D(30)


def test_closed_account_gets_final_bill():
    version = TariffVersionFactory(energy_price=D("0.52"))
    account = AccountFactory(
        number="3100000001",
        tariff=version.tariff,
        status="closed",
        closed_on=datetime.date(2026, 11, 15),
    )
    meter = MeterFactory(account=account)
    ReadingFactory(meter=meter, value=D(0), read_at=NOV_1)
    ReadingFactory(
        meter=meter,
        value=D(50),
        read_at=datetime.datetime(2026, 11, 16, tzinfo=SHANGHAI),
    )

    runs.execute_bill_run(new_run().pk)

    assert Bill.objects.filter(account=account).exists()


def test_stalled_worker_stops_after_takeover():
    for index in range(runs.PROGRESS_EVERY + 2):
        metered_account(f"31000000{index:02d}", D(100), D(200))
    run = new_run()
    taken_over = []

    def another_worker_takes_over(progress_run):
        # The run's heartbeat went stale and a second worker claimed it.
        if not taken_over:
            stale = timezone.now() - runs.STALE_AFTER - datetime.timedelta(minutes=1)
            BillRun.objects.filter(pk=progress_run.pk).update(heartbeat_at=stale)
            taken_over.append(runs._claim(progress_run.pk, timezone.now()))

    result = runs.execute_bill_run(run.pk, progress=another_worker_takes_over)

    assert taken_over == [True]
    assert result is None
    run.refresh_from_db()
    assert run.status == BillRun.Status.RUNNING
    assert run.accounts_done == runs.PROGRESS_EVERY
