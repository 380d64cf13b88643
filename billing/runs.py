"""Bill runs: bill every active account for one month, with progress.

`start_bill_run` records the run and queues it. `execute_bill_run` claims
it and bills account after account, each in its own transaction, so the
progress shows while it works and a retried run skips the accounts it has
already billed.
"""

import calendar
import datetime
import logging
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import (
    DatabaseError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    transaction,
)
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from billing import rating
from billing.models import Bill, BillApproval, BillLine, BillRun, TariffVersion
from customers.models import Account
from devices.models import Meter, Quantity, Reading

logger = logging.getLogger(__name__)

HIGH_CONSUMPTION_FACTOR = Decimal(3)
# Bill.consumption_kwh stores 16 digits with 4 decimal places.
MAX_CONSUMPTION_KWH = Decimal(10) ** 12
# A running bill run whose heartbeat is older than this is taken to be dead.
STALE_AFTER = datetime.timedelta(minutes=10)
AVERAGE_OVER_BILLS = 12
PROGRESS_EVERY = 10


class BillingProblem(Exception):
    """An account that cannot be billed this period, with the reason."""


@dataclass(frozen=True)
class Period:
    """A billing month with its local-midnight boundaries."""

    first_day: datetime.date
    last_day: datetime.date
    starts_at: datetime.datetime
    ends_at: datetime.datetime


FIRST_BILLABLE_YEAR = 2000
LAST_BILLABLE_YEAR = 2099


def parse_period(text: str) -> datetime.date:
    """Return the first day of the month written as YYYY-MM."""
    try:
        first_day = datetime.datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise ValidationError(
            _("Period %(value)s is not a month; write it as YYYY-MM, e.g. 2026-11."),
            params={"value": text},
        ) from None
    if not FIRST_BILLABLE_YEAR <= first_day.year <= LAST_BILLABLE_YEAR:
        raise ValidationError(
            _("Period %(value)s is outside the years %(first)s to %(last)s."),
            params={
                "value": text,
                "first": FIRST_BILLABLE_YEAR,
                "last": LAST_BILLABLE_YEAR,
            },
        )
    return first_day


def check_period_ended(first_day: datetime.date, today: datetime.date) -> None:
    """Raise ValidationError unless the month starting `first_day` is over.

    A month still running has no end reading to bill from.
    """
    next_first = (first_day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    if next_first > today:
        raise ValidationError(
            _(
                "Period %(period)s has not ended yet; its bills can be calculated "
                "from %(day)s."
            ),
            params={"period": first_day.strftime("%Y-%m"), "day": next_first},
        )


def month_period(first_day: datetime.date) -> Period:
    """Return the period of the month starting `first_day`, in the office's zone."""
    zone = ZoneInfo(settings.TIME_ZONE)
    days = calendar.monthrange(first_day.year, first_day.month)[1]
    last_day = first_day.replace(day=days)
    next_first = last_day + datetime.timedelta(days=1)
    return Period(
        first_day=first_day,
        last_day=last_day,
        starts_at=datetime.datetime.combine(first_day, datetime.time(), zone),
        ends_at=datetime.datetime.combine(next_first, datetime.time(), zone),
    )


def _usable_readings(meter: Meter):
    return Reading.objects.filter(
        meter=meter, quantity=Quantity.IMPORT_ACTIVE_ENERGY
    ).exclude(quality=Reading.Quality.SUSPECT)


def reading_near(meter: Meter, boundary: datetime.datetime) -> Reading | None:
    """Return the usable energy reading closest to `boundary` within the window.

    The window is METEROPS_BILL_READING_WINDOW_HOURS either side. On a tie
    the earlier reading wins.
    """
    window = datetime.timedelta(hours=settings.METEROPS_BILL_READING_WINDOW_HOURS)
    readings = _usable_readings(meter)
    before = (
        readings.filter(read_at__lte=boundary, read_at__gte=boundary - window)
        .order_by("-read_at")
        .first()
    )
    after = (
        readings.filter(read_at__gt=boundary, read_at__lte=boundary + window)
        .order_by("read_at")
        .first()
    )
    candidates = [reading for reading in (before, after) if reading is not None]
    if not candidates:
        return None
    return min(candidates, key=lambda reading: abs(reading.read_at - boundary))


@dataclass(frozen=True)
class MeterRead:
    """A register value at a time: a stored reading or a previous bill's end."""

    value: Decimal
    read_at: datetime.datetime


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), ZoneInfo(settings.TIME_ZONE))


