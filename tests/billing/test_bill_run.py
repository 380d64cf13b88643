"""Bill runs: readings to bills, review rules and re-runs."""

import datetime
from decimal import Decimal

import pytest

from billing import runs
from billing.models import Bill, BillRun
from customers.models import Account
from tests.factories import (
    SHANGHAI,
    AccountFactory,
    BillFactory,
    MeterFactory,
    ReadingFactory,
    TariffBlockFactory,
    TariffVersionFactory,
)

D = Decimal
NOV_1 = datetime.datetime(2026, 11, 1, tzinfo=SHANGHAI)
DEC_1 = datetime.datetime(2026, 12, 1, tzinfo=SHANGHAI)

pytestmark = pytest.mark.django_db


def hebei_tiered_version():
    version = TariffVersionFactory(
        energy_price=D("0.52"),
        block_basis="monthly",
        effective_from=datetime.date(2012, 7, 1),
    )
    TariffBlockFactory(version=version, upper_kwh=D(180), price=D("0.52"))
    TariffBlockFactory(version=version, upper_kwh=D(280), price=D("0.57"))
    TariffBlockFactory(version=version, upper_kwh=None, price=D("0.82"))
    return version


def metered_account(start, end, ct_ratio=None, version=None):
    version = version or hebei_tiered_version()
    account = AccountFactory(tariff=version.tariff)
    meter = MeterFactory(account=account, ct_ratio=ct_ratio or D(1))
    ReadingFactory(meter=meter, value=start, read_at=NOV_1)
    ReadingFactory(meter=meter, value=end, read_at=DEC_1)
    return account


def run_period(first_day=datetime.date(2026, 11, 1), started_by=None):
    run = BillRun.objects.create(period=first_day, started_by=started_by)
    return runs.execute_bill_run(run.pk)


def test_bill_computed_by_hand():
    # CT 100/5 A (ratio 20): 15 register kWh are 300 kWh.
    account = metered_account(D("1000.00"), D("1015.00"), ct_ratio=D(20))

    run_period()

    bill = Bill.objects.get(account=account)
    assert bill.consumption_kwh == D(300)
    assert bill.multiplier == D(20)
    assert [line.amount for line in bill.lines.all()] == [
        D("93.60"),
        D("57.00"),
        D("16.40"),
    ]
    assert bill.total == D("167.00")
    assert bill.status == Bill.Status.APPROVED


def test_bill_lines_sum_to_total():
    account = metered_account(D("500.00"), D("733.33"))

    run_period()

    bill = Bill.objects.get(account=account)
    assert sum(line.amount for line in bill.lines.all()) == bill.total


def test_rerun_creates_no_second_bill():
    account = metered_account(D("1000.00"), D("1100.00"))

    first = run_period()
    second = run_period()

    assert Bill.objects.filter(account=account).count() == 1
    assert first.bills_created == 1
    assert second.bills_created == 0


def test_rejected_bill_billed_again_on_rerun():
    account = metered_account(D("1000.00"), D("1000.00"))
    run_period()
    Bill.objects.filter(account=account).update(status=Bill.Status.REJECTED)

    run_period()

    assert Bill.objects.filter(account=account).count() == 2


def test_zero_consumption_held():
    account = metered_account(D("1000.00"), D("1000.00"))

    run_period()

    bill = Bill.objects.get(account=account)
    assert bill.status == Bill.Status.HELD
    assert bill.hold_reasons == ["zero"]


def test_negative_consumption_held_without_lines():
    account = metered_account(D("1000.00"), D("990.00"))

    run_period()

    bill = Bill.objects.get(account=account)
    assert bill.status == Bill.Status.HELD
    assert bill.hold_reasons == ["negative"]
    assert bill.lines.count() == 0
    assert bill.total == D(0)


def test_more_than_three_times_average_held():
    account = metered_account(D("1000.00"), D("1301.00"))
    BillFactory(
        account=account, period_start=datetime.date(2026, 9, 1), consumption_kwh=D(100)
    )
    BillFactory(
        account=account, period_start=datetime.date(2026, 10, 1), consumption_kwh=D(100)
    )

    run_period()

    bill = Bill.objects.get(account=account, period_start=datetime.date(2026, 11, 1))
    assert bill.status == Bill.Status.HELD
    assert bill.hold_reasons == ["high"]
    assert bill.average_kwh == D(100)


def test_exactly_three_times_average_approved():
    account = metered_account(D("1000.00"), D("1300.00"))
    BillFactory(
        account=account, period_start=datetime.date(2026, 10, 1), consumption_kwh=D(100)
    )

    run_period()

    bill = Bill.objects.get(account=account, period_start=datetime.date(2026, 11, 1))
    assert bill.status == Bill.Status.APPROVED


