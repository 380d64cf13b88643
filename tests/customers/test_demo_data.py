"""The demo data set: what load_demo_data creates, and that a rerun adds nothing."""

import datetime
import itertools
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from billing.models import Bill, Tariff, TariffBlock, TariffSurcharge, TariffVersion
from customers.management.commands.load_demo_data import DemoLoader
from customers.models import Account, BillingCycle, Customer, Premise, TransformerArea
from devices.models import Concentrator, Meter, Quantity, Reading
from devices.simulator.load import meter_energy_kwh

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime.datetime(2026, 12, 4, 10, 30, tzinfo=SHANGHAI)
VACANT_FLAT = "3100010009"
LATE_SHOP = "3100020012"
ESTIMATED_SHOP = "3100020011"
# 35 meters with the current month and 12 before it, and the late shop's
# meter with its installation reading and the two month starts after it.
EXPECTED_READINGS = 35 * 13 + 3

EXPECTED_COUNTS = {
    TransformerArea: 3,
    BillingCycle: 1,
    Tariff: 2,
    TariffVersion: 2,
    TariffBlock: 3,
    TariffSurcharge: 3,
    Concentrator: 3,
    Customer: 36,
    Premise: 36,
    Account: 36,
    Meter: 36,
    Reading: EXPECTED_READINGS,
}

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    # The loader hashes six passwords, and PBKDF2 is slow by design.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def load(now=NOW):
    return DemoLoader(now).load()


def counts():
    return {model: model.objects.count() for model in EXPECTED_COUNTS}


def imported_values(meter):
    return list(
        meter.readings.filter(
            quantity=Quantity.IMPORT_ACTIVE_ENERGY, source=Reading.Source.IMPORT
        )
        .order_by("read_at")
        .values_list("value", flat=True)
    )


def test_load_creates_expected_counts():
    load()

    assert counts() == EXPECTED_COUNTS


def test_load_creates_users_with_roles():
    load()

    users = get_user_model().objects
    assert set(users.get(username="staff").groups.values_list("name", flat=True)) == {
        "staff"
    }
    for username in ("supervisor", "supervisor2"):
        groups = users.get(username=username).groups.values_list("name", flat=True)
        assert set(groups) == {"supervisor"}
    assert users.get(username="admin").is_superuser
    assert users.get(username="customer").customer.number == "10010001"
    assert users.get(username="customer2").customer.number == "10010010"


def test_demo_password_works_for_every_user():
    load()

    for user in get_user_model().objects.all():
        assert user.check_password("meterops-demo"), user.username


def test_second_load_creates_nothing():
    load()
    before = counts()

    created = load()

    assert not created
    assert counts() == before


def test_second_command_run_says_nothing_changed():
    call_command("load_demo_data", force=True, stdout=StringIO())
    output = StringIO()

    call_command("load_demo_data", force=True, stdout=output)

    assert "nothing changed" in output.getvalue()


