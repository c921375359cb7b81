"""Operators run against the sandbox over HTTP and a real, migrated AR database."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from urllib.parse import urlsplit

import psycopg2
import pytest
from intacct_sync.hooks import intacct as hook_module

from include import schema


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


def sandbox_get(server, path: str, **params) -> dict:
    url = f"{server.base_url}/_sandbox/{path}?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - loopback
        return json.load(response)
