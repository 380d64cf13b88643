# MeterOps: `make demo` runs the whole office on this machine, `make test`
# runs the checks and the test suite against PostgreSQL. `make help` lists all.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Touched after a successful install, so pip runs again only when
# requirements.txt is newer than the last install.
REQUIREMENTS_STAMP := $(VENV)/.requirements-installed

.DEFAULT_GOAL := help
.PHONY: help demo test venv messages clean distclean

help:
	@echo "make demo       install what is missing, load the demo data and run the"
	@echo "                office at http://127.0.0.1:8000/ (Ctrl-C stops it)"
	@echo "make test       ruff, Django's checks and pytest against PostgreSQL"
	@echo "                (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/meterops)"
	@echo "make clean      delete the demo database, logs, broker queue and caches"
	@echo "make distclean  clean, and delete the virtualenv $(VENV) too"

venv: $(REQUIREMENTS_STAMP)

$(REQUIREMENTS_STAMP): requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

# Compile the translation catalogs, when there are any. compilemessages
# skips catalogs whose .mo file is newer than the .po file.
messages: venv
	@if find locale -name '*.po' -print -quit 2>/dev/null | grep -q .; then \
		DEBUG=true $(BIN)/python manage.py compilemessages --ignore=$(VENV) -v 0; \
	fi

demo:
	@bash scripts/system-packages.sh demo
	@$(MAKE) --no-print-directory messages
	@bash scripts/demo.sh

test: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/meterops
test: export CELERY_BROKER_URL ?= redis://127.0.0.1:6379/0
test: export DEBUG := true
test:
	@bash scripts/system-packages.sh test
	@$(MAKE) --no-print-directory messages
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python scripts/create_database.py
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python manage.py check
	$(BIN)/pytest

clean:
	rm -rf var meterops.sqlite3 meterops.sqlite3-journal staticfiles \
		.pytest_cache .ruff_cache test-results
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune \
		-exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
