"""Load the demo office: areas, tariffs, concentrators, customers, readings, users.

Every object is looked up by its natural key (code, number, serial, username)
before it is created, so a second run in the same month creates nothing. The
imported readings are the simulator's register values at local midnight on
the first of each month, so the history agrees with what the simulated
meters serve when they are polled live (except on CT meters: see
`register_kwh`).
"""

import datetime
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, no_translations
from django.db import transaction
from django.utils import timezone

from billing.models import Tariff, TariffBlock, TariffSurcharge, TariffVersion
from customers.models import Account, BillingCycle, Customer, Premise, TransformerArea
from devices.models import Concentrator, Meter, MeterModel, Quantity, Reading
from devices.simulator.load import meter_energy_kwh
from meterops.roles import STAFF, SUPERVISOR

# Every demo user signs in with this password, which `make demo` prints.
# Because of it the command stops with an error when DEBUG is off, unless forced.
DEMO_PASSWORD = "meterops-demo"  # noqa: S105

RESIDENTIAL_TARIFF = "hebei-residential-1kv"
COMMERCIAL_TARIFF = "demo-commercial-flat"
HOUSEHOLD_METER = "chint-ddsu666"
COMMERCIAL_METER = "chint-dtsu666"
HISTORY_MONTHS = 12
POLL_INTERVAL_SECONDS = 60


@dataclass(frozen=True)
class DemoCustomer:
    """One customer with one account and one meter."""

    name: str
    address: str
    annual_kwh: int
    shop: bool = False
    ct_ratio: int = 1
    installed_late: bool = False
    estimated_low: bool = False

    @property
    def load_class(self) -> str:
        if self.shop:
            return Account.LoadClass.COMMERCIAL
        return Account.LoadClass.HOUSEHOLD


@dataclass(frozen=True)
class DemoArea:
    """A transformer area with the concentrator that reads its meters."""

    code: str
    name: str
    capacity_kva: int
    port: int
    street: str
    customers: tuple[DemoCustomer, ...]


def _households(street: str, rows) -> tuple[DemoCustomer, ...]:
    return tuple(
        DemoCustomer(name, f"{street}{address}", annual_kwh)
        for name, address, annual_kwh in rows
    )


