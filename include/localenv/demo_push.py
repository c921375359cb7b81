"""The push half of `make run`: local-origin demo records of every kind, and a report of what
was posted, checked against the sandbox's own records.

The sandbox starts fresh on every `make run`, so the demo's local records (account numbers
and document numbers starting with DEMO-) are replaced each time, with their push history.
"""

from __future__ import annotations

import urllib.error

import psycopg2.extras
from intacct_sync.push import posting as push

from include.localenv import sandbox_api
from include.localenv.local_records import Application, Line, LocalRecords

PREFIX = "DEMO-"
# What a run must leave in Intacct: (object, action) → how many pushes.
EXPECTED = {
    ("customers", "create"): 2,
    ("customers", "link"): 1,
    ("invoices", "create"): 4,
    ("invoices", "void"): 1,
    ("credit_notes", "create"): 1,
    ("payments", "create"): 3,
    ("payments", "apply_credit"): 1,
    ("convenience_fees", "create"): 1,
}
VOIDED_INVOICE = "DEMO-INV-4"


def reset(connection) -> None:
    """Remove the previous run's demo records, their push history and their errors."""
    owned = (
        "SELECT 'customers', c.id FROM ar.customers c WHERE {demo}"
        " UNION ALL SELECT 'invoices', d.id FROM ar.invoices d JOIN ar.customers c"
        "  ON c.id = d.customer_id WHERE {demo}"
        " UNION ALL SELECT 'credit_notes', d.id FROM ar.credit_notes d JOIN ar.customers c"
        "  ON c.id = d.customer_id WHERE {demo}"
        " UNION ALL SELECT 'payments', d.id FROM ar.payments d JOIN ar.customers c"
        "  ON c.id = d.customer_id WHERE {demo}"
        " UNION ALL SELECT 'convenience_fees', f.id FROM ar.convenience_fees f"
        "  JOIN ar.payments d ON d.id = f.payment_id JOIN ar.customers c"
        "  ON c.id = d.customer_id WHERE {demo}"
    ).format(demo="c.origin = 'local' AND c.account_number LIKE %(prefix)s")
    with connection, connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM ({owned}) o", {"prefix": PREFIX + "%"})
        rows = cursor.fetchall()
        objects, ids = [r[0] for r in rows], [r[1] for r in rows]
        cursor.execute(
            "DELETE FROM intacct_sync.pushes p USING unnest(%s::text[], %s::bigint[]) o(n, id)"
            " WHERE p.object = o.n AND p.local_id = o.id",
            (objects, ids),
        )
        for table in ("push_links", "push_ready"):  # what the push knew of them (0013)
            cursor.execute(
                f"DELETE FROM intacct_sync.{table} p"
                " USING unnest(%s::text[], %s::bigint[]) o(n, id)"
                " WHERE p.object = o.n AND p.local_id = o.id",
                (objects, ids),
            )
        cursor.execute(
            "DELETE FROM intacct_sync.reconciliation_errors e"
            " USING unnest(%s::text[], %s::text[]) o(n, id)"
            " WHERE e.direction = 'push' AND e.object = o.n AND e.record_id = o.id",
            (objects, [str(i) for i in ids]),
        )
        for table, name in (("convenience_fees", "convenience_fees"), ("payments", "payments"),
                            ("invoices", "invoices"), ("credit_notes", "credit_notes"),
                            ("customers", "customers")):  # fmt: skip
            cursor.execute(
                f"DELETE FROM ar.{table} WHERE id = ANY(%s)",
                ([i for n, i in zip(objects, ids, strict=True) if n == name],),
            )


