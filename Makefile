# intacct-sync: the two commands are `make run` (set up and sync against the sandbox) and
# `make test` (the whole suite against real services). See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
LOCALENV := $(PY) -m include.localenv

.PHONY: help venv setup run up down test lint airflow psql bench chaos constraints clean-local history errors ui-bundle test-celery

help:
	@echo "make run    set up everything (venv, PostgreSQL, Airflow) and run a full sync against the sandbox"
	@echo "make test   run the test suite against real PostgreSQL and the sandbox"
	@echo "make up     long-running Airflow UI on http://localhost:8080 (+ sandbox); make down stops it"
	@echo "make lint   ruff"
	@echo "make psql   psql into the AR database"
	@echo "make history DAG=intacct_invoices FROM=2019-01-01 TO=2023-12-31 [ARGS=\"--open-items-only\"]"
	@echo "            queue an initial data sync on the running Airflow (make up), one run per year"
	@echo "make errors [ARGS=\"retry 42\" | ARGS=\"ignore 42\"]  list, retry or ignore reconciliation errors"
	@echo "make bench  every benchmark in one go (≈ 20 min) → bench/REPORT.md + bench/report.png [ARGS=--quick]"
	@echo "make chaos  the fault-injection suite alone (also part of make test)"
	@echo "make test-celery  the DAGs on the CeleryExecutor: Redis + two Celery workers (also part of make test)"

$(PY):
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found; set PYTHON=...)"; exit 2; }
	$(PYTHON) -m venv $(VENV)

# Reinstall only when a pin changes; the project itself is installed (editable, no deps) so
# Airflow discovers the `intacct` connection type through its provider entry point.
$(STAMP): $(PY) requirements.txt requirements-dev.txt constraints.txt pyproject.toml
	$(PY) -m pip install -q --upgrade "pip==26.3"
	$(PY) -m pip install -q -c constraints.txt -r requirements.txt -r requirements-dev.txt
	$(PY) -m pip install -q --no-deps -e .
	$(PY) -m pip check
	touch $(STAMP)

venv: $(STAMP)

setup: venv
	$(LOCALENV) setup

run: venv
	$(LOCALENV) run

up: venv
	$(LOCALENV) up

down:
	@if [ -x $(PY) ]; then $(LOCALENV) down; else echo "down: nothing to stop"; fi

test: venv
	$(LOCALENV) test $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .

# Any Airflow CLI command against the local instance: make airflow ARGS="dags list".
airflow: venv
	$(LOCALENV) airflow $(ARGS)

psql: venv
	$(LOCALENV) psql

# Queue years of history as runs of at most a year each (plugins/intacct_sync/history/queue.py; --help).
# ARGS passes anything else: --open-items-only, --no-payments, --all-customers, --dry-run,
# --api URL, --user, --password.
history: venv
	@if [ -z "$(DAG)" ]; then \
	  echo "usage: make history DAG=intacct_invoices FROM=YYYY-MM-DD TO=YYYY-MM-DD [ARGS=...]"; exit 2; fi
	$(PY) -m intacct_sync.history.queue --dag "$(DAG)" $(if $(FROM),--from "$(FROM)") $(if $(TO),--to "$(TO)") $(ARGS)

# Every benchmark, then bench/REPORT.md and bench/report.png (bench/report.py; ARGS=--quick).
bench: venv
	$(PY) bench/report.py $(ARGS)

# The fault-injection suite alone (pytest -m chaos); make test runs it with everything else.
chaos: venv
	$(LOCALENV) test -m chaos $(PYTEST_ARGS)

# The CeleryExecutor run alone (pytest -m celery: a private Redis, two Celery workers; README
# "Running on Celery / Kubernetes"); make test runs it with everything else.
test-celery: venv
	$(LOCALENV) test -m celery tests/celery $(PYTEST_ARGS)

# Reconciliation errors: list (default), retry IDS, ignore IDS (plugins/intacct_sync/db/reconciliation.py).
errors: venv
	$(LOCALENV) errors $(ARGS)

# Rebuild the Intacct Sync page's committed bundle from its source (needs Node >= 20.19, npm).
ui-bundle:
	cd plugins/intacct_sync/ui/web && npm ci --no-audit --no-fund && npm run build

constraints: $(PY)
	$(PY) -m pip install -q -r requirements.txt -r requirements-dev.txt
	$(PY) -m pip check
	{ echo "# Frozen, pip-check-clean closure of requirements.txt + requirements-dev.txt (Python 3.11)."; \
	  echo "# Regenerate: make constraints  (after changing a pin; commit both files)."; \
	  $(PY) -m pip freeze --exclude-editable | grep -v '^intacct-sync'; } > constraints.txt
