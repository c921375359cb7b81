"""Map and load what an extract landed, batch by batch, then forget the landing.

Headers are read back from intacct_sync.raw_records in RECORDNO order with a server-side
cursor, BATCH at a time, each batch with its children; memory does not grow with the window.
"""

from __future__ import annotations

import importlib
import json

import pandas as pd

from include.loading import LoadCounts, load
from include.sync_objects import SyncObject

BATCH = 5_000


def _frame(payloads: list) -> pd.DataFrame:
    return pd.DataFrame.from_records(
        [p if isinstance(p, dict) else json.loads(p) for p in payloads]
    )


def map_and_load(connection, obj: SyncObject, run_id: str, batch_size: int = BATCH) -> LoadCounts:
    """Map every landed record of (run, object) and load it; returns the summed counts."""
    mapping = importlib.import_module(f"include.mapping.{obj.mapping}")
    total = LoadCounts()
    with connection.cursor(name=f"landed_{obj.name}", withhold=True) as headers:
        headers.itersize = batch_size
        headers.execute(
            "SELECT DISTINCT ON (recordno) recordno, payload FROM intacct_sync.raw_records"
            " WHERE run_id = %s AND object = %s ORDER BY recordno, landed_at DESC",
            (run_id, obj.name),
        )
        while batch := headers.fetchmany(batch_size):
            children = None
            if obj.children:
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT DISTINCT ON (recordno) payload FROM intacct_sync.raw_records"
                        " WHERE run_id = %s AND object = %s AND parent = ANY(%s)"
                        " ORDER BY recordno, landed_at DESC",
                        (run_id, f"{obj.name}.children", [r[0] for r in batch]),
                    )
                    children = _frame([r[0] for r in cursor.fetchall()])
            mapped = mapping.map_records(_frame([r[1] for r in batch]), children)
            counts = load(connection, obj, mapped)
            for name, value in counts.as_dict().items():
                setattr(total, name, getattr(total, name) + value)
            total.rejected_ids += counts.rejected_ids
    return total


def purge_landing(connection, run_id: str, obj: SyncObject) -> None:
    """The landing is per run; once loaded it is no longer needed."""
    with connection, connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM intacct_sync.raw_records WHERE run_id = %s AND object IN (%s, %s)",
            (run_id, obj.name, f"{obj.name}.children"),
        )
