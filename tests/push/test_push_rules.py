"""Every push rule of design.md §2, end to end: local rows → sandbox write log and records."""

from __future__ import annotations

from decimal import Decimal

import pytest

from include.localenv.local_records import Application, Line
from tests.ground_truth import sandbox_get


def _one(connection, sql: str, *params):
    with connection, connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _record(server, name: str, key) -> dict:
    return sandbox_get(server, "record", object=name, recordno=key)


def _linked_customer(records, push, name: str = "Linked Co") -> int:
    customer = records.customer(name, account_number=f"ACC-{name[:6].upper()}")
    assert push("customers").posted == 1
    return customer


# -- customers -------------------------------------------------------------------------------
def test_new_customers_are_created_existing_ones_linked_and_changes_updated(
    records, push, writes, clean_ar, intacct_connection, intacct_customer
):
    new = records.customer("Fresh Fields GmbH", account_number="ACC-9001", email="ap@fresh.example")
    same_name = records.customer(intacct_customer["NAME"])  # already in Intacct: linked
    counts = push("customers")
    assert (counts.posted, counts.linked, counts.failed) == (1, 1, 0)
    [create] = writes()
    assert (create["function"], create["object"], create["outcome"]) == ("create", "CUSTOMER",
                                                                         "success")  # fmt: skip
    sent = create["payload"]["CUSTOMER"]
    assert (sent["CUSTOMERID"], sent["NAME"], sent["DISPLAYCONTACT"]["EMAIL1"]) == (
        "ACC-9001", "Fresh Fields GmbH", "ap@fresh.example")  # fmt: skip
    key, customer_id = _one(
        clean_ar, "SELECT intacct_recordno, intacct_customer_id FROM ar.customers WHERE id = %s",
        new)  # fmt: skip
    assert _record(intacct_connection, "CUSTOMER", key)["NAME"] == "Fresh Fields GmbH"
    assert customer_id == "ACC-9001"
    assert _one(clean_ar, "SELECT intacct_recordno FROM ar.customers WHERE id = %s",
                same_name)[0] == intacct_customer["RECORDNO"]  # fmt: skip

    assert push("customers").posted == 0 and writes() == []  # nothing changed: nothing sent
    with clean_ar, clean_ar.cursor() as cursor:
        cursor.execute("UPDATE ar.customers SET email = 'billing@fresh.example' WHERE id = %s",
                       (new,))  # fmt: skip
    assert push("customers").posted == 1
    [update] = writes()
    assert update["function"] == "update"
    assert update["payload"]["CUSTOMER"]["RECORDNO"] == str(key)
    record = _record(intacct_connection, "CUSTOMER", key)
    assert record["DISPLAYCONTACT.EMAIL1"] == "billing@fresh.example"


def test_customers_from_intacct_are_never_pushed(records, push, writes, clean_ar):
    with clean_ar, clean_ar.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ar.customers (origin, name, intacct_recordno, intacct_customer_id)"
            " VALUES ('intacct', 'Pulled Co', 999999, 'C-PULLED')"
        )
    assert push("customers").posted == 0
    assert writes() == []


