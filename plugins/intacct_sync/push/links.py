"""Link before write: what a push is about to create in Intacct, known before it goes out.

`intacct_sync.pushes` holds only writes Intacct confirmed. Between the write and its
confirmation (a lost answer, a 524, a crash) Intacct may have the record while the platform
does not know it. So every create of an invoice, credit note, payment or convenience fee is
first written to `intacct_sync.push_links` and committed (`prepare`), then:

- a pull that meets the record links it to the local row (`link_pulled`, called by the
  loader) instead of inserting a second, `origin = 'intacct'` row;
- a push that ends without an answer leaves the link `unknown` and a reconciliation error in
  state "outcome unknown" (`mark_unknown`); the next push looks the record up in Intacct by
  its document number / payment reference (`look_up`) before it writes anything;
- a payment a clerk deleted and entered again is matched against the link of the deleted
  row (`reentries`) and flagged, not posted;
- the row as the push read it (`sent`) is compared with the row when the result is
  committed (`settle`): an edit in between is a "changed while posting" error.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import psycopg2.extras

from intacct_sync.sync_objects import OBJECTS

LINKED = ("invoices", "credit_notes", "payments", "convenience_fees")
# Bill-to contacts (customer_source bill_to_contact) too: a CONTACT create is linked by its
# contact name and customer, so a pull that meets the contact before the push knows its key
# links it to the local customer even if that row's contact name was edited meanwhile.
LINKED_CREATES = ("CONTACT",)
UNKNOWN = "outcome unknown"
# Columns the sync itself writes: not part of what the AR platform entered.
_SYNC_COLUMNS = ("ar_recordno", "intacct_recordno", "intacct_docid", "total_paid", "total_due",
                 "row_hash", "intacct_whenmodified", "updated_at", "warning", "deleted_at",
                 "intacct_customer_id", "intacct_contact_name")  # fmt: skip
_SYNC_CHILD_COLUMNS = ("intacct_target_key", "intacct_credit_key", "target")
# What identifies a pulled record as the one a link describes: incoming column → link column.
_PULL_MATCH: dict[str, tuple[str, str, str, str | None]] = {
    "payments": ("intacct_recordno", "reference", "intacct_customer_id", "amount"),
    "customers": ("intacct_recordno", "intacct_contact_name", "intacct_customer_id", None),
}


def linked(write) -> bool:
    """Creates whose record a pull could meet before the push knows its key."""
    return (
        write.action == "create"
        and write.function is not None
        and (write.object in LINKED or write.function.object in LINKED_CREATES)
    )


def snapshot_sql(name: str, alias: str) -> str:
    """The local record (and its lines) as the AR platform entered it, as one jsonb value."""
    obj = OBJECTS[name]
    row = f"to_jsonb({alias}) - {_array(_SYNC_COLUMNS)}"
    lines = "'[]'::jsonb"
    if obj.child_table:
        parent = obj.child_parent_column
        lines = (
            f"(SELECT coalesce(jsonb_agg(to_jsonb(l) - {_array((parent, *_SYNC_CHILD_COLUMNS))}"
            f" ORDER BY l.line_no), '[]'::jsonb) FROM {obj.child_table} l"
            f" WHERE l.{parent} = {alias}.id)"
        )
    return f"jsonb_build_object('row', {row}, 'lines', {lines})"


def _array(names: Iterable[str]) -> str:
    return "ARRAY[" + ", ".join(f"'{n}'" for n in names) + "]::text[]"


# -- before and after the write ---------------------------------------------------------------
def prepare(connection, writes: list) -> None:
    """Record (and commit) what these creates will send, before they are sent."""
    rows = []
    for w in writes:
        if not linked(w):
            continue
        obj, lookup = w.function.recovery_lookup() or (w.function.object, {})
        fields, row = w.function.fields, (w.sent or {}).get("row", {})
        amount = fields.get("paymentamount", row.get("total", row.get("amount")))
        rows.append((
            w.function.control_id, w.object, w.local_id, obj,
            next(iter(lookup.values()), None), fields.get("customerid", fields.get("CUSTOMERID")),
            None if amount is None else Decimal(str(amount)),
            row.get("payment_date") or row.get("issue_date"),
            json.dumps(lookup, default=str), json.dumps(w.sent or {}, default=str),
        ))  # fmt: skip
    if not rows:
        return
    with connection, connection.cursor() as cursor:
        psycopg2.extras.execute_values(
            cursor,
            "INSERT INTO intacct_sync.push_links (control_id, object, local_id, intacct_object,"
            " document_number, customer_key, amount, document_date, lookup, sent) VALUES %s"
            " ON CONFLICT (control_id) DO UPDATE SET document_number = EXCLUDED.document_number,"
            " customer_key = EXCLUDED.customer_key, amount = EXCLUDED.amount,"
            " document_date = EXCLUDED.document_date, lookup = EXCLUDED.lookup,"
            " sent = EXCLUDED.sent, prepared_at = now(),"
            " state = CASE WHEN push_links.state = 'posted' THEN 'posted' ELSE 'sending' END",
            rows,
        )


def mark_unknown(connection, writes: list, why: BaseException) -> None:
    """The push ended without Intacct's answer: every write of the batch may or may not have
    been carried out. Their links become `unknown` and each record gets an "outcome unknown"
    error, so the next push looks them up before it writes anything."""
    message = f"no answer from Intacct ({type(why).__name__}: {why})"[:2000]
    with connection, connection.cursor() as cursor:
        cursor.execute(
            "UPDATE intacct_sync.push_links SET state = 'unknown' WHERE state = 'sending'"
            " AND control_id = ANY(%s)",
            ([w.function.control_id for w in writes if linked(w)],),
        )
        for w in writes:
            cursor.execute(
                "INSERT INTO intacct_sync.reconciliation_errors"
                " (object, direction, record_id, message, hint, state)"
                " VALUES (%s, 'push', %s, %s, %s, %s)"
                " ON CONFLICT (object, direction, record_id) DO UPDATE SET"
                "  message = EXCLUDED.message, hint = EXCLUDED.hint, error_numbers = '{}',"
                "  attempts = reconciliation_errors.attempts + 1, last_seen_at = now(),"
                "  resolved_at = NULL, state = CASE WHEN reconciliation_errors.state = 'ignored'"
                "  THEN 'ignored' ELSE EXCLUDED.state END",
                (w.object, str(w.local_id), f"{w.label}: {w.action} sent, {message}",
                 "Nothing to do: the next push looks the record up in Intacct and links it if "
                 "Intacct has it, else sends it. Do not delete or re-enter the record.", UNKNOWN),
            )  # fmt: skip


def resolve_unknown(cursor, obj: str, record_id: int) -> None:
    """A write whose outcome was unknown is known now (the caller's transaction)."""
    cursor.execute(
        "UPDATE intacct_sync.reconciliation_errors SET state = 'resolved', resolved_at = now()"
        " WHERE object = %s AND direction = 'push' AND record_id = %s AND state = %s",
        (obj, str(record_id), UNKNOWN),
    )


def settle(cursor, write, control_id: str, key: str | None) -> list[str]:
    """The create is in Intacct (the caller's transaction, which links the key): mark its link
    posted and compare the row now with the row as it was sent. Returns the differences,
    each "field: Intacct has X, the platform has Y" (empty: nothing changed meanwhile)."""
    cursor.execute(
        "UPDATE intacct_sync.push_links SET state = 'posted', settled_at = now(),"
        " intacct_key = coalesce(%s::bigint, intacct_key) WHERE control_id = %s",
        (key, control_id),
    )
    if not write.sent:  # nothing to compare (a contact: its fields sync both ways)
        return []
    table = OBJECTS[write.object].table
    cursor.execute(
        f"SELECT {snapshot_sql(write.object, 'd')} FROM {table} d WHERE d.id = %s FOR UPDATE",
        (write.local_id,),
    )
    found = cursor.fetchone()
    return differences(write.sent, found[0]) if found else []


def differences(sent: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """What changed between two snapshots, in words a person can act on."""
    out = []
    before, after = sent.get("row", {}), now.get("row", {})
    for name in sorted(set(before) | set(after)):
        if before.get(name) != after.get(name):
            out.append(f"{name}: Intacct has {before.get(name)!r}, the platform has "
                       f"{after.get(name)!r}")  # fmt: skip
    if sent.get("lines", []) != now.get("lines", []):
        out.append(f"lines: Intacct has {_lines(sent.get('lines', []))}, the platform has "
                   f"{_lines(now.get('lines', []))}")  # fmt: skip
    return out


def _lines(lines: list[dict[str, Any]]) -> str:
    return "[" + ", ".join(f"{li.get('line_no')}: {li.get('amount')}" for li in lines) + "]"


# -- the next push: look up before writing ----------------------------------------------------
def pending(connection, writes: list) -> dict[str, dict[str, Any]]:
    """The links of these creates whose outcome is not known (sent, no answer recorded)."""
    ids = [w.function.control_id for w in writes if linked(w)]
    if not ids:
        return {}
    with connection, connection.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.execute(
            "SELECT * FROM intacct_sync.push_links WHERE control_id = ANY(%s)"
            " AND state IN ('sending', 'unknown')",
            (ids,),
        )
        return {r["control_id"]: dict(r) for r in cur.fetchall()}


def look_up(hook, links: list[dict[str, Any]]) -> dict[str, list[str]]:
    """control id → RECORDNOs of the Intacct records matching each link (its document number
    and customer, and for payments its amount); Intacct cannot be queried by control id."""
    from intacct_sync.intacct import xml_request as rq

    found: dict[str, list[str]] = {link["control_id"]: [] for link in links}
    groups: dict[tuple[str, tuple[str, ...]], list[dict[str, Any]]] = {}
    for link in links:
        if link["lookup"]:
            groups.setdefault((link["intacct_object"], tuple(link["lookup"])), []).append(link)
    for (obj, names), items in groups.items():
        amount = "TRX_TOTALENTERED" if obj == "ARPYMT" else None
        for i in range(0, len(items), 100):
            part = items[i : i + 100]
            query = rq.And(*(rq.in_(n, sorted({str(x["lookup"][n]) for x in part}))
                             for n in names))  # fmt: skip
            fields = ["RECORDNO", *names, *([amount] if amount else [])]
            records = list(hook.read_by_query(obj, fields, query))
            for link in part:
                found[link["control_id"]] = [
                    str(r["RECORDNO"]) for r in records
                    if all(str(r.get(n)) == str(link["lookup"][n]) for n in names)
                    and (not amount or link["amount"] is None
                         or Decimal(str(r.get(amount))) == Decimal(link["amount"]))
                ]  # fmt: skip
    return found


def reentries(connection, writes: list) -> dict[int, dict[str, Any]]:
    """Payments that repeat one a clerk deleted after its push was sent (same customer,
    amount, date and reference): local id → the deleted payment's link. Not posted unless a
    person retries the error (then the re-entry takes over the deleted row's link)."""
    ids = [w.local_id for w in writes if linked(w) and w.object == "payments"]
    if not ids:
        return {}
    with connection, connection.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.execute(
            "SELECT DISTINCT ON (p.id) p.id AS reentry, l.*,"
            " e.state = 'retrying' AS confirmed FROM ar.payments p"
            " JOIN ar.customers c ON c.id = p.customer_id"
            " JOIN intacct_sync.push_links l ON l.object = 'payments' AND l.local_id <> p.id"
            "  AND l.state <> 'failed' AND l.customer_key = c.intacct_customer_id"
            "  AND l.amount = p.amount AND l.document_date = p.payment_date"
            "  AND (l.sent->'row'->>'reference') IS NOT DISTINCT FROM p.reference"
            " LEFT JOIN intacct_sync.reconciliation_errors e ON e.object = 'payments'"
            "  AND e.direction = 'push' AND e.record_id = p.id::text"
            " WHERE p.id = ANY(%s) AND NOT EXISTS (SELECT 1 FROM ar.payments o"
            "  WHERE o.id = l.local_id AND o.deleted_at IS NULL)"
            " ORDER BY p.id, l.prepared_at DESC",
            (ids,),
        )
        return {r["reentry"]: dict(r) for r in cur.fetchall()}


def take_over(cursor, link: dict[str, Any], local_id: int) -> None:
    """A person confirmed the re-entry is the deleted payment: the deleted row's link and its
    "outcome unknown" error pass to it (the caller's transaction)."""
    cursor.execute(
        "UPDATE intacct_sync.push_links SET state = 'failed', settled_at = now()"
        " WHERE control_id = %s",
        (link["control_id"],),
    )
    cursor.execute(
        "UPDATE intacct_sync.reconciliation_errors SET state = 'resolved', resolved_at = now(),"
        " message = message || %s WHERE object = 'payments' AND direction = 'push'"
        " AND record_id = %s AND state <> 'resolved'",
        (f" (re-entered as payment {local_id})", str(link["local_id"])),
    )


# -- the pull's hook --------------------------------------------------------------------------
def link_pulled(cursor, obj: str, ids: list[str]) -> int:
    """Called by the loader (intacct_sync/pull/loading.py) on the temp table `incoming`, before its
    upsert: a pulled record that a push sent (or is sending) is written onto that local row's
    intacct_recordno, so the upsert meets the local row (and leaves it as the AR platform
    wrote it) instead of inserting a second, `origin = 'intacct'` one. Matched by the key
    once known, else by document number (a contact: its name), customer and amount.
    A bill-to contact needs nothing more from the push (no key to look up, its fields sync
    both ways): its link is settled here and its "outcome unknown" error resolved.
    Returns the rows linked."""
    if obj not in _PULL_MATCH:
        return 0
    table = OBJECTS[obj].table
    recordno, number, customer, amount = _PULL_MATCH[obj]
    same_amount = f" AND l.amount = i.{amount}::numeric" if amount else ""
    cursor.execute(
        "WITH matched AS ("
        " SELECT DISTINCT ON (i.intacct_recordno) i.intacct_recordno::bigint AS recordno,"
        "  l.local_id, l.control_id FROM incoming i JOIN intacct_sync.push_links l"
        "  ON l.object = %(obj)s AND l.state <> 'failed' AND (l.intacct_key = i."
        f"{recordno}::bigint OR (l.intacct_key IS NULL AND l.document_number = i.{number}"
        f"  AND l.customer_key = i.{customer}{same_amount}))"
        f" WHERE i.{recordno} = ANY(%(ids)s) AND NOT EXISTS (SELECT 1 FROM {table} x"
        f"  WHERE x.intacct_recordno = i.{recordno}::bigint)"
        " ORDER BY i.intacct_recordno, l.prepared_at DESC),"
        " linked AS ("
        f" UPDATE {table} t SET intacct_recordno = m.recordno FROM matched m"
        "  WHERE t.id = m.local_id AND t.origin = 'local' AND t.intacct_recordno IS NULL"
        "  AND t.deleted_at IS NULL RETURNING t.id, m.recordno, m.control_id)"
        " UPDATE intacct_sync.push_links l SET intacct_key = linked.recordno FROM linked"
        " WHERE l.control_id = linked.control_id RETURNING l.local_id, l.control_id",
        {"obj": obj, "ids": ids},
    )
    found = cursor.fetchall()
    if obj == "customers":
        for local_id, control_id in found:
            cursor.execute(
                "UPDATE intacct_sync.push_links SET state = 'posted', settled_at = now()"
                " WHERE control_id = %s",
                (control_id,),
            )
            resolve_unknown(cursor, obj, local_id)
    return len(found)