def account_span(account: Account, period: Period):
    """Return the (start, end) instants the account is billed for in the period.

    An account opened during the period starts at local midnight of its
    opening day. One closed during it ends at midnight after its closing day.
    So an occupant is never billed for the one before or after.
    """
    start = period.starts_at
    if account.opened_on > period.first_day:
        start = _local_midnight(account.opened_on)
    end = period.ends_at
    if account.closed_on is not None and account.closed_on < period.last_day:
        end = _local_midnight(account.closed_on + datetime.timedelta(days=1))
    return start, end


def start_read(
    account: Account, meter: Meter, period: Period, start: datetime.datetime
) -> MeterRead | None:
    """Return the register value the account's bill starts from.

    The previous month's bill on the same meter fixes the start, held or
    approved, so no kWh fall between two bills whatever readings arrive
    later. Otherwise: the first reading after installation for a meter
    installed during the period, or the reading nearest the start. Raise
    BillingProblem when the previous month was rejected and not billed again,
    because starting from a fresh reading would leave that month unbilled.
    """
    previous_end = period.first_day - datetime.timedelta(days=1)
    previous_bills = list(Bill.objects.filter(account=account, period_end=previous_end))
    not_rejected = [
        bill for bill in previous_bills if bill.status != Bill.Status.REJECTED
    ]
    if previous_bills and not not_rejected:
        raise BillingProblem(
            _(
                "The bill of %(month)s was rejected and not calculated again; "
                "bill that month first."
            )
            % {"month": previous_end.strftime("%Y-%m")}
        )
    for previous in not_rejected:
        if previous.meter_id == meter.pk:
            return MeterRead(previous.end_reading, previous.end_read_at)
    if meter.installed_at > start:
        reading = (
            _usable_readings(meter)
            .filter(read_at__gte=meter.installed_at, read_at__lt=period.ends_at)
            .order_by("read_at")
            .first()
        )
    else:
        reading = reading_near(meter, start)
    return None if reading is None else MeterRead(reading.value, reading.read_at)


def register_advance(first: Decimal, last: Decimal, digits: int):
    """Return (advance in register units, rolled over) between two readings.

    A register that passes 10^digits − 1 starts again from zero, so a fall
    from near the top to near zero is an advance, not a negative one. A fall
    of more than half the register's range stays negative: that is a reset
    or a reversed meter, not a rollover.
    """
    advance = last - first
    if advance >= 0:
        return advance, False
    modulus = Decimal(10) ** digits
    forward = last + modulus - first
    if forward < modulus / 2:
        return forward, True
    return advance, False


def _meters_in_service(meters, period: Period):
    return list(
        meters.filter(installed_at__lt=period.ends_at).filter(
            Q(removed_at__isnull=True) | Q(removed_at__gt=period.starts_at)
        )
    )


def billing_meter(account: Account, period: Period) -> Meter:
    """Return the one meter that measured the account through the period.

    A meter stays at its premise when the occupant changes, and it is then
    assigned to the new account. So an account without a meter of its own,
    such as the previous occupant's being billed a last time, uses the meter
    of its premise.
    """
    meters = _meters_in_service(account.meters.all(), period)
    if not meters:
        meters = _meters_in_service(
            Meter.objects.filter(account__premise_id=account.premise_id), period
        )
    if not meters:
        raise BillingProblem(_("No meter was installed during the period."))
    if len(meters) > 1:
        # NOTE: a meter replaced within the period needs the old meter's final
        # reading and the new one's first; until that is built, bill by hand.
        raise BillingProblem(
            _("More than one meter served the period (%(serials)s); bill it by hand.")
            % {"serials": ", ".join(meter.serial for meter in meters)}
        )
    return meters[0]


def tariff_terms(version: TariffVersion) -> rating.TariffTerms:
    """Return the rating engine's view of a tariff version."""
    blocks = ()
    if version.block_basis == TariffVersion.BlockBasis.MONTHLY:
        blocks = tuple(
            rating.Block(block.upper_kwh, block.price) for block in version.blocks.all()
        )
    return rating.TariffTerms(
        energy_price=version.energy_price,
        blocks=blocks,
        surcharges=tuple(
            rating.Surcharge(surcharge.name, surcharge.price)
            for surcharge in version.surcharges.all()
        ),
    )


SECONDS_PER_DAY = Decimal(86400)


def _days_between(start: datetime.datetime, end: datetime.datetime) -> Decimal:
    return Decimal((end - start).total_seconds()) / SECONDS_PER_DAY


