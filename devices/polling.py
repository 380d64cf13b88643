"""Poll concentrators: claim one, read its meters, store the readings.

A poll is stamped with its slot, the start of the poll interval it belongs
to, so a retried task for the same slot finds its readings already stored
and adds nothing. Modbus I/O runs outside any database transaction.
"""

import asyncio
import datetime
import logging
from dataclasses import dataclass

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


@dataclass(frozen=True)
class PollOutcome:
    """What one poll did, for logs, commands and tests."""

    concentrator_id: int
    status: str
    meters_due: int
    meters_read: int
    readings_stored: int
    readings_conflicting: int
    error: str = ""


def poll_slot(now: datetime.datetime, interval_seconds: int) -> datetime.datetime:
    """Return the start of the poll interval that contains `now`."""
    epoch = int(now.timestamp())
    start = epoch - epoch % interval_seconds
    return datetime.datetime.fromtimestamp(start, tz=datetime.UTC)


def due_concentrators(now: datetime.datetime):
    """Return enabled concentrators whose interval has passed and that no poll owns."""
    candidates = Concentrator.objects.filter(enabled=True).filter(
        Q(poll_claimed_until__isnull=True) | Q(poll_claimed_until__lt=now)
    )
    return [
        concentrator
        for concentrator in candidates
        if concentrator.last_poll_at is None
        or poll_slot(now, concentrator.poll_interval)
        > poll_slot(concentrator.last_poll_at, concentrator.poll_interval)
    ]


def claim(concentrator_id: int, now: datetime.datetime) -> bool:
    """Take the concentrator for one poll; False if another poll holds it."""
    claimed = (
        Concentrator.objects.filter(pk=concentrator_id, enabled=True)
        .filter(Q(poll_claimed_until__isnull=True) | Q(poll_claimed_until__lt=now))
        .update(poll_claimed_until=now + datetime.timedelta(seconds=CLAIM_SECONDS))
    )
    return claimed == 1


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
    wanted = {
        (result.meter_id, quantity): value
        for result in results
        for quantity, value in result.values.items()
    }
    if not wanted:
        return 0, 0
    existing = {
        (meter_id, quantity): value
        for meter_id, quantity, value in Reading.objects.filter(
            meter_id__in={meter_id for meter_id, _ in wanted}, read_at=read_at
        ).values_list("meter_id", "quantity", "value")
    }
    conflicting = 0
    for key, stored_value in existing.items():
        if key in wanted and wanted[key] != stored_value:
            conflicting += 1
            logger.warning(
                "Meter id %s %s at %s: kept stored value %s, discarded %s",
                key[0],
                key[1],
                read_at.isoformat(),
                stored_value,
                wanted[key],
            )
    new_readings = [
        Reading(
            meter_id=meter_id,
            quantity=quantity,
            value=value,
            read_at=read_at,
            source=Reading.Source.POLL,
        )
        for (meter_id, quantity), value in wanted.items()
        if (meter_id, quantity) not in existing
    ]
    # ignore_conflicts covers a concurrent poll that inserted between the
    # look-up and this insert; the unique key keeps the first value.
    Reading.objects.bulk_create(new_readings, ignore_conflicts=True)
    return len(new_readings), conflicting


def _summarise(results: list[MeterResult]) -> tuple[str, str]:
    failed = [result for result in results if not result.complete]
    if not results or not failed:
        return Concentrator.PollStatus.OK, ""
    errors = "; ".join(f"{result.serial}: {result.errors[0]}" for result in failed)
    if len(failed) == len(results):
        return Concentrator.PollStatus.FAILED, errors
    return Concentrator.PollStatus.PARTIAL, errors


def poll_concentrator(
    concentrator_id: int, slot: datetime.datetime | None = None
) -> PollOutcome | None:
    """Poll one concentrator for `slot` (default: the current slot).

    Return None when the concentrator is gone, disabled or held by another
    poll. A connection that is refused or times out is recorded on the
    concentrator as a failed poll, not raised, so other polls go on.
    """
    started_at = timezone.now()
    concentrator = Concentrator.objects.filter(pk=concentrator_id).first()
    if concentrator is None or not claim(concentrator_id, started_at):
        logger.info("Concentrator id %s not polled: missing or busy", concentrator_id)
        return None
    if slot is None:
        slot = poll_slot(started_at, concentrator.poll_interval)
    try:
        return _poll_claimed(concentrator, slot, started_at)
    except BaseException:
        # Release the claim so the next slot can poll without waiting it out.
        Concentrator.objects.filter(pk=concentrator.pk).update(poll_claimed_until=None)
        raise


def _poll_claimed(concentrator, slot, started_at) -> PollOutcome:
    plans = meter_plans(concentrator, slot)

    error = ""
    results: list[MeterResult] = []
    try:
        results = asyncio.run(
            read_concentrator(
                concentrator.host,
                concentrator.port,
                plans,
                timeout=settings.METEROPS_POLL_TIMEOUT,
            )
        )
        status, error = _summarise(results)
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
            poll_claimed_until=None,
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
