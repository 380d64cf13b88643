"""Poll concentrators: claim one, read its meters, store the readings.

A poll is stamped with its slot, the start of the poll interval it belongs
to, so a retried task for the same slot finds its readings already stored
and adds nothing. Modbus I/O runs outside any database transaction.
"""

import datetime
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from devices.modbus.client import (
    ConcentratorUnreachable,
    MeterPlan,
    MeterResult,
    read_concentrator,
)
from devices.models import Concentrator, Meter, PollRound, Reading

logger = logging.getLogger(__name__)

# How long a claimed poll may run before another task may take the
# concentrator over; a crashed worker therefore blocks it this long at most.
CLAIM_SECONDS = 300
# A poll that starts this long after its slot began is stamped with its own
# start time instead of the slot's.
SLOT_TOLERANCE = datetime.timedelta(minutes=2)


@dataclass(frozen=True)
class PollOutcome:
    """The result of one poll, for logs, commands and tests."""

    concentrator_id: int
    status: str
    meters_due: int
    meters_read: int
    readings_stored: int
    readings_conflicting: int
    error: str = ""


def poll_slot(now: datetime.datetime, interval_seconds: int) -> datetime.datetime:
    """Return the start of the poll interval that contains `now`.

    Slots are counted from local midnight in the office's time zone, so a
    daily or hourly poll lands on the boundaries where bill periods start.
    An interval that does not divide a day evenly restarts at each midnight.
    """
    local = timezone.localtime(now, ZoneInfo(settings.TIME_ZONE))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    elapsed = int((local - midnight).total_seconds())
    return midnight + datetime.timedelta(seconds=elapsed - elapsed % interval_seconds)


def due_concentrators(now: datetime.datetime):
    """Return enabled concentrators whose current slot is neither polled nor queued."""
    candidates = Concentrator.objects.filter(enabled=True).filter(
        Q(poll_claimed_until__isnull=True) | Q(poll_claimed_until__lt=now)
    )
    due = []
    for concentrator in candidates:
        slot = poll_slot(now, concentrator.poll_interval)
        polled = concentrator.last_poll_at is not None and (
            poll_slot(concentrator.last_poll_at, concentrator.poll_interval) >= slot
        )
        queued = (
            concentrator.poll_queued_slot is not None
            and concentrator.poll_queued_slot >= slot
        )
        if not polled and not queued:
            due.append(concentrator)
    return due


def mark_queued(concentrator_id: int, slot: datetime.datetime) -> bool:
    """Record that a poll of `slot` is queued; False if one already is."""
    marked = (
        Concentrator.objects.filter(pk=concentrator_id)
        .filter(Q(poll_queued_slot__isnull=True) | Q(poll_queued_slot__lt=slot))
        .update(poll_queued_slot=slot)
    )
    return marked == 1


def claim(concentrator_id: int, now: datetime.datetime) -> datetime.datetime | None:
    """Take the concentrator for one poll and return the claim's expiry.

    The expiry is also the claim's token: renewing and releasing only work
    while the row still carries it. Return None if another poll owns it.
    """
    until = now + datetime.timedelta(seconds=CLAIM_SECONDS)
    claimed = (
        Concentrator.objects.filter(pk=concentrator_id, enabled=True)
        .filter(Q(poll_claimed_until__isnull=True) | Q(poll_claimed_until__lt=now))
        .update(poll_claimed_until=until)
    )
    return until if claimed == 1 else None


def renew_claim(concentrator_id: int, token: datetime.datetime):
    """Extend a held claim; return the new token, or None if the claim was lost."""
    until = timezone.now() + datetime.timedelta(seconds=CLAIM_SECONDS)
    renewed = Concentrator.objects.filter(
        pk=concentrator_id, poll_claimed_until=token
    ).update(poll_claimed_until=until)
    return until if renewed == 1 else None


def release_claim(concentrator_id: int, token: datetime.datetime) -> None:
    Concentrator.objects.filter(pk=concentrator_id, poll_claimed_until=token).update(
        poll_claimed_until=None
    )


def meter_plans(concentrator: Concentrator, at: datetime.datetime) -> list[MeterPlan]:
    """Return a read plan for each meter installed behind the concentrator at `at`."""
    meters = (
        Meter.objects.filter(concentrator=concentrator, installed_at__lte=at)
        .filter(Q(removed_at__isnull=True) | Q(removed_at__gt=at))
        .select_related("model")
        .prefetch_related("model__registers")
        .order_by("unit_id")
    )
    return [
        MeterPlan(
            meter_id=meter.pk,
            serial=meter.serial,
            unit_id=meter.unit_id,
            specs=tuple(entry.to_spec() for entry in meter.model.registers.all()),
        )
        for meter in meters
    ]


def store_readings(results: list[MeterResult], read_at: datetime.datetime):
    """Insert the values read, keeping any reading already stored for the slot.

    Return (stored, conflicting). A conflicting value (same meter, quantity
    and time, different value) is logged with both values and not written:
    a reading is never overwritten.
    """
    requested = {
        (result.meter_id, quantity): value
        for result in results
        for quantity, value in result.values.items()
    }
    if not requested:
        return 0, 0
    existing = {
        (meter_id, quantity): value
        for meter_id, quantity, value in Reading.objects.filter(
            meter_id__in={meter_id for meter_id, _ in requested}, read_at=read_at
        ).values_list("meter_id", "quantity", "value")
    }
    conflicting = 0
    for key, stored_value in existing.items():
        if key in requested and requested[key] != stored_value:
            conflicting += 1
            logger.warning(
                "Meter id %s %s at %s: kept stored value %s, discarded %s",
                key[0],
                key[1],
                read_at.isoformat(),
                stored_value,
                requested[key],
            )
    new_readings = [
        Reading(
            meter_id=meter_id,
            quantity=quantity,
            value=value,
            read_at=read_at,
            source=Reading.Source.POLL,
        )
        for (meter_id, quantity), value in requested.items()
        if (meter_id, quantity) not in existing
    ]
    # ignore_conflicts covers a concurrent poll that inserted between the
    # look-up and this insert; the unique key keeps the first value.
    Reading.objects.bulk_create(new_readings, ignore_conflicts=True)
    return len(new_readings), conflicting


