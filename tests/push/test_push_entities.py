"""Multi-entity companies (issue 17 item 5, issue 16): each local record is posted in its own
entity through a session of that entity; the connection's entity is only the default.
Checked against the sandbox's own records (MEGAENTITYID), which scopes writes like Intacct."""

from __future__ import annotations

import json
import os

import pytest
from intacct_sync.intacct import hook as hook_module

from include.localenv.local_records import Application, Line
from tests.push.test_push_rules import _one, _record


def _in_entity(connection, table: str, record_id: int, entity: str) -> None:
    with connection, connection.cursor() as cursor:
        cursor.execute(f"UPDATE ar.{table} SET entity = %s WHERE id = %s", (entity, record_id))


def _entity_of(server, connection, table: str, key_column: str, intacct_object: str, local_id):
    key = _one(connection, f"SELECT {key_column} FROM ar.{table} WHERE id = %s", local_id)[0]
    assert key is not None, f"{table} {local_id} was not posted"
    return _record(server, intacct_object, key).get("MEGAENTITYID") or ""


def _customer_with_invoice(records, connection, name: str, entity: str) -> tuple[int, int]:
    customer = records.customer(name, account_number=f"ACC-{name[:5].upper()}")
    invoice = records.document("invoices", customer, f"INV-{name[:5].upper()}",
                               [Line(100, description="Services")])  # fmt: skip
    _in_entity(connection, "customers", customer, entity)
    _in_entity(connection, "invoices", invoice, entity)
    return customer, invoice


def test_each_record_is_posted_in_its_own_entity(records, push, clean_ar, intacct_connection):
    a, invoice_a = _customer_with_invoice(records, clean_ar, "Alpha Entity One", "E100")
    b, invoice_b = _customer_with_invoice(records, clean_ar, "Beta Entity Two", "E200")
    assert push("customers").posted == 2
    assert push("invoices").posted == 2
    payment = records.payment(a, "100.00", [Application(invoice_id=invoice_a, amount=100)],
                              reference="ENT-1")  # fmt: skip
    _in_entity(clean_ar, "payments", payment, "E100")
    assert push("payments").posted == 1

    server = intacct_connection
    assert _entity_of(server, clean_ar, "customers", "intacct_recordno", "CUSTOMER", a) == "E100"
    assert _entity_of(server, clean_ar, "customers", "intacct_recordno", "CUSTOMER", b) == "E200"
    assert _entity_of(server, clean_ar, "invoices", "ar_recordno", "ARINVOICE", invoice_a) == (
        "E100")
    assert _entity_of(server, clean_ar, "invoices", "ar_recordno", "ARINVOICE", invoice_b) == (
        "E200")
    assert _entity_of(server, clean_ar, "payments", "intacct_recordno", "ARPYMT", payment) == "E100"
    key = _one(clean_ar, "SELECT ar_recordno FROM ar.invoices WHERE id = %s", invoice_a)[0]
    assert float(_record(server, "ARINVOICE", key)["TRX_TOTALDUE"]) == 0  # paid in E100


@pytest.fixture
def e300_connection(intacct_connection, monkeypatch):
    """The same company, with the connection scoped to entity E300."""
    conn = json.loads(os.environ["AIRFLOW_CONN_INTACCT_DEFAULT"])
    conn["extra"]["entity_id"] = "E300"
    monkeypatch.setenv("AIRFLOW_CONN_INTACCT_DEFAULT", json.dumps(conn))
    hook_module.reset_sessions()
    yield intacct_connection
    hook_module.reset_sessions()


def test_the_connections_entity_is_only_the_default(records, push, clean_ar, e300_connection):
    plain, _ = _customer_with_invoice(records, clean_ar, "Gamma Default", "")
    own, own_invoice = _customer_with_invoice(records, clean_ar, "Delta Own Entity", "E100")
    assert push("customers").posted == 2
    assert push("invoices").posted == 2
    server = e300_connection
    assert _entity_of(server, clean_ar, "customers", "intacct_recordno", "CUSTOMER", plain) == (
        "E300")
    assert _entity_of(server, clean_ar, "customers", "intacct_recordno", "CUSTOMER", own) == "E100"
    assert _entity_of(server, clean_ar, "invoices", "ar_recordno", "ARINVOICE", own_invoice) == (
        "E100")
    # An E100 payment of the E100 invoice: the E300 session could not even see that invoice.
    payment = records.payment(own, "100.00", [Application(invoice_id=own_invoice, amount=100)],
                              reference="ENT-2")  # fmt: skip
    _in_entity(clean_ar, "payments", payment, "E100")
    counts = push("payments")
    assert (counts.posted, counts.failed) == (1, 0)
    assert _entity_of(server, clean_ar, "payments", "intacct_recordno", "ARPYMT", payment) == "E100"
