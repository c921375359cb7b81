"""Does Postgres agree with Intacct? Counts and sums per entity, both sides, for one object.

Intacct's side is read through the hook (every record of the object, three fields); the AR
side is every row linked to an Intacct record and not deleted. Documents of customers that
are not active are not imported (design.md), so Intacct's figures come twice: all records,
and those the AR database is expected to hold. The result is stored with its time in
`intacct_sync.tieouts` for the monitoring page.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from psycopg2.extras import Json

from include.sync_objects import OBJECTS


def _bucket() -> dict[str, Any]:
    return {"count": 0, "sum": Decimal(0)}


def intacct_totals(hook, name: str) -> tuple[dict, dict]:
    """(all records, records the AR database should hold) per entity."""
    obj = OBJECTS[name]
    fields = ["MEGAENTITYID", *([obj.total_field] if obj.total_field else [])]
    active: set[str] | None = None
    if obj.skips_inactive_customers:
        fields.append("CUSTVENDID")
        active = {
            c["CUSTOMERID"]
            for c in hook.read_by_query("CUSTOMER", ["CUSTOMERID", "STATUS"])
            if str(c.get("STATUS")).lower() == "active"
        }
    everything: dict[str, dict] = defaultdict(_bucket)
    expected: dict[str, dict] = defaultdict(_bucket)
    for record in hook.read_by_query(obj.intacct_object, fields, docparid=obj.docparid):
        amount = Decimal(str(record.get(obj.total_field) or 0)) if obj.total_field else 0
        entity = record.get("MEGAENTITYID") or ""
        targets = [everything[entity]]
        if active is None or record.get("CUSTVENDID") in active:
            targets.append(expected[entity])
        for bucket in targets:
            bucket["count"] += 1
            bucket["sum"] += amount
    return everything, expected


def postgres_totals(connection, name: str) -> dict[str, dict]:
    obj = OBJECTS[name]
    total = obj.total_column or "0"
    with connection, connection.cursor() as cursor:
        cursor.execute(
            f"SELECT entity, count(*), coalesce(sum({total}), 0) FROM {obj.table}"
            " WHERE intacct_recordno IS NOT NULL AND deleted_at IS NULL GROUP BY entity"
        )
        return {e: {"count": n, "sum": Decimal(s)} for e, n, s in cursor.fetchall()}


def compute(hook, connection, name: str) -> dict[str, Any]:
    """Tie one object out now, store the result, and return it (JSON-ready)."""
    everything, expected = intacct_totals(hook, name)
    postgres = postgres_totals(connection, name)
    entities = []
    for entity in sorted(set(everything) | set(postgres)):
        want = expected.get(entity, _bucket())
        have = postgres.get(entity, _bucket())
        entities.append(
            {
                "entity": entity,
                "intacct": _json(everything.get(entity, _bucket())),
                "expected": _json(want),
                "postgres": _json(have),
                "ok": (want["count"], want["sum"]) == (have["count"], have["sum"]),
            }
        )
    with connection, connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO intacct_sync.tieouts (object, computed_at, entities)"
            " VALUES (%s, now(), %s) ON CONFLICT (object) DO UPDATE"
            " SET computed_at = now(), entities = EXCLUDED.entities RETURNING computed_at",
            (name, Json(entities)),
        )
        computed_at = cursor.fetchone()[0]
    return {"object": name, "computed_at": computed_at.isoformat(), "entities": entities,
            "ok": all(e["ok"] for e in entities)}  # fmt: skip


def _json(bucket: dict) -> dict[str, Any]:
    return {"count": bucket["count"], "sum": str(Decimal(bucket["sum"]).quantize(Decimal("0.01")))}
