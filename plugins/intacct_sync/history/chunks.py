"""Initial data sync inside one run: plan month chunks, extract and load each with a checkpoint.

A chunk is one object over one calendar month of transaction dates (design.md: history by
transaction date). Its state lives in intacct_sync.history_chunks: `extracting` → `landed`
(records in the landing table) → `done` (loaded). A retried or cleared run asks the table,
so finished chunks are skipped and landed ones are loaded without reading Intacct again.
Each chunk lands under its own landing id, so chunks of one run can run in parallel.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from psycopg2.extras import Json

from intacct_sync.history.ranges import HistoryRequest, month_chunks
from intacct_sync.sync_objects import BILL_TO_CONTACT, OBJECTS, SyncObject, sourced

PAYMENTS = "payments"
_LOAD_COUNTS = ("inserted", "updated", "unchanged", "skipped", "rejected")


def plan_chunks(
    obj: SyncObject, request: HistoryRequest, customer_source: str = "customer"
) -> list[dict[str, Any]]:
    """The run's chunks as plain data (they are the mapped tasks' arguments); a customers
    chunk keeps the run's `customer_source` (what it reads: `chunk_object`)."""
    if obj.name == "customers":
        obj = sourced(obj.name, customer_source=customer_source)[0]
    if request.start is None or request.end is None:
        return [_chunk(obj, None, None, open_items_only=False)]
    objects = [obj]
    if request.options.get("include_payments") and obj.name != PAYMENTS:
        objects.append(OBJECTS[PAYMENTS])
    open_items = bool(request.options.get("open_items_only"))
    return [
        _chunk(o, start, end, open_items_only=open_items and o is obj)
        for o in objects
        for start, end in month_chunks(request.start, request.end)
    ]


def _chunk(
    obj: SyncObject, start: date | None, end: date | None, *, open_items_only: bool
) -> dict[str, Any]:
    span = f"{start}..{end}" if start else "all"
    return {
        "object": obj.name,
        "label": f"{obj.name} {span}" + (" open items" if open_items_only else ""),
        "start": start.isoformat() if start else None,
        "end": end.isoformat() if end else None,
        "open_items_only": open_items_only,
        **({"customer_source": "bill_to_contact"} if obj.source == BILL_TO_CONTACT else {}),
    }


def chunk_object(chunk: dict[str, Any]) -> SyncObject:
    """The registry entry a chunk reads and loads."""
    return sourced(chunk["object"], customer_source=chunk.get("customer_source", "customer"))[0]


def chunk_filter(obj: SyncObject, chunk: dict[str, Any]):
    """The readByQuery filter of a chunk: transaction date in [start, end], by whole days.

    `< end + 1 day` rather than `<= end` so timestamp fields (CUSTOMER.WHENCREATED) keep
    the records of the last day.
    """
    from intacct_sync.intacct.xml_request import And, ge, gt, lt

    if chunk["start"] is None:
        return ""
    start, end = date.fromisoformat(chunk["start"]), date.fromisoformat(chunk["end"])
    conditions = [ge(obj.history_field, start), lt(obj.history_field, end + timedelta(days=1))]
    if chunk["open_items_only"]:
        if not obj.balance_field:
            raise ValueError(f"{obj.name} has no balance: open_items_only does not apply")
        conditions.append(gt(obj.balance_field, 0))
    return And(*conditions)


def landing_id(run_key: str, chunk: dict[str, Any]) -> str:
    """Each chunk lands and stages under its own id, so parallel chunks never mix."""
    return f"{run_key}#{chunk['label']}"


def _state(connection, run_key: str, label: str) -> tuple[str, dict, dict] | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT state, extracted, loaded FROM intacct_sync.history_chunks"
            " WHERE run_key = %s AND label = %s",
            (run_key, label),
        )
        return cursor.fetchone()


