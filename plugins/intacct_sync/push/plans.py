"""What a push sends: the ready local records of each object and the write each needs.

Over 500 lines because it holds one planner per object, and each planner's rules must be
read next to the others' (links, cut-over, voids and re-entries apply to all five).

One planner per object holds that object's rules (design.md §2); the payloads come from the
object's mapping module (`to_intacct`). Planners read only Postgres — what Intacct accepted
is in `intacct_sync.pushes` — plus, for customers, Intacct's customers of the same id or name
(new ones) and the current version of linked ones changed locally (intacct_sync/customer_sync.py),
so the plan after a crash or a timeout is the plan before it: same writes, same control ids.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd
import psycopg2.extras
from lxml import etree

from intacct_sync import customer_sync
from intacct_sync.db.sync_state import cut_over
from intacct_sync.mapping import NotPushable
from intacct_sync.mapping import contacts as contact_mapping
from intacct_sync.mapping import convenience_fees as fee_mapping
from intacct_sync.mapping import customers as customer_mapping
from intacct_sync.mapping import payments as payment_mapping
from intacct_sync.mapping import sales_documents as document_mapping
from intacct_sync.push import links as push_links
from intacct_sync.sync_config import SyncConfig
from intacct_sync.sync_objects import OBJECTS


@dataclass
class Write:
    """One planned write of one local record."""

    object: str
    local_id: int
    action: str  # create | update | void | apply_credit
    function: Any  # intacct_sync.intacct.hook.WriteFunction
    label: str  # what a person recognises: "invoice INV-1001"
    part: str = ""  # which application line (apply_credit)
    digest: str | None = None  # what was sent (customers)
    link: dict[str, Any] = field(default_factory=dict)  # values the link statement needs
    # The local record as the planner read it (intacct_sync/push/links.py snapshot): compared with
    # the row when the result is committed ("changed while posting").
    sent: dict[str, Any] | None = None

    @property
    def step(self) -> tuple[int, str, str]:
        return (self.local_id, self.action, self.part)


@dataclass
class Plan:
    writes: list[Write] = field(default_factory=list)
    # Customers that already exist in Intacct: (local id, Intacct RECORDNO, CUSTOMERID, digest)
    links: list[tuple[int, str, str, str]] = field(default_factory=list)
    rejected: list[tuple[int, str, NotPushable]] = field(default_factory=list)  # id, label, why
    # Steps Intacct has nothing to do for (a void of a payment it never received): recorded
    # as done, with their link values, and never sent.
    settled: list[Write] = field(default_factory=list)
    waiting: int = 0  # ready, but something they refer to is not in Intacct yet
    # Some records need another write once these are in Intacct (a payment's credit notes
    # are applied after the payment): plan again after sending.
    follow_up: bool = False


def digest(payload: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _write(action: str, obj: str, record: str, fields: Mapping[str, Any], **kw: Any) -> Any:
    from intacct_sync.intacct.hook import WriteFunction

    return WriteFunction(action, obj, record, fields, **kw)


def _record(name: str, row: Mapping[str, Any]) -> str:
    """The record part of a control id: the local id plus its creation time, so a database
    restored or rebuilt with the same ids never replays another record's control id."""
    return f"{name}-{row['id']}-{int(row['created_at'].timestamp() * 1000)}"


def _today(hook) -> date:
    """Reversal dates are the company's date, not the worker's."""
    return datetime.now(hook.company_timezone).date()


