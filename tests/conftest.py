"""Fixtures shared by the whole suite: a real PostgreSQL database and a real Intacct sandbox.

`make test` (include/localenv) starts the project's PostgreSQL and exports the admin DSN;
each test session gets its own freshly created AR database, dropped afterwards.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import psycopg2
import pytest
from intacct_sync.db import schema
from intacct_sync.intacct import hook as hook_module

# The seeded sandbox company stands for a small company's whole history: tests sync it from
# the beginning (no cut-over) unless they test the cut-over itself (tests/dags/test_cut_over.py).
TEST_SYNC_CONFIG = {"sync_start": "beginning"}


def sync_config_json(**keys) -> str:
    """The tests' sync configuration with `keys` changed, as the Airflow variable's JSON."""
    return json.dumps({**TEST_SYNC_CONFIG, **keys})


@pytest.fixture(autouse=True)
def _sync_from_the_beginning(monkeypatch) -> None:
    monkeypatch.setenv("AIRFLOW_VAR_INTACCT_SYNC_CONFIG", sync_config_json())


def _admin_dsn() -> str:
    dsn = os.environ.get("INTACCT_SYNC_TEST_PG_ADMIN_DSN")
    if not dsn:
        pytest.exit(
            "INTACCT_SYNC_TEST_PG_ADMIN_DSN is not set: run the suite with `make test`, which "
            "starts the project's PostgreSQL and the Airflow test database.",
            returncode=2,
        )
    return dsn


@pytest.fixture(scope="session")
def pg_admin_dsn() -> str:
    return _admin_dsn()


@pytest.fixture(scope="session")
def ar_database_dsn(pg_admin_dsn: str) -> Iterator[str]:
    """A fresh, empty database for this test session (the AR platform's database)."""
    name = f"ar_test_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(pg_admin_dsn)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield pg_admin_dsn.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def sandbox_server(request):
    """A real Intacct sandbox over HTTP on a free port (small seeded company).

    `@pytest.mark.sandbox(option=value, ...)` passes options (faults, lags, scale) to it.
    """
    from include.intacct_sandbox import SandboxServer

    marker = request.node.get_closest_marker("sandbox")
    options = {"seed": 1, "scale": "small", **(marker.kwargs if marker else {})}
    with SandboxServer(port=0, **options) as server:
        yield server


@pytest.fixture
def ar_connection(ar_database_dsn, monkeypatch):
    """A psycopg2 connection to the migrated test database, also exposed as `ar_postgres`."""
    parts = urlsplit(ar_database_dsn)
    monkeypatch.setenv(
        "AIRFLOW_CONN_AR_POSTGRES",
        json.dumps(
            {
                "conn_type": "postgres",
                "host": parts.hostname,
                "port": parts.port,
                "login": parts.username,
                "password": parts.password,
                "schema": parts.path[1:],
            }
        ),
    )
    connection = psycopg2.connect(ar_database_dsn)
    schema.migrate(connection)
    with connection, connection.cursor() as cursor:
        cursor.execute("TRUNCATE intacct_sync.raw_records")
    yield connection
    connection.close()


@pytest.fixture
def intacct_connection(sandbox_server, monkeypatch):
    """`intacct_default` pointing at the sandbox with its documented credentials."""
    creds = sandbox_server.credentials
    monkeypatch.setenv(
        "AIRFLOW_CONN_INTACCT_DEFAULT",
        json.dumps(
            {
                "conn_type": "intacct",
                "host": creds["url"],
                "login": creds["sender_id"],
                "password": creds["sender_password"],
                "extra": {
                    "company_id": creds["company_id"],
                    "user_id": creds["user_id"],
                    "user_password": creds["user_password"],
                    "company_timezone": "America/Los_Angeles",
                },
            }
        ),
    )
    hook_module.reset_sessions()
    yield sandbox_server
    hook_module.reset_sessions()


@pytest.fixture
def clean_ar(ar_connection):
    """The migrated test database with every AR and bookkeeping table emptied."""
    with ar_connection, ar_connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE ar.customers, ar.invoices, ar.invoice_lines, ar.credit_notes,"
            " ar.credit_note_lines, ar.payments, ar.payment_applications, ar.convenience_fees,"
            " intacct_sync.sync_state, intacct_sync.reconciliation_errors,"
            " intacct_sync.skipped_records, intacct_sync.history_chunks, intacct_sync.pushes,"
            " intacct_sync.sync_runs, intacct_sync.tieouts CASCADE"
        )
    return ar_connection
