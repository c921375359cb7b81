"""Where each object's pull stands, and which WHENMODIFIED window a run must read.

The rules (issue 5, design.md §2–3):
- scheduled run: its data interval, widened back to the end of the last successful sync (so
  a failed hour is picked up by the next success without anyone clearing it) and by the
  overlap (late-committing batches keep an old WHENMODIFIED);
- backfill run: exactly its data interval plus the overlap — a repair of a past window;
- manual run without parameters ("sync now"): last success → now;
- the cut-over (`sync_start`, issue 15): a scheduled or manual run never reads before it —
  older data is the initial data sync's job — and with no cursor yet it is where the sync
  starts; a window the cut-over leaves empty reads from it to now. (Without a cut-over —
  only in tests — a first run reads everything, from the beginning.)
The cursor (last_window_end) means "everything modified before it is loaded". A successful
window moves it forward only when the window connects to it (starts at or before it; with
no cursor yet only a full read sets it): runs may then finish in any order — an initial
data sync beside the hourly runs, a backfill of an old day, two hourly runs after an
outage — and the cursor never skips an unloaded hour nor moves backwards.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from psycopg2.extras import Json

from intacct_sync.sync_config import BEGINNING

DEFAULT_OVERLAP = timedelta(hours=1)


def pull_window(
    *,
    run_type: str,
    interval_start: datetime | None,
    interval_end: datetime | None,
    last_window_end: datetime | None,
    now: datetime,
    overlap: timedelta = DEFAULT_OVERLAP,
    sync_start: datetime | None = None,
) -> tuple[datetime | None, datetime]:
    """[start, end) on WHENMODIFIED as aware datetimes; start None means "from the beginning".
    An end not after the start (a cut-over still in the future) means: nothing to read."""
    if run_type == "backfill" and interval_start and interval_end:
        return interval_start - overlap, interval_end
    cursor = last_window_end or sync_start
    if run_type == "manual" or not interval_end:
        end = now
        start_from = cursor
    else:
        end = interval_end
        start_from = min(d for d in (interval_start, cursor) if d) if cursor else None
    start = start_from - overlap if start_from else None
    if sync_start is not None:
        start = max(start, sync_start) if start else sync_start
        if end <= start:  # the run's interval lies before the cut-over
            end = now
    return start, end


def cut_over(
    connection, obj: str, direction: str, configured: datetime | None = None
) -> datetime | None:
    """Where the ongoing sync of `obj` in `direction` starts: `configured` (sync_start in the
    sync configuration) when given, else the moment this was first asked (the sync's first
    run), recorded in sync_state so every later run keeps it. None: no cut-over
    (sync_start "beginning")."""
    with connection, connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO intacct_sync.sync_state AS s (object, direction, sync_start)"
            " VALUES (%(obj)s, %(direction)s, coalesce(%(configured)s, now()))"
            " ON CONFLICT (object, direction) DO UPDATE SET sync_start ="
            "  coalesce(%(configured)s, s.sync_start, EXCLUDED.sync_start)"
            " RETURNING sync_start",
            {"obj": obj, "direction": direction, "configured": configured},
        )
        moment = cursor.fetchone()[0]
    return None if moment <= BEGINNING else moment


def last_window_end(connection, obj: str) -> datetime | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT last_window_end FROM intacct_sync.sync_state"
            " WHERE object = %s AND direction = 'pull'",
            (obj,),
        )
        row = cursor.fetchone()
    return row[0] if row else None


def record_success(
    connection,
    obj: str,
    start: datetime | None,
    end: datetime,
    run_id: str,
    counts: dict[str, Any],
) -> None:
    """Record a successful window; the cursor only moves forward, and only when the window
    connects to it, or to the cut-over while there is no cursor yet (a full read, start
    None, always does)."""
    with connection, connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO intacct_sync.sync_state AS s (object, direction, last_success_at,"
            " last_window_start, last_window_end, last_run_id, last_counts)"
            " VALUES (%(obj)s, 'pull', now(), %(start)s,"
            "  CASE WHEN %(start)s IS NULL THEN %(end)s END, %(run_id)s, %(counts)s)"
            " ON CONFLICT (object, direction) DO UPDATE SET last_success_at = now(),"
            "  last_window_start = EXCLUDED.last_window_start,"
            "  last_window_end = CASE"
            "   WHEN %(start)s IS NULL OR %(start)s <= coalesce(s.last_window_end, s.sync_start)"
            "   THEN GREATEST(s.last_window_end, %(end)s) ELSE s.last_window_end END,"
            "  last_run_id = EXCLUDED.last_run_id, last_counts = EXCLUDED.last_counts,"
            "  updated_at = now()",
            {"obj": obj, "start": start, "end": end, "run_id": run_id, "counts": Json(counts)},
        )
        _log_run(cursor, obj, "pull", run_id, counts.get("inserted", 0) + counts.get("updated", 0),
                 counts)  # fmt: skip


def hours_since_success(connection, obj: str) -> float | None:
    """Hours since the object's last successful pull (None: never synced yet)."""
    with connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT extract(epoch FROM now() - last_success_at) / 3600"
            " FROM intacct_sync.sync_state WHERE object = %s AND direction = 'pull'",
            (obj,),
        )
        row = cursor.fetchone()
    return float(row[0]) if row and row[0] is not None else None


def record_push(connection, obj: str, run_id: str, counts: dict[str, Any]) -> None:
    """Record a finished push (the time of the last successful sync, per direction)."""
    with connection, connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO intacct_sync.sync_state (object, direction, last_success_at,"
            " last_run_id, last_counts) VALUES (%s, 'push', now(), %s, %s)"
            " ON CONFLICT (object, direction) DO UPDATE SET last_success_at = now(),"
            " last_run_id = EXCLUDED.last_run_id, last_counts = EXCLUDED.last_counts,"
            " updated_at = now()",
            (obj, run_id, Json(counts)),
        )
        _log_run(cursor, obj, "push", run_id, counts.get("posted", 0), counts)


def _log_run(cursor, obj: str, direction: str, run_id: str, records: int, counts: dict) -> None:
    """One row per finished run: the monitoring page's last 24 h and per-hour chart."""
    cursor.execute(
        "INSERT INTO intacct_sync.sync_runs (object, direction, run_id, records, counts)"
        " VALUES (%s, %s, %s, %s, %s)",
        (obj, direction, run_id, records, Json(counts)),
    )
