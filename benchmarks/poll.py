"""Measure polling throughput against simulated concentrators over Modbus/TCP.

Starts `simulate_concentrators` in its own process with CONCENTRATORS
concentrators of METERS DTSU666 meters each, registers the same layout in the
benchmark database, then times ROUNDS poll rounds of every concentrator, one
after another in this process (as `manage.py poll --once` does). Each meter
has 12 mapped quantities, read one request each. Run against PostgreSQL:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/meterops_bench \
        .venv/bin/python benchmarks/poll.py --concentrators 4 --meters 32
"""

import argparse
import datetime
import os
import socket
import subprocess
import sys
import time

from _setup import PROJECT, machine, setup_django

BASE_PORT = 16020
# Each round starts at the beginning of its own poll slot, so its readings
# get their own time stamp and are all stored.
SLOT_SECONDS = 10


def wait_for_ports(ports, timeout=60.0):
    deadline = time.monotonic() + timeout
    for port in ports:
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError as error:
                if time.monotonic() > deadline:
                    message = f"Simulator port {port} did not open: {error}"
                    raise SystemExit(message) from error
                time.sleep(0.2)


def register_layout(concentrators: int, meters: int) -> list[int]:
    from billing.models import Bill
    from customers.models import Account
    from devices.models import Concentrator, Meter, MeterModel, PollRound, Reading

    Bill.objects.all().delete()
    Reading.objects.all().delete()
    PollRound.objects.all().delete()
    Meter.objects.all().delete()
    Account.objects.all().delete()
    Concentrator.objects.all().delete()
    model = MeterModel.objects.get(code="chint-dtsu666")
    installed = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
    ids = []
    for index in range(concentrators):
        row = Concentrator.objects.create(
            name=f"Bench {index + 1}",
            host="127.0.0.1",
            port=BASE_PORT + index,
            poll_interval=SLOT_SECONDS,
        )
        Meter.objects.bulk_create(
            Meter(
                serial=f"BENCHPOLL{index:02d}{unit:03d}",
                model=model,
                concentrator=row,
                unit_id=unit,
                installed_at=installed,
            )
            for unit in range(1, meters + 1)
        )
        ids.append(row.pk)
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concentrators", type=int, default=4)
    parser.add_argument(
        "--meters", type=int, default=32, help="Meters per concentrator."
    )
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    setup_django("postgres://postgres@127.0.0.1:5432/meterops_bench")

    from devices import polling
    from devices.models import Reading

    ids = register_layout(options.concentrators, options.meters)
    simulator = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "simulate_concentrators",
            "--concentrators",
            str(options.concentrators),
            "--meters",
            str(options.meters),
            "--base-port",
            str(BASE_PORT),
        ],
        cwd=PROJECT,
        env={**os.environ, "DATABASE_URL": "sqlite:///:memory:"},
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_for_ports(range(BASE_PORT, BASE_PORT + options.concentrators))
        timings = []
        for _round in range(options.rounds):
            time.sleep(SLOT_SECONDS - time.time() % SLOT_SECONDS)
            started = time.perf_counter()
            for concentrator_id in ids:
                polling.poll_concentrator(concentrator_id)
            timings.append(time.perf_counter() - started)
    finally:
        simulator.terminate()
        simulator.wait(timeout=30)

    meters = options.concentrators * options.meters
    best = min(timings)
    print(f"machine: {machine()}")
    print(f"concentrators: {options.concentrators}, meters: {meters}")
    print(f"rounds: {options.rounds}")
    print(f"readings stored: {Reading.objects.count()}")
    median = sorted(timings)[len(timings) // 2]
    print(f"best round: {best:.2f} s, median round: {median:.2f} s")
    print(f"meters per second: {meters / best:.0f}")
    print(f"requests per second: {meters * 12 / best:.0f}")


if __name__ == "__main__":
    main()
