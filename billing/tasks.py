"""Celery tasks that run bill runs."""

from celery import shared_task
from django.db import OperationalError

from billing import runs


@shared_task(
    autoretry_for=(OperationalError,),
    retry_backoff=5,
    max_retries=3,
    acks_late=True,
)
def execute_bill_run_task(run_id: int) -> None:
    """Execute a queued bill run; a retry skips the accounts already billed."""
    runs.execute_bill_run(run_id)