def _set(
    connection,
    run_key: str,
    chunk: dict[str, Any],
    state: str,
    extracted: dict | None = None,
    loaded: dict | None = None,
) -> None:
    """Record a chunk's state; a new extract attempt counts, finished chunks get a time."""
    with connection, connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO intacct_sync.history_chunks AS h (run_key, label, object, range_start,"
            " range_end, options, state, attempts, extracted, loaded)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, 1, %s, %s)"
            " ON CONFLICT (run_key, label) DO UPDATE SET state = EXCLUDED.state,"
            "  attempts = h.attempts + (EXCLUDED.state = 'extracting')::int,"
            "  extracted = coalesce(EXCLUDED.extracted, h.extracted),"
            "  loaded = coalesce(EXCLUDED.loaded, h.loaded),"
            "  finished_at = CASE WHEN EXCLUDED.state = 'done' THEN now() END",
            (
                run_key,
                chunk["label"],
                chunk["object"],
                chunk["start"],
                chunk["end"],
                Json({"open_items_only": chunk["open_items_only"]}),
                state,
                Json(extracted) if extracted is not None else None,
                Json(loaded) if loaded is not None else None,
            ),
        )


def extract_chunk(
    hook, connection, run_key: str, chunk: dict[str, Any], log: logging.Logger
) -> dict[str, Any]:
    """Land one chunk's records (and children) unless an earlier attempt already did."""
    from intacct_sync.pull.extract import land_query

    found = _state(connection, run_key, chunk["label"])
    if found and found[0] in ("landed", "done"):
        log.info("%s: already %s by an earlier attempt, not read again", chunk["label"], found[0])
        return {**(found[1] or {}), "resumed": True}
    obj = chunk_object(chunk)
    _set(connection, run_key, chunk, "extracting")
    summary = land_query(
        hook,
        connection,
        object_name=obj.name,
        intacct_object=obj.intacct_object,
        fields=obj.fields,
        query=chunk_filter(obj, chunk),
        docparid=obj.docparid,
        children=obj.children.spec() if obj.children else None,
        landing_run_id=landing_id(run_key, chunk),
        chunk=chunk["label"],
        log=log,
    )
    _set(connection, run_key, chunk, "landed", extracted=summary)
    return summary


def load_chunk(
    connection, run_key: str, chunk: dict[str, Any], log: logging.Logger, *, hook
) -> dict[str, Any]:
    """Map and load one landed chunk, then mark it done (a done chunk is not loaded twice).
    `hook` gives the company zone and re-reads the A/R balances the chunk touches: history
    documents and payments carry today's paid and due like the hourly runs' do."""
    from intacct_sync.pull.map_and_load import load_staged, map_landed

    found = _state(connection, run_key, chunk["label"])
    if found and found[0] == "done":
        log.info("%s: already loaded by an earlier attempt", chunk["label"])
        return {**(found[2] or {}), "resumed": True}
    if not found or found[0] != "landed":
        raise RuntimeError(
            f"{chunk['label']}: nothing landed for this chunk in run {run_key}; clear its "
            "extract task so it is read again"
        )
    obj = chunk_object(chunk)
    landing = landing_id(run_key, chunk)
    map_landed(connection, obj, landing, company_tz=hook.company_timezone)
    loaded = load_staged(connection, obj, landing, hook).as_dict()
    _set(connection, run_key, chunk, "done", loaded=loaded)
    log.info("%s: loaded %s", chunk["label"], loaded)
    return loaded


def run_summary(connection, run_key: str) -> dict[str, Any]:
    """Totals per object over the run's chunks; landing and staging left behind by a chunk
    that died between loading and being marked done are removed."""
    with connection, connection.cursor() as cursor:
        pattern = run_key.replace("%", r"\%").replace("_", r"\_") + "#%"
        for table in ("raw_records", "staged_batches"):  # ours: names, not input
            cursor.execute(f"DELETE FROM intacct_sync.{table} WHERE run_id LIKE %s", (pattern,))
        cursor.execute(
            "SELECT object, count(*), count(*) FILTER (WHERE state = 'done'), sum(attempts),"
            " coalesce(sum((extracted->>'records')::int), 0), "
            + ", ".join(f"coalesce(sum((loaded->>'{c}')::int), 0)" for c in _LOAD_COUNTS)
            + " FROM intacct_sync.history_chunks WHERE run_key = %s GROUP BY object ORDER BY 1",
            (run_key,),
        )
        columns = ("chunks", "done", "attempts", "extracted", *_LOAD_COUNTS)
        return {
            row[0]: dict(zip(columns, map(int, row[1:]), strict=True)) for row in cursor.fetchall()
        }
