"""Fixtures shared by the whole suite: a real PostgreSQL database and a real Intacct sandbox.

`make test` (include/localenv) starts the project's PostgreSQL and exports the admin DSN;
each test session gets its own freshly created AR database, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg2
import pytest


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
def sandbox_server():
    """A real Intacct sandbox over HTTP on a free port (small seeded company)."""
    from include.intacct_sandbox import SandboxServer

    with SandboxServer(seed=1, scale="small", port=0) as server:
        yield server