AREAS = (
    DemoArea(
        code="ZJK-QD-01",
        name="张家口桥东区胜利北路台区",
        capacity_kva=400,
        port=15020,
        street="张家口市桥东区胜利北路",
        customers=(
            *_households(
                "张家口市桥东区胜利北路12号院",
                [
                    ("王建国", "1号楼1单元101室", 2400),
                    ("李秀英", "1号楼1单元302室", 1800),
                    ("张伟", "1号楼2单元501室", 3600),
                    ("刘芳", "2号楼1单元201室", 2900),
                    ("陈静", "2号楼1单元402室", 1500),
                    ("杨磊", "2号楼2单元601室", 4500),
                    ("赵敏", "3号楼1单元102室", 3200),
                    ("黄勇", "3号楼2单元301室", 2100),
                    # A vacant flat: its bills are zero and held for review.
                    ("钱永刚", "3号楼2单元602室", 0),
                ],
            ),
            DemoCustomer("鑫源便利店", "张家口市桥东区胜利北路18号", 12000, shop=True),
            DemoCustomer(
                "老北京涮肉馆",
                "张家口市桥东区胜利北路22号",
                32000,
                shop=True,
                ct_ratio=20,
            ),
            DemoCustomer("宏达五金店", "张家口市桥东区胜利北路26号", 8500, shop=True),
        ),
    ),
    DemoArea(
        code="ZJK-QX-01",
        name="张家口桥西区长青路台区",
        capacity_kva=315,
        port=15021,
        street="张家口市桥西区长青路",
        customers=(
            *_households(
                "张家口市桥西区长青路5号院",
                [
                    ("周杰", "1号楼1单元201室", 2600),
                    ("吴娟", "1号楼2单元402室", 1700),
                    ("徐强", "2号楼1单元101室", 3900),
                    ("孙丽", "2号楼1单元502室", 2200),
                    ("马超", "2号楼2单元301室", 4100),
                    ("朱红", "3号楼1单元602室", 1600),
                    ("胡军", "3号楼1单元202室", 3000),
                    ("郭燕", "4号楼1单元401室", 2700),
                    ("何平", "4号楼2单元102室", 3400),
                ],
            ),
            DemoCustomer(
                "华联超市长青路店",
                "张家口市桥西区长青路31号",
                40000,
                shop=True,
                ct_ratio=30,
            ),
            # The previous system estimated this shop's reading at the start of
            # last month far too low, so the month before last was billed low.
            # Last month's bill catches up at more than three times the shop's
            # usual use, so it is held.
            DemoCustomer(
                "佳美理发店",
                "张家口市桥西区长青路35号",
                9500,
                shop=True,
                estimated_low=True,
            ),
            # Opened on the 28th of the month before last: its first bill covers
            # a few days, and its usual use is measured per day, so last month's
            # full bill is not held.
            DemoCustomer(
                "福满楼饺子馆",
                "张家口市桥西区长青路39号",
                24000,
                shop=True,
                installed_late=True,
            ),
        ),
    ),
    DemoArea(
        code="CD-SQ-01",
        name="承德双桥区南营子大街台区",
        capacity_kva=500,
        port=15022,
        street="承德市双桥区南营子大街",
        customers=(
            *_households(
                "承德市双桥区南营子大街88号院",
                [
                    ("高峰", "1号楼1单元301室", 2000),
                    ("林娜", "1号楼2单元502室", 3700),
                    ("罗斌", "2号楼1单元101室", 2500),
                    ("梁霞", "2号楼1单元402室", 1900),
                    ("宋涛", "2号楼2单元201室", 4300),
                    ("郑艳", "3号楼1单元602室", 2300),
                    ("谢鹏", "3号楼2单元302室", 3100),
                    ("韩梅", "4号楼1单元501室", 1550),
                    ("唐亮", "4号楼2单元202室", 2800),
                ],
            ),
            DemoCustomer(
                "山庄特产商店", "承德市双桥区南营子大街120号", 15000, shop=True
            ),
            DemoCustomer(
                "避暑山庄大药房",
                "承德市双桥区南营子大街126号",
                18000,
                shop=True,
                ct_ratio=20,
            ),
            DemoCustomer("悦来茶馆", "承德市双桥区南营子大街131号", 11000, shop=True),
        ),
    ),
)

# Portal logins: username -> account number of the customer it belongs to.
PORTAL_USERS = {"customer": "3100010001", "customer2": "3100010010"}
OFFICE_USERS = (
    ("staff", STAFF),
    ("supervisor", SUPERVISOR),
    ("supervisor2", SUPERVISOR),
)
SUPERUSER = "admin"


def account_number(area_number: int, unit_id: int) -> str:
    return f"31{area_number:04d}{unit_id:04d}"