# -- invoices and credit notes ---------------------------------------------------------------
def test_ready_invoices_are_posted_with_dimensions_drafts_and_intacct_ones_are_not(
    records, push, writes, clean_ar, intacct_connection
):
    customer = _linked_customer(records, push)
    writes()
    ready = records.document(
        "invoices", customer, "LOC-1001",
        [
            Line("100.00", "Subscription"),
            Line("50.25", "Onsite day", location_id="E100", department_id="SERVICES",
                 dimensions={"intacct_glaccountno": "4100", "intacct_department": "SUPPORT",
                             "intacct_project": "PRJ-100", "intacct_class": "ENT",
                             "intacct_item": "SVC-DAY", "intacct_revrectemplate": "Milestones",
                             "intacct_revrecstartdate": "2026-12-01",
                             "note": "not an intacct field"}),
        ],
    )  # fmt: skip
    records.document("invoices", customer, "LOC-1002", [Line("10")], state="draft")
    with clean_ar, clean_ar.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ar.invoices (origin, number, customer_id, state, currency, total,"
            " intacct_recordno) VALUES ('intacct', 'SO-PULLED', %s, 'Pending', 'USD', 5, 424242)",
            (customer,),
        )
    counts = push("invoices", dimensions={"locationid": "E100", "departmentid": "SALES"})
    assert (counts.posted, counts.failed) == (1, 0)
    [create] = writes()
    assert create["function"] == "create_invoice"
    sent = create["payload"]
    assert (sent["customerid"], sent["invoiceno"], sent["currency"]) == ("ACC-LINKED", "LOC-1001",
                                                                         "USD")  # fmt: skip
    first, second = sent["invoiceitems"]["lineitem"]
    assert first == {"glaccountno": "4000", "amount": "100.00", "memo": "Subscription",
                     "locationid": "E100", "departmentid": "SALES"}  # fmt: skip
    assert second["glaccountno"] == "4100"  # intacct_* beats the default …
    assert second["departmentid"] == "SUPPORT"  # … and the line's own department
    assert (second["projectid"], second["classid"], second["itemid"]) == ("PRJ-100", "ENT",
                                                                          "SVC-DAY")  # fmt: skip
    assert second["revrectemplate"] == "Milestones"
    assert second["revrecstartdate"] == {"year": "2026", "month": "12", "day": "01"}
    key = _one(clean_ar, "SELECT ar_recordno FROM ar.invoices WHERE id = %s", ready)[0]
    invoice = _record(intacct_connection, "ARINVOICE", key)
    assert (invoice["RECORDID"], invoice["STATE"], Decimal(invoice["TRX_TOTALENTERED"])) == (
        "LOC-1001", "Posted", Decimal("150.25"))  # fmt: skip
    assert [c["DEPARTMENTID"] for c in invoice["_children"]] == ["SALES", "SUPPORT"]

    # After posting, only a void is posted: a changed amount is not.
    with clean_ar, clean_ar.cursor() as cursor:
        cursor.execute("UPDATE ar.invoice_lines SET amount = 1 WHERE invoice_id = %s", (ready,))
        cursor.execute("UPDATE ar.invoices SET memo = 'changed' WHERE id = %s", (ready,))
    assert push("invoices").posted == 0 and writes() == []
    records.set_state("invoices", ready, "void")
    assert push("invoices").posted == 1
    [void] = writes()
    assert (void["function"], void["payload"]["@key"]) == ("reverse_invoice", str(key))
    assert _record(intacct_connection, "ARINVOICE", key)["STATE"] == "Reversed"
    assert push("invoices").posted == 0 and writes() == []


def test_credit_notes_become_credit_memos_and_a_void_reverses_the_adjustment(
    records, push, writes, clean_ar, intacct_connection
):
    customer = _linked_customer(records, push)
    writes()
    note = records.document("credit_notes", customer, "CN-LOC-7", [Line("30.00", "Returned kit")])
    assert push("credit_notes").posted == 1
    [create] = writes()
    assert create["function"] == "create_aradjustment"
    assert create["payload"]["adjustmentno"] == "CN-LOC-7"
    assert create["payload"]["aradjustmentitems"]["lineitem"]["amount"] == "-30.00"
    key = _one(clean_ar, "SELECT ar_recordno FROM ar.credit_notes WHERE id = %s", note)[0]
    assert Decimal(_record(intacct_connection, "ARADJUSTMENT", key)["TRX_TOTALENTERED"]) == -30
    records.set_state("credit_notes", note, "void")
    assert push("credit_notes").posted == 1
    [void] = writes()
    assert (void["function"], void["payload"]["@key"]) == ("reverse_aradjustment", str(key))
    assert _record(intacct_connection, "ARADJUSTMENT", key)["STATE"] == "Reversed"


