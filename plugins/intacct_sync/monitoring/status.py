"""What the "Intacct Sync" page shows, read from the sync's own bookkeeping in Postgres:
status per object and direction with its stored tie-out, records per hour, and one page of
reconciliation errors (filtered, sorted, counted in SQL, so 10,000 errors stay one fast page;
retry / ignore are intacct_sync/db/reconciliation.py's).

Plain functions over a psycopg2 connection returning JSON-ready data, so the page, its API
and the tests read the same figures.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg2.extras

from intacct_sync.sync_objects import OBJECTS

ACTIVE_ERRORS = ("open", "retrying")
ERROR_STATES = ("open", "retrying", "ignored", "resolved")
# What the errors table can be sorted by: the API's name → the column (never user text in SQL).
ERROR_SORTS = {"last_seen": "last_seen_at", "first_seen": "first_seen_at", "id": "id",
               "object": "object", "record": "record_id", "attempts": "attempts",
               "state": "state"}  # fmt: skip


def _rows(connection, sql: str, params: Any = ()) -> list[dict[str, Any]]:
    with connection, connection.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cursor:
        cursor.execute(sql, params)
        return [dict(r) for r in cursor.fetchall()]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def status(connection, now: datetime) -> list[dict[str, Any]]:
    """One entry per object and direction it syncs in."""
    state = {(r["object"], r["direction"]): r for r in _rows(
        connection, "SELECT * FROM intacct_sync.sync_state")}  # fmt: skip
    day = {(r["object"], r["direction"]): r["records"] for r in _rows(
        connection,
        "SELECT object, direction, sum(records)::int AS records FROM intacct_sync.sync_runs"
        " WHERE finished_at > %s - interval '24 hours' GROUP BY 1, 2", (now,))}  # fmt: skip
    errors = {(r["object"], r["direction"]): r["n"] for r in _rows(
        connection,
        "SELECT object, direction, count(*)::int AS n FROM intacct_sync.reconciliation_errors"
        " WHERE state = ANY(%s) GROUP BY 1, 2", (list(ACTIVE_ERRORS),))}  # fmt: skip
    tieouts = {r["object"]: r for r in _rows(connection, "SELECT * FROM intacct_sync.tieouts")}
    out = []
    for obj in OBJECTS.values():
        for direction in [d for d, on in (("pull", obj.pulled), ("push", obj.push)) if on]:
            row = state.get((obj.name, direction), {})
            counts = row.get("last_counts") or {}
            last = row.get("last_success_at")
            tie = tieouts.get(obj.name) if direction == "pull" else None
            out.append({
                "object": obj.name,
                "direction": direction,
                "dag_id": obj.dag_id,
                "last_success_at": _iso(last),
                "window_start": _iso(row.get("last_window_start")),
                "window_end": _iso(row.get("last_window_end")),
                "lag_seconds": round((now - last).total_seconds()) if last else None,
                "last_run_id": row.get("last_run_id"),
                "records_last_run": _records(direction, counts),
                "last_counts": counts,
                "records_24h": day.get((obj.name, direction), 0),
                "open_errors": errors.get((obj.name, direction), 0),
                "tieout": _tieout(tie) if tie else None,
            })  # fmt: skip
    return out


def _tieout(tie: dict[str, Any]) -> dict[str, Any]:
    """The stored tie-out as the page shows it (monitoring/tieout.py `compute` wrote it)."""
    return {"computed_at": _iso(tie["computed_at"]), "run_id": tie["run_id"],
            "invoice_source": tie["invoice_source"], "entities": tie["entities"],
            "ok": all(e["ok"] for e in tie["entities"])}  # fmt: skip


def _records(direction: str, counts: dict[str, Any]) -> int:
    if direction == "push":
        return int(counts.get("posted", 0))
    return int(counts.get("inserted", 0)) + int(counts.get("updated", 0))


def per_hour(connection, now: datetime, hours: int = 72) -> list[dict[str, Any]]:
    """Records synced per hour (both directions), oldest first, for the chart."""
    return [
        {"hour": _iso(r["hour"]), "pull": r["pull"], "push": r["push"]}
        for r in _rows(
            connection,
            "SELECT h AS hour,"
            " coalesce(sum(r.records) FILTER (WHERE r.direction = 'pull'), 0)::int AS pull,"
            " coalesce(sum(r.records) FILTER (WHERE r.direction = 'push'), 0)::int AS push"
            " FROM generate_series(date_trunc('hour', %s::timestamptz) - %s * interval '1 hour',"
            "  date_trunc('hour', %s::timestamptz), interval '1 hour') h"
            " LEFT JOIN intacct_sync.sync_runs r ON date_trunc('hour', r.finished_at) = h"
            " GROUP BY h ORDER BY h",
            (now, hours - 1, now),
        )
    ]


def error_page(
    connection,
    *,
    object_name: str | None = None,
    direction: str | None = None,
    states: tuple[str, ...] = ACTIVE_ERRORS,
    errorno: str | None = None,
    search: str | None = None,
    sort: str = "last_seen",
    descending: bool = True,
    limit: int = 50,
    offset: int = 0,
) -> dict[str, Any]:
    """One page of errors, the number matching, and the number per state (same filters but
    the state), for the page's table, its pager and its state filter."""
    where = ("(%(object)s::text IS NULL OR object = %(object)s)"
             " AND (%(direction)s::text IS NULL OR direction = %(direction)s)"
             " AND (%(errorno)s::text IS NULL OR %(errorno)s = ANY(error_numbers))"
             " AND (%(search)s::text IS NULL OR record_id ILIKE %(like)s OR message ILIKE %(like)s"
             "      OR hint ILIKE %(like)s)")  # fmt: skip
    params = {"object": object_name, "direction": direction, "errorno": errorno,
              "search": search, "like": f"%{search}%" if search else None,
              "states": list(states), "limit": limit, "offset": offset}  # fmt: skip
    order = f"{ERROR_SORTS[sort]} {'DESC' if descending else 'ASC'}"
    # The per-state counts (same filters but the state) also give the total: the page query
    # itself then reads only its page (an index on the default order), not every match.
    by_state = {r["state"]: r["n"] for r in _rows(
        connection,
        f"SELECT state, count(*)::int AS n FROM intacct_sync.reconciliation_errors WHERE {where}"
        " GROUP BY state", params)}  # fmt: skip
    total = sum(by_state.get(s, 0) for s in set(states))
    rows = _rows(
        connection,
        "SELECT id, object, direction, record_id, error_numbers, message, hint, attempts, state,"
        " first_seen_at, last_seen_at"
        f" FROM intacct_sync.reconciliation_errors WHERE state = ANY(%(states)s) AND {where}"
        f" ORDER BY {order}, id DESC LIMIT %(limit)s OFFSET %(offset)s",
        params,
    ) if total > offset else []  # fmt: skip
    for r in rows:
        r["first_seen_at"], r["last_seen_at"] = _iso(r["first_seen_at"]), _iso(r["last_seen_at"])
    return {"errors": rows, "count": len(rows), "total": total, "offset": offset,
            "limit": limit, "by_state": {s: by_state.get(s, 0) for s in ERROR_STATES}}  # fmt: skip
