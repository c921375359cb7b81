"""Bad-input catalogue, records Intacct rejects (push, against the sandbox over HTTP).

Each case pushes one record Intacct refuses beside one it accepts. The refused one ends as a
reconciliation error with Intacct's error number, the record's id and a fix hint; the other
posts, once. The sandbox's own write log and records show no partial or duplicate write, and
the next push retries only the refused record (it stays refused, nothing else is resent).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from intacct_sync.db.reconciliation import list_errors

from include.localenv.local_records import Application, Line, LocalRecords
from tests.ground_truth import sandbox_get

pytestmark = pytest.mark.bad_input


@dataclass(frozen=True)
class Customers:
    usd: int
    eur: int


@dataclass(frozen=True)
class Built:
    bad: int  # local id of the record Intacct refuses
    good: int  # local id of the record it accepts
    good_key: tuple[str, str]  # (Intacct object, readByQuery condition) finding the good one
    bad_key: tuple[str, str]  # the same for the refused one (it may exist already: collisions)
    bad_posted: int = 0  # records of the refused one Intacct accepted (a payment's cash part)


@dataclass(frozen=True)
class Case:
    object: str
    build: Callable[[LocalRecords, Customers, Callable, dict], Built]
    errorno: str
    message: str  # in the error's message, after the record's label
    hint: str  # in the error's hint
    first_push: dict[tuple[str, str], int]  # (write function, outcome) → count


def _invoices(records, customer, *lines_by_number, currency="USD"):
    return [
        records.document("invoices", customer, number, lines, currency=currency)
        for number, lines in lines_by_number
    ]


def collision(records, customers, push, intacct) -> Built:
    taken = sandbox_get(intacct, "records", object="ARINVOICE", limit=1)["records"][0]["RECORDID"]
    bad, good = _invoices(
        records, customers.usd, (taken, [Line("10.00")]), ("REJ-INV-OK1", [Line("11.00")])
    )
    return Built(bad, good, ("ARINVOICE", "RECORDID = 'REJ-INV-OK1'"),
                 ("ARINVOICE", f"RECORDID = '{taken}'"))  # fmt: skip


def unknown_gl_account(records, customers, push, intacct) -> Built:
    bad, good = _invoices(
        records, customers.usd,
        ("REJ-INV-GL", [Line("5.00"), Line("7.00", dimensions={"intacct_glaccountno": "9999"})]),
        ("REJ-INV-OK2", [Line("12.00")]),
    )  # fmt: skip
    return Built(bad, good, ("ARINVOICE", "RECORDID = 'REJ-INV-OK2'"),
                 ("ARINVOICE", "RECORDID = 'REJ-INV-GL'"))  # fmt: skip


def unknown_location(records, customers, push, intacct) -> Built:
    bad, good = _invoices(
        records, customers.usd,
        ("REJ-INV-LOC", [Line("9.00", location_id="E999")]), ("REJ-INV-OK3", [Line("13.00")]),
    )  # fmt: skip
    return Built(bad, good, ("ARINVOICE", "RECORDID = 'REJ-INV-OK3'"),
                 ("ARINVOICE", "RECORDID = 'REJ-INV-LOC'"))  # fmt: skip


def unknown_currency(records, customers, push, intacct) -> Built:
    [bad] = _invoices(records, customers.usd, ("REJ-INV-XYZ", [Line("8.00")]), currency="XYZ")
    [good] = _invoices(records, customers.usd, ("REJ-INV-OK4", [Line("14.00")]))
    return Built(bad, good, ("ARINVOICE", "RECORDID = 'REJ-INV-OK4'"),
                 ("ARINVOICE", "RECORDID = 'REJ-INV-XYZ'"))  # fmt: skip


def invalid_email(records, customers, push, intacct) -> Built:
    bad = records.customer("Bad Mail Ltd", account_number="REJ-C-MAIL", email="not-an-email")
    good = records.customer("Good Mail Ltd", account_number="REJ-C-OK", email="ap@good.example")
    return Built(bad, good, ("CUSTOMER", "CUSTOMERID = 'REJ-C-OK'"),
                 ("CUSTOMER", "CUSTOMERID = 'REJ-C-MAIL'"))  # fmt: skip


def _posted_invoices(records, push, customer, currency, *numbers) -> list[int]:
    ids = _invoices(records, customer, *((n, [Line("40.00")]) for n in numbers), currency=currency)
    assert push("invoices").posted == len(ids)
    return ids


def foreign_currency_undeposited(records, customers, push, intacct) -> Built:
    [euro_invoice] = _posted_invoices(records, push, customers.eur, "EUR", "REJ-EUR-INV")
    [usd_invoice] = _posted_invoices(records, push, customers.usd, "USD", "REJ-USD-INV1")
    bad = records.payment(customers.eur, "40.00", [Application(euro_invoice, "40.00")],
                          currency="EUR", reference="REJ-P-EUR")  # fmt: skip
    good = records.payment(customers.usd, "40.00", [Application(usd_invoice, "40.00")],
                           reference="REJ-P-OK1")  # fmt: skip
    return Built(bad, good, ("ARPYMT", "DOCNUMBER = 'REJ-P-OK1'"),
                 ("ARPYMT", "DOCNUMBER = 'REJ-P-EUR'"))  # fmt: skip


def unknown_bank_account(records, customers, push, intacct) -> Built:
    first, second = _posted_invoices(records, push, customers.usd, "USD", "REJ-USD-INV2",
                                     "REJ-USD-INV3")  # fmt: skip
    bad = records.payment(customers.usd, "40.00", [Application(first, "40.00")],
                          reference="REJ-P-BANK", bank_account="NO-SUCH-BANK")  # fmt: skip
    good = records.payment(customers.usd, "40.00", [Application(second, "40.00")],
                           reference="REJ-P-OK2")  # fmt: skip
    return Built(bad, good, ("ARPYMT", "DOCNUMBER = 'REJ-P-OK2'"),
                 ("ARPYMT", "DOCNUMBER = 'REJ-P-BANK'"))  # fmt: skip


def credit_over_the_balance(records, customers, push, intacct) -> Built:
    """The cash pays the invoice in full, then a credit note is applied to it as well."""
    first, second = _posted_invoices(records, push, customers.usd, "USD", "REJ-USD-INV4",
                                     "REJ-USD-INV5")  # fmt: skip
    note = records.document("credit_notes", customers.usd, "REJ-CN-1", [Line("15.00")])
    assert push("credit_notes").posted == 1
    bad = records.payment(customers.usd, "40.00",
                          [Application(first, "40.00", credit_note_id=note, credit_amount="15.00")],
                          reference="REJ-P-OVER")  # fmt: skip
    good = records.payment(customers.usd, "40.00", [Application(second, "40.00")],
                           reference="REJ-P-OK3")  # fmt: skip
    # The cash part of the refused payment is accepted: one A/R payment, never two.
    return Built(bad, good, ("ARPYMT", "DOCNUMBER = 'REJ-P-OK3'"),
                 ("ARPYMT", "DOCNUMBER = 'REJ-P-OVER'"), bad_posted=1)  # fmt: skip


INVOICE_HINT = "does not exist in Intacct: correct it on the record (the line's intacct_* field)"
CASES = [
    pytest.param(
        Case("invoices", collision, "BL01001973", "already exists.",
             "numbering collision", {("create_invoice", "failure"): 1,
                                     ("create_invoice", "success"): 1}),
        id="reject-invoice-number-collision",
    ),
    pytest.param(
        Case("invoices", unknown_gl_account, "BL01001973",
             "invoice REJ-INV-GL: BL01001973: Invalid GL Account '9999' specified.", INVOICE_HINT,
             {("create_invoice", "failure"): 1, ("create_invoice", "success"): 1}),
        id="reject-line-unknown-gl-account",
    ),
    pytest.param(
        Case("invoices", unknown_location, "BL01001973",
             "invoice REJ-INV-LOC: BL01001973: Invalid Location 'E999' specified.", INVOICE_HINT,
             {("create_invoice", "failure"): 1, ("create_invoice", "success"): 1}),
        id="reject-line-unknown-location",
    ),
    pytest.param(
        Case("invoices", unknown_currency, "BL01001973",
             "invoice REJ-INV-XYZ: BL01001973: Invalid Currency 'XYZ' specified.",
             "does not exist in Intacct",
             {("create_invoice", "failure"): 1, ("create_invoice", "success"): 1}),
        id="reject-invoice-unknown-currency",
    ),
    pytest.param(
        Case("customers", invalid_email, "BL03000018",
             "customer REJ-C-MAIL (Bad Mail Ltd): BL03000018: Illegal format for Contactversion :"
             " Primary Email Address not-an-email.",
             "correct it on the local record, then retry",
             {("create", "failure"): 1, ("create", "success"): 1}),
        id="reject-customer-invalid-email",
    ),
    pytest.param(
        Case("payments", foreign_currency_undeposited, "BL02000051",
             "payment REJ-P-EUR: BL02000051: You cannot make payment for foreign currency"
             " invoice for payment method \"Printed Check\" using Undeposited Fund Account.",
             "give the payment a bank account in its currency",
             {("create_arpayment", "failure"): 1, ("create_arpayment", "success"): 1}),
        id="reject-payment-foreign-currency-to-undeposited-funds",
    ),
    pytest.param(
        Case("payments", unknown_bank_account, "BL01001973",
             "payment REJ-P-BANK: BL01001973: Invalid Bank Account 'NO-SUCH-BANK' specified.",
             "does not exist in Intacct",
             {("create_arpayment", "failure"): 1, ("create_arpayment", "success"): 1}),
        id="reject-payment-unknown-bank-account",
    ),
    pytest.param(
        Case("payments", credit_over_the_balance, "BL01001973",
             "payment REJ-P-OVER, credit note REJ-CN-1: BL01001973: The amount 15.00 exceeds"
             " the amount due 0 on transaction",
             "The record was rejected by Intacct",
             {("create_arpayment", "success"): 2, ("apply_arpayment", "failure"): 1}),
        id="reject-credit-application-over-the-balance",
    ),
]  # fmt: skip


def _total(intacct, key: tuple[str, str]) -> int:
    obj, query = key
    return sandbox_get(intacct, "records", object=obj, query=query, limit=1)["total"]


def _pushed(connection, name: str, local_id: int) -> list[tuple[str, str]]:
    with connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT action, intacct_key FROM intacct_sync.pushes WHERE object = %s"
            " AND local_id = %s ORDER BY action",
            (name, local_id),
        )
        return cursor.fetchall()


@pytest.mark.parametrize("case", CASES)
def test_a_record_intacct_rejects_is_an_error_and_the_rest_posts_once(
    case: Case, records, push, writes, clean_ar, intacct_connection
):
    intacct = intacct_connection
    customers = Customers(
        records.customer("Dollar Inc", account_number="REJ-USD"),
        records.customer("Euro GmbH", account_number="REJ-EUR", currency="EUR"),
    )
    assert push("customers").posted == 2
    built = case.build(records, customers, push, intacct)
    bad_before = _total(intacct, built.bad_key)
    writes()

    counts = push(case.object)

    assert counts.failed_ids == [str(built.bad)]
    [error] = list_errors(clean_ar, object_name=case.object)
    assert (error["record_id"], error["state"], error["attempts"]) == (str(built.bad), "open", 1)
    assert error["error_numbers"][0] == case.errorno
    assert case.message in error["message"], error["message"]
    assert case.hint in error["hint"], error["hint"]
    sent = Counter((w["function"], w["outcome"]) for w in writes())
    assert sent == Counter(case.first_push)
    # The accepted record is in Intacct once and linked; the refused one left no trace.
    [(action, key)] = _pushed(clean_ar, case.object, built.good)
    assert action == "create" and key
    assert _total(intacct, built.good_key) == 1
    assert _total(intacct, built.bad_key) == bad_before + built.bad_posted

    again = push(case.object)

    assert (again.posted, again.failed_ids) == (0, [str(built.bad)])
    resent = [(w["function"], w["outcome"]) for w in writes()]
    [failed_function] = [f for (f, outcome) in case.first_push if outcome == "failure"]
    assert resent == [(failed_function, "failure")]
    [error] = list_errors(clean_ar, object_name=case.object)
    assert (error["record_id"], error["attempts"]) == (str(built.bad), 2)
    assert _total(intacct, built.good_key) == 1
    assert _total(intacct, built.bad_key) == bad_before + built.bad_posted