def _summarise(results: list[MeterResult], planned: int) -> tuple[str, str]:
    failed = [result for result in results if not result.complete]
    errors = [f"{result.serial}: {result.errors[0]}" for result in failed]
    if len(results) < planned:
        errors.append(f"{planned - len(results)} meters not read: the poll stopped")
    read = len(results) - len(failed)
    if not errors:
        return Concentrator.PollStatus.OK, ""
    if read == 0 and planned > 0:
        return Concentrator.PollStatus.FAILED, "; ".join(errors)
    return Concentrator.PollStatus.PARTIAL, "; ".join(errors)


def reading_time(concentrator, slot, started_at: datetime.datetime):
    """Return the time to stamp this poll's readings with.

    A poll that starts within SLOT_TOLERANCE of its slot's start is stamped
    with the slot, so a retry stores nothing twice. A later one is stamped
    with its own start, to the second, because the registers it reads have
    moved on: a daily poll run by hand at 15:00 must not pass for midnight.
    """
    current_slot = poll_slot(started_at, concentrator.poll_interval)
    if slot is None or slot < current_slot:
        slot = current_slot
    if started_at - slot <= SLOT_TOLERANCE:
        return slot
    stamp = started_at.replace(microsecond=0)
    logger.info(
        "Concentrator %s polled %s after its slot %s; readings stamped %s",
        concentrator.name,
        started_at - slot,
        slot.isoformat(),
        stamp.isoformat(),
    )
    return stamp


def poll_concentrator(
    concentrator_id: int, slot: datetime.datetime | None = None
) -> PollOutcome | None:
    """Poll one concentrator for `slot` (default: the current slot).

    Return None when the concentrator is gone, disabled or held by another
    poll. A connection that is refused or times out is recorded on the
    concentrator as a failed poll, not raised, so other polls go on. A task
    that runs after its slot has passed stamps its readings with the current
    slot, because the values it reads are today's.
    """
    started_at = timezone.now()
    concentrator = Concentrator.objects.filter(pk=concentrator_id).first()
    if concentrator is None:
        logger.info(
            "Concentrator id %s not polled: it no longer exists", concentrator_id
        )
        return None
    token = claim(concentrator_id, started_at)
    if token is None:
        logger.info(
            "Concentrator %s not polled: another poll has claimed it", concentrator
        )
        return None
    slot = reading_time(concentrator, slot, started_at)
    holder = _ClaimHolder(concentrator.pk, token)
    try:
        return _poll_claimed(concentrator, slot, started_at, holder)
    finally:
        release_claim(concentrator.pk, holder.token)


class _ClaimHolder:
    """The poll's claim, renewed between meters so a long poll keeps it."""

    def __init__(self, concentrator_id: int, token: datetime.datetime):
        self.concentrator_id = concentrator_id
        self.token = token

    async def renew(self) -> bool:
        # thread_sensitive: under async_to_sync this runs in the poll's own
        # thread, on the poll's database connection.
        return await sync_to_async(self._renew, thread_sensitive=True)()

    def _renew(self) -> bool:
        token = renew_claim(self.concentrator_id, self.token)
        if token is None:
            logger.warning(
                "Concentrator id %s: poll claim lost, stopping", self.concentrator_id
            )
            return False
        self.token = token
        return True


def _poll_claimed(concentrator, slot, started_at, holder) -> PollOutcome:
    plans = meter_plans(concentrator, slot)

    error = ""
    results: list[MeterResult] = []
    try:
        results = async_to_sync(read_concentrator)(
            concentrator.host,
            concentrator.port,
            plans,
            timeout=settings.METEROPS_POLL_TIMEOUT,
            between_meters=holder.renew,
        )
        status, error = _summarise(results, len(plans))
    except ConcentratorUnreachable as unreachable:
        status, error = Concentrator.PollStatus.FAILED, str(unreachable)
        logger.warning("Concentrator %s poll failed: %s", concentrator.name, error)

    with transaction.atomic():
        stored, conflicting = store_readings(results, slot)
        finished_at = timezone.now()
        meters_read = sum(1 for result in results if result.complete)
        PollRound.objects.create(
            concentrator=concentrator,
            started_at=started_at,
            finished_at=finished_at,
            status=status,
            meters_due=len(plans),
            meters_read=meters_read,
            readings_stored=stored,
            error=error,
        )
        Concentrator.objects.filter(pk=concentrator.pk).update(
            last_poll_at=slot,
            last_poll_status=status,
            last_poll_error=error,
        )

    logger.info(
        "Concentrator %s polled for %s: %s, %s/%s meters, %s readings stored",
        concentrator.name,
        slot.isoformat(),
        status,
        meters_read,
        len(plans),
        stored,
    )
    return PollOutcome(
        concentrator_id=concentrator.pk,
        status=status,
        meters_due=len(plans),
        meters_read=meters_read,
        readings_stored=stored,
        readings_conflicting=conflicting,
        error=error,
    )
