"""Measure how many bills per second a bill run calculates and stores.

Creates ACCOUNTS accounts on the Hebei residential block tariff, each with a
meter and two readings, then times one bill run over them. Run against
PostgreSQL:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/meterops_bench \
        .venv/bin/python benchmarks/bill_run.py --accounts 2000
"""

import argparse
import datetime
import time
from decimal import Decimal
from zoneinfo import ZoneInfo

from _setup import machine, setup_django

SHANGHAI = ZoneInfo("Asia/Shanghai")
PERIOD = datetime.date(2026, 11, 1)


def build(accounts: int) -> None:
    from billing.models import Bill, BillRun, Tariff, TariffBlock, TariffVersion
    from customers.models import Account, BillingCycle, Customer, Premise
    from devices.models import Meter, MeterModel, Reading

    Bill.objects.all().delete()
    BillRun.objects.all().delete()
    Reading.objects.all().delete()
    Meter.objects.all().delete()
    Account.objects.all().delete()
    Customer.objects.all().delete()
    Premise.objects.all().delete()

    tariff, _ = Tariff.objects.get_or_create(code="bench-hebei", name="Bench Hebei")
    version, created = TariffVersion.objects.get_or_create(
        tariff=tariff,
        effective_from=datetime.date(2012, 7, 1),
        defaults={"energy_price": Decimal("0.52"), "block_basis": "monthly"},
    )
    if created:
        for upper, price in ((180, "0.52"), (280, "0.57"), (None, "0.82")):
            TariffBlock.objects.create(version=version, upper_kwh=upper, price=price)
    cycle, _ = BillingCycle.objects.get_or_create(code="bench", name="Bench")
    model = MeterModel.objects.get(code="chint-ddsu666")

    customers = Customer.objects.bulk_create(
        Customer(number=f"B{i:07d}", name=f"Customer {i}", category="residential")
        for i in range(accounts)
    )
    premises = Premise.objects.bulk_create(
        Premise(address=f"{i} Bench Road") for i in range(accounts)
    )
    account_rows = Account.objects.bulk_create(
        Account(
            number=f"9{i:09d}",
            customer=customer,
            premise=premise,
            tariff=tariff,
            cycle=cycle,
            opened_on=datetime.date(2025, 1, 1),
        )
        for i, (customer, premise) in enumerate(zip(customers, premises, strict=True))
    )
    meters = Meter.objects.bulk_create(
        Meter(
            serial=f"BENCH{i:08d}",
            model=model,
            unit_id=1,
            account=account,
            installed_at=datetime.datetime(2025, 1, 1, tzinfo=SHANGHAI),
        )
        for i, account in enumerate(account_rows)
    )
    start = datetime.datetime(2026, 11, 1, tzinfo=SHANGHAI)
    end = datetime.datetime(2026, 12, 1, tzinfo=SHANGHAI)
    readings = []
    for i, meter in enumerate(meters):
        base = Decimal(1000 + i)
        used = Decimal(50 + (i * 37) % 400)
        readings.append(
            Reading(
                meter=meter,
                quantity="import_kwh",
                value=base,
                read_at=start,
                source="import",
            )
        )
        readings.append(
            Reading(
                meter=meter,
                quantity="import_kwh",
                value=base + used,
                read_at=end,
                source="import",
            )
        )
    Reading.objects.bulk_create(readings, batch_size=5000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=2000, help="Accounts to bill.")
    options = parser.parse_args()
    setup_django("postgres://postgres@127.0.0.1:5432/meterops_bench")

    from django.db import connection

    from billing.models import BillRun
    from billing.runs import execute_bill_run

    build(options.accounts)
    run = BillRun.objects.create(period=PERIOD)
    started = time.perf_counter()
    run = execute_bill_run(run.pk)
    elapsed = time.perf_counter() - started

    print(f"machine: {machine()}, database: {connection.vendor}")
    print(f"accounts: {run.accounts_total}, bills: {run.bills_created}")
    print(f"held for review: {run.bills_held}")
    print(f"elapsed: {elapsed:.2f} s")
    print(f"bills per second: {run.bills_created / elapsed:.0f}")
    print(f"bills per hour: {run.bills_created / elapsed * 3600:,.0f}")


if __name__ == "__main__":
    main()
