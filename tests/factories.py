"""factory_boy factories for the MeterOps models."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import factory
from django.contrib.auth import get_user_model

from billing.models import Bill, BillLine, BillRun, Tariff, TariffBlock, TariffVersion
from customers.models import Account, BillingCycle, Customer, Premise, TransformerArea
from devices.catalog import install_meter_models
from devices.models import Concentrator, Meter, MeterModel, Reading, RegisterMapEntry

SHANGHAI = ZoneInfo("Asia/Shanghai")


def catalog_model(code: str) -> MeterModel:
    """Return a catalog meter model, installing the catalog if a flush removed it.

    Transactional tests flush the database afterwards, which deletes the rows
    the data migration created.
    """
    if not MeterModel.objects.filter(code=code).exists():
        install_meter_models(MeterModel, RegisterMapEntry)
    return MeterModel.objects.get(code=code)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-9")

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        # Declared after `password`, so the hashed password is what is saved.
        if create:
            obj.save()


class TransformerAreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TransformerArea

    code = factory.Sequence(lambda n: f"TA{n:03d}")
    name = factory.Sequence(lambda n: f"Area {n}")
    capacity_kva = 400


class BillingCycleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BillingCycle
        django_get_or_create = ("code",)

    code = "monthly"
    name = "Monthly"


class TariffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tariff

    code = factory.Sequence(lambda n: f"tariff-{n}")
    name = factory.Sequence(lambda n: f"Tariff {n}")


class TariffVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TariffVersion

    tariff = factory.SubFactory(TariffFactory)
    effective_from = datetime.date(2026, 1, 1)
    energy_price = Decimal("0.52")


class TariffBlockFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TariffBlock

    version = factory.SubFactory(TariffVersionFactory)
    price = Decimal("0.52")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    number = factory.Sequence(lambda n: f"C{n:06d}")
    name = factory.Faker("name", locale="zh_CN")
    category = Customer.Category.RESIDENTIAL


class PremiseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Premise

    address = factory.Sequence(lambda n: f"{n} Heping Road, Zhangjiakou")
    transformer_area = factory.SubFactory(TransformerAreaFactory)


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    number = factory.Sequence(lambda n: f"31{n:08d}")
    customer = factory.SubFactory(CustomerFactory)
    premise = factory.SubFactory(PremiseFactory)
    tariff = factory.LazyAttribute(lambda o: TariffVersionFactory().tariff)
    cycle = factory.SubFactory(BillingCycleFactory)
    opened_on = datetime.date(2025, 1, 1)
    estimated_annual_kwh = Decimal(2400)


class ConcentratorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Concentrator

    name = factory.Sequence(lambda n: f"Concentrator {n}")
    host = "127.0.0.1"
    port = 5020
    poll_interval = 60


class MeterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Meter

    serial = factory.Sequence(lambda n: f"DTSU{n:08d}")
    model = factory.LazyFunction(lambda: catalog_model("chint-dtsu666"))
    concentrator = factory.SubFactory(ConcentratorFactory)
    unit_id = factory.Sequence(lambda n: n % 247 + 1)
    account = factory.SubFactory(AccountFactory)
    installed_at = datetime.datetime(2025, 1, 1, tzinfo=SHANGHAI)


class ReadingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reading

    meter = factory.SubFactory(MeterFactory)
    quantity = "import_kwh"
    value = Decimal("100.00")
    read_at = datetime.datetime(2026, 11, 1, tzinfo=SHANGHAI)
    source = Reading.Source.IMPORT


class BillRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BillRun

    period = datetime.date(2026, 11, 1)
    status = BillRun.Status.SUCCEEDED


class BillFactory(factory.django.DjangoModelFactory):
    """An approved bill of 100 kWh at 0.52 yuan/kWh, with no lines.

    Add lines with BillLineFactory; the total is not recomputed from them.
    """

    class Meta:
        model = Bill

    account = factory.SubFactory(AccountFactory)
    bill_run = factory.SubFactory(BillRunFactory)
    tariff_version = factory.LazyAttribute(
        lambda o: o.account.tariff.versions.first() or TariffVersionFactory()
    )
    meter = factory.LazyAttribute(
        lambda o: o.account.meters.first() or MeterFactory(account=o.account)
    )
    period_start = datetime.date(2026, 11, 1)
    period_end = datetime.date(2026, 11, 30)
    start_reading = Decimal("1000.00")
    start_read_at = datetime.datetime(2026, 11, 1, tzinfo=SHANGHAI)
    end_reading = Decimal("1100.00")
    end_read_at = datetime.datetime(2026, 12, 1, tzinfo=SHANGHAI)
    multiplier = Decimal(1)
    consumption_kwh = Decimal("100.00")
    total = Decimal("52.00")
    status = Bill.Status.APPROVED


class BillLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BillLine

    bill = factory.SubFactory(BillFactory)
    sequence = factory.Sequence(lambda n: n + 1)
    kind = BillLine.Kind.ENERGY
    description = "Energy"
    quantity_kwh = Decimal("100.00")
    unit_price = Decimal("0.52")
    amount = Decimal("52.00")
