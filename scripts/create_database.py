"""Create the PostgreSQL database that DATABASE_URL names, if it does not exist.

`make test` runs this before Django's checks, which connect to that database.
pytest-django creates the test database (its name prefixed with test_) itself.
Any other database engine is left alone.
"""

import os
import sys

import environ
import psycopg
from psycopg import sql

MAINTENANCE_DATABASES = ("postgres", "template1")


def connection_options(config: dict) -> dict:
    options = {
        "host": config.get("HOST"),
        "port": config.get("PORT"),
        "user": config.get("USER"),
        "password": config.get("PASSWORD"),
    }
    return {key: str(value) for key, value in options.items() if value}


def create_database(url: str) -> None:
    config = environ.Env.db_url_config(url)
    if config["ENGINE"] != "django.db.backends.postgresql":
        return

    name = config["NAME"]
    options = connection_options(config)
    where = f"{options.get('host', 'the local socket')}:{options.get('port', 5432)}"
    error = None
    for maintenance_database in MAINTENANCE_DATABASES:
        try:
            connection = psycopg.connect(
                dbname=maintenance_database, autocommit=True, **options
            )
        except psycopg.OperationalError as exc:
            error = exc
            continue
        with connection:
            found = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [name]
            ).fetchone()
            if not found:
                connection.execute(
                    sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
                )
                print(f"Created PostgreSQL database {name} at {where}.")
        return

    sys.exit(
        f"Cannot connect to PostgreSQL at {where}: {error}\n"
        "Start PostgreSQL, or set DATABASE_URL to a server that runs, "
        "for example postgres://postgres@127.0.0.1:5432/meterops."
    )


if __name__ == "__main__":
    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        sys.exit("DATABASE_URL is not set; nothing to create.")
    create_database(database_url)
