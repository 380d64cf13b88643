import asyncio
import math
from datetime import datetime
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from devices.catalog import CATALOG
from devices.models import Concentrator
from devices.simulator.load import OFFICE_TIME_ZONE
from devices.simulator.server import (
    MAX_UNIT_ID,
    SimulatedConcentrator,
    SimulatedMeter,
    SimulationClock,
    SimulatorError,
    start_servers,
    stop_servers,
)

HOST = "127.0.0.1"
LOCAL_HOSTS = ("127.0.0.1", "localhost")
DEFAULT_BASE_PORT = 5020
GENERATED_MODEL = "chint-dtsu666"


def database_layout(now: datetime) -> list[SimulatedConcentrator]:
    """Return the enabled local concentrators in the database with their meters.

    A meter is served unless it was removed at or before `now`, the same rule
    the poller uses. Load class and annual energy come from the meter's account, and
    a meter without an account is a household meter that uses no energy.
    """
    layout = []
    concentrators = Concentrator.objects.filter(enabled=True, host__in=LOCAL_HOSTS)
    for concentrator in concentrators.order_by("port", "name"):
        meters = concentrator.meters.filter(
            Q(removed_at__isnull=True) | Q(removed_at__gt=now)
        )
        simulated = []
        for meter in meters.select_related("model", "account").order_by("unit_id"):
            if meter.model.code not in CATALOG:
                raise CommandError(
                    f"Meter {meter.serial} uses meter model {meter.model.code!r}, "
                    "which has no register map in devices/catalog.py. Change the "
                    "meter's model in the admin to one of "
                    f"{', '.join(CATALOG)}, or add the model to the catalog."
                )
            account = meter.account
            # Behind a current or voltage transformer the register counts the
            # secondary side: the account's energy divided by the multiplier.
            annual_kwh = (
                account.estimated_annual_kwh / meter.multiplier
                if account
                else Decimal(0)
            )
            simulated.append(
                SimulatedMeter(
                    serial=meter.serial,
                    unit_id=meter.unit_id,
                    model_code=meter.model.code,
                    load_class=account.load_class if account else "household",
                    annual_kwh=annual_kwh,
                    installed_at=meter.installed_at,
                )
            )
        layout.append(
            SimulatedConcentrator(concentrator.name, concentrator.port, simulated)
        )
    return layout


def generated_layout(
    concentrator_count: int, meter_count: int, base_port: int, now: datetime
) -> list[SimulatedConcentrator]:
    """Return a made-up layout of DTSU666 meters on consecutive ports.

    Odd unit ids are households and even ones commercial accounts, each with
    its own annual energy. Every meter was installed on 1 January of the
    previous local year, so its register already shows more than a year.
    """
    installed_at = datetime(
        now.astimezone(OFFICE_TIME_ZONE).year - 1, 1, 1, tzinfo=OFFICE_TIME_ZONE
    )
    layout = []
    for index in range(concentrator_count):
        number = index + 1
        meters = []
        for unit_id in range(1, meter_count + 1):
            step = index * meter_count + unit_id
            if unit_id % 2:
                load_class, annual_kwh = "household", Decimal(1800 + 60 * step)
            else:
                load_class, annual_kwh = "commercial", Decimal(12000 + 900 * step)
            meters.append(
                SimulatedMeter(
                    serial=f"SIM{number:02d}{unit_id:03d}",
                    unit_id=unit_id,
                    model_code=GENERATED_MODEL,
                    load_class=load_class,
                    annual_kwh=annual_kwh,
                    installed_at=installed_at,
                )
            )
        layout.append(
            SimulatedConcentrator(f"SIM-{number:02d}", base_port + index, meters)
        )
    return layout