def seed(connection, base_url: str) -> None:
    """Local records of every kind: new customers and one that already exists in Intacct,
    draft and ready invoices (with line dimensions), a credit note, payments in cash, with a
    credit note, and with a convenience fee."""
    reset(connection)
    # The push is enabled before the records are entered (its cut-over: older local records
    # are never posted), as when the AR team switches the sync on.
    push.enable(connection)
    records = LocalRecords(connection)
    # Someone creates a customer in Intacct after the last pull; the AR platform enters the
    # same customer (its account number is the Intacct customer id): the push links the two
    # instead of creating a duplicate. A different account number would be a conflict.
    [event] = sandbox_api.post(base_url, "activity", {"steps": 1, "actions": ["create_customer"]})[
        "events"
    ]
    existing = sandbox_api.get(base_url, "record", object="CUSTOMER", recordno=event["recordno"])
    bakery = records.customer("Demo Bakery", account_number="DEMO-C1", email="ap@bakery.example")
    florist = records.customer("Demo Florist", account_number="DEMO-C2", city="Portland")
    records.customer(existing["NAME"], account_number=existing["CUSTOMERID"])  # linked
    inv1 = records.document(
        "invoices", bakery, "DEMO-INV-1",
        [Line("250.00", "Ovens service", department_id="SERVICES"),
         Line("50.00", "Training", dimensions={"intacct_glaccountno": "4100",
                                                "intacct_project": "PRJ-100"})],
    )  # fmt: skip
    inv2 = records.document("invoices", florist, "DEMO-INV-2", [Line("120.00", "Subscription")])
    records.document("invoices", florist, "DEMO-INV-3", [Line("75.00", "Draft")], state="draft")
    records.document("invoices", bakery, VOIDED_INVOICE, [Line("40.00", "Entered twice")])
    inv5 = records.document("invoices", florist, "DEMO-INV-5", [Line("200.00", "Hardware")])
    credit = records.document("credit_notes", bakery, "DEMO-CN-1", [Line("50.00", "Returned")])
    records.payment(florist, "120.00", [Application(inv2, "120.00")], reference="DEMO-PAY-1")
    records.payment(
        bakery, "250.00", [Application(inv1, "250.00", credit, "50.00")], reference="DEMO-PAY-2"
    )
    records.payment(
        florist, "206.00", [Application(inv5, "200.00")], reference="DEMO-PAY-3", method="card",
        bank_account="BOA-OPER", convenience_fee="6.00",
    )  # fmt: skip


def void(connection) -> None:
    """The AR platform voids an invoice that was posted."""
    with connection, connection.cursor() as cursor:
        cursor.execute(
            "UPDATE ar.invoices SET state = 'void', updated_at = now() WHERE number = %s",
            (VOIDED_INVOICE,),
        )


def report(connection, base_url: str) -> bool:
    """Print every push of the demo records and check each against the sandbox."""
    with connection, connection.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cursor:
        cursor.execute(
            "SELECT p.object, p.local_id, p.action, p.intacct_object, p.intacct_key,"
            " coalesce(c.name, i.number, n.number, y.reference, 'fee of ' || fp.reference)"
            "  AS local FROM intacct_sync.pushes p"
            " LEFT JOIN ar.customers c ON p.object = 'customers' AND c.id = p.local_id"
            " LEFT JOIN ar.invoices i ON p.object = 'invoices' AND i.id = p.local_id"
            " LEFT JOIN ar.credit_notes n ON p.object = 'credit_notes' AND n.id = p.local_id"
            " LEFT JOIN ar.payments y ON p.object = 'payments' AND y.id = p.local_id"
            " LEFT JOIN ar.convenience_fees f ON p.object = 'convenience_fees'"
            "  AND f.id = p.local_id LEFT JOIN ar.payments fp ON fp.id = f.payment_id"
            " ORDER BY p.posted_at"
        )
        pushes = cursor.fetchall()
        cursor.execute(
            "SELECT count(*) FROM intacct_sync.reconciliation_errors"
            " WHERE direction = 'push' AND state = 'open'"
        )
        open_errors = cursor.fetchone()["count"]
    print(f"\n{'pushed':<18}{'action':<14}{'local record':<26}{'Intacct':<22}check")
    ok = True
    for p in pushes:
        verdict = _check(base_url, p)
        ok &= verdict == "ok"
        where = f"{p['intacct_object']} {p['intacct_key'] or ''}".strip()
        print(f"{p['object']:<18}{p['action']:<14}{str(p['local'])[:25]:<26}{where:<22}{verdict}")
    counts: dict[tuple[str, str], int] = {}
    for p in pushes:
        counts[(p["object"], p["action"])] = counts.get((p["object"], p["action"]), 0) + 1
    if counts != EXPECTED:
        ok = False
        print(f"push: expected {EXPECTED}, got {counts}")
    if open_errors:
        ok = False
        print(f"push: {open_errors} open reconciliation error(s): make errors")
    print("push: the draft invoice DEMO-INV-3 was not posted (drafts never are)")
    return ok


def _check(base_url: str, push: dict) -> str:
    """The sandbox's own view of what the push says it did."""
    if push["action"] == "apply_credit":
        return "ok"  # an application has no record of its own to look at
    try:
        record = sandbox_api.get(base_url, "record", object=push["intacct_object"],
                          recordno=push["intacct_key"])  # fmt: skip
    except urllib.error.HTTPError as missing:
        return f"MISSING in Intacct ({missing.code})"
    if push["action"] == "void":
        # The key of a void is the reversal Intacct added next to the original.
        return "ok" if record.get("STATE") == "Reversal" else f"state {record.get('STATE')}"
    return "ok"
