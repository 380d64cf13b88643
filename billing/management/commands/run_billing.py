from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from billing import runs
from billing.models import BillRun


class Command(BaseCommand):
    help = (
        "Calculate one month's bills for every active account, in this process. "
        "Accounts that already have a bill for the month are left as they are."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--period",
            required=True,
            metavar="YYYY-MM",
            help="The month to bill, for example 2026-11.",
        )

    def handle(self, *args, period, **options):
        try:
            first_day = runs.parse_period(period)
            runs.check_period_ended(first_day, timezone.localdate())
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        run = BillRun.objects.create(period=first_day)
        self.stdout.write(f"Bill run {run.pk} for {period} started")
        run = runs.execute_bill_run(run.pk, progress=self._show_progress)
        self.stdout.write(
            f"Bill run {run.pk} for {period}: {run.bills_created} bills created, "
            f"{run.bills_held} held for review, {run.accounts_skipped} accounts "
            f"skipped, {run.accounts_already_billed} already billed"
        )
        for problem in run.problems:
            self.stdout.write(f"  {problem['account']}: {problem['message']}")

    def _show_progress(self, run):
        self.stdout.write(
            f"  {run.accounts_done}/{run.accounts_total} accounts "
            f"({run.progress_percent}%)"
        )
