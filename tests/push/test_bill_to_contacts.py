"""Bill-to contacts as the customer source (issue 17, item 6): the `customer_source`
configuration key, and the identity of a local customer in that mode — (Intacct customer
id, contact name), unique among live rows (migration 0018) — against the real PostgreSQL."""

from __future__ import annotations

import psycopg2
import pytest
from intacct_sync.sync_config import CUSTOMER_SOURCES, SyncConfigError, parse

NO_PULL = dict.fromkeys(("customers", "invoices", "credit_notes", "payments"), False)
BILL_TO_CONTACT = {"customer_source": "bill_to_contact", "pull": NO_PULL}


def _insert(connection, name: str, customer_id: str, contact: str | None) -> int:
    with connection, connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ar.customers (origin, name, intacct_customer_id, intacct_contact_name)"
            " VALUES ('local', %s, %s, %s) RETURNING id",
            (name, customer_id, contact),
        )
        return cursor.fetchone()[0]


# -- configuration ---------------------------------------------------------------------------
def test_customer_source_defaults_to_customer_and_accepts_bill_to_contact():
    assert parse(None).customer_source == "customer"
    assert parse({}).customer_source == "customer"
    assert parse({"customer_source": "bill_to_contact", "pull": NO_PULL}).customer_source == (
        "bill_to_contact")
    assert CUSTOMER_SOURCES == ("customer", "bill_to_contact")


@pytest.mark.parametrize("value", ["contacts", "", 1, None, ["customer"]])
def test_a_bad_customer_source_names_the_key_and_the_allowed_values(value):
    with pytest.raises(SyncConfigError) as error:
        parse({"customer_source": value})
    message = str(error.value)
    assert "intacct_sync_config: customer_source" in message
    assert "customer" in message and "bill_to_contact" in message


def test_bill_to_contact_is_accepted_with_every_pull_on():
    config = parse({"customer_source": "bill_to_contact"})
    assert config.customer_source == "bill_to_contact"
    assert all(config.pull.values()) and all(config.push.values())


# -- identity (migration 0018) ---------------------------------------------------------------
def test_two_contacts_of_one_intacct_customer_are_two_local_customers(clean_ar):
    west = _insert(clean_ar, "Acme West", "C-ACME", "Acme West AP")
    east = _insert(clean_ar, "Acme East", "C-ACME", "Acme East AP")
    assert west != east
    with clean_ar, clean_ar.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM ar.customers WHERE intacct_customer_id = 'C-ACME'")
        assert cursor.fetchone()[0] == 2


def test_the_same_contact_of_the_same_customer_is_refused_among_live_rows(clean_ar):
    first = _insert(clean_ar, "Acme West", "C-ACME", "Acme West AP")
    with pytest.raises(psycopg2.IntegrityError):
        _insert(clean_ar, "Acme West again", "C-ACME", "Acme West AP")
    clean_ar.rollback()
    # Soft-deleted, the contact may be created again (uniqueness among live rows only).
    with clean_ar, clean_ar.cursor() as cursor:
        cursor.execute("UPDATE ar.customers SET deleted_at = now() WHERE id = %s", (first,))
    assert _insert(clean_ar, "Acme West again", "C-ACME", "Acme West AP")


def test_customer_mode_is_unchanged_one_live_row_per_intacct_customer_id(clean_ar):
    _insert(clean_ar, "Plain Customer", "C-PLAIN", None)
    with pytest.raises(psycopg2.IntegrityError):
        _insert(clean_ar, "Plain Customer twin", "C-PLAIN", None)
    clean_ar.rollback()
    # A contact row and the customer row of one id do not collide with each other.
    assert _insert(clean_ar, "Plain Customer AP", "C-PLAIN", "Plain AP")


# -- push: invoices carry the bill-to contact, payments go to the Intacct customer -----------
def _contact_customer(connection, customer: dict, contact: str, key: int) -> int:
    """A local customer that is a bill-to contact of Intacct customer `customer`, already
    linked (its contact's key `key`): the contact push itself is not part of this test."""
    with connection, connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ar.customers (origin, name, account_number, intacct_customer_id,"
            " intacct_contact_name, intacct_recordno, currency)"
            " VALUES ('local', %s, %s, %s, %s, %s, 'USD') RETURNING id",
            (contact, customer["CUSTOMERID"], customer["CUSTOMERID"], contact, key),
        )
        return cursor.fetchone()[0]