def test_a_draft_that_is_voided_before_posting_is_never_sent(records, push, writes):
    customer = _linked_customer(records, push)
    draft = records.document("invoices", customer, "LOC-DRAFT", [Line("10")], state="draft")
    records.set_state("invoices", draft, "void")
    writes()
    assert push("invoices").posted == 0
    assert writes() == []


# -- payments --------------------------------------------------------------------------------
def test_a_payment_mixing_cash_and_credit_notes_is_one_payment_plus_one_apply_per_credit(
    records, push, writes, clean_ar, intacct_connection
):
    customer = _linked_customer(records, push)
    invoice = records.document("invoices", customer, "LOC-2001", [Line("100.00")])
    other = records.document("invoices", customer, "LOC-2002", [Line("40.00")])
    credit_a = records.document("credit_notes", customer, "CN-LOC-A", [Line("30.00")])
    credit_b = records.document("credit_notes", customer, "CN-LOC-B", [Line("15.00")])
    for name in ("invoices", "credit_notes"):
        assert push(name).posted == 2
    writes()
    payment = records.payment(
        customer, "95.00",
        [Application(invoice, "70.00", credit_a, "30.00"),
         Application(other, "25.00", credit_b, "15.00")],
        reference="CHK-555",
    )  # fmt: skip
    counts = push("payments")
    assert (counts.posted, counts.failed) == (3, 0)  # the payment, then two applications
    logged = writes()
    assert [w["function"] for w in logged] == ["create_arpayment", "apply_arpayment",
                                              "apply_arpayment"]  # fmt: skip
    keys = dict(_one(clean_ar, "SELECT json_object_agg(number, ar_recordno) FROM ("
                     " SELECT number, ar_recordno FROM ar.invoices UNION ALL"
                     " SELECT number, ar_recordno FROM ar.credit_notes) d")[0])  # fmt: skip
    sent = logged[0]["payload"]
    assert (sent["paymentamount"], sent["refid"]) == ("95.00", "CHK-555")
    assert sent["paymentmethod"] == "Printed Check"  # "check" in the AR platform
    assert sent["arpaymentitem"] == [
        {"invoicekey": str(keys["LOC-2001"]), "amount": "70.00"},
        {"invoicekey": str(keys["LOC-2002"]), "amount": "25.00"},
    ]
    applied = [
        (w["payload"]["arpaymentkey"], w["payload"]["arpaymentitems"]["arpaymentitem"])
        for w in logged[1:]
    ]
    assert applied == [
        (str(keys["CN-LOC-A"]), {"invoicekey": str(keys["LOC-2001"]), "amount": "30.00"}),
        (str(keys["CN-LOC-B"]), {"invoicekey": str(keys["LOC-2002"]), "amount": "15.00"}),
    ]
    for number in ("LOC-2001", "LOC-2002"):
        assert Decimal(_record(intacct_connection, "ARINVOICE", keys[number])["TRX_TOTALDUE"]) == 0
    assert push("payments").posted == 0 and writes() == []

    # A void reverses only the A/R payment; the credit applications need a person.
    records.set_state("payments", payment, "void")
    assert push("payments").posted == 1
    [void] = writes()
    pay_key = _one(clean_ar, "SELECT intacct_recordno FROM ar.payments WHERE id = %s", payment)[0]
    assert (void["function"], void["payload"]["@key"]) == ("reverse_arpayment", str(pay_key))
    warning = _one(clean_ar, "SELECT warning FROM ar.payments WHERE id = %s", payment)[0]
    assert "CN-LOC-A, CN-LOC-B" in warning and "reverse them by hand" in warning
    assert Decimal(_record(intacct_connection, "ARINVOICE", keys["LOC-2001"])["TRX_TOTALDUE"]) == 70