class Command(BaseCommand):
    help = (
        "Serve simulated concentrators over Modbus/TCP on 127.0.0.1. By default "
        "serves every enabled concentrator in the database whose host is "
        "127.0.0.1 or localhost, with its installed meters; --concentrators, "
        "--meters and --base-port serve a generated layout instead."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--concentrators",
            type=int,
            metavar="N",
            help="Generate N concentrators (default 1 when a layout is generated).",
        )
        parser.add_argument(
            "--meters",
            type=int,
            metavar="M",
            help=(
                "Generate M DTSU666 meters per concentrator, unit ids 1 to M "
                "(default 10 when a layout is generated)."
            ),
        )
        parser.add_argument(
            "--base-port",
            type=int,
            metavar="P",
            help=(
                "TCP port of the first generated concentrator; the others use "
                f"the following ports (default {DEFAULT_BASE_PORT})."
            ),
        )
        parser.add_argument(
            "--speed",
            type=float,
            default=1.0,
            help=(
                "Simulated seconds per real second (default 1, real time); "
                "3600 runs one simulated hour per second."
            ),
        )
        parser.add_argument(
            "--duration",
            type=float,
            metavar="SECONDS",
            help="Stop after this many real seconds (default: run until Ctrl-C).",
        )

    def handle(self, *args, **options):
        speed, duration = options["speed"], options["duration"]
        if not (math.isfinite(speed) and speed > 0):
            raise CommandError(
                f"--speed {speed} is invalid; use a number above 0, for example "
                "60 for one simulated minute per second."
            )
        if duration is not None and not (math.isfinite(duration) and duration > 0):
            raise CommandError(
                f"--duration {duration} is invalid; use a number of seconds above 0."
            )

        clock = SimulationClock(speed=speed)
        concentrators = self._layout(options, clock.now())
        try:
            asyncio.run(self._serve(concentrators, clock, duration))
        except SimulatorError as error:
            raise CommandError(str(error)) from error
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")

    def _layout(self, options, now: datetime) -> list[SimulatedConcentrator]:
        generate = any(
            options[name] is not None
            for name in ("concentrators", "meters", "base_port")
        )
        try:
            if generate:
                layout = self._generated(options, now)
            else:
                layout = database_layout(now)
        except ValueError as error:
            raise CommandError(str(error)) from error

        if not layout:
            raise CommandError(
                "No enabled concentrator in the database has host 127.0.0.1 or "
                "localhost. Add one in the admin, or serve a generated layout "
                "with --concentrators N --meters M --base-port P."
            )
        return layout

    def _generated(self, options, now: datetime) -> list[SimulatedConcentrator]:
        count = options["concentrators"] if options["concentrators"] is not None else 1
        meters = options["meters"] if options["meters"] is not None else 10
        base_port = options["base_port"]
        if base_port is None:
            base_port = DEFAULT_BASE_PORT

        if count < 1:
            raise CommandError(f"--concentrators {count} is invalid; use 1 or more.")
        if not 1 <= meters <= MAX_UNIT_ID:
            raise CommandError(
                f"--meters {meters} is invalid; use 1 to {MAX_UNIT_ID}, the range "
                "of Modbus unit ids behind one concentrator."
            )
        last_port = base_port + count - 1
        if base_port < 1 or last_port > 65535:
            raise CommandError(
                f"--base-port {base_port} with {count} concentrators needs ports "
                f"{base_port} to {last_port}, outside 1 to 65535. Choose a base "
                f"port from 1 to {65536 - count}."
            )
        return generated_layout(count, meters, base_port, now)

    async def _serve(self, concentrators, clock, duration) -> None:
        servers = await start_servers(concentrators, HOST, clock)
        try:
            for concentrator in concentrators:
                self.stdout.write(
                    f"{concentrator.name}: {HOST}:{concentrator.port}, "
                    f"{len(concentrator.meters)} meters"
                )
            if duration is None:
                self.stdout.write("Serving; press Ctrl-C to stop.")
            else:
                self.stdout.write(f"Serving; stopping after {duration:g} s.")
            # Scripts wait for these lines before they connect.
            self.stdout.flush()

            if duration is None:
                await asyncio.Event().wait()
            else:
                await asyncio.sleep(duration)
        finally:
            await stop_servers(servers)
