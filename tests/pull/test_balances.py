"""Balances follow the A/R record: a payment made in Intacct after the pull, and its
reversal, show in the invoice's paid / due after the next payments run."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from intacct_sync.intacct.hook import IntacctHook

from tests.ground_truth import sandbox_get
from tests.pull.test_pull_pipeline import _pull as _pull_objects


def _pull(run_id: str, connection, names) -> dict:
    return _pull_objects(run_id, connection, names, hook=IntacctHook())


def _local(connection, ar_recordno) -> tuple[Decimal, Decimal]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT total_paid, total_due FROM ar.invoices WHERE ar_recordno = %s",
            (ar_recordno,),
        )
        return cursor.fetchone()


def _truth(server, recordno) -> tuple[Decimal, Decimal]:
    record = sandbox_get(server, "record", object="ARINVOICE", recordno=recordno)
    return (
        Decimal(str(record["TRX_TOTALPAID"] or 0)).quantize(Decimal("0.01")),
        Decimal(str(record["TRX_TOTALDUE"] or 0)).quantize(Decimal("0.01")),
    )


def test_a_payment_in_intacct_and_its_reversal_reach_the_invoice_balance(
    intacct_connection, clean_ar
):
    server = intacct_connection
    _pull("balances-1", clean_ar, ("customers", "invoices", "payments"))
    with clean_ar.cursor() as cursor:
        cursor.execute(
            "SELECT i.ar_recordno, i.intacct_customer_id, i.currency, i.total_due"
            " FROM ar.invoices i WHERE i.total_paid = 0 AND i.total_due > 0"
            " AND i.ar_recordno IS NOT NULL AND i.currency = 'USD' ORDER BY i.id LIMIT 1"
        )
        key, customer, currency, due = cursor.fetchone()
    assert _local(clean_ar, key) == _truth(server, key)
    amount = (due / 2).quantize(Decimal("0.01"))
    paid = IntacctHook().create_arpayment(
        "balance-pay-1",
        {
            "customerid": customer,
            "paymentamount": amount,
            "bankaccountid": "BOA-OPER",
            "datereceived": date(2026, 11, 20),
            "paymentmethod": "Cash",
            "currency": currency,
            "arpaymentitem": [{"invoicekey": str(key), "amount": amount}],
        },
    )
    assert paid.ok
    assert _truth(server, key) == (amount, due - amount)  # Intacct changed, the OE doc not
    counts = _pull("balances-2", clean_ar, ("payments",))
    assert counts["payments"].balances_refreshed == 1
    assert _local(clean_ar, key) == _truth(server, key) == (amount, due - amount)

    reversed_ = IntacctHook().reverse_arpayment(paid.key, date(2026, 11, 21))
    assert reversed_.ok
    _pull("balances-3", clean_ar, ("payments",))
    assert _local(clean_ar, key) == _truth(server, key) == (Decimal("0.00"), due)

    # A document read directly carries its A/R balance too (its own TRX_TOTALPAID is stale).
    again = IntacctHook().create_arpayment(
        "balance-pay-2",
        {
            "customerid": customer,
            "paymentamount": due,
            "bankaccountid": "BOA-OPER",
            "datereceived": date(2026, 11, 22),
            "paymentmethod": "Cash",
            "currency": currency,
            "arpaymentitem": [{"invoicekey": str(key), "amount": due}],
        },
    )
    assert again.ok
    counts = _pull("balances-4", clean_ar, ("invoices",))
    assert counts["invoices"].updated == 0  # the document itself did not change
    assert _local(clean_ar, key) == _truth(server, key) == (due, Decimal("0.00"))