def average_consumption(
    account: Account,
    before: datetime.date,
    start: datetime.datetime,
    end: datetime.datetime,
) -> Decimal | None:
    """Return the account's usual consumption for the days from `start` to `end`.

    That is the daily mean of its last bills before the period, each over
    the time between its two readings, times the days of this bill. So a
    first bill of a few days does not make the next full month look high.
    Rejected bills and bills of negative consumption do not count.
    """
    previous = list(
        Bill.objects.filter(
            account=account, period_start__lt=before, consumption_kwh__gte=0
        )
        .exclude(status=Bill.Status.REJECTED)
        .order_by("-period_start")
        .values_list("consumption_kwh", "start_read_at", "end_read_at")[
            :AVERAGE_OVER_BILLS
        ]
    )
    energy = sum((kwh for kwh, _first, _last in previous), Decimal(0))
    days = sum(
        (_days_between(first, last) for _kwh, first, last in previous), Decimal(0)
    )
    if days <= 0:
        return None
    return energy / days * _days_between(start, end)


def hold_reasons(consumption: Decimal, average: Decimal | None) -> list[str]:
    """Return the review rules a consumption breaks, as hold reason codes."""
    if consumption == 0:
        return [Bill.HoldReason.ZERO]
    if consumption < 0:
        return [Bill.HoldReason.NEGATIVE]
    if average is not None and consumption > HIGH_CONSUMPTION_FACTOR * average:
        return [Bill.HoldReason.HIGH]
    return []


def _tariff_in_force(account: Account, day: datetime.date, period: Period, tariffs):
    """Return (version, terms) of the account's tariff from `day` to the period end.

    Cached per run in `tariffs`. Raise BillingProblem when no version is in
    force on `day` or another version starts before the period ends, since
    prices are not split within a bill yet.
    """
    key = (account.tariff_id, day)
    if tariffs is not None and key in tariffs:
        return tariffs[key]
    version = account.tariff.version_on(day)
    if version is None:
        raise BillingProblem(
            _("Tariff %(tariff)s has no version in force on %(day)s.")
            % {"tariff": account.tariff.code, "day": day}
        )
    change = account.tariff.versions.filter(
        effective_from__gt=day, effective_from__lte=period.last_day
    ).first()
    if change is not None:
        raise BillingProblem(
            _(
                "Tariff %(tariff)s changes on %(day)s, within the period; "
                "bill it by hand."
            )
            % {"tariff": account.tariff.code, "day": change.effective_from}
        )
    found = (version, tariff_terms(version))
    if tariffs is not None:
        tariffs[key] = found
    return found


def bill_account(
    account: Account, period: Period, run: BillRun, tariffs: dict | None = None
) -> Bill | None:
    """Calculate and store the account's bill; return None if it already has one.

    `tariffs` caches each tariff's version and terms across one run. Raise
    BillingProblem when a reading, meter or tariff version is missing.
    """
    # One query finds both this month's bill and any later one.
    current_or_later = (
        Bill.objects.filter(account=account, period_start__gte=period.first_day)
        .exclude(status=Bill.Status.REJECTED)
        .order_by("period_start")
        .values_list("period_start", flat=True)
        .first()
    )
    if current_or_later == period.first_day:
        return None
    if current_or_later is not None:
        raise BillingProblem(
            _(
                "The bill of %(later)s starts where this month ends; reject it "
                "too before billing this month again."
            )
            % {"later": current_or_later.strftime("%Y-%m")}
        )
    meter = billing_meter(account, period)
    start, end = account_span(account, period)
    first = start_read(account, meter, period, start)
    last = reading_near(meter, end)
    if first is None or last is None:
        boundary = start if first is None else end
        raise BillingProblem(
            _("Meter %(serial)s has no energy reading near %(time)s.")
            % {"serial": meter.serial, "time": timezone.localtime(boundary)}
        )
    first_day_billed = timezone.localtime(start).date()
    version, terms = _tariff_in_force(account, first_day_billed, period, tariffs)

    multiplier = meter.multiplier
    advance, rolled_over = register_advance(
        first.value, last.value, meter.register_digits
    )
    consumption = advance * multiplier
    if abs(consumption) >= MAX_CONSUMPTION_KWH:
        raise BillingProblem(
            _(
                "Consumption %(kwh)s kWh (readings %(first)s to %(last)s × "
                "%(multiplier)s) is too large to bill; check the readings and "
                "the CT and PT ratios of meter %(serial)s."
            )
            % {
                "kwh": consumption,
                "first": first.value,
                "last": last.value,
                "multiplier": multiplier,
                "serial": meter.serial,
            }
        )
    average = average_consumption(
        account, period.first_day, first.read_at, last.read_at
    )
    if average is not None:
        average = average.quantize(Decimal("0.0001"))
    reasons = hold_reasons(consumption, average)
    if rolled_over:
        reasons.append(Bill.HoldReason.ROLLOVER)
    charges = [] if consumption < 0 else rating.rate(consumption, terms)

    bill = Bill.objects.create(
        account=account,
        bill_run=run,
        tariff_version=version,
        meter=meter,
        period_start=period.first_day,
        period_end=period.last_day,
        service_from=first_day_billed,
        service_to=timezone.localtime(end).date() - datetime.timedelta(days=1),
        start_reading=first.value,
        start_read_at=first.read_at,
        end_reading=last.value,
        end_read_at=last.read_at,
        multiplier=multiplier,
        consumption_kwh=consumption,
        average_kwh=average,
        total=rating.total(charges),
        status=Bill.Status.HELD if reasons else Bill.Status.APPROVED,
        hold_reasons=[str(reason) for reason in reasons],
    )
    BillLine.objects.bulk_create(
        BillLine(
            bill=bill,
            sequence=sequence,
            kind=charge.kind,
            description=charge.description,
            quantity_kwh=charge.quantity_kwh,
            unit_price=charge.unit_price,
            amount=charge.amount,
        )
        for sequence, charge in enumerate(charges, start=1)
    )
    return bill


