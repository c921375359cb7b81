"""Apply the ordered SQL migrations in intacct_sync/db/migrations exactly once per database.

Used by `make run`, by the tests and by a task at the start of every sync DAG, so it must be
idempotent and safe when several tasks start at once (an advisory lock serialises them).
A migration file that changed after it was applied is refused: fix forward with a new file.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_LOCK_KEY = 7_420_113  # arbitrary, constant: "intacct-sync migrations"


class MigrationError(RuntimeError):
    """A migration cannot be applied or was edited after being applied."""


def _files() -> list[tuple[str, str, str]]:
    found = []
    for path in sorted(MIGRATIONS.glob("*.sql")):
        sql = path.read_text()
        found.append((path.stem, sql, hashlib.sha256(sql.encode()).hexdigest()))
    return found


def migrate(connection) -> list[str]:
    """Apply pending migrations on a psycopg2 connection; returns the versions applied."""
    applied_now: list[str] = []
    with connection, connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        cursor.execute(
            "CREATE SCHEMA IF NOT EXISTS intacct_sync;"
            "CREATE TABLE IF NOT EXISTS intacct_sync.schema_migrations ("
            " version text PRIMARY KEY, checksum text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        cursor.execute("SELECT version, checksum FROM intacct_sync.schema_migrations")
        done = dict(cursor.fetchall())
        for version, sql, checksum in _files():
            if version in done:
                if done[version] != checksum:
                    raise MigrationError(
                        f"migration {version}.sql changed after it was applied; "
                        "add a new migration instead of editing an applied one"
                    )
                continue
            try:
                cursor.execute(sql)
            except Exception as error:
                raise MigrationError(f"migration {version}.sql failed: {error}") from error
            cursor.execute(
                "INSERT INTO intacct_sync.schema_migrations (version, checksum) VALUES (%s, %s)",
                (version, checksum),
            )
            applied_now.append(version)
    return applied_now