def month_start(day: datetime.date, months_back: int = 0) -> datetime.date:
    """Return the first day of the month `months_back` months before `day`'s."""
    index = day.year * 12 + day.month - 1 - months_back
    return datetime.date(index // 12, index % 12 + 1, 1)


def local_midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(
        day, datetime.time(), timezone.get_default_timezone()
    )


def installed_at(
    area_number: int, unit_id: int, late: bool, today: datetime.date
) -> datetime.datetime:
    """Return a meter's installation time, at 10:00 local time.

    Ordinary meters were installed on fixed dates in 2021-2024. A late
    meter went in on the 28th of the month before last.
    """
    if late:
        day = month_start(today, 2).replace(day=28)
    else:
        index = area_number * 12 + unit_id
        day = datetime.date(2021 + index % 4, 1 + index * 5 % 12, 1 + index % 27)
    return datetime.datetime.combine(
        day, datetime.time(10), timezone.get_default_timezone()
    )


def import_instants(meter: Meter, today: datetime.date) -> list[datetime.datetime]:
    """Return the instants the previous system recorded a meter's register at.

    That is local midnight on the first of each month, for the current month
    and the 12 before it, from the meter's installation on. A meter installed
    within that time also has its opening reading at installation, because
    billing starts the meter's first, partial month from that reading.
    """
    instants = [
        local_midnight(month_start(today, months_back))
        for months_back in range(HISTORY_MONTHS, -1, -1)
    ]
    if meter.installed_at > instants[0]:
        instants = [meter.installed_at] + [
            instant for instant in instants if instant > meter.installed_at
        ]
    return instants


def register_kwh(meter: Meter, at: datetime.datetime, resolution: Decimal) -> Decimal:
    """Return the meter's simulated register at `at`, rounded to `resolution`.

    A meter behind a current transformer counts the secondary energy, so its
    register advances by the account's consumption divided by the CT ratio,
    as simulate_concentrators serves it.
    """
    account = meter.account
    value = meter_energy_kwh(
        account.load_class,
        account.estimated_annual_kwh / meter.multiplier,
        meter.installed_at,
        at,
    )
    return value.quantize(resolution)


class DemoLoader:
    """Create the demo objects that are missing and count what it creates."""

    def __init__(self, now: datetime.datetime):
        self.today = timezone.localdate(now)
        self.created = Counter()
        self.meters = []
        self.estimated_low_meters: set[int] = set()

    def get_or_create(self, model, defaults=None, **lookup):
        instance, created = model.objects.get_or_create(defaults=defaults, **lookup)
        if created:
            self.created[model._meta.verbose_name_plural] += 1
        return instance, created

    def load(self) -> Counter:
        """Create the missing demo objects; return the count created per model."""
        meter_models = {
            code: MeterModel.objects.get(code=code)
            for code in (HOUSEHOLD_METER, COMMERCIAL_METER)
        }
        tariffs = self.load_tariffs()
        cycle, _created = self.get_or_create(
            BillingCycle,
            code="demo-monthly",
            defaults={"name": "张家口承德城区月度抄表段"},
        )
        portal_users = self.load_users()

        for area_number, area in enumerate(AREAS, start=1):
            self.load_area(
                area_number, area, tariffs, cycle, meter_models, portal_users
            )

        self.load_readings()
        return self.created

    def load_tariffs(self) -> dict[str, Tariff]:
        """Create the residential and commercial tariffs, keyed by load class."""
        residential, _created = self.get_or_create(
            Tariff,
            code=RESIDENTIAL_TARIFF,
            defaults={
                "name": "河北居民生活用电 不满1千伏 阶梯电价",
                "description": (
                    "Hebei residential tariff under 1 kV with tiers from 2012: "
                    "0.52 yuan/kWh up to 180 kWh a month, 0.57 from 181 to 280 kWh, "
                    "0.82 above 280 kWh. The monthly blocks are the annual tiers of "
                    "2160 and 3360 kWh divided by twelve. The published tariff "
                    "counts the tiers over the calendar year; this version bills "
                    "each month's blocks on their own."
                ),
            },
        )
        version, created = self.get_or_create(
            TariffVersion,
            tariff=residential,
            effective_from=datetime.date(2012, 7, 1),
            defaults={
                "energy_price": Decimal("0.52"),
                "block_basis": TariffVersion.BlockBasis.MONTHLY,
                "published_reference": "Hebei residential tiered tariff, 2012",
            },
        )
        if created:
            for upper_kwh, price in ((180, "0.52"), (280, "0.57"), (None, "0.82")):
                self.get_or_create(
                    TariffBlock, version=version, upper_kwh=upper_kwh, price=price
                )

        commercial, _created = self.get_or_create(
            Tariff,
            code=COMMERCIAL_TARIFF,
            defaults={
                "name": "一般工商业 单一制 (演示电价)",
                "description": (
                    "Flat commercial tariff for the demo. The energy price of "
                    "0.65 yuan/kWh is an illustrative demo price, not a published "
                    "one. The surcharges are an example: the figures Hubei "
                    "published for 2026 (rural grid loan repayment 0.02, reservoir "
                    "resettlement 0.0062, renewable energy 0.019 yuan/kWh)."
                ),
            },
        )
        version, _created = self.get_or_create(
            TariffVersion,
            tariff=commercial,
            effective_from=datetime.date(2025, 1, 1),
            defaults={
                "energy_price": Decimal("0.65"),
                "published_reference": "Illustrative demo price",
            },
        )
        for name, price in (
            ("农网还贷资金", "0.02"),
            ("大中型水库移民后期扶持资金", "0.0062"),
            ("可再生能源电价附加", "0.019"),
        ):
            self.get_or_create(
                TariffSurcharge, version=version, name=name, defaults={"price": price}
            )
        return {
            Account.LoadClass.HOUSEHOLD: residential,
            Account.LoadClass.COMMERCIAL: commercial,
        }

    def load_users(self) -> dict:
        """Create the office users, the superuser and the portal users."""
        user_model = get_user_model()
        for username, group_name in OFFICE_USERS:
            user, created = self.get_or_create(user_model, username=username)
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
                user.groups.add(Group.objects.get(name=group_name))

        admin, created = self.get_or_create(
            user_model,
            username=SUPERUSER,
            defaults={"is_staff": True, "is_superuser": True},
        )
        if created:
            admin.set_password(DEMO_PASSWORD)
            admin.save(update_fields=["password"])

        portal_users = {}
        for username, account in PORTAL_USERS.items():
            user, created = self.get_or_create(user_model, username=username)
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
            portal_users[account] = user
        return portal_users

    def load_area(self, area_number, area, tariffs, cycle, meter_models, portal_users):
        """Create an area's concentrator and its customers, accounts and meters."""
        transformer_area, _created = self.get_or_create(
            TransformerArea,
            code=area.code,
            defaults={"name": area.name, "capacity_kva": area.capacity_kva},
        )
        concentrator, _created = self.get_or_create(
            Concentrator,
            name=f"{area.code} 集中器",
            defaults={
                "host": "127.0.0.1",
                "port": area.port,
                "transformer_area": transformer_area,
                "poll_interval": POLL_INTERVAL_SECONDS,
            },
        )
        for unit_id, demo in enumerate(area.customers, start=1):
            number = account_number(area_number, unit_id)
            customer, _created = self.get_or_create(
                Customer,
                number=f"10{area_number:02d}{unit_id:04d}",
                defaults={
                    "name": demo.name,
                    "category": Customer.Category.COMMERCIAL
                    if demo.shop
                    else Customer.Category.RESIDENTIAL,
                    "user": portal_users.get(number),
                },
            )
            premise, _created = self.get_or_create(
                Premise,
                address=demo.address,
                defaults={"transformer_area": transformer_area},
            )
            meter_installed_at = installed_at(
                area_number, unit_id, demo.installed_late, self.today
            )
            account, _created = self.get_or_create(
                Account,
                number=number,
                defaults={
                    "customer": customer,
                    "premise": premise,
                    "tariff": tariffs[demo.load_class],
                    "cycle": cycle,
                    "load_class": demo.load_class,
                    "estimated_annual_kwh": Decimal(demo.annual_kwh),
                    "opened_on": timezone.localdate(meter_installed_at),
                },
            )
            meter_model = meter_models[
                COMMERCIAL_METER if demo.shop else HOUSEHOLD_METER
            ]
            meter, _created = self.get_or_create(
                Meter,
                serial=f"{meter_model.name}-{area_number:02d}{unit_id:04d}",
                defaults={
                    "model": meter_model,
                    "concentrator": concentrator,
                    "unit_id": unit_id,
                    "account": account,
                    "ct_ratio": Decimal(demo.ct_ratio),
                    "installed_at": meter_installed_at,
                },
            )
            self.meters.append(meter)
            if demo.estimated_low:
                self.estimated_low_meters.add(meter.pk)

    def load_readings(self):
        """Import each demo meter's monthly readings that are not stored yet."""
        new_readings = []
        estimated_at = local_midnight(month_start(self.today, 1))
        for meter in self.meters:
            register = meter.model.registers.get(quantity=Quantity.IMPORT_ACTIVE_ENERGY)
            resolution = Decimal(1).scaleb(-register.decimals)
            stored = set(
                meter.readings.filter(
                    quantity=Quantity.IMPORT_ACTIVE_ENERGY
                ).values_list("read_at", flat=True)
            )
            for at in import_instants(meter, self.today):
                if at in stored:
                    continue
                reading = Reading(
                    meter=meter,
                    quantity=Quantity.IMPORT_ACTIVE_ENERGY,
                    value=register_kwh(meter, at, resolution),
                    read_at=at,
                    source=Reading.Source.IMPORT,
                )
                if meter.pk in self.estimated_low_meters and at == estimated_at:
                    reading.value = low_estimate(meter, at, resolution)
                    reading.quality = Reading.Quality.ESTIMATED
                new_readings.append(reading)

        Reading.objects.bulk_create(new_readings, batch_size=500)
        if new_readings:
            self.created[Reading._meta.verbose_name_plural] += len(new_readings)


def low_estimate(meter: Meter, at: datetime.datetime, resolution: Decimal) -> Decimal:
    """Return a reading the previous system estimated at a fifth of the true use.

    The use counted is that of the month before `at`. The rest shows up in
    the next month, as when a real reading corrects a meter reader's estimate.
    """
    month_before = local_midnight(month_start(timezone.localdate(at), 1))
    previous = register_kwh(meter, month_before, resolution)
    true_value = register_kwh(meter, at, resolution)
    return (previous + (true_value - previous) / 5).quantize(resolution)


class Command(BaseCommand):
    help = (
        "Load the demo office: three transformer areas with a simulated "
        "concentrator each, 36 customers with accounts and meters, tariffs, a "
        "year of imported monthly readings and the demo users. Objects that "
        "exist already are left as they are."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Load even when DEBUG is off. The demo users get a published "
            "password, so never use this on a production database.",
        )
        parser.add_argument(
            "--print-logins",
            action="store_true",
            help="Print the demo logins and their password, and load nothing.",
        )

    @no_translations
    def handle(self, *args, force, print_logins, **options):
        if print_logins:
            self.print_logins()
            return
        if not settings.DEBUG and not force:
            raise CommandError(
                "DEBUG is off, so this may be a production database, and the demo "
                "users have a published password. Set DEBUG=true, or pass --force "
                "if this database is a throwaway."
            )

        now = timezone.now()
        with transaction.atomic():
            created = DemoLoader(now).load()

        if not created:
            self.stdout.write("Demo data is already loaded; nothing changed.")
            return
        self.stdout.write(self.style.SUCCESS("Created the missing demo objects:"))
        for name, count in created.items():
            self.stdout.write(f"  {name}: {count}")

    def print_logins(self):
        rows = [
            ("staff", "office staff (抄表核算员)"),
            ("supervisor", "supervisor (审核), approves held bills"),
            ("supervisor2", "second supervisor"),
            ("customer", "customer portal, household account 3100010001"),
            ("customer2", "customer portal, shop account 3100010010"),
            (SUPERUSER, "superuser, Django admin at /admin/"),
        ]
        self.stdout.write(f"Every demo user's password is {DEMO_PASSWORD}")
        for username, role in rows:
            self.stdout.write(f"  {username:<12} {role}")