def start_bill_run(period_first_day: datetime.date, started_by=None) -> BillRun:
    """Record a bill run and queue it once the record is committed."""
    from billing.tasks import execute_bill_run_task

    run = BillRun.objects.create(period=period_first_day, started_by=started_by)
    transaction.on_commit(lambda: execute_bill_run_task.delay(run.pk))
    logger.info(
        "Bill run %s for %s queued by %s",
        run.pk,
        period_first_day.strftime("%Y-%m"),
        started_by or "the system",
    )
    return run


def _claim(run_id: int, now: datetime.datetime) -> bool:
    """Take a pending run, or a running one whose worker stopped beating."""
    claimable = Q(status=BillRun.Status.PENDING) | Q(
        status=BillRun.Status.RUNNING, heartbeat_at__lt=now - STALE_AFTER
    )
    claimed = BillRun.objects.filter(claimable, pk=run_id).update(
        status=BillRun.Status.RUNNING,
        started_at=Coalesce("started_at", Value(now)),
        heartbeat_at=now,
    )
    return claimed == 1


def billable_accounts(period: Period):
    """Return the accounts to bill for a period, by number.

    Active and suspended accounts are billed, since a suspended account used
    energy before its suspension, and closed ones for their last days.
    """
    return (
        Account.objects.filter(opened_on__lte=period.last_day)
        .filter(
            Q(status__in=[Account.Status.ACTIVE, Account.Status.SUSPENDED])
            | Q(status=Account.Status.CLOSED, closed_on__gte=period.first_day)
        )
        .select_related("tariff")
        .order_by("number")
    )


def execute_bill_run(run_id: int, progress=None) -> BillRun | None:
    """Bill every billable account for the run's period; safe to run again.

    `progress`, if given, is called with the run after every few accounts.
    Return None when the run is gone, finished, or held by a live worker.
    A database outage puts the run back to pending and re-raises, so the
    task's retry resumes it and skips the accounts already billed.
    """
    if not _claim(run_id, timezone.now()):
        logger.info("Bill run %s not executed: missing, finished or busy", run_id)
        return None
    run = BillRun.objects.get(pk=run_id)
    own_bills = Bill.objects.filter(bill_run=run)
    run.bills_created = own_bills.count()
    run.bills_held = own_bills.exclude(hold_reasons=[]).count()
    run.accounts_done = run.accounts_skipped = 0
    run.problems = []
    run.last_error = ""

    try:
        period = month_period(run.period)
        accounts = list(billable_accounts(period))
        run.accounts_total = len(accounts)
        run.save()
        tariffs: dict = {}
        with translation.override(settings.LANGUAGE_CODE):
            for done, account in enumerate(accounts, start=1):
                _bill_one(account, period, run, tariffs)
                run.accounts_done = done
                if done % PROGRESS_EVERY == 0 or done == len(accounts):
                    if not _save_progress(run):
                        logger.warning(
                            "Bill run %s was taken over by another worker; "
                            "this one stops",
                            run.pk,
                        )
                        return None
                    if progress is not None:
                        progress(run)
    except (OperationalError, InterfaceError) as error:
        logger.warning("Bill run %s interrupted, to be retried: %s", run.pk, error)
        BillRun.objects.filter(pk=run.pk).update(
            status=BillRun.Status.PENDING, last_error=f"{type(error).__name__}: {error}"
        )
        raise
    except Exception as error:
        run.status = BillRun.Status.FAILED
        run.last_error = f"{type(error).__name__}: {error}"
        run.finished_at = timezone.now()
        run.save()
        logger.exception("Bill run %s failed", run.pk)
        raise

    run.status = BillRun.Status.SUCCEEDED
    run.finished_at = timezone.now()
    run.save()
    logger.info(
        "Bill run %s for %s finished: %s bills, %s held, %s accounts skipped",
        run.pk,
        run.period.strftime("%Y-%m"),
        run.bills_created,
        run.bills_held,
        run.accounts_skipped,
    )
    return run


