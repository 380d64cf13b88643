from django.core.management.base import BaseCommand, CommandError

from devices import polling
from devices.models import Concentrator


class Command(BaseCommand):
    help = (
        "Poll enabled concentrators once, in this process, without a Celery "
        "worker. Scheduled polling runs in the worker with celery-beat."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--once",
            action="store_true",
            help="Run one poll round of every enabled concentrator and exit.",
        )
        parser.add_argument(
            "--concentrator",
            metavar="NAME",
            help="Poll only the concentrator with this name.",
        )

    def handle(self, *args, once, concentrator, **options):
        if not once:
            raise CommandError(
                "Add --once to poll one round now; for scheduled polling start "
                "the Celery worker with beat."
            )
        concentrators = Concentrator.objects.filter(enabled=True)
        if concentrator:
            concentrators = concentrators.filter(name=concentrator)
            if not concentrators.exists():
                raise CommandError(
                    f"No enabled concentrator is named {concentrator!r}. "
                    "Check the name in the admin's concentrator list."
                )
        for target in concentrators:
            outcome = polling.poll_concentrator(target.pk)
            if outcome is None:
                self.stdout.write(f"{target.name}: skipped, another poll holds it")
                continue
            line = (
                f"{target.name}: {outcome.status}, {outcome.meters_read}/"
                f"{outcome.meters_due} meters, "
                f"{outcome.readings_stored} readings stored"
            )
            if outcome.error:
                line += f" ({outcome.error})"
            self.stdout.write(line)
