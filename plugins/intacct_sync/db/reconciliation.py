"""Reconciliation errors, for people: list them, retry a record after fixing it, or ignore it.

`make errors` (or `python -m intacct_sync.db.reconciliation`) runs this against the local AR
database; give `--dsn` for another one. The same operations are SQL functions in the database
(`SELECT intacct_sync.retry_error(42)`, `intacct_sync.ignore_error(42)`), which is what this
calls: retry marks the error `retrying` and wakes the object's push (NOTIFY) — a pull error's
record is read again by RECORDNO in the object's next pull run (intacct_sync/pull/healing.py)
and the error resolves when it loads —, ignore keeps the record out of every push until someone
retries it.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import closing
from typing import Any

import psycopg2
import psycopg2.extras

from intacct_sync.db import ar_database
from intacct_sync.push.links import UNKNOWN

# What `make errors` and list_errors show unless asked otherwise: everything still needing a look.
SHOWN_STATES: tuple[str, ...] = ("open", "retrying", UNKNOWN)

STATES = ("open", "retrying", UNKNOWN, "ignored", "resolved")


def list_errors(
    connection,
    *,
    object_name: str | None = None,
    states: tuple[str, ...] = SHOWN_STATES,
    errorno: str | None = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    """Errors newest first, filtered by object, states and one error number (CLI and page)."""
    with connection, connection.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cursor:
        cursor.execute(
            "SELECT id, object, direction, record_id, error_numbers, message, hint, attempts,"
            " state, first_seen_at, last_seen_at FROM intacct_sync.reconciliation_errors"
            " WHERE state = ANY(%s) AND (%s::text IS NULL OR object = %s)"
            " AND (%s::text IS NULL OR %s = ANY(error_numbers))"
            " ORDER BY last_seen_at DESC, id LIMIT %s",
            (list(states), object_name, object_name, errorno, errorno, limit),
        )
        return [dict(r) for r in cursor.fetchall()]


def retry(connection, error_id: int) -> str:
    """Put the record back in its object's queue; returns the object."""
    return _call(connection, "retry_error", error_id)


def ignore(connection, error_id: int) -> str:
    return _call(connection, "ignore_error", error_id)


def _call(connection, function: str, error_id: int) -> str:
    with connection, connection.cursor() as cursor:
        cursor.execute(f"SELECT intacct_sync.{function}(%s)", (error_id,))
        return cursor.fetchone()[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make errors ARGS=...", description=__doc__)
    parser.add_argument("--dsn", help="the AR database (default: the Airflow connection "
                        "ar_postgres; `make errors` gives the local one)")
    sub = parser.add_subparsers(dest="command")
    shown = sub.add_parser("list", help="open and retrying errors (default)")
    shown.add_argument("--object")
    shown.add_argument("--state", action="append", choices=STATES)
    for name in ("retry", "ignore"):
        sub.add_parser(name, help=f"{name} errors by id").add_argument("ids", nargs="+", type=int)
    args = parser.parse_args(argv)
    try:
        connection = psycopg2.connect(args.dsn) if args.dsn else ar_database.connect()
    except psycopg2.OperationalError as error:
        print(f"errors: cannot reach the AR database ({error}); start it with `make up` or "
              "give --dsn", file=sys.stderr)  # fmt: skip
        return 1
    with closing(connection):
        if args.command in ("retry", "ignore"):
            act = retry if args.command == "retry" else ignore
            for error_id in args.ids:
                try:
                    print(f"{args.command}: error {error_id} ({act(connection, error_id)})")
                except psycopg2.Error as error:
                    print(f"{args.command}: {error.diag.message_primary}", file=sys.stderr)
                    return 1
            return 0
        rows = list_errors(
            connection,
            object_name=getattr(args, "object", None),
            states=tuple(getattr(args, "state", None) or SHOWN_STATES),
        )
        for r in rows:
            print(f"#{r['id']} {r['state']} {r['object']}/{r['direction']} record {r['record_id']}"
                  f" ({r['attempts']} attempts, last {r['last_seen_at']:%Y-%m-%d %H:%M})\n"
                  f"    {', '.join(r['error_numbers']) or '-'}: {r['message']}\n"
                  f"    fix: {r['hint']}")  # fmt: skip
        print(f"{len(rows)} error(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
