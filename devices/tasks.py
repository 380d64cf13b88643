"""Celery tasks that poll concentrators."""

import datetime
import logging

from celery import shared_task
from django.db import OperationalError, transaction
from django.utils import timezone

from devices import polling

logger = logging.getLogger(__name__)


@shared_task(
    autoretry_for=(OperationalError,),
    retry_backoff=5,
    max_retries=3,
    acks_late=True,
)
def poll_concentrator(concentrator_id: int, slot: str | None = None) -> dict | None:
    """Poll one concentrator for one slot; safe to retry.

    Queued by `poll_due_concentrators` with the slot as an ISO 8601 string,
    so a retry stores readings under the same time and adds nothing twice.
    Retries only on database errors: a concentrator that cannot be reached is
    recorded as failed and read again in its next slot.
    """
    slot_time = datetime.datetime.fromisoformat(slot) if slot else None
    outcome = polling.poll_concentrator(concentrator_id, slot_time)
    if outcome is None:
        return None
    return {
        "status": outcome.status,
        "meters_read": outcome.meters_read,
        "readings_stored": outcome.readings_stored,
    }


@shared_task
def poll_due_concentrators() -> int:
    """Queue one poll task per concentrator whose poll interval has passed.

    Run by celery-beat every 30 seconds (the schedule lives in
    django-celery-beat and is editable in the admin). Return the number queued.
    """
    now = timezone.now()
    due = polling.due_concentrators(now)
    queued = 0
    for concentrator in due:
        slot = polling.poll_slot(now, concentrator.poll_interval)
        if not polling.mark_queued(concentrator.pk, slot):
            continue
        slot_text = slot.isoformat()
        transaction.on_commit(
            lambda pk=concentrator.pk, slot=slot_text: poll_concentrator.delay(pk, slot)
        )
        queued += 1
    if queued:
        logger.info("Queued polls of %s concentrators", queued)
    return queued
