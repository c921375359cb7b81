"""Exactly once: with the sandbox committing writes and then dropping the answer (a client
timeout) or answering 524 on a share of requests, 1,000 local records become exactly 1,000
Intacct records, each linked to its local row."""

from __future__ import annotations

from include.localenv.local_records import Application, Line
from tests.ground_truth import all_records, sandbox_get, sandbox_post

CUSTOMERS, INVOICES, CREDIT_NOTES, PAYMENTS = 100, 500, 100, 300


def test_a_thousand_mixed_records_under_timeouts_and_524s_arrive_exactly_once(
    records, push, clean_ar, intacct_connection
):
    customers = [
        records.customer(f"Bulk Customer {n:03d}", account_number=f"BULK-C{n:03d}")
        for n in range(CUSTOMERS)
    ]
    invoices = [
        records.document("invoices", customers[n % CUSTOMERS], f"BULK-I{n:04d}", [Line("100.00")])
        for n in range(INVOICES)
    ]
    for n in range(CREDIT_NOTES):
        records.document("credit_notes", customers[n], f"BULK-N{n:03d}", [Line("5.00")])
    for n in range(PAYMENTS):
        records.payment(
            customers[n % CUSTOMERS], "60.00", [Application(invoices[n], "60.00")],
            reference=f"BULK-P{n:03d}",
        )  # fmt: skip
    faults = {"drop_response": {"probability": 0.1}, "http_524": {"probability": 0.1}}
    sandbox_post(intacct_connection, "faults", faults)

    posted = {name: push(name).posted for name in ("customers", "invoices", "credit_notes",
                                                   "payments")}  # fmt: skip
    fired = sandbox_get(intacct_connection, "faults")
    sandbox_post(intacct_connection, "faults", {"clear": True})

    assert posted == {"customers": CUSTOMERS, "invoices": INVOICES,
                      "credit_notes": CREDIT_NOTES, "payments": PAYMENTS}  # fmt: skip
    schedules = fired["schedules"]
    assert schedules["drop_response"]["fired"] > 0 and schedules["http_524"]["fired"] > 0
    in_intacct = {
        "CUSTOMER": all_records(intacct_connection, object="CUSTOMER",
                                query="CUSTOMERID LIKE 'BULK-C%'"),
        "ARINVOICE": all_records(intacct_connection, object="ARINVOICE",
                                 query="RECORDID LIKE 'BULK-I%'"),
        "ARADJUSTMENT": all_records(intacct_connection, object="ARADJUSTMENT",
                                    query="RECORDID LIKE 'BULK-N%'"),
        "ARPYMT": all_records(intacct_connection, object="ARPYMT",
                              query="DOCNUMBER LIKE 'BULK-P%'"),
    }  # fmt: skip
    assert {k: len(v) for k, v in in_intacct.items()} == {
        "CUSTOMER": CUSTOMERS, "ARINVOICE": INVOICES, "ARADJUSTMENT": CREDIT_NOTES,
        "ARPYMT": PAYMENTS,
    }  # fmt: skip
    assert sum(len(v) for v in in_intacct.values()) == 1000
    # Replays happened and Intacct refused them; each control id succeeded once.
    log = sandbox_get(intacct_connection, "writes")["writes"]
    succeeded = [w["controlid"] for w in log if w["outcome"] == "success"]
    assert len(succeeded) == len(set(succeeded)) == 1000
    assert any(w["outcome"] == "refused_duplicate" for w in log)
    # Every local row is linked to the Intacct record made for it.
    with clean_ar, clean_ar.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT array_agg(intacct_recordno::text) FROM ar.customers),"
            " (SELECT array_agg(ar_recordno::text) FROM ar.invoices),"
            " (SELECT array_agg(ar_recordno::text) FROM ar.credit_notes),"
            " (SELECT array_agg(intacct_recordno::text) FROM ar.payments)"
        )
        linked = cursor.fetchone()
    for keys, intacct in zip(linked, in_intacct.values(), strict=True):
        assert sorted(keys) == sorted(str(r["RECORDNO"]) for r in intacct)
    # The payments reached their invoices: 300 invoices owe 40.00, the rest 100.00.
    dues = sorted(float(r["TRX_TOTALDUE"]) for r in in_intacct["ARINVOICE"])
    assert dues == [40.0] * PAYMENTS + [100.0] * (INVOICES - PAYMENTS)