def test_a_payment_waits_for_its_invoice_and_goes_when_the_invoice_is_posted(records, push, writes):
    customer = _linked_customer(records, push)
    invoice = records.document("invoices", customer, "LOC-3001", [Line("20")])
    records.payment(customer, "20", [Application(invoice, "20")])
    counts = push("payments")
    assert (counts.posted, counts.waiting) == (0, 1)
    assert push("invoices").posted == 1
    writes()
    assert push("payments").posted == 1
    assert [w["function"] for w in writes()] == ["create_arpayment"]


@pytest.mark.parametrize("mode", ["write_on", "write_off"])
def test_convenience_fees_by_configuration(mode, records, push, writes, clean_ar,
                                           intacct_connection):  # fmt: skip
    customer = _linked_customer(records, push)
    invoice = records.document("invoices", customer, "LOC-4001", [Line("200.00")])
    assert push("invoices").posted == 1
    payment = records.payment(
        customer, "206.00", [Application(invoice, "200.00")], convenience_fee="6.00",
        method="card", bank_account="BOA-OPER",
    )  # fmt: skip
    writes()
    config = {
        "convenience_fee_mode": mode,
        "convenience_fee_line": {"glaccountno": "4990", "departmentid": "SALES"},
        "overpayment_dimensions": {"locationid": "E100", "departmentid": "MKTG"},
    }
    fees = push("convenience_fees", **config)
    payments = push("payments", **config)
    assert payments.posted == 1
    logged = writes()
    pay_key = _one(clean_ar, "SELECT intacct_recordno FROM ar.payments WHERE id = %s", payment)[0]
    paid = _record(intacct_connection, "ARPYMT", pay_key)
    assert Decimal(paid["TRX_TOTALENTERED"]) == Decimal("206.00")
    if mode == "write_on":
        assert fees.posted == 1
        fee_invoice, pay = logged
        assert fee_invoice["function"] == "create_invoice"
        line = fee_invoice["payload"]["invoiceitems"]["lineitem"]
        assert (line["glaccountno"], line["amount"], line["departmentid"]) == ("4990", "6.00",
                                                                              "SALES")  # fmt: skip
        fee_key = fee_invoice["keys"][0]
        assert pay["payload"]["arpaymentitem"][-1] == {"invoicekey": fee_key, "amount": "6.00"}
        assert "overpaylocid" not in pay["payload"]
        assert Decimal(_record(intacct_connection, "ARINVOICE", fee_key)["TRX_TOTALDUE"]) == 0
        assert Decimal(paid["OVERPAYMENTAMOUNT"]) == 0  # no credit left over
    else:
        assert fees.posted == 0
        [pay] = logged
        assert pay["payload"]["arpaymentitem"] == {"invoicekey": str(_one(
            clean_ar, "SELECT ar_recordno FROM ar.invoices WHERE id = %s", invoice)[0]),
            "amount": "200.00"}  # fmt: skip
        assert pay["payload"]["overpaylocid"] == "E100"
        assert pay["payload"]["overpaydeptid"] == "MKTG"
        assert Decimal(paid["OVERPAYMENTAMOUNT"]) == Decimal("6.00")
        assert paid["OVERPAYMENTDEPARTMENTID"] == "MKTG"


def test_a_payment_made_only_of_a_credit_note_is_just_the_application(records, push, writes):
    customer = _linked_customer(records, push)
    invoice = records.document("invoices", customer, "LOC-5001", [Line("30.00")])
    credit = records.document("credit_notes", customer, "CN-LOC-5", [Line("30.00")])
    assert push("invoices").posted == push("credit_notes").posted == 1
    writes()
    records.payment(customer, "0", [Application(invoice, "0", credit, "30.00")])
    assert push("payments").posted == 1
    assert [w["function"] for w in writes()] == ["apply_arpayment"]
    assert push("payments").posted == 0 and writes() == []