def test_invoices_of_two_contacts_carry_their_bill_to_and_payments_go_to_the_customer(
    records, push, writes, clean_ar, intacct_connection, intacct_customer
):
    from include.localenv.local_records import Application, Line
    from tests.ground_truth import sandbox_get

    config = BILL_TO_CONTACT
    west = _contact_customer(clean_ar, intacct_customer, "Billing West", 990000001)
    east = _contact_customer(clean_ar, intacct_customer, "Billing East", 990000002)
    inv_west = records.document("invoices", west, "BT-W-1", [Line("120.00")])
    records.document("invoices", east, "BT-E-1", [Line("80.00")])
    assert push("invoices", **config).posted == 2
    sent = {w["payload"]["invoiceno"]: w["payload"] for w in writes("create_invoice")}
    for number, contact in (("BT-W-1", "Billing West"), ("BT-E-1", "Billing East")):
        assert sent[number]["customerid"] == intacct_customer["CUSTOMERID"]
        assert sent[number]["billto"]["contactname"] == contact
    with clean_ar, clean_ar.cursor() as cursor:
        cursor.execute("SELECT ar_recordno FROM ar.invoices WHERE id = %s", (inv_west,))
        key = cursor.fetchone()[0]
    record = sandbox_get(intacct_connection, "record", object="ARINVOICE", recordno=key)
    assert record["CUSTOMERID"] == intacct_customer["CUSTOMERID"]
    assert record["BILLTO.CONTACTNAME"] == "Billing West"

    records.payment(west, "120.00", [Application(inv_west, "120.00")], reference="BT-PAY-1")
    assert push("payments", **config).posted == 1
    [payment] = writes("create_arpayment")
    assert payment["payload"]["customerid"] == intacct_customer["CUSTOMERID"]
    assert "billto" not in payment["payload"]

    for name in ("invoices", "payments"):  # a re-run writes nothing twice
        assert push(name, **config).posted == 0
    assert writes() == []


def test_customer_mode_invoices_carry_no_bill_to(records, push, writes):
    from include.localenv.local_records import Line

    customer = records.customer("Plain Billing Co", account_number="ACC-PLAINB")
    assert push("customers").posted == 1
    records.document("invoices", customer, "BT-PLAIN-1", [Line("10.00")])
    assert push("invoices").posted == 1
    [create] = writes("create_invoice")
    assert "billto" not in create["payload"]


# -- push: local customers become CONTACTs under their Intacct customer --------------------
def _customer(connection, customer_id: int) -> dict:
    with connection, connection.cursor() as cursor:
        cursor.execute("SELECT to_jsonb(c) FROM ar.customers c WHERE id = %s", (customer_id,))
        return cursor.fetchone()[0]


def test_two_contacts_of_one_customer_are_pushed_as_two_contacts_under_it(
    records, push, writes, clean_ar, intacct_connection, intacct_customer
):
    from tests.ground_truth import sandbox_get

    config = BILL_TO_CONTACT
    customer_id = intacct_customer["CUSTOMERID"]
    north = _insert(clean_ar, "Acme North", customer_id, "Acme North AP")
    south = _insert(clean_ar, "Acme South", customer_id, "Acme South AP")
    counts = push("customers", **config)
    assert (counts.posted, counts.failed) == (2, 0)
    created = writes("create")
    assert [(w["object"], w["payload"]["CONTACT"]["CONTACTNAME"],
             w["payload"]["CONTACT"]["CUSTOMERID"]) for w in created] == [
        ("CONTACT", "Acme North AP", customer_id), ("CONTACT", "Acme South AP", customer_id)]
    for local, name in ((north, "Acme North AP"), (south, "Acme South AP")):
        row = _customer(clean_ar, local)
        assert row["intacct_customer_id"] == customer_id
        contact = sandbox_get(intacct_connection, "record", object="CONTACT",
                              recordno=row["intacct_recordno"])
        assert (contact["CONTACTNAME"], contact["CUSTOMERID"]) == (name, customer_id)
    assert push("customers", **config).posted == 0 and writes() == []  # nothing twice

    with clean_ar, clean_ar.cursor() as cursor:  # a local change: an update of its CONTACT
        cursor.execute("UPDATE ar.customers SET email = 'ap@north.example' WHERE id = %s",
                       (north,))
    assert push("customers", **config).posted == 1
    [update] = writes()
    assert (update["function"], update["object"]) == ("update", "CONTACT")
    key = _customer(clean_ar, north)["intacct_recordno"]
    assert sandbox_get(intacct_connection, "record", object="CONTACT",
                       recordno=key)["EMAIL1"] == "ap@north.example"
    assert push("customers", **config).posted == 0 and writes() == []


def test_an_existing_contact_is_linked_and_one_under_another_customer_refused(
    push, writes, clean_ar
):
    config = BILL_TO_CONTACT
    linked = _insert(clean_ar, "West", "C-00001", "Billing West")  # seeded under C-00001
    wrong = _insert(clean_ar, "East", "C-00002", "Billing East")  # seeded under C-00001 too
    bare = _insert(clean_ar, "No contact name", "C-00002", None)
    counts = push("customers", **config)
    assert (counts.posted, counts.linked, counts.failed) == (0, 1, 2)
    assert writes() == []
    assert _customer(clean_ar, linked)["intacct_recordno"] is not None
    assert _customer(clean_ar, wrong)["intacct_recordno"] is None
    with clean_ar, clean_ar.cursor() as cursor:
        cursor.execute("SELECT record_id, message FROM intacct_sync.reconciliation_errors"
                       " WHERE object = 'customers' ORDER BY record_id::bigint")
        errors = dict(cursor.fetchall())
    assert "C-00001" in errors[str(wrong)]
    assert "customer_source" in errors[str(bare)]


