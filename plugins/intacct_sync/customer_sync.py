"""Customers sync both ways (design.md, Customers; issue 17): the rules both the pull and the
push follow for a customer linked to its Intacct customer, whichever side created it.

- Linking never overrides a conflicting account number: an Intacct customer whose CUSTOMERID
  differs from a local customer's account number (or Intacct customer id) is not that
  customer, even with the same name. That is a reconciliation error on the local customer
  (object customers, direction push); nothing is linked or overwritten.
- The synced fields (`snapshot`) as both sides last agreed are kept in
  `intacct_sync.customer_sync`. A change on one side since then flows to the other: the pull
  applies an Intacct change (deactivation included), the push sends a local change as an
  update.
- Both sides changed since the last sync (or a first link finds different values): Intacct's
  version wins; the pull applies it and the local values it replaced are recorded in the
  customer's reconciliation error (customers, push), so a person can make the change again.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from enum import Enum
from typing import Any

import psycopg2.extras

from intacct_sync.mapping import NotPushable, Rejected
from intacct_sync.mapping.customers import ADDRESS

SYNCED_FIELDS = ("name", "status", "email", "currency", "billing_address")
KEPT_COLUMNS = ("account_number",)  # the pull fills them, never overwrites them

# The last agreed version of a customer (push: after Intacct accepted it; pull: after loading).
RECORD_SYNCED = (
    "INSERT INTO intacct_sync.customer_sync (customer_id, synced) VALUES (%(id)s, %(synced)s)"
    " ON CONFLICT (customer_id) DO UPDATE SET synced = EXCLUDED.synced, synced_at = now()"
)

# SQL twin of `conflicting` for the pull's name match (alias c: local, i: incoming Intacct).
NAME_MATCH_AGREES = (
    "(c.account_number IS NULL OR lower(c.account_number) = lower(i.intacct_customer_id))"
    " AND (c.intacct_customer_id IS NULL OR c.intacct_customer_id = i.intacct_customer_id)"
)


class Outcome(Enum):
    IN_SYNC = "in sync"  # both sides hold the same values
    LOCAL_CHANGE = "local change"  # push it
    INTACCT_CHANGE = "Intacct change"  # pull it
    CONFLICT = "conflict"  # both changed: Intacct wins, recorded


def _value(value: Any) -> Any:
    if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def snapshot(row: Mapping[str, Any]) -> dict[str, Any]:
    """The synced fields of a customer row (local row, loaded Intacct row or mapped Intacct
    record), normalised so equal data compares equal."""
    address = _value(row.get("billing_address")) or {}
    if isinstance(address, str):
        address = json.loads(address)
    status = _value(row.get("status"))
    return {
        "name": _value(row.get("name")),
        "status": status.lower() if status else None,
        "email": _value(row.get("email")),
        "currency": _value(row.get("currency")),
        "billing_address": {k: address[k] for k in sorted(ADDRESS) if _value(address.get(k))},
    }


def contact_snapshot(row: Mapping[str, Any]) -> dict[str, Any]:
    """The synced fields of a bill-to contact customer (customer_source bill_to_contact): a
    CONTACT has no currency (its invoices take the Intacct customer's), so it is not synced."""
    return {**snapshot(row), "currency": None}


def decide(local: dict, synced: dict | None, intacct: dict) -> Outcome:
    """The one rule for a linked customer: which side changed since the last sync."""
    if local == intacct:
        return Outcome.IN_SYNC
    if synced is not None and intacct == synced:
        return Outcome.LOCAL_CHANGE
    if synced is not None and local == synced:
        return Outcome.INTACCT_CHANGE
    return Outcome.CONFLICT  # both changed, or never synced and different


def conflict(customer_id: int, local: dict, intacct: dict) -> Rejected:
    """The reconciliation error of a conflict: what each side has, and the rule applied."""
    differences = "; ".join(
        f"{f}: AR platform {local[f]!r}, Intacct {intacct[f]!r}"
        for f in SYNCED_FIELDS if local[f] != intacct[f]
    )  # fmt: skip
    return Rejected(
        str(customer_id),
        f"customer {customer_id} ({local['name']}) changed in the AR platform and in Intacct"
        f" since the last sync ({differences}): Intacct's version is kept, the AR platform's"
        " change was not pushed",
        "If the AR platform's change still applies, make it again (in the AR platform it is "
        "then pushed, or in Intacct).",
    )


def conflicting(local: Mapping[str, Any], customer_id: str) -> str | None:
    """The local value that says this local customer is not Intacct customer `customer_id`
    (its account number or Intacct customer id names another one), or None."""
    for value in (local.get("account_number"), local.get("intacct_customer_id")):
        if value and value.lower() != customer_id.lower():
            return value
    return None


def account_conflict(local: Mapping[str, Any], customer_id: str, name: str) -> NotPushable:
    value = conflicting(local, customer_id)
    return NotPushable(
        f"Intacct customer {customer_id} has the same name ({name}) but the local account "
        f"number / Intacct id is {value!r}: not linked, nothing overwritten",
        f"If they are the same customer, set the local account number to {customer_id}; if "
        "not, give one of them another name. Then retry.",
    )


# -- pull: called by the loader for a batch of incoming Intacct customers (temp table incoming)
_COLUMNS = ", ".join(SYNCED_FIELDS)


def hold_back(
    cursor, ids: list[str], *, contacts: bool = False
) -> tuple[list[str], list[Rejected]]:
    """Decide each incoming customer (with `contacts`, bill-to contact) that is linked to a
    local one. Returns the ids to hold back (a local change Intacct has not seen yet: the push
    sends it; loading Intacct's older values would undo it) and the conflicts to record
    (Intacct's version loads)."""
    local = ", ".join(f"c.{f}" for f in SYNCED_FIELDS)
    # A CONTACT has no currency (contact_snapshot): compared as none on both sides.
    incoming = ", ".join("NULL" if contacts and f == "currency" else f"i.{f}"
                         for f in SYNCED_FIELDS)  # fmt: skip
    version = contact_snapshot if contacts else snapshot
    cursor.execute(
        f"SELECT i.intacct_recordno, c.id, s.synced, {local}, {incoming} FROM incoming i"
        " JOIN ar.customers c ON c.intacct_recordno = i.intacct_recordno::bigint"
        " LEFT JOIN intacct_sync.customer_sync s ON s.customer_id = c.id"
        " WHERE i.intacct_recordno = ANY(%s) AND c.deleted_at IS NULL",
        (ids,),
    )
    held, conflicts = [], []
    n = len(SYNCED_FIELDS)
    for recordno, customer_id, synced, *values in cursor.fetchall():
        mine = version(dict(zip(SYNCED_FIELDS, values[:n], strict=True)))
        theirs = version(dict(zip(SYNCED_FIELDS, values[n:], strict=True)))
        outcome = decide(mine, synced, theirs)
        if outcome is Outcome.LOCAL_CHANGE:
            held.append(recordno)
        elif outcome is Outcome.CONFLICT:
            conflicts.append(conflict(customer_id, mine, theirs))
    return held, conflicts


def record_pulled(cursor, ids: list[str]) -> None:
    """After loading: the loaded customers hold Intacct's values, the new agreed version
    (a bill-to contact's row, one with a contact name: its contact_snapshot)."""
    cursor.execute(
        f"SELECT id, intacct_contact_name IS NOT NULL, {_COLUMNS} FROM ar.customers"
        " WHERE intacct_recordno::text = ANY(%s)",
        (ids,),
    )
    rows = [
        (customer_id, json.dumps((contact_snapshot if contact else snapshot)(
            dict(zip(SYNCED_FIELDS, values, strict=True)))))
        for customer_id, contact, *values in cursor.fetchall()
    ]  # fmt: skip
    psycopg2.extras.execute_values(
        cursor,
        "INSERT INTO intacct_sync.customer_sync (customer_id, synced) VALUES %s"
        " ON CONFLICT (customer_id) DO UPDATE SET synced = EXCLUDED.synced, synced_at = now()",
        rows, template="(%s, %s::jsonb)",
    )  # fmt: skip


def account_conflicts(cursor, ids: list[str]) -> list[Rejected]:
    """Incoming customers not linked because a same-named local customer's account number
    names another Intacct customer: a reconciliation error on that local customer."""
    cursor.execute(
        "SELECT c.id, c.account_number, c.intacct_customer_id, i.intacct_customer_id, i.name"
        " FROM incoming i JOIN ar.customers c ON c.intacct_recordno IS NULL"
        "  AND c.deleted_at IS NULL AND lower(c.name) = lower(i.name)"
        f"  AND NOT ({NAME_MATCH_AGREES})"
        " WHERE i.intacct_recordno = ANY(%s) AND NOT EXISTS (SELECT 1 FROM ar.customers x"
        "  WHERE x.intacct_recordno = i.intacct_recordno::bigint)",
        (ids,),
    )
    rejected = []
    for customer_id, account_number, own_id, intacct_id, name in cursor.fetchall():
        local = {"account_number": account_number, "intacct_customer_id": own_id}
        why = account_conflict(local, intacct_id, name)
        rejected.append(Rejected(str(customer_id), f"customer {customer_id}: {why}", why.hint))
    return rejected