def _save_progress(run: BillRun) -> bool:
    """Store the run's progress if this worker still owns it; False if not.

    The heartbeat read at the claim is the owner's token: a worker that
    stalled past STALE_AFTER finds it replaced and must not write over the
    counts of the worker that took the run over.
    """
    beat = timezone.now()
    values = {field: getattr(run, field) for field in _PROGRESS_FIELDS}
    values["heartbeat_at"] = beat
    updated = BillRun.objects.filter(
        pk=run.pk, status=BillRun.Status.RUNNING, heartbeat_at=run.heartbeat_at
    ).update(**values)
    if updated != 1:
        return False
    run.heartbeat_at = beat
    return True


_PROGRESS_FIELDS = [
    "heartbeat_at",
    "accounts_done",
    "bills_created",
    "bills_held",
    "accounts_skipped",
    "problems",
]


def _bill_one(account: Account, period: Period, run: BillRun, tariffs: dict) -> None:
    """Bill one account; record, rather than raise, what stops only this account.

    Database outages propagate so the whole run is retried.
    """
    try:
        with transaction.atomic():
            bill = bill_account(account, period, run, tariffs)
    except (OperationalError, InterfaceError):
        raise
    except IntegrityError:
        # A concurrent run billed this account between the check and insert.
        logger.info("Bill run %s: account %s billed meanwhile", run.pk, account.number)
        return
    except BillingProblem as problem:
        _skip(run, account, str(problem))
        return
    except (rating.RatingError, DatabaseError, ArithmeticError, ValueError) as error:
        message = _("Calculation failed: %(error)s") % {"error": error}
        logger.exception("Bill run %s failed on account %s", run.pk, account.number)
        _skip(run, account, message)
        return
    if bill is None:
        return
    run.bills_created += 1
    if bill.status == Bill.Status.HELD:
        run.bills_held += 1


def _skip(run: BillRun, account: Account, message: str) -> None:
    run.accounts_skipped += 1
    run.problems.append({"account": account.number, "message": message})
    logger.warning(
        "Bill run %s skipped account %s: %s", run.pk, account.number, message
    )


def decide_bill(bill: Bill, user, decision: str, note: str = "") -> Bill:
    """Approve or reject a held bill as `user`, and record the decision.

    Raise PermissionDenied unless the user may approve bills and did not
    start the run that calculated the bill (maker-checker), and
    ValidationError when the bill is no longer held.
    """
    if not user.has_perm("billing.approve_bill"):
        raise PermissionDenied(_("Only a supervisor may approve or reject bills."))
    if (
        bill.bill_run.started_by_id is not None
        and bill.bill_run.started_by_id == user.pk
    ):
        raise PermissionDenied(
            _(
                "You started the bill run that calculated this bill, so another "
                "supervisor must review it."
            )
        )
    if (
        decision == BillApproval.Decision.APPROVED
        and Bill.HoldReason.NEGATIVE in bill.hold_reasons
    ):
        raise ValidationError(
            _(
                "A bill of negative consumption cannot be approved, because the "
                "next bill would start from its lower end reading and charge the "
                "same energy twice. Reject it and correct the readings."
            )
        )
    if decision not in BillApproval.Decision.values:
        raise ValidationError(
            _("Decision %(value)s is unknown; use approved or rejected."),
            params={"value": decision},
        )
    now = timezone.now()
    with transaction.atomic():
        changed = Bill.objects.filter(pk=bill.pk, status=Bill.Status.HELD).update(
            status=decision
        )
        if changed != 1:
            raise ValidationError(
                _("Bill %(bill)s is no longer held; reload the review queue."),
                params={"bill": bill},
            )
        BillApproval.objects.create(
            bill=bill, decision=decision, decided_by=user, decided_at=now, note=note
        )
    logger.info("Bill %s %s by %s", bill.pk, decision, user.username)
    bill.refresh_from_db()
    return bill
