"""Does Postgres agree with Intacct? Count, total, paid and due per entity, for one object.

Intacct's side is read through the hook (every record of the object, a few fields); the AR
side is every row linked to an Intacct record and not deleted. Documents of customers that
are not active are not imported (design.md), so Intacct's figures come twice: all records,
and those the AR database is expected to hold. Paid and due come from the document's own A/R
record (ARINVOICE / ARADJUSTMENT, `SyncObject.balances`), the truth for them
(intacct_sync/pull/balances.py); objects without one (payments) have no paid / due. Each entity gets
the figures of all three sides and the difference held − expected, so a person sees by how
much, not only that it differs. The result is stored with its time, the run after which it
was computed (the `tieout` task of every successful run; none when asked for on the page) and
the invoice source in `intacct_sync.tieouts` for the monitoring page.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from psycopg2.extras import Json

from intacct_sync.sync_objects import OBJECTS, Balance, SyncObject, sourced

CENT = Decimal("0.01")
AMOUNTS = ("sum", "paid", "due")  # "sum" is the record's total (kept under its old name)


def _bucket() -> dict[str, Any]:
    return {"count": 0, "sum": Decimal(0), "paid": Decimal(0), "due": Decimal(0)}


def own_balance(obj: SyncObject) -> Balance | None:
    """The A/R record that holds this object's own paid / due, if it has one."""
    return next((b for b in obj.balances if b.table == obj.name
                 and b.key_column == "ar_recordno"), None)  # fmt: skip


def _ar_balances(hook, balance: Balance) -> dict[str, tuple[Decimal, Decimal]]:
    """RECORDNO → (paid, due) of every A/R record, signed as the AR database holds them."""
    return {
        str(r["RECORDNO"]): (balance.sign * _money(r.get("TRX_TOTALPAID")),
                             balance.sign * _money(r.get("TRX_TOTALDUE")))
        for r in hook.read_by_query(balance.intacct_object,
                                    ["RECORDNO", "TRX_TOTALPAID", "TRX_TOTALDUE"])
    }  # fmt: skip


def _money(value: Any) -> Decimal:
    return Decimal(str(value or 0))


def _active_customers(hook) -> set[str]:
    return {
        c["CUSTOMERID"]
        for c in hook.read_by_query("CUSTOMER", ["CUSTOMERID", "STATUS"])
        if str(c.get("STATUS")).lower() == "active"
    }


def intacct_totals(hook, name: str, invoice_source: str = "order_entry") -> tuple[dict, dict]:
    """(all records, records the AR database should hold) per entity, over every source
    `invoice_source` reads (intacct_sync/sync_objects.py `sourced`)."""
    everything: dict[str, dict] = defaultdict(_bucket)
    expected: dict[str, dict] = defaultdict(_bucket)
    active = _active_customers(hook) if OBJECTS[name].skips_inactive_customers else None
    for obj in sourced(name, invoice_source):
        for entity, customer, amount, paid, due in _records(hook, obj):
            targets = [everything[entity]]
            if active is None or customer in active:
                targets.append(expected[entity])
            for bucket in targets:
                bucket["count"] += 1
                bucket["sum"] += amount
                bucket["paid"] += paid
                bucket["due"] += due
    return everything, expected


def _records(hook, obj: SyncObject):
    """(entity, customer, total, paid, due) of each record of one source, local signs."""
    if obj.source == "accounts_receivable":  # the record is the A/R record itself
        fields = ["MEGAENTITYID", "CUSTOMERID", "RECORDTYPE", "MODULEKEY", "TRX_TOTALENTERED",
                  "TRX_TOTALPAID", "TRX_TOTALDUE"]  # fmt: skip
        for r in hook.read_by_query(obj.intacct_object, fields):
            if obj.keep and r.get(obj.keep[0]) != obj.keep[1]:
                continue  # loaded as its Order Entry document
            sign = -1 if r.get("RECORDTYPE") == "ra" else 1
            yield (r.get("MEGAENTITYID") or "", r.get("CUSTOMERID"),
                   *(sign * _money(r.get(f)) for f in fields[4:]))  # fmt: skip
        return
    balance = own_balance(obj)
    fields = ["MEGAENTITYID", *([obj.total_field] if obj.total_field else [])]
    if balance:
        fields += ["PRRECORDKEY", "TRX_TOTALPAID", "TRX_TOTALDUE"]
    if obj.skips_inactive_customers:
        fields.append("CUSTVENDID")
    ar = _ar_balances(hook, balance) if balance else {}
    for record in hook.read_by_query(obj.intacct_object, fields, docparid=obj.docparid):
        amount = _money(record.get(obj.total_field)) if obj.total_field else Decimal(0)
        paid, due = ar.get(str(record.get("PRRECORDKEY") or ""), (
            _money(record.get("TRX_TOTALPAID")), _money(record.get("TRX_TOTALDUE"))))
        yield record.get("MEGAENTITYID") or "", record.get("CUSTVENDID"), amount, paid, due


