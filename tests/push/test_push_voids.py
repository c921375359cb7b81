"""Voids as design.md says (issue 17, item 4): credit notes are reversed, not deleted; a
voided credit-only payment carries its warning; a voided payment's fee invoice is reversed; a
convenience-fee mode change applies to new payments only. Checked against the sandbox's write
log and records, and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from include.localenv.local_records import Application, Line
from tests.push.test_push_rules import _one, _record

FEES_ON = {"convenience_fee_mode": "write_on", "convenience_fee_line": {"glaccountno": "4990"}}
FEES_OFF = {"convenience_fee_mode": "write_off"}


def _customer(records, push) -> int:
    customer = records.customer("Void Co", account_number="ACC-VOID")
    assert push("customers").posted == 1
    return customer


def _credit_only_payment(records, push, writes, clean_ar) -> tuple[int, int, str]:
    """An invoice paid only with a credit note, all posted: (payment, credit note, the key of
    the credit application in Intacct)."""
    customer = _customer(records, push)
    invoice = records.document("invoices", customer, "LOC-V-1", [Line("30.00")])
    credit = records.document("credit_notes", customer, "CN-V-1", [Line("30.00")])
    assert push("invoices").posted == push("credit_notes").posted == 1
    payment = records.payment(customer, "0", [Application(invoice, "0", credit, "30.00")])
    writes()
    assert push("payments").posted == 1
    [apply] = writes("apply_arpayment")
    return payment, credit, apply["keys"][0]


def _error(connection, name: str, record_id: int):
    return _one(connection, "SELECT state, message FROM intacct_sync.reconciliation_errors"
                " WHERE object = %s AND direction = 'push' AND record_id = %s",
                name, str(record_id))  # fmt: skip


# -- credit notes ----------------------------------------------------------------------------
def test_a_voided_credit_note_that_was_applied_is_reversed_not_deleted(
    records, push, writes, clean_ar, hook, intacct_connection
):
    payment, credit, application = _credit_only_payment(records, push, writes, clean_ar)
    key = _one(clean_ar, "SELECT ar_recordno FROM ar.credit_notes WHERE id = %s", credit)[0]
    # A person unapplies the credit in Intacct; Intacct now only reverses the credit memo.
    assert hook.reverse_arpayment(application, date.today()).ok
    writes()
    records.set_state("credit_notes", credit, "void")
    counts = push("credit_notes")
    assert (counts.posted, counts.failed) == (1, 0)
    [void] = writes()
    assert (void["function"], void["payload"]["@key"], void["outcome"]) == (
        "reverse_aradjustment", str(key), "success")  # fmt: skip
    assert _record(intacct_connection, "ARADJUSTMENT", key)["STATE"] == "Reversed"
    reversal = _record(intacct_connection, "ARADJUSTMENT", void["keys"][0])
    assert (reversal["STATE"], Decimal(reversal["TRX_TOTALENTERED"])) == ("Reversal", 30)
    assert push("credit_notes").posted == 0 and writes() == []


def test_a_voided_credit_note_still_applied_in_intacct_is_an_error_and_stays(
    records, push, writes, clean_ar, intacct_connection
):
    payment, credit, _ = _credit_only_payment(records, push, writes, clean_ar)
    key = _one(clean_ar, "SELECT ar_recordno FROM ar.credit_notes WHERE id = %s", credit)[0]
    records.set_state("credit_notes", credit, "void")
    counts = push("credit_notes")
    assert (counts.posted, counts.failed) == (0, 1)
    [void] = writes()
    assert (void["function"], void["outcome"]) == ("reverse_aradjustment", "failure")
    state, message = _error(clean_ar, "credit_notes", credit)
    assert state == "open" and "CN-V-1" in message and "Reverse the payments first" in message
    assert _record(intacct_connection, "ARADJUSTMENT", key)["STATE"] == "Paid"


# -- payments --------------------------------------------------------------------------------
def test_a_voided_credit_only_payment_writes_its_warning_and_sends_nothing(
    records, push, writes, clean_ar, intacct_connection
):
    payment, credit, application = _credit_only_payment(records, push, writes, clean_ar)
    records.set_state("payments", payment, "void")
    counts = push("payments")
    assert (counts.posted, counts.settled, counts.failed) == (0, 1, 0)
    assert writes() == []  # Intacct's API has no reversal of a credit application
    warning = _one(clean_ar, "SELECT warning FROM ar.payments WHERE id = %s", payment)[0]
    assert "CN-V-1" in warning and "reverse them by hand" in warning
    assert _record(intacct_connection, "ARPYMT", application)["STATE"] == "C"  # still applied
    assert push("payments").settled == 0 and writes() == []  # recorded once


def test_a_credit_only_payment_voided_before_its_push_is_never_sent(
    records, push, writes, clean_ar
):
    customer = _customer(records, push)
    invoice = records.document("invoices", customer, "LOC-V-2", [Line("30.00")])
    credit = records.document("credit_notes", customer, "CN-V-2", [Line("30.00")])
    assert push("invoices").posted == push("credit_notes").posted == 1
    payment = records.payment(customer, "0", [Application(invoice, "0", credit, "30.00")])
    records.set_state("payments", payment, "void")
    writes()
    assert push("payments").settled == 1
    assert writes() == []
    assert _one(clean_ar, "SELECT warning FROM ar.payments WHERE id = %s", payment)[0] is None


def _fee_payment(records, push, customer: int, number: str) -> int:
    invoice = records.document("invoices", customer, number, [Line("100.00")])
    assert push("invoices").posted == 1
    return records.payment(customer, "103.00", [Application(invoice, "100.00")],
                           convenience_fee="3.00", method="card", bank_account="BOA-OPER")


def test_a_voided_payment_reverses_its_convenience_fee_invoice(
    records, push, writes, clean_ar, intacct_connection
):
    customer = _customer(records, push)
    payment = _fee_payment(records, push, customer, "LOC-V-3")
    assert push("convenience_fees", **FEES_ON).posted == 1
    assert push("payments", **FEES_ON).posted == 1
    [fee_invoice] = writes("create_invoice")[-1:]
    fee_key = fee_invoice["keys"][0]
    assert Decimal(_record(intacct_connection, "ARINVOICE", fee_key)["TRX_TOTALDUE"]) == 0
    writes()
    records.set_state("payments", payment, "void")
    counts = push("payments", **FEES_ON)
    assert (counts.posted, counts.failed) == (2, 0)
    assert [(w["function"], w["outcome"]) for w in writes()] == [
        ("reverse_arpayment", "success"), ("reverse_invoice", "success")]  # fmt: skip
    fee = _record(intacct_connection, "ARINVOICE", fee_key)
    assert (fee["STATE"], Decimal(fee["TRX_TOTALDUE"])) == ("Reversed", 0)  # not left open
    assert push("payments", **FEES_ON).posted == 0 and writes() == []
    assert push("convenience_fees", **FEES_ON).posted == 0 and writes() == []


def test_a_fee_mode_change_applies_to_new_payments_only(
    records, push, writes, clean_ar, intacct_connection
):
    customer = _customer(records, push)
    old = _fee_payment(records, push, customer, "LOC-V-4")
    assert push("convenience_fees", **FEES_OFF).posted == 0
    assert push("payments", **FEES_OFF).posted == 1  # the fee is an overpayment
    writes()
    # write_off → write_on: the payment already posted gets no fee invoice; a new one does.
    new = _fee_payment(records, push, customer, "LOC-V-5")
    writes()
    assert push("convenience_fees", **FEES_ON).posted == 1
    [created] = writes("create_invoice")
    fee_id = _one(clean_ar, "SELECT id FROM ar.convenience_fees WHERE payment_id = %s", new)[0]
    assert created["payload"]["invoiceno"] == f"CF-{fee_id:06d}"
    assert push("payments", **FEES_ON).posted == 1
    # write_on → write_off before a payment is posted: its fee invoice exists, so the payment
    # still pays it (no open fee invoice, no overpayment).
    later = _fee_payment(records, push, customer, "LOC-V-6")
    assert push("convenience_fees", **FEES_ON).posted == 1
    fee_key = writes("create_invoice")[-1]["keys"][0]
    assert push("payments", **FEES_OFF).posted == 1
    [pay] = writes("create_arpayment")
    assert pay["payload"]["arpaymentitem"][-1] == {"invoicekey": fee_key, "amount": "3.00"}
    assert Decimal(_record(intacct_connection, "ARINVOICE", fee_key)["TRX_TOTALDUE"]) == 0
    fees = _one(clean_ar, "SELECT count(*) FROM intacct_sync.pushes WHERE object ="
                " 'convenience_fees' AND action = 'create'")[0]  # fmt: skip
    assert fees == 2 and old and later


def test_a_payment_voided_before_its_push_still_reverses_its_fee_invoice(
    records, push, writes, clean_ar, intacct_connection
):
    customer = _customer(records, push)
    payment = _fee_payment(records, push, customer, "LOC-V-7")
    assert push("convenience_fees", **FEES_ON).posted == 1
    fee_key = writes("create_invoice")[-1]["keys"][0]
    records.set_state("payments", payment, "void")
    counts = push("payments", **FEES_ON)
    assert (counts.posted, counts.settled, counts.failed) == (1, 1, 0)
    assert [w["function"] for w in writes()] == ["reverse_invoice"]  # no A/R payment to reverse
    assert _record(intacct_connection, "ARINVOICE", fee_key)["STATE"] == "Reversed"
    assert push("payments", **FEES_ON).posted == 0 and writes() == []