# -- push, then pull: one local row per contact ----------------------------------------------
PULL_ON = {"customer_source": "bill_to_contact"}


def _pull_contacts(connection, run_id: str):
    from intacct_sync.sync_objects import sourced

    from tests.pull.test_bill_to_contact_pull import _pull

    return _pull(connection, run_id, sourced("customers", customer_source="bill_to_contact")[0])


def _rows_of(connection, contact: str) -> list[tuple]:
    with connection, connection.cursor() as cursor:
        cursor.execute("SELECT id, origin, intacct_recordno FROM ar.customers"
                       " WHERE intacct_contact_name = %s AND deleted_at IS NULL", (contact,))
        return cursor.fetchall()


def test_a_contact_pushed_then_pulled_stays_one_row(
    push, writes, clean_ar, intacct_connection, intacct_customer
):
    local = _insert(clean_ar, "Acme Round Trip", intacct_customer["CUSTOMERID"], "Round Trip AP")
    assert push("customers", **PULL_ON).posted == 1
    [(_, _, key)] = _rows_of(clean_ar, "Round Trip AP")
    counts = _pull_contacts(clean_ar, "round-trip")
    assert counts.rejected == 0
    assert _rows_of(clean_ar, "Round Trip AP") == [(local, "local", key)]
    with clean_ar, clean_ar.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM intacct_sync.reconciliation_errors"
                       " WHERE object = 'customers' AND state = 'open'")
        assert cursor.fetchone() == (0,)
    writes()
    assert push("customers", **PULL_ON).posted == 0 and writes() == []  # nothing to send


def test_a_contact_whose_push_answer_was_lost_links_to_its_row_when_pulled(
    clean_ar, intacct_connection, intacct_customer, push, writes
):
    """The create reached Intacct, its answer did not; a clerk then corrects the contact
    name locally. The pull finds the contact by what the push sent (intacct_sync.push_links,
    recorded before the write): it links it to the local row instead of inserting another."""
    from intacct_sync.intacct.errors import IntacctError
    from intacct_sync.intacct.hook import IntacctHook
    from intacct_sync.push.posting import push_object

    from tests.ground_truth import all_records, sandbox_post

    server = intacct_connection

    class AnswersLost(IntacctHook):
        """The real hook; from the write on, every answer is lost (a 524 is sent after the
        sandbox processed the call). The plan's read of Intacct's contacts is answered."""

        def write_batch(self, functions):
            sandbox_post(server, "faults", {"http_524": {"probability": 1.0}})
            return super().write_batch(functions)

    local = _insert(clean_ar, "Acme Lost", intacct_customer["CUSTOMERID"], "Lost Answer AP")
    hook = AnswersLost(retry_attempts=2, retry_initial_wait=0.01, retry_max_wait=0.02)
    try:
        with pytest.raises(IntacctError):
            push_object(hook, clean_ar, "customers", parse(PULL_ON))
    finally:
        sandbox_post(server, "faults", {"clear": True})
    [contact] = all_records(server, object="CONTACT", query="CONTACTNAME = 'Lost Answer AP'")
    with clean_ar, clean_ar.cursor() as cursor:
        cursor.execute("SELECT state, document_number, customer_key FROM"
                       " intacct_sync.push_links WHERE object = 'customers' AND local_id = %s",
                       (local,))
        assert cursor.fetchall() == [("unknown", "Lost Answer AP",
                                      intacct_customer["CUSTOMERID"])]
        cursor.execute("UPDATE ar.customers SET intacct_contact_name = 'Lost Answer Payables'"
                       " WHERE id = %s", (local,))

    counts = _pull_contacts(clean_ar, "lost-answer")
    assert counts.rejected == 0
    assert _rows_of(clean_ar, "Lost Answer AP") == [
        (local, "local", int(contact["RECORDNO"]))]  # Intacct's contact name, one row
    assert _rows_of(clean_ar, "Lost Answer Payables") == []
    with clean_ar, clean_ar.cursor() as cursor:  # the push's "outcome unknown" is known now
        cursor.execute("SELECT state FROM intacct_sync.reconciliation_errors WHERE object ="
                       " 'customers' AND direction = 'push' AND record_id = %s", (str(local),))
        assert cursor.fetchall() == [("resolved",)]
    writes()
    again = push("customers", **PULL_ON)
    assert (again.posted, again.failed) == (0, 0) and writes() == []
    assert len(all_records(server, object="CONTACT", query="CONTACTNAME = 'Lost Answer AP'")) == 1
