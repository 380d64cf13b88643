"""Celery tasks that run bill runs."""

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from billing import runs
from billing.models import BillRun

logger = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=3, acks_late=True)
def execute_bill_run_task(self, run_id: int) -> None:
    """Execute a queued bill run; a retry skips the accounts already billed.

    A database outage is retried with backoff (5, 10, 20 s). When the last
    retry fails too, the run is marked failed with the error, so the page
    does not show it as pending for ever. A new run of the same period then
    bills the accounts left.
    """
    try:
        runs.execute_bill_run(run_id)
    except (OperationalError, InterfaceError) as error:
        if self.request.retries >= self.max_retries:
            logger.error(
                "Bill run %s failed after %s retries", run_id, self.max_retries
            )
            BillRun.objects.filter(pk=run_id).update(
                status=BillRun.Status.FAILED,
                last_error=f"{type(error).__name__}: {error}",
            )
            raise
        raise self.retry(exc=error, countdown=5 * 2**self.request.retries) from error
