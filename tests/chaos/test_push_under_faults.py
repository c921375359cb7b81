"""Pushes against a sandbox failing almost half its calls in ten ways, including failures
after Intacct has committed the write (524, dropped answer, truncated XML): pushes are
retried as the hourly runs would retry them, and in the end every local record is in
Intacct exactly once and linked to its row."""

from __future__ import annotations

import pytest
from intacct_sync.intacct.errors import IntacctError
from intacct_sync.intacct.hook import IntacctHook
from intacct_sync.push.posting import enable, push_object
from intacct_sync.sync_config import parse
from intacct_sync.sync_objects import push_order

from include.localenv.local_records import Application, Line, LocalRecords
from tests.chaos.conftest import faults_off, faults_on
from tests.ground_truth import all_records, sandbox_get

pytestmark = pytest.mark.chaos

CUSTOMERS, INVOICES, CREDIT_NOTES, PAYMENTS = 20, 100, 20, 60
PASSES = 6  # hourly runs (each with its task retries) before everything must be in


def test_pushes_under_almost_half_the_calls_failing_write_each_record_once(
    intacct_connection, clean_ar
):
    server = intacct_connection
    enable(clean_ar)  # the push is on before the records are entered (its cut-over)
    records = LocalRecords(clean_ar)
    customers = [records.customer(f"Chaos Customer {n:02d}", account_number=f"CHAOS-C{n:02d}")
                 for n in range(CUSTOMERS)]  # fmt: skip
    invoices = [records.document("invoices", customers[n % CUSTOMERS], f"CHAOS-I{n:03d}",
                                 [Line("100.00"), Line("25.00")]) for n in range(INVOICES)]
    notes = [records.document("credit_notes", customers[n], f"CHAOS-N{n:02d}", [Line("5.00")])
             for n in range(CREDIT_NOTES)]  # fmt: skip
    for n in range(PAYMENTS):
        applied = [Application(invoices[n], "50.00")]
        if n < CREDIT_NOTES:  # a credit note applied with the cash
            applied = [Application(invoices[n], "50.00", notes[n], "5.00")]
        records.payment(customers[n % CUSTOMERS], "50.00", applied, reference=f"CHAOS-P{n:02d}")
    faults_on(server)

    # Five functions per request: more requests, so each schedule comes round more than once.
    hook = IntacctHook(functions_per_request=5, retry_initial_wait=0.05, retry_max_wait=0.2)
    interrupted, config = 0, parse(None)
    for _ in range(PASSES):
        for name in push_order():
            try:
                push_object(hook, clean_ar, name, config)
            except IntacctError:  # retries exhausted: the task fails, the next run goes on
                interrupted += 1
        if _unlinked(clean_ar) == 0:
            break
    fired = faults_off(server)

    assert _unlinked(clean_ar) == 0, "records still not in Intacct after every pass"
    in_intacct = {
        "CUSTOMER": all_records(server, object="CUSTOMER", query="CUSTOMERID LIKE 'CHAOS-C%'"),
        "ARINVOICE": all_records(server, object="ARINVOICE", query="RECORDID LIKE 'CHAOS-I%'"),
        "ARADJUSTMENT": all_records(server, object="ARADJUSTMENT",
                                    query="RECORDID LIKE 'CHAOS-N%'"),
        "ARPYMT": all_records(server, object="ARPYMT", query="DOCNUMBER LIKE 'CHAOS-P%'"),
    }  # fmt: skip
    assert {k: len(v) for k, v in in_intacct.items()} == {
        "CUSTOMER": CUSTOMERS, "ARINVOICE": INVOICES, "ARADJUSTMENT": CREDIT_NOTES,
        "ARPYMT": PAYMENTS}  # fmt: skip
    log = sandbox_get(server, "writes")["writes"]
    succeeded = [w["controlid"] for w in log if w["outcome"] == "success"]
    assert len(succeeded) == len(set(succeeded)), "a write was carried out twice"
    # Cash and credits reached their invoices: each of the first 60 owes 75.00, less the
    # credit applied to the first 20; the other 40 still owe 125.00.
    dues = sorted(float(r["TRX_TOTALDUE"]) for r in in_intacct["ARINVOICE"])
    assert dues == sorted([70.0] * CREDIT_NOTES + [75.0] * (PAYMENTS - CREDIT_NOTES)
                          + [125.0] * (INVOICES - PAYMENTS))  # fmt: skip
    with clean_ar, clean_ar.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM intacct_sync.reconciliation_errors"
                       " WHERE state = 'open'")
        assert cursor.fetchone()[0] == 0
    assert all(fired.values()), f"a fault never fired: {fired}"
    print(f"interrupted pushes {interrupted}; writes received {len(log)}, carried out "
          f"{len(succeeded)}; faults fired {fired}")


def _unlinked(connection) -> int:
    """Local records not (yet) linked to their Intacct record."""
    with connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM ar.customers WHERE intacct_recordno IS NULL)"
            " + (SELECT count(*) FROM ar.invoices WHERE ar_recordno IS NULL)"
            " + (SELECT count(*) FROM ar.credit_notes WHERE ar_recordno IS NULL)"
            " + (SELECT count(*) FROM ar.payments WHERE intacct_recordno IS NULL)")
        return cursor.fetchone()[0]