def test_command_refuses_without_debug(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("load_demo_data", stdout=StringIO())

    assert not Customer.objects.exists()


def test_imported_readings_increase_month_over_month():
    load()

    meters = Meter.objects.exclude(account__number=VACANT_FLAT)
    assert meters.count() == 35
    for meter in meters:
        values = imported_values(meter)
        for earlier, later in itertools.pairwise(values):
            assert later > earlier, meter.serial


def test_vacant_flat_readings_stay_level():
    load()

    meter = Meter.objects.get(account__number=VACANT_FLAT)
    values = imported_values(meter)
    assert meter.account.estimated_annual_kwh == 0
    assert len(values) == 13
    assert set(values) == {Decimal(0)}


def test_readings_at_local_month_starts():
    load()

    readings = Reading.objects.exclude(meter__account__number=LATE_SHOP)
    for reading in readings:
        local = reading.read_at.astimezone(SHANGHAI)
        assert (local.day, local.hour, local.minute) == (1, 0, 0), reading


def test_history_covers_current_month_and_twelve_before():
    load()

    meter = Meter.objects.get(account__number="3100010001")
    instants = list(
        meter.readings.order_by("read_at").values_list("read_at", flat=True)
    )
    assert instants[0] == datetime.datetime(2025, 12, 1, tzinfo=SHANGHAI)
    assert instants[-1] == datetime.datetime(2026, 12, 1, tzinfo=SHANGHAI)


def test_late_shop_installation_date():
    load()

    meter = Meter.objects.get(account__number=LATE_SHOP)
    assert meter.installed_at == datetime.datetime(2026, 10, 28, 10, tzinfo=SHANGHAI)
    instants = list(
        meter.readings.order_by("read_at").values_list("read_at", flat=True)
    )
    assert instants == [
        meter.installed_at,
        datetime.datetime(2026, 11, 1, tzinfo=SHANGHAI),
        datetime.datetime(2026, 12, 1, tzinfo=SHANGHAI),
    ]


def test_readings_match_simulated_register():
    load()

    for meter in Meter.objects.select_related("account"):
        reading = meter.readings.latest("read_at")
        expected = meter_energy_kwh(
            meter.account.load_class,
            meter.account.estimated_annual_kwh / meter.multiplier,
            meter.installed_at,
            reading.read_at,
        )
        assert reading.value == expected, meter.serial


def test_meters_of_each_concentrator_numbered_from_one():
    load()

    for concentrator in Concentrator.objects.all():
        unit_ids = sorted(concentrator.meters.values_list("unit_id", flat=True))
        assert unit_ids == list(range(1, 13)), concentrator.name
        assert concentrator.host == "127.0.0.1"
        assert concentrator.poll_interval == 60


def test_meter_model_follows_load_class():
    load()

    for meter in Meter.objects.select_related("account", "model"):
        expected = {
            Account.LoadClass.HOUSEHOLD: "chint-ddsu666",
            Account.LoadClass.COMMERCIAL: "chint-dtsu666",
        }[meter.account.load_class]
        assert meter.model.code == expected, meter.serial


def test_annual_consumption_in_demo_ranges():
    load()

    for account in Account.objects.exclude(number=VACANT_FLAT):
        annual = account.estimated_annual_kwh
        if account.load_class == Account.LoadClass.HOUSEHOLD:
            assert Decimal(1500) <= annual <= Decimal(4500), account.number
        else:
            assert Decimal(8000) <= annual <= Decimal(40000), account.number


def test_residential_tariff_blocks():
    load()

    version = Tariff.objects.get(code="hebei-residential-1kv").versions.get()
    blocks = [(block.upper_kwh, block.price) for block in version.blocks.all()]
    assert version.effective_from == datetime.date(2012, 7, 1)
    assert version.block_basis == TariffVersion.BlockBasis.MONTHLY
    assert blocks == [
        (Decimal(180), Decimal("0.52")),
        (Decimal(280), Decimal("0.57")),
        (None, Decimal("0.82")),
    ]


def test_commercial_tariff_itemises_surcharges():
    load()

    version = Tariff.objects.get(code="demo-commercial-flat").versions.get()
    surcharges = sorted(version.surcharges.values_list("price", flat=True))
    assert surcharges == [Decimal("0.0062"), Decimal("0.019"), Decimal("0.02")]
    assert "illustrative demo price" in version.tariff.description


def test_estimated_low_reading_then_catch_up_held():
    load()

    meter = Meter.objects.get(account__number=ESTIMATED_SHOP)
    estimated = meter.readings.get(
        read_at=datetime.datetime(2026, 11, 1, tzinfo=SHANGHAI)
    )
    assert estimated.quality == Reading.Quality.ESTIMATED
    for period in ("2026-10", "2026-11"):
        call_command("run_billing", "--period", period, stdout=StringIO())

    october = Bill.objects.get(
        account__number=ESTIMATED_SHOP, period_start="2026-10-01"
    )
    november = Bill.objects.get(
        account__number=ESTIMATED_SHOP, period_start="2026-11-01"
    )
    assert october.status == Bill.Status.APPROVED
    assert november.hold_reasons == [Bill.HoldReason.HIGH]


def test_late_shop_full_month_not_held():
    load()
    for period in ("2026-10", "2026-11"):
        call_command("run_billing", "--period", period, stdout=StringIO())

    november = Bill.objects.get(account__number=LATE_SHOP, period_start="2026-11-01")
    assert november.status == Bill.Status.APPROVED
    assert november.average_kwh is not None
