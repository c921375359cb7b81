"""Push local records to Intacct: what is ready, as which write, and what each result does.

A push of one object: take the object's advisory lock (one push per object at a time), plan
the writes of every ready record from Postgres alone, send them with ``uniqueid=true`` in
batches, and commit each result in one transaction: the `intacct_sync.pushes` row, the
Intacct key on the local record, and the record's reconciliation error (resolved, or opened
with Intacct's error numbers and the fix hint). Because the plan follows only from what
Intacct accepted before, a push retried after a crash or a timeout sends the same control
ids again; Intacct refuses those replays and the hook looks the keys up (protocol §1.4).

Rules (design.md §2) live in the planners below, one per object; the payloads live in the
object's mapping module (`to_intacct`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import psycopg2
import psycopg2.extras

from include.loading import record_errors, resolve_errors
from include.mapping import NotPushable, Rejected
from include.mapping import convenience_fees as fee_mapping
from include.mapping import customers as customer_mapping
from include.mapping import payments as payment_mapping
from include.mapping import sales_documents as document_mapping
from include.sync_config import SyncConfig
from include.sync_objects import OBJECTS, dependents

log = logging.getLogger(__name__)

NOTIFY_CHANNEL = "intacct_push"
BATCH = 200  # records per write_batch call (the hook sends 50 functions per request)
# A credit note is applied after its payment posted: a push makes at most this many passes.
MAX_PASSES = 3
_LOCK_BASE = 7_420_200  # + object index: "intacct-sync push of <object>"


@dataclass
class Write:
    """One planned write of one local record."""

    object: str
    local_id: int
    action: str  # create | update | void | apply_credit
    function: Any  # intacct_sync.hooks.intacct.WriteFunction
    label: str  # what a person recognises: "invoice INV-1001"
    part: str = ""  # which application line (apply_credit)
    digest: str | None = None  # what was sent (customers)
    link: dict[str, Any] = field(default_factory=dict)  # values the link statement needs

    @property
    def step(self) -> tuple[int, str, str]:
        return (self.local_id, self.action, self.part)


@dataclass
class Plan:
    writes: list[Write] = field(default_factory=list)
    # Customers that already exist in Intacct: (local id, Intacct RECORDNO, CUSTOMERID, digest)
    links: list[tuple[int, str, str, str]] = field(default_factory=list)
    rejected: list[tuple[int, str, NotPushable]] = field(default_factory=list)  # id, label, why
    waiting: int = 0  # ready, but something they refer to is not in Intacct yet


@dataclass
class PushCounts:
    posted: int = 0
    linked: int = 0
    replayed: int = 0  # Intacct had already recorded the write (a replay after a timeout)
    failed: int = 0
    waiting: int = 0
    failed_ids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "posted": self.posted,
            "linked": self.linked,
            "replayed": self.replayed,
            "failed": self.failed,
            "waiting": self.waiting,
        }


def digest(payload: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _write(action: str, obj: str, record: str, fields: Mapping[str, Any], **kw: Any) -> Any:
    from intacct_sync.hooks.intacct import WriteFunction

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


# -- planners: one per object -------------------------------------------------------------
def plan_customers(connection, hook, config: SyncConfig) -> Plan:
    """New local customers are linked to an existing Intacct customer (same id, account
    number, then name) or created; linked ones are updated when their data changes."""
    rows = _rows(
        connection,
        "SELECT c.*, (SELECT p.digest FROM intacct_sync.pushes p WHERE p.object = %(object)s"
        "  AND p.local_id = c.id ORDER BY p.posted_at DESC LIMIT 1) AS last_digest,"
        " (SELECT count(*) FROM intacct_sync.pushes p WHERE p.object = %(object)s"
        "  AND p.local_id = c.id) AS posts"
        f" FROM ar.customers c WHERE c.origin = 'local' AND c.deleted_at IS NULL"
        f" AND {_not_ignored('c')} ORDER BY c.id",
        {"object": "customers"},
    )
    plan = Plan()
    new = [r for r in rows if not r["posts"]]
    matches = _intacct_customers(hook, new)
    for row in rows:
        payload = customer_mapping.to_intacct(row)
        customer_id = payload["CUSTOMERID"]
        label = f"customer {customer_id} ({row['name']})"
        sent = digest(payload)
        if row["posts"]:
            if sent != row["last_digest"]:
                plan.writes.append(
                    Write(
                        "customers", row["id"], "update",
                        _write("update", "CUSTOMER", _record("customers", row),
                               {"RECORDNO": row["intacct_recordno"], **payload},
                               version=str(row["posts"])),
                        label, digest=sent, link={"customer_id": customer_id},
                    )
                )  # fmt: skip
            continue
        found = _match(row, matches)
        if isinstance(found, NotPushable):
            plan.rejected.append((row["id"], label, found))
        elif found is not None:
            linked = customer_mapping.to_intacct(
                {**row, "intacct_customer_id": found["CUSTOMERID"]}
            )
            plan.links.append((row["id"], found["RECORDNO"], found["CUSTOMERID"], digest(linked)))
        else:
            plan.writes.append(
                Write(
                    "customers", row["id"], "create",
                    _write("create", "CUSTOMER", _record("customers", row), payload),
                    label, digest=sent, link={"customer_id": customer_id},
                )
            )  # fmt: skip
    return plan


def _intacct_customers(hook, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Intacct customers that share an id, account number or name with `rows` (batched)."""
    from intacct_sync import xml_request as rq

    found: list[dict[str, Any]] = []
    for i in range(0, len(rows), 100):
        batch = rows[i : i + 100]
        ids = sorted(
            {v for r in batch for v in (r["intacct_customer_id"], r["account_number"]) if v}
        )
        names = sorted({r["name"] for r in batch})
        query = rq.Or(rq.in_("NAME", names), *([rq.in_("CUSTOMERID", ids)] if ids else []))
        found += hook.read_by_query("CUSTOMER", ["RECORDNO", "CUSTOMERID", "NAME"], query)
    return found


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
    are posted once; afterwards only a void is posted (reverse_invoice / delete_aradjustment).
    """
    obj = OBJECTS[name]
    intacct_object = obj.push.intacct_object  # type: ignore[union-attr]
    create = "create_invoice" if kind == "invoice" else "create_aradjustment"
    void = "reverse_invoice" if kind == "invoice" else "delete_aradjustment"

    def plan(connection, hook, config: SyncConfig) -> Plan:
        rows = _rows(
            connection,
            "SELECT d.*, c.intacct_customer_id AS customer_key,"
            " c.intacct_recordno IS NOT NULL AS customer_linked,"
            f" {_posted('d', 'create')} AS created, {_posted('d', 'void')} AS voided"
            f" FROM {obj.table} d LEFT JOIN ar.customers c ON c.id = d.customer_id"
            " WHERE d.origin = 'local' AND d.deleted_at IS NULL AND d.state <> 'draft'"
            f" AND {_not_ignored('d')} AND CASE WHEN d.state = 'void'"
            f"  THEN {_posted('d', 'create')} AND NOT {_posted('d', 'void')}"
            f"  ELSE NOT {_posted('d', 'create')} END ORDER BY d.id",
            {"object": name},
        )
        lines = _children(connection, obj.child_table, obj.child_parent_column, rows)
        result = Plan()
        for row in rows:
            label = f"{kind.replace('_', ' ')} {row['number']}"
            record = _record(name, row)
            if row["state"] == "void":
                fields = {"datereversed": _today(hook)} if kind == "invoice" else {}
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
            result.writes.append(
                Write(name, row["id"], "create", _write(create, intacct_object, record, fields),
                      label)
            )  # fmt: skip
        return result

    return plan


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
    """A/R payment for the cash (the fee part applied to the fee invoice, or left as an
    overpayment), then one apply_arpayment per credit-note application; a void reverses only
    the A/R payment and leaves a warning about the credit applications."""
    rows = _rows(
        connection,
        "SELECT p.*, c.intacct_customer_id AS customer_key,"
        " c.intacct_recordno IS NOT NULL AS customer_linked,"
        f" {_posted('p', 'create')} AS created, {_posted('p', 'void')} AS voided,"
        " f.id AS fee_id, f.amount AS fee_amount,"
        " (SELECT x.intacct_key FROM intacct_sync.pushes x WHERE x.object = 'convenience_fees'"
        "  AND x.local_id = f.id AND x.action = 'create') AS fee_invoice_key"
        " FROM ar.payments p LEFT JOIN ar.customers c ON c.id = p.customer_id"
        " LEFT JOIN ar.convenience_fees f ON f.payment_id = p.id"
        " WHERE p.origin = 'local' AND p.deleted_at IS NULL AND p.state <> 'draft'"
        f" AND {_not_ignored('p')} AND NOT {_posted('p', 'void')} ORDER BY p.id",
        {"object": "payments"},
    )
    applications = _rows(
        connection,
        "SELECT a.*, i.ar_recordno AS invoice_key, n.ar_recordno AS credit_key,"
        " n.number AS credit_number, EXISTS (SELECT 1 FROM intacct_sync.pushes x"
        "  WHERE x.object = 'payments' AND x.local_id = a.payment_id"
        "  AND x.action = 'apply_credit' AND x.part = a.line_no::text) AS applied"
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
            if row["created"]:
                credits = [a["credit_number"] for a in apps if a["applied"]]
                plan.writes.append(
                    Write(
                        "payments", row["id"], "void",
                        _write("reverse_arpayment", "ARPYMT", record,
                               {"datereversed": _today(hook)}, key=str(row["intacct_recordno"])),
                        label, link={"warning": _void_warning(credits)},
                    )
                )  # fmt: skip
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
            if fee and write_on:
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
                      _write("create_arpayment", "ARPYMT", record, fields), label)
            )  # fmt: skip
            continue  # its credit notes are applied once the payment is in Intacct
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


def _void_warning(credit_numbers: list[str]) -> str | None:
    if not credit_numbers:
        return None
    return (
        "Voided: the A/R payment was reversed in Intacct, but the credit applications of "
        f"credit note(s) {', '.join(credit_numbers)} were not; reverse them by hand in Intacct."
    )


def plan_convenience_fees(connection, hook, config: SyncConfig) -> Plan:
    """write_on: one convenience-fee A/R invoice per fee of a ready local payment (the
    payment then applies the fee part to it); write_off: nothing (an overpayment)."""
    plan = Plan()
    if config.convenience_fee_mode != "write_on":
        return plan
    rows = _rows(
        connection,
        "SELECT f.*, p.payment_date, p.reference, p.id AS payment_id,"
        " c.intacct_customer_id AS customer_key,"
        " c.intacct_recordno IS NOT NULL AS customer_linked"
        " FROM ar.convenience_fees f JOIN ar.payments p ON p.id = f.payment_id"
        " LEFT JOIN ar.customers c ON c.id = p.customer_id"
        " WHERE p.origin = 'local' AND p.deleted_at IS NULL"
        " AND p.state NOT IN ('draft', 'void')"
        f" AND {_not_ignored('f')} AND NOT {_posted('f', 'create')} ORDER BY f.id",
        {"object": "convenience_fees"},
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

# What a successful write changes on the local record (the key link), same transaction.
LINKS: dict[tuple[str, str], str] = {
    ("customers", "create"): "UPDATE ar.customers SET intacct_recordno = %(key)s,"
    " intacct_customer_id = %(customer_id)s WHERE id = %(id)s",
    ("invoices", "create"): "UPDATE ar.invoices SET ar_recordno = %(key)s WHERE id = %(id)s",
    ("credit_notes", "create"): "UPDATE ar.credit_notes SET ar_recordno = %(key)s"
    " WHERE id = %(id)s",
    ("payments", "create"): "UPDATE ar.payments SET intacct_recordno = %(key)s WHERE id = %(id)s",
    ("payments", "void"): "UPDATE ar.payments SET warning = coalesce(%(warning)s, warning)"
    " WHERE id = %(id)s",
}
LINKS[("customers", "link")] = LINKS[("customers", "create")]
# Creates whose key later writes need: without it the record is not marked posted.
NEEDS_KEY = {("customers", "create"), ("invoices", "create"), ("credit_notes", "create"),
             ("payments", "create"), ("convenience_fees", "create")}  # fmt: skip


# -- running a push ---------------------------------------------------------------------------
@contextmanager
def _object_lock(connection, name: str) -> Iterator[None]:
    """One push of an object at a time (an event-driven run may meet the hourly one)."""
    key = _LOCK_BASE + list(OBJECTS).index(name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", (key,))
    connection.commit()
    try:
        yield
    finally:
        connection.rollback()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", (key,))
        connection.commit()


def push_object(hook, connection, name: str, config: SyncConfig) -> PushCounts:
    """Post every ready local record of `name`; returns what happened (small, for XCom)."""
    counts = PushCounts()
    done: set[tuple[int, str, str]] = set()  # failed or rejected in this push: not resent
    with _object_lock(connection, name):
        for _ in range(MAX_PASSES):
            plan = PLANNERS[name](connection, hook, config)
            connection.rollback()  # planning only read; end its transaction
            counts.waiting = plan.waiting
            rejected = [r for r in plan.rejected if (r[0], "create", "") not in done]
            writes = [w for w in plan.writes if w.step not in done]
            _record_rejected(connection, name, rejected, counts)
            done.update((r[0], "create", "") for r in rejected)
            _link_customers(connection, plan.links, counts)
            if not writes:
                break
            for i in range(0, len(writes), BATCH):
                batch = writes[i : i + BATCH]
                results = hook.write_batch([w.function for w in batch])
                failed = _commit(connection, name, batch, results, counts)
                done.update(w.step for w in failed)
    if counts.posted or counts.linked:
        _wake(connection, dependents(name))
    log.info("push %s: %s", name, counts.as_dict())
    return counts


def _record_rejected(connection, name: str, rejected: list, counts: PushCounts) -> None:
    if not rejected:
        return
    with connection, connection.cursor() as cursor:
        record_errors(
            cursor, name, "push",
            [Rejected(str(i), f"{label}: {why}", why.hint) for i, label, why in rejected],
        )  # fmt: skip
    counts.failed += len(rejected)
    counts.failed_ids += [str(i) for i, _, _ in rejected]
    for i, label, why in rejected:
        log.warning("push %s %s (%s) not sent: %s", name, i, label, why)


def _link_customers(connection, links: list, counts: PushCounts) -> None:
    """Customers that already exist in Intacct are linked, not created again."""
    for local_id, recordno, customer_id, sent in links:
        write = Write("customers", local_id, "link", None, f"customer {customer_id}",
                      digest=sent, link={"customer_id": customer_id})  # fmt: skip
        _apply(connection, write, f"link:CUSTOMER:customers-{local_id}-{recordno}", "CUSTOMER",
               str(recordno), counts)  # fmt: skip


def _commit(connection, name: str, batch: list[Write], results: list, counts: PushCounts):
    """Record each result; returns the writes that failed."""
    failed = []
    for write, result in zip(batch, results, strict=True):
        key = result.key
        if result.ok and key is None and (write.object, write.action) in NEEDS_KEY:
            message = (
                f"{write.label}: Intacct recorded {write.function.action} but its key could "
                "not be found again"
            )
            _fail(connection, write, message, [], "The next push looks it up again; if this "
                  "stays, find the record in Intacct and link it by hand.", counts)  # fmt: skip
            failed.append(write)
        elif result.ok:
            counts.replayed += result.already_recorded
            if not _apply(connection, write, result.control_id,
                          write.function.object or "", key, counts):  # fmt: skip
                failed.append(write)
        else:
            error = result.error
            _fail(connection, write, f"{write.label}: {error.message}", error.errornos,
                  error.hint, counts)  # fmt: skip
            failed.append(write)
    return failed


def _apply(connection, write: Write, control_id: str, intacct_object: str, key: str | None,
           counts: PushCounts) -> bool:  # fmt: skip
    """The pushes row, the key link and the error's resolution, in one transaction."""
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute("SET LOCAL intacct_sync.pushing = 'on'")  # no NOTIFY for our own
            cursor.execute(
                "INSERT INTO intacct_sync.pushes (control_id, object, local_id, action, part,"
                " intacct_object, intacct_key, digest) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (control_id) DO NOTHING",
                (control_id, write.object, write.local_id, write.action, write.part,
                 intacct_object, key, write.digest),
            )  # fmt: skip
            statement = LINKS.get((write.object, write.action))
            if statement:
                cursor.execute(statement, {"id": write.local_id, "key": key, **write.link})
            resolve_errors(cursor, write.object, [str(write.local_id)], "push")
    except psycopg2.IntegrityError as error:
        message = (error.diag.message_primary or str(error)).strip()
        _fail(connection, write, f"{write.label}: posted to Intacct (key {key}) but could not "
              f"be linked: {message}", [], "Another local record is already linked to this "
              "Intacct record: merge the two local records, then retry.", counts)  # fmt: skip
        return False
    if write.action == "link":
        counts.linked += 1
    else:
        counts.posted += 1
    return True


def _fail(connection, write: Write, message: str, errornos: list[str], hint: str,
          counts: PushCounts) -> None:  # fmt: skip
    with connection, connection.cursor() as cursor:
        record_errors(
            cursor, write.object, "push", [Rejected(str(write.local_id), message, hint)],
            errornos,
        )  # fmt: skip
    counts.failed += 1
    counts.failed_ids.append(str(write.local_id))
    log.warning("push %s %s failed: %s (%s)", write.object, write.local_id, message, hint)


def _wake(connection, names: list[str]) -> None:
    """Records waiting for what was just posted are ready now: wake their push DAGs."""
    if not names:
        return
    with connection, connection.cursor() as cursor:
        for name in names:
            cursor.execute("SELECT pg_notify(%s, %s)", (NOTIFY_CHANNEL, name))