def test_missing_end_reading_skips_account_with_reason():
    version = hebei_tiered_version()
    account = AccountFactory(tariff=version.tariff)
    meter = MeterFactory(account=account)
    ReadingFactory(meter=meter, value=D(1000), read_at=NOV_1)

    run = run_period()

    assert not Bill.objects.filter(account=account).exists()
    assert run.accounts_skipped == 1
    assert meter.serial in run.problems[0]["message"]


def test_reading_closest_to_boundary_used():
    account = metered_account(D("1000.00"), D("1100.00"))
    meter = account.meters.get()
    ReadingFactory(
        meter=meter, value=D("1101.00"), read_at=DEC_1 + datetime.timedelta(hours=2)
    )
    ReadingFactory(
        meter=meter, value=D("1099.00"), read_at=DEC_1 - datetime.timedelta(hours=1)
    )

    run_period()

    bill = Bill.objects.get(account=account)
    assert bill.end_reading == D("1100.00")


def test_meter_installed_mid_period_starts_from_first_reading():
    version = hebei_tiered_version()
    account = AccountFactory(tariff=version.tariff)
    installed = datetime.datetime(2026, 11, 28, 10, tzinfo=SHANGHAI)
    meter = MeterFactory(account=account, installed_at=installed)
    ReadingFactory(meter=meter, value=D(0), read_at=installed)
    ReadingFactory(meter=meter, value=D("42.50"), read_at=DEC_1)

    run_period()

    bill = Bill.objects.get(account=account)
    assert bill.consumption_kwh == D("42.50")


def test_inactive_account_not_billed():
    account = metered_account(D("1000.00"), D("1100.00"))
    Account.objects.filter(pk=account.pk).update(status=Account.Status.CLOSED)

    run = run_period()

    assert run.accounts_total == 0
    assert not Bill.objects.filter(account=account).exists()


def test_run_records_progress_and_counts():
    for _ in range(3):
        metered_account(D("1000.00"), D("1100.00"))
    metered_account(D("1000.00"), D("1000.00"))

    run = run_period()

    run.refresh_from_db()
    assert run.status == BillRun.Status.SUCCEEDED
    assert run.accounts_total == 4
    assert run.accounts_done == 4
    assert run.bills_created == 4
    assert run.bills_held == 1
    assert run.progress_percent == 100
    assert run.finished_at is not None


def test_finished_run_not_executed_again():
    metered_account(D("1000.00"), D("1100.00"))
    run = run_period()

    assert runs.execute_bill_run(run.pk) is None


def test_tariff_version_in_force_used():
    old = hebei_tiered_version()
    old.effective_to = datetime.date(2026, 11, 1)
    old.save()
    TariffVersionFactory(
        tariff=old.tariff,
        effective_from=datetime.date(2026, 11, 1),
        energy_price=D("0.60"),
    )
    account = metered_account(D("1000.00"), D("1100.00"), version=old)

    run_period()

    bill = Bill.objects.get(account=account)
    assert bill.total == D("60.00")


def test_parse_period_rejects_bad_text():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="2026-13"):
        runs.parse_period("2026-13")


def test_month_period_boundaries_are_local_midnight():
    period = runs.month_period(datetime.date(2026, 2, 1))

    assert period.last_day == datetime.date(2026, 2, 28)
    assert period.starts_at == datetime.datetime(2026, 2, 1, tzinfo=SHANGHAI)
    assert period.ends_at == datetime.datetime(2026, 3, 1, tzinfo=SHANGHAI)
    assert period.starts_at.utcoffset() == datetime.timedelta(hours=8)


@pytest.mark.parametrize(
    ("first", "last", "digits", "expected"),
    [
        # A 4-digit register: 9,970 → 40 → 70 is 70 kWh, then 30 kWh. The
        # modulus is 10^digits, not the largest value shown (9,999).
        (D(9970), D(40), 4, (D(70), True)),
        (D(40), D(70), 4, (D(30), False)),
        # A fall of more than half the range is a reset or reversal.
        (D(1000), D(990), 4, (D(-10), False)),
        (D("999999.50"), D("0.25"), 6, (D("0.75"), True)),
    ],
)
def test_register_advance(first, last, digits, expected):
    assert runs.register_advance(first, last, digits) == expected


def test_rollover_bill_held_for_review():
    account = metered_account(D("9970.00"), D("40.00"))
    account.meters.update(register_digits=4)

    run_period()

    bill = Bill.objects.get(account=account)
    assert bill.consumption_kwh == D(70)
    assert bill.status == Bill.Status.HELD
    assert bill.hold_reasons == ["rollover"]
    assert bill.total == D("36.40")
