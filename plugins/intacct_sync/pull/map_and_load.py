"""Map what an extract landed, stage it, and load it: the pull's map and load tasks.

map:  landed headers are read back from intacct_sync.raw_records in RECORDNO order with a
      server-side cursor, BATCH at a time with their children, mapped with pandas and staged
      in intacct_sync.staged_batches — memory does not grow with the window.
load: each staged batch is loaded in its own transaction (intacct_sync/pull/loading.py);
      once all are loaded, the run's landing and staging rows are removed.
Both are idempotent: a retried map replaces its staging, a retried load rewrites nothing
that already loaded.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import asdict
from datetime import tzinfo

import pandas as pd

from intacct_sync.mapping import Mapped, Rejected, records
from intacct_sync.pull.loading import LoadCounts, load
from intacct_sync.pull.versions import stamp
from intacct_sync.sync_objects import SyncObject

BATCH = 5_000


def _frame(payloads: list) -> pd.DataFrame:
    return pd.DataFrame.from_records(
        [p if isinstance(p, dict) else json.loads(p) for p in payloads]
    )


def _json(frame: pd.DataFrame | None) -> str | None:
    if frame is None:
        return None
    return json.dumps(records(frame), default=str)


def map_landed(
    connection, obj: SyncObject, run_id: str, batch_size: int = BATCH, *, company_tz: tzinfo
) -> dict:
    """Map every landed record of (run, object) into staged batches; returns counts.

    A record landed twice in one run (its window and a re-read by key) is mapped in the
    version read last. Each row carries its version stamps (intacct_sync/pull/versions.py),
    for which the company zone (`company_tz`, the Intacct connection's) is needed."""
    mapping = importlib.import_module(f"intacct_sync.mapping.{obj.mapping}")
    counts = {"batches": 0, "mapped": 0, "rejected": 0}
    with connection, connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM intacct_sync.staged_batches WHERE run_id = %s AND object = %s",
            (run_id, obj.name),
        )
    with connection.cursor(name=f"landed_{obj.name}", withhold=True) as headers:
        headers.itersize = batch_size
        headers.execute(
            "SELECT DISTINCT ON (recordno) recordno, payload, read_at"
            " FROM intacct_sync.raw_records WHERE run_id = %s AND object = %s"
            " ORDER BY recordno, read_at DESC NULLS LAST, landed_at DESC",
            (run_id, obj.name),
        )
        while batch := headers.fetchmany(batch_size):
            children = None
            if obj.children:
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT DISTINCT ON (recordno) payload FROM intacct_sync.raw_records"
                        " WHERE run_id = %s AND object = %s AND parent = ANY(%s)"
                        " ORDER BY recordno, read_at DESC NULLS LAST, landed_at DESC",
                        (run_id, f"{obj.name}.children", [r[0] for r in batch]),
                    )
                    children = _frame([r[0] for r in cursor.fetchall()])
            mapped = mapping.map_records(_frame([r[1] for r in batch]), children)
            mapped.rows = stamp(mapped.rows, {str(r[0]): r[2] for r in batch}, company_tz)
            with connection, connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO intacct_sync.staged_batches"
                    " (run_id, object, batch, rows, children, rejected)"
                    " VALUES (%s, %s, %s, %s, %s, %s)",
                    (
                        run_id,
                        obj.name,
                        counts["batches"],
                        _json(mapped.rows),
                        _json(mapped.children),
                        json.dumps([asdict(r) for r in mapped.rejected]),
                    ),
                )
            counts["batches"] += 1
            counts["mapped"] += len(mapped.rows)
            counts["rejected"] += len(mapped.rejected)
    return counts


def load_staged(connection, obj: SyncObject, run_id: str, hook=None) -> LoadCounts:
    """Load every staged batch of (run, object), refresh the balances of the A/R records
    they touch (`obj.balances`, through `hook`), then drop the run's landing and staging."""
    total = LoadCounts()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT batch FROM intacct_sync.staged_batches WHERE run_id = %s AND object = %s"
            " ORDER BY batch",
            (run_id, obj.name),
        )
        batches = [r[0] for r in cursor.fetchall()]
    for batch in batches:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT rows, children, rejected FROM intacct_sync.staged_batches"
                " WHERE run_id = %s AND object = %s AND batch = %s",
                (run_id, obj.name, batch),
            )
            rows, children, rejected = cursor.fetchone()
        mapped = Mapped(
            rows=pd.DataFrame.from_records(rows) if rows else pd.DataFrame(),
            children=pd.DataFrame.from_records(children) if children else None,
            rejected=[Rejected(**r) for r in rejected],
        )
        counts = load(connection, obj, mapped)
        for name, value in counts.as_dict().items():
            setattr(total, name, getattr(total, name) + value)
        total.rejected_ids += counts.rejected_ids
    if obj.balances and hook is not None:
        from intacct_sync.pull.balances import refresh, touched_keys

        refreshed = refresh(hook, connection, obj, touched_keys(connection, run_id, obj))
        total.balances_refreshed = sum(refreshed.values())
    purge(connection, run_id, obj)
    return total


def map_and_load(
    connection, obj: SyncObject, run_id: str, batch_size: int = BATCH, hook=None, *,
    company_tz: tzinfo | None = None,
) -> LoadCounts:
    """Both steps in one call (tests, benchmarks): what the map and load tasks do in turn.
    The zone is `company_tz`, else the hook's."""
    zone = company_tz or (hook.company_timezone if hook is not None else None)
    if zone is None:
        raise ValueError("map_and_load needs the company zone: pass company_tz or hook")
    map_landed(connection, obj, run_id, batch_size, company_tz=zone)
    return load_staged(connection, obj, run_id, hook)


def purge(connection, run_id: str, obj: SyncObject) -> None:
    """A run's landing and staging are no longer needed once it has loaded."""
    with connection, connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM intacct_sync.raw_records WHERE run_id = %s AND object IN (%s, %s)",
            (run_id, obj.name, f"{obj.name}.children"),
        )
        cursor.execute(
            "DELETE FROM intacct_sync.staged_batches WHERE run_id = %s AND object = %s",
            (run_id, obj.name),
        )