def postgres_totals(connection, name: str) -> dict[str, dict]:
    """Count, total, paid and due per entity of the rows linked to Intacct."""
    obj = OBJECTS[name]
    total = obj.total_column or "0"
    paid, due = ("total_paid", "total_due") if own_balance(obj) else ("0", "0")
    with connection, connection.cursor() as cursor:
        cursor.execute(
            f"SELECT entity, count(*), coalesce(sum({total}), 0), coalesce(sum({paid}), 0),"
            f" coalesce(sum({due}), 0) FROM {obj.table}"
            " WHERE intacct_recordno IS NOT NULL AND deleted_at IS NULL GROUP BY entity"
        )
        return {e: {"count": n, "sum": Decimal(s), "paid": Decimal(p), "due": Decimal(d)}
                for e, n, s, p, d in cursor.fetchall()}  # fmt: skip


def compare(everything: dict, expected: dict, postgres: dict, *, balances: bool) -> list[dict]:
    """One entry per entity: the three sides, held − expected, and whether they agree."""
    figures = ("sum", "paid", "due") if balances else ("sum",)
    entities = []
    for entity in sorted(set(everything) | set(expected) | set(postgres)):
        want = expected.get(entity, _bucket())
        have = postgres.get(entity, _bucket())
        difference = {"count": have["count"] - want["count"],
                      **{f: _cents(have[f] - want[f]) for f in figures}}  # fmt: skip
        entities.append({
            "entity": entity,
            "intacct": _json(everything.get(entity, _bucket()), figures),
            "expected": _json(want, figures),
            "postgres": _json(have, figures),
            "difference": difference,
            "ok": difference["count"] == 0 and all(Decimal(difference[f]) == 0 for f in figures),
        })  # fmt: skip
    return entities


def compute(
    hook, connection, name: str, invoice_source: str = "order_entry", run_id: str | None = None
) -> dict[str, Any]:
    """Tie one object out now, store the result, and return it (JSON-ready);
    `invoice_source` is the sync configuration's (which Intacct records are the truth),
    `run_id` the run after which it is computed (None: on demand)."""
    everything, expected = intacct_totals(hook, name, invoice_source)
    postgres = postgres_totals(connection, name)
    entities = compare(everything, expected, postgres,
                       balances=own_balance(OBJECTS[name]) is not None)  # fmt: skip
    with connection, connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO intacct_sync.tieouts (object, computed_at, entities, run_id,"
            " invoice_source) VALUES (%s, now(), %s, %s, %s) ON CONFLICT (object) DO UPDATE"
            " SET computed_at = now(), entities = EXCLUDED.entities, run_id = EXCLUDED.run_id,"
            " invoice_source = EXCLUDED.invoice_source RETURNING computed_at",
            (name, Json(entities), run_id, invoice_source),
        )
        computed_at = cursor.fetchone()[0]
    return {"object": name, "computed_at": computed_at.isoformat(), "run_id": run_id,
            "invoice_source": invoice_source, "entities": entities,
            "ok": all(e["ok"] for e in entities)}  # fmt: skip


def _cents(value: Decimal) -> str:
    return str(Decimal(value).quantize(CENT))


def _json(bucket: dict, figures: tuple[str, ...]) -> dict[str, Any]:
    """Amounts as strings with cents (exact in JSON); paid / due null where not applicable."""
    return {"count": bucket["count"],
            **{f: _cents(bucket[f]) if f in figures else None for f in AMOUNTS}}  # fmt: skip
