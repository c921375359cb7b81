"""Open a psycopg2 connection to the AR database from its Airflow connection.

apache-airflow-providers-postgres switches to psycopg 3 whenever that is installed (Airflow
pulls it in); the project's loading code is written for psycopg2 (COPY via copy_expert,
execute_values), so it opens psycopg2 connections itself from the same Airflow connection.
"""

from __future__ import annotations

import psycopg2


def connection_kwargs(conn) -> dict:
    """psycopg2.connect arguments for an Airflow connection (also used by the LISTEN trigger)."""
    return {
        "host": conn.host or "127.0.0.1",
        "port": conn.port or 5432,
        "user": conn.login,
        "password": conn.password,
        "dbname": conn.schema or "postgres",
        "application_name": "intacct-sync",
        **{k: v for k, v in conn.extra_dejson.items() if k in ("sslmode", "connect_timeout")},
    }


def connect(postgres_conn_id: str = "ar_postgres"):
    """A new psycopg2 connection; the caller closes it (contextlib.closing)."""
    from airflow.sdk import BaseHook

    return psycopg2.connect(**connection_kwargs(BaseHook.get_connection(postgres_conn_id)))
