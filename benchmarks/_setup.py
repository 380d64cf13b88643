"""Shared set-up for the benchmarks: a migrated database of their own."""

import os
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]


def setup_django(default_database: str) -> None:
    """Point Django at the benchmark database, set it up and migrate it."""
    sys.path.insert(0, str(PROJECT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "meterops.settings")
    os.environ.setdefault("DEBUG", "true")
    os.environ.setdefault("DATABASE_URL", default_database)
    os.environ.setdefault("LOG_LEVEL", "WARNING")

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def machine() -> str:
    """Return a one-line description of this machine for the printed figures."""
    import platform

    cores = os.cpu_count()
    return f"{platform.machine()}, {cores} cores, Python {platform.python_version()}"