def _rows(connection, sql: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    with connection.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cursor:
        cursor.execute(sql, params)
        return [dict(r) for r in cursor.fetchall()]


def _not_ignored(alias: str) -> str:
    """Records a person chose to ignore are left alone until they retry them."""
    return (
        "NOT EXISTS (SELECT 1 FROM intacct_sync.reconciliation_errors e"
        " WHERE e.object = %(object)s AND e.direction = 'push'"
        f" AND e.record_id = {alias}.id::text AND e.state = 'ignored')"
    )


def _posted(alias: str, action: str) -> str:
    return (
        "EXISTS (SELECT 1 FROM intacct_sync.pushes pushed WHERE pushed.object = %(object)s"
        f" AND pushed.local_id = {alias}.id AND pushed.action = '{action}')"
    )


def _applied(payment: str, line: str) -> str:
    """A payment's credit-note application (line) was already applied in Intacct."""
    return (
        "EXISTS (SELECT 1 FROM intacct_sync.pushes x WHERE x.object = 'payments'"
        f" AND x.local_id = {payment} AND x.action = 'apply_credit' AND x.part = {line}::text)"
    )


def _after_cut_over(name: str, alias: str) -> str:
    """Push cut-over: only records entered or made ready after it (intacct_sync.push_ready,
    migration 0013), or that a person queued (intacct_sync.queue_push), are posted; what the
    platform held before the sync was enabled is the initial data sync's business. No
    cut-over (sync_start "beginning", cut_over None): everything is posted."""
    return (
        f"(%(cut_over)s::timestamptz IS NULL OR {alias}.created_at >= %(cut_over)s"
        " OR EXISTS (SELECT 1 FROM intacct_sync.push_ready"
        f" r WHERE r.object = '{name}' AND r.local_id = {alias}.id"
        "  AND (r.queued OR r.ready_at >= %(cut_over)s)))"
    )


def _cut_over(connection, name: str, config: SyncConfig):
    return cut_over(connection, name, "push", config.sync_start.get(name))


# -- planners: one per object -------------------------------------------------------------
def _customer_rows(connection) -> list[dict[str, Any]]:
    """The customers a push may create or update: live, local or linked, not ignored, each
    with the snapshot last synced and how many posts it has had."""
    return _rows(
        connection,
        "SELECT c.*, s.synced, (SELECT count(*) FROM intacct_sync.pushes p"
        "  WHERE p.object = %(object)s AND p.local_id = c.id) AS posts"
        " FROM ar.customers c LEFT JOIN intacct_sync.customer_sync s ON s.customer_id = c.id"
        " WHERE c.deleted_at IS NULL AND (c.origin = 'local' OR c.intacct_recordno IS NOT NULL)"
        f" AND {_not_ignored('c')} ORDER BY c.id",
        {"object": "customers"},
    )


def plan_customers(connection, hook, config: SyncConfig) -> Plan:
    """Unlinked local customers are linked to an existing Intacct customer (same id, account
    number, then name, never over a conflicting account number) or created. Linked customers,
    whichever side created them, sync both ways (intacct_sync/customer_sync.py): a local change
    since the last sync is sent as an update, unless Intacct changed too (a conflict: Intacct
    wins, recorded); Intacct's current version is read first. With customer_source
    bill_to_contact the local customers are CONTACTs of Intacct customers (`_plan_contacts`)."""
    if config.customer_source == "bill_to_contact":
        return _plan_contacts(connection, hook)
    rows = _customer_rows(connection)
    plan = Plan()
    new = [r for r in rows if r["intacct_recordno"] is None]
    changed = [r for r in rows if r["intacct_recordno"] is not None
               and customer_sync.snapshot(r) != r["synced"]]  # fmt: skip
    matches = _intacct_customers(hook, new)
    for row in new:
        payload = customer_mapping.to_intacct(row)
        label = f"customer {payload['CUSTOMERID']} ({row['name']})"
        found = _match(row, matches)
        if isinstance(found, NotPushable):
            plan.rejected.append((row["id"], label, found))
        elif found is not None:
            linked = customer_mapping.to_intacct(
                {**row, "intacct_customer_id": found["CUSTOMERID"]}
            )
            plan.links.append((row["id"], found["RECORDNO"], found["CUSTOMERID"], digest(linked)))
        else:
            synced = json.dumps(customer_sync.snapshot(row))
            plan.writes.append(
                Write(
                    "customers", row["id"], "create",
                    _write("create", "CUSTOMER", _record("customers", row), payload),
                    label, digest=digest(payload),
                    link={"customer_id": payload["CUSTOMERID"], "synced": synced},
                )
            )  # fmt: skip
    current = _intacct_versions(hook, [r["intacct_recordno"] for r in changed])
    for row in changed:
        payload = customer_mapping.to_intacct(row)
        label = f"customer {payload['CUSTOMERID']} ({row['name']})"
        local = customer_sync.snapshot(row)
        intacct = current.get(int(row["intacct_recordno"]))
        if intacct is None:
            plan.rejected.append((row["id"], label, NotPushable(
                f"Intacct customer RECORDNO {row['intacct_recordno']} was not found (deleted?)"
                " or has no name or status there: the local change was not pushed",
                "Check the customer in Intacct; if it was deleted, link the local customer "
                "again (intacct_recordno) or delete it.")))  # fmt: skip
            continue
        _both_ways(plan, "CUSTOMER", row, label, local, intacct, payload)
    return plan


def _both_ways(plan: Plan, intacct_object: str, row: dict[str, Any], label: str,
               local: dict[str, Any], intacct: dict[str, Any],
               payload: Mapping[str, Any]) -> None:
    """A linked customer (or contact) by the both-ways rule (customer_sync.decide): a local
    change is an update, no change settles it, and when Intacct changed too Intacct wins
    (the customers pull applies its version) and the push records the conflict."""
    outcome = customer_sync.decide(local, row["synced"], intacct)
    link = {"synced": json.dumps(local)}
    if outcome is customer_sync.Outcome.LOCAL_CHANGE:
        plan.writes.append(
            Write(
                "customers", row["id"], "update",
                _write("update", intacct_object, _record("customers", row),
                       {"RECORDNO": row["intacct_recordno"], **payload},
                       version=str(row["posts"])),
                label, digest=digest(payload), link=link,
            )
        )  # fmt: skip
    elif outcome is customer_sync.Outcome.IN_SYNC:
        plan.settled.append(Write("customers", row["id"], "synced", None, label, link=link))
    else:
        why = customer_sync.conflict(row["id"], local, intacct)
        plan.rejected.append((row["id"], label, NotPushable(why.error, why.hint)))


def _plan_contacts(connection, hook) -> Plan:
    """Bill-to contacts: a new local customer is linked to the CONTACT of the same name if
    Intacct has it under the same customer (else a reconciliation error), or created under
    its Intacct customer; a linked one changed locally is sent as an update of its CONTACT,
    by the same both-ways rule as customers (customer_sync.decide)."""
    from intacct_sync.intacct import xml_request as rq

    rows = _customer_rows(connection)
    plan = Plan()
    new = [r for r in rows if r["intacct_recordno"] is None]
    changed = [r for r in rows if r["intacct_recordno"] is not None
               and customer_sync.contact_snapshot(r) != r["synced"]]  # fmt: skip
    names = sorted({r["intacct_contact_name"] for r in new
                    if r["intacct_contact_name"] and _xml_safe(r["intacct_contact_name"])})
    existing: dict[str, dict[str, Any]] = {}
    for i in range(0, len(names), 100):
        for found in hook.read_by_query("CONTACT", ["RECORDNO", "CONTACTNAME", "CUSTOMERID"],
                                        rq.in_("CONTACTNAME", names[i : i + 100])):
            existing[str(found["CONTACTNAME"])] = found
    for row in new:
        label = f"bill-to contact {row['intacct_contact_name']} ({row['name']})"
        if not row["intacct_customer_id"] or not row["intacct_contact_name"]:
            plan.rejected.append((row["id"], label, NotPushable(
                "customer_source is bill_to_contact: a local customer is a bill-to contact of"
                " an Intacct customer and needs intacct_customer_id and intacct_contact_name",
                "Set the Intacct customer id and the contact name of the customer, then "
                "retry.")))  # fmt: skip
            continue
        payload = contact_mapping.to_intacct(row)
        found = existing.get(row["intacct_contact_name"])
        if found is not None and found.get("CUSTOMERID") != row["intacct_customer_id"]:
            plan.rejected.append((row["id"], label, NotPushable(
                f"Intacct has contact {row['intacct_contact_name']!r} under customer "
                f"{found.get('CUSTOMERID')}, not {row['intacct_customer_id']}: not linked",
                "Contact names are unique in Intacct: give this contact another name, or "
                "fix its Intacct customer id, then retry.")))  # fmt: skip
        elif found is not None:
            plan.links.append((row["id"], found["RECORDNO"], row["intacct_customer_id"],
                               digest(payload)))  # fmt: skip
        else:
            synced = json.dumps(customer_sync.contact_snapshot(row))
            plan.writes.append(
                Write(
                    "customers", row["id"], "create",
                    _write("create", "CONTACT", _record("customers", row), payload),
                    label, digest=digest(payload),
                    link={"customer_id": row["intacct_customer_id"], "synced": synced},
                )
            )  # fmt: skip
    current: dict[int, dict[str, Any]] = {}
    keys = [str(r["intacct_recordno"]) for r in changed]
    for i in range(0, len(keys), 100):
        current.update(contact_mapping.versions(list(hook.read_by_query(
            "CONTACT", list(contact_mapping.FIELDS),
            rq.in_("RECORDNO", keys[i : i + 100])))))  # fmt: skip
    for row in changed:
        label = f"bill-to contact {row['intacct_contact_name']} ({row['name']})"
        local = customer_sync.contact_snapshot(row)
        intacct = current.get(int(row["intacct_recordno"]))
        if intacct is None:
            plan.rejected.append((row["id"], label, NotPushable(
                f"Intacct contact RECORDNO {row['intacct_recordno']} was not found (deleted?):"
                " the local change was not pushed",
                "Check the contact in Intacct; link the local customer again or delete it.")))
            continue
        _both_ways(plan, "CONTACT", row, label, local, intacct,
                   contact_mapping.to_intacct(row))
    return plan


def _intacct_versions(hook, recordnos: list[int]) -> dict[int, dict[str, Any]]:
    """The synced fields of these Intacct customers as Intacct has them now (batched)."""
    from intacct_sync.intacct import xml_request as rq

    found: list[dict[str, Any]] = []
    for i in range(0, len(recordnos), 100):
        batch = [str(r) for r in recordnos[i : i + 100]]
        found += hook.read_by_query("CUSTOMER", list(OBJECTS["customers"].fields),
                                    rq.in_("RECORDNO", batch))  # fmt: skip
    if not found:
        return {}
    rows = customer_mapping.map_records(pd.DataFrame.from_records(found)).rows
    return {int(r["intacct_recordno"]): customer_sync.snapshot(r)
            for r in rows.to_dict("records")}  # fmt: skip


def _intacct_customers(hook, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Intacct customers that share an id, account number or name with `rows` (batched)."""
    from intacct_sync.intacct import xml_request as rq

    found: list[dict[str, Any]] = []
    for i in range(0, len(rows), 100):
        batch = rows[i : i + 100]
        # A value XML cannot carry cannot be looked up (nor sent: push refuses that record).
        ids = sorted({v for r in batch for v in (r["intacct_customer_id"], r["account_number"])
                      if v and _xml_safe(v)})  # fmt: skip
        names = sorted({r["name"] for r in batch if _xml_safe(r["name"])})
        filters = [rq.in_(f, values) for f, values in (("NAME", names), ("CUSTOMERID", ids))
                   if values]  # fmt: skip
        if filters:
            found += hook.read_by_query("CUSTOMER", ["RECORDNO", "CUSTOMERID", "NAME"],
                                        rq.Or(*filters))
    return found


def _xml_safe(value: str) -> bool:
    """Whether XML 1.0 can carry `value` (PostgreSQL text holds control characters)."""
    try:
        etree.Element("value").text = value
    except ValueError:
        return False
    return True


def _match(row: Mapping[str, Any], candidates: list[dict[str, Any]]) -> Any:
    """The one Intacct customer this local customer is (design.md, Customers), None, or
    NotPushable when several match and a person must choose."""
    for key, field_name in (
        (row["intacct_customer_id"], "CUSTOMERID"),
        (row["account_number"], "CUSTOMERID"),
        (row["name"].lower(), "NAME"),
    ):
        if not key:
            continue
        same = [c for c in candidates if str(c.get(field_name) or "").lower() == key.lower()]
        if len(same) == 1 and field_name == "NAME" and customer_sync.conflicting(
            row, same[0]["CUSTOMERID"]
        ):
            return customer_sync.account_conflict(row, same[0]["CUSTOMERID"], same[0]["NAME"])
        if len(same) == 1:
            return same[0]
        if len(same) > 1:
            return NotPushable(
                f"{len(same)} Intacct customers have {field_name} {key!r}",
                "Set the local customer's intacct_customer_id to the right Intacct customer id,"
                " then retry.",
            )
    return None


def _document_planner(name: str, kind: str) -> Callable[..., Plan]:
    """Invoices (A/R invoice) and credit notes (A/R adjustment): non-draft local documents
    are posted once; afterwards only a void is posted, as a reversal (reverse_invoice /
    reverse_aradjustment): Intacct refuses to delete a document that was ever applied.
    """
    obj = OBJECTS[name]
    intacct_object = obj.push.intacct_object  # type: ignore[union-attr]
    create = "create_invoice" if kind == "invoice" else "create_aradjustment"
    void = "reverse_invoice" if kind == "invoice" else "reverse_aradjustment"

    def plan(connection, hook, config: SyncConfig) -> Plan:
        rows = _rows(
            connection,
            "SELECT d.*, c.intacct_customer_id AS customer_key,"
            " c.intacct_contact_name AS customer_contact,"
            " c.intacct_recordno IS NOT NULL AS customer_linked,"
            f" {push_links.snapshot_sql(name, 'd')} AS pushed_snapshot"
            f" FROM {obj.table} d LEFT JOIN ar.customers c ON c.id = d.customer_id"
            " WHERE d.origin = 'local' AND d.deleted_at IS NULL AND d.state <> 'draft'"
            f" AND {_not_ignored('d')} AND CASE WHEN d.state = 'void'"
            f"  THEN {_posted('d', 'create')} AND NOT {_posted('d', 'void')}"
            f"  ELSE NOT {_posted('d', 'create')} AND {_after_cut_over(name, 'd')} END"
            " ORDER BY d.id",
            {"object": name, "cut_over": _cut_over(connection, name, config)},
        )
        lines = _children(connection, obj.child_table, obj.child_parent_column, rows)
        result = Plan()
        for row in rows:
            label = f"{kind.replace('_', ' ')} {row['number']}"
            record = _record(name, row)
            if row["state"] == "void":
                fields = {"datereversed": _today(hook)}
                result.writes.append(
                    Write(
                        name, row["id"], "void",
                        _write(void, intacct_object, record, fields, key=str(row["ar_recordno"])),
                        label,
                    )
                )  # fmt: skip
                continue
            if not row["customer_linked"]:
                result.waiting += 1
                continue
            try:
                fields = document_mapping.to_intacct(
                    kind, row, lines.get(row["id"], []), row["customer_key"],
                    config.dimensions, config.invoice_glaccountno,
                )  # fmt: skip
            except NotPushable as why:
                result.rejected.append((row["id"], label, why))
                continue
            if kind == "invoice" and row["customer_contact"]:
                fields = _with_bill_to(fields, row["customer_contact"])
            result.writes.append(
                Write(name, row["id"], "create", _write(create, intacct_object, record, fields),
                      label, sent=row["pushed_snapshot"])
            )  # fmt: skip
        return result

    return plan


def _with_bill_to(fields: dict[str, Any], contact: str) -> dict[str, Any]:
    """A bill-to contact's invoice (customer_source bill_to_contact): written to its Intacct
    customer (customerid) with the contact as its bill-to, placed where create_invoice's
    schema has it (after description, before currency). Payments carry no contact: they go
    to the Intacct customer."""
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if key == "currency":
            out["billto"] = {"contactname": contact}
        out[key] = value
    return out


def _children(connection, table: str | None, parent: str | None, rows: list[dict]) -> dict:
    if not rows or not table:
        return {}
    out: dict[int, list[dict[str, Any]]] = {}
    for child in _rows(
        connection,
        f"SELECT * FROM {table} WHERE {parent} = ANY(%(ids)s) ORDER BY {parent}, line_no",
        {"ids": [r["id"] for r in rows]},
    ):
        out.setdefault(child[parent], []).append(child)
    return out


def plan_payments(connection, hook, config: SyncConfig) -> Plan:
    """A/R payment for the cash (the fee part applied to the fee invoice, if the payment has
    one, else left as an overpayment), then one apply_arpayment per credit-note application.
    A void is `_void_writes`."""
    rows = _rows(
        connection,
        "SELECT * FROM (SELECT p.*, c.intacct_customer_id AS customer_key,"
        " c.intacct_recordno IS NOT NULL AS customer_linked,"
        f" {push_links.snapshot_sql('payments', 'p')} AS pushed_snapshot,"
        " EXISTS (SELECT 1 FROM intacct_sync.pushes x WHERE x.object = 'payments'"
        "  AND x.local_id = p.id) AS started,"
        f" {_after_cut_over('payments', 'p')} AS after_cut_over,"
        f" {_posted('p', 'create')} AS created, {_posted('p', 'void')} AS voided,"
        " f.id AS fee_id, f.created_at AS fee_created_at, f.amount AS fee_amount,"
        " (SELECT x.intacct_key FROM intacct_sync.pushes x WHERE x.object = 'convenience_fees'"
        "  AND x.local_id = f.id AND x.action = 'create') AS fee_invoice_key,"
        " EXISTS (SELECT 1 FROM intacct_sync.pushes x WHERE x.object = 'convenience_fees'"
        "  AND x.local_id = f.id AND x.action = 'void') AS fee_voided"
        " FROM ar.payments p LEFT JOIN ar.customers c ON c.id = p.customer_id"
        " LEFT JOIN ar.convenience_fees f ON f.payment_id = p.id"
        " WHERE p.origin = 'local' AND p.deleted_at IS NULL AND p.state <> 'draft') p"
        f" WHERE {_not_ignored('p')} AND (p.started OR p.after_cut_over)"
        # Only what still needs a write: a void (and then its fee invoice's reversal), the
        # payment itself, or a credit application (so the push does not reread every payment
        # it ever posted).
        " AND CASE WHEN p.state = 'void'"
        "  THEN NOT p.voided OR (p.fee_invoice_key IS NOT NULL AND NOT p.fee_voided)"
        "  ELSE NOT p.voided AND ((p.amount > 0 AND NOT p.created)"
        "   OR EXISTS (SELECT 1 FROM ar.payment_applications a WHERE a.payment_id = p.id"
        f"    AND a.credit_amount > 0 AND NOT {_applied('p.id', 'a.line_no')})) END"
        " ORDER BY p.id",
        {"object": "payments", "cut_over": _cut_over(connection, "payments", config)},
    )
    applications = _rows(
        connection,
        "SELECT a.*, i.ar_recordno AS invoice_key, n.ar_recordno AS credit_key,"
        f" n.number AS credit_number, {_applied('a.payment_id', 'a.line_no')} AS applied"
        " FROM ar.payment_applications a LEFT JOIN ar.invoices i ON i.id = a.invoice_id"
        " LEFT JOIN ar.credit_notes n ON n.id = a.credit_note_id"
        " WHERE a.payment_id = ANY(%(ids)s) ORDER BY a.payment_id, a.line_no",
        {"ids": [r["id"] for r in rows]},
    )
    by_payment: dict[int, list[dict[str, Any]]] = {}
    for app in applications:
        by_payment.setdefault(app["payment_id"], []).append(app)
    plan = Plan()
    write_on = config.convenience_fee_mode == "write_on"
    for row in rows:
        apps = by_payment.get(row["id"], [])
        reference = payment_mapping.reference(row)
        label = f"payment {reference}"
        record = _record("payments", row)
        if row["state"] == "void":
            _void_writes(plan, hook, row, apps, label)
            continue
        cash = [a for a in apps if Decimal(a["amount"]) > 0]
        credits = [a for a in apps if Decimal(a["credit_amount"]) > 0]
        fee = Decimal(row["fee_amount"] or 0)
        ready = (
            row["customer_linked"]
            and all(a["invoice_key"] for a in apps)
            and all(a["credit_key"] for a in credits)
            and not (fee and write_on and not row["fee_invoice_key"])
        )
        if not ready:
            plan.waiting += 1
            continue
        if not row["created"] and Decimal(row["amount"]) > 0:
            items = [(str(a["invoice_key"]), Decimal(a["amount"])) for a in cash]
            # A fee invoice, once created, is paid by its payment whatever the mode is now:
            # a change of mode applies to new payments only.
            if fee and row["fee_invoice_key"]:
                items.append((str(row["fee_invoice_key"]), fee))
            try:
                fields = payment_mapping.to_intacct(
                    row, row["customer_key"], items,
                    row["bank_account"] or config.undeposited_funds_account,
                    config.overpayment_dimensions,
                )  # fmt: skip
            except NotPushable as why:
                plan.rejected.append((row["id"], label, why))
                continue
            plan.writes.append(
                Write("payments", row["id"], "create",
                      _write("create_arpayment", "ARPYMT", record, fields), label,
                      sent=row["pushed_snapshot"])
            )  # fmt: skip
            plan.follow_up |= bool(credits)  # applied once the payment is in Intacct
            continue
        for app in credits:
            if app["applied"]:
                continue
            fields = payment_mapping.credit_application(
                row, str(app["credit_key"]), str(app["invoice_key"]),
                Decimal(app["credit_amount"]), f"credit note {app['credit_number']}",
            )  # fmt: skip
            plan.writes.append(
                Write(
                    "payments", row["id"], "apply_credit",
                    _write("apply_arpayment", "ARPYMT", f"{record}-line-{app['line_no']}",
                           fields),
                    f"{label}, credit note {app['credit_number']}", part=str(app["line_no"]),
                )
            )  # fmt: skip
    return plan


def _void_writes(plan: Plan, hook, row: dict[str, Any], apps: list[dict], label: str) -> None:
    """A voided payment (design.md, Payments): reverse its A/R payment, then its
    convenience-fee invoice (Intacct refuses to reverse an invoice that is still paid). Its
    credit applications are not reversed: Intacct's API reverses payments, not credit
    applications, so a person unapplies them and the payment carries a warning saying so.
    A payment Intacct has no A/R payment of (credit-only, or voided before posting) is
    settled here: nothing to send, the warning if its credits were applied."""
    applied = [a["credit_number"] for a in apps if a["applied"]]
    if not row["voided"]:
        if row["created"]:
            plan.writes.append(
                Write(
                    "payments", row["id"], "void",
                    _write("reverse_arpayment", "ARPYMT", _record("payments", row),
                           {"datereversed": _today(hook)}, key=str(row["intacct_recordno"])),
                    label, link={"warning": _void_warning(applied, reversed_payment=True)},
                )
            )  # fmt: skip
            plan.follow_up |= bool(row["fee_invoice_key"])  # the fee invoice after it
            return
        plan.settled.append(
            Write("payments", row["id"], "void", None, label,
                  link={"warning": _void_warning(applied, reversed_payment=False)})
        )  # fmt: skip
    if row["fee_invoice_key"] and not row["fee_voided"]:
        fee = {"id": row["fee_id"], "created_at": row["fee_created_at"]}
        plan.writes.append(
            Write(
                "convenience_fees", row["fee_id"], "void",
                _write("reverse_invoice", "ARINVOICE", _record("convenience_fees", fee),
                       {"datereversed": _today(hook)}, key=str(row["fee_invoice_key"])),
                f"convenience fee {fee_mapping.invoice_number(fee)} of {label}",
            )
        )  # fmt: skip


def _void_warning(credit_numbers: list[str], *, reversed_payment: bool) -> str | None:
    if not credit_numbers:
        return None
    done = "the A/R payment was reversed in Intacct, but " if reversed_payment else ""
    return (
        f"Voided: {done}the credit applications of credit note(s) {', '.join(credit_numbers)}"
        " were not reversed; reverse them by hand in Intacct (Posted payments, Unapply)."
    )


def plan_convenience_fees(connection, hook, config: SyncConfig) -> Plan:
    """write_on: one convenience-fee A/R invoice per fee of a ready local payment that is not
    in Intacct yet (the payment then applies the fee part to it): switching to write_on does
    not bill fees of payments already posted. write_off: nothing (an overpayment). A voided
    payment's fee invoice is reversed by the payments push, after the payment."""
    plan = Plan()
    if config.convenience_fee_mode != "write_on":
        return plan
    rows = _rows(
        connection,
        "SELECT f.*, p.payment_date, p.reference, p.id AS payment_id,"
        f" {push_links.snapshot_sql('convenience_fees', 'f')} AS pushed_snapshot,"
        " c.intacct_customer_id AS customer_key,"
        " c.intacct_recordno IS NOT NULL AS customer_linked"
        " FROM ar.convenience_fees f JOIN ar.payments p ON p.id = f.payment_id"
        " LEFT JOIN ar.customers c ON c.id = p.customer_id"
        " WHERE p.origin = 'local' AND p.deleted_at IS NULL"
        " AND p.state NOT IN ('draft', 'void')"
        " AND NOT EXISTS (SELECT 1 FROM intacct_sync.pushes x WHERE x.object = 'payments'"
        "  AND x.local_id = p.id AND x.action = 'create')"
        f" AND {_not_ignored('f')} AND NOT {_posted('f', 'create')}"
        f" AND {_after_cut_over('payments', 'p')} ORDER BY f.id",
        {"object": "convenience_fees",
         "cut_over": _cut_over(connection, "convenience_fees", config)},
    )
    line = config.convenience_fee_line
    for row in rows:
        if not row["customer_linked"]:
            plan.waiting += 1
            continue
        payment = {"id": row["payment_id"], "payment_date": row["payment_date"],
                   "reference": row["reference"]}  # fmt: skip
        fields = fee_mapping.to_intacct(
            row, payment, row["customer_key"], line,
            line.get("glaccountno") or config.invoice_glaccountno,
        )  # fmt: skip
        plan.writes.append(
            Write(
                "convenience_fees", row["id"], "create",
                _write("create_invoice", "ARINVOICE", _record("convenience_fees", row), fields),
                f"convenience fee {fee_mapping.invoice_number(row)}",
                sent=row["pushed_snapshot"],
            )
        )  # fmt: skip
    return plan


PLANNERS: dict[str, Callable[..., Plan]] = {
    "customers": plan_customers,
    "invoices": _document_planner("invoices", "invoice"),
    "credit_notes": _document_planner("credit_notes", "credit_note"),
    "payments": plan_payments,
    "convenience_fees": plan_convenience_fees,
}
