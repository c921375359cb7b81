"""Balances: the A/R record is the truth for what an invoice or credit note has paid and owes.

A payment made in Intacct changes the A/R invoice (ARINVOICE) or adjustment (ARADJUSTMENT)
it is applied to, not the Order Entry document that generated it, so the document's
TRX_TOTALPAID / TRX_TOTALDUE go stale. Every run that loads payments therefore re-reads the
A/R records its applications touch (and a document run re-reads its documents' own A/R
records), by RECORDNO, 500 keys per readByQuery, paged like any
read) and writes their paid and due onto the local rows linked through `ar_recordno`.
Which A/R object feeds which table is in the registry (`SyncObject.balances`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal

from intacct_sync.sync_objects import OBJECTS, SyncObject

KEYS_PER_READ = 500


def touched_keys(connection, run_id: str, obj: SyncObject) -> dict[str, set[str]]:
    """Per A/R object, the keys the run's staged rows point at: payment applications'
    targets, and documents' own A/R record (ar_recordno), so a document read directly
    carries its A/R balance too."""
    keys: dict[str, set[str]] = {b.intacct_object: set() for b in obj.balances}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rows, children FROM intacct_sync.staged_batches"
            " WHERE run_id = %s AND object = %s",
            (run_id, obj.name),
        )
        for staged in cursor.fetchall():
            rows = [
                row
                for part in staged
                for row in (part if isinstance(part, list) else json.loads(part or "[]"))
            ]
            for row in rows:
                for balance in obj.balances:
                    value = row.get(balance.key_column)
                    if value not in (None, "", "nan"):
                        keys[balance.intacct_object].add(str(int(float(value))))
    return keys


def refresh(hook, connection, obj: SyncObject, keys: dict[str, Iterable[str]]) -> dict[str, int]:
    """Read the touched A/R records and update the local paid / due; returns rows updated."""
    from intacct_sync.intacct.xml_request import in_

    updated: dict[str, int] = {}
    for balance in obj.balances:
        wanted = sorted(keys.get(balance.intacct_object, ()), key=int)
        updated[balance.table] = 0
        if not wanted:
            continue
        stream = hook.read_by_queries(
            balance.intacct_object,
            ["RECORDNO", "TRX_TOTALPAID", "TRX_TOTALDUE"],
            (
                in_("RECORDNO", wanted[first : first + KEYS_PER_READ])
                for first in range(0, len(wanted), KEYS_PER_READ)
            ),
        )
        values = [
            (
                str(r["RECORDNO"]),
                str(balance.sign * Decimal(str(r.get("TRX_TOTALPAID") or 0))),
                str(balance.sign * Decimal(str(r.get("TRX_TOTALDUE") or 0))),
            )
            for r in stream
        ]
        if not values:
            continue
        with connection, connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {OBJECTS[balance.table].table} t SET total_paid = v.paid::numeric,"
                " total_due = v.due::numeric, updated_at = now()"
                " FROM unnest(%s::text[], %s::text[], %s::text[]) AS v(key, paid, due)"
                " WHERE t.ar_recordno = v.key::bigint AND t.origin = 'intacct'"
                " AND (t.total_paid, t.total_due) IS DISTINCT FROM"
                " (v.paid::numeric, v.due::numeric)",
                ([v[0] for v in values], [v[1] for v in values], [v[2] for v in values]),
            )
            updated[balance.table] = cursor.rowcount
    return updated
