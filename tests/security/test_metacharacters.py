"""Record values carrying SQL or XML metacharacters, and unusual unicode, are stored
verbatim in both directions and harm nothing.

Pull: customers created in the sandbox through the gateway, pulled by the real DAG, compared
with the sandbox's own records. Push: local customers and an invoice pushed, compared with
what the sandbox stored. NUL is not among the values: XML 1.0 cannot carry it (not even as
&#0;) and PostgreSQL text cannot hold it; the last test shows both refusals are clear.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from intacct_sync.intacct.errors import IntacctResponseError
from intacct_sync.intacct.hook import IntacctHook, WriteFunction
from intacct_sync.intacct.xml_response import parse_response
from intacct_sync.push.posting import enable, push_object
from intacct_sync.sync_config import parse

from include.localenv.local_records import Line, LocalRecords
from tests.dags.test_pull_dags import _dag
from tests.ground_truth import all_records, sandbox_get
from tests.intacct import xmlbuild as X

pytestmark = pytest.mark.security

HOSTILE = [
    "Robert'); DROP TABLE ar.customers; --",
    "O'Brien \"Quoted\" `tick` ''",
    "C:\\temp\\new \\' \\\\ \\x00",
    "$$ $body$ DROP $body$ $1",
    "100% %s %(x)s %% {0} {name}",
    "<b>Bold</b> & <![CDATA[ inner ]]> ]]> &amp; &lt; &#x41;",
    "<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>&e;",
    "Zoë ß 漢字 🙂👍🏽 مرحبا \u202eRTL override\u202c \u200bzero-width",
    "tab\tand\nnewline",
]
TABLES = ["ar.customers", "ar.invoices", "ar.invoice_lines", "ar.payments",
          "intacct_sync.sync_state", "intacct_sync.reconciliation_errors"]  # fmt: skip


def _tables_intact(connection) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM unnest(%s::text[]) t WHERE to_regclass(t) IS NULL",
                       (TABLES,))  # fmt: skip
        assert cursor.fetchone()[0] == 0
    connection.rollback()


def _rows(connection, sql: str, *params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    connection.rollback()
    return rows


def test_hostile_values_created_in_intacct_are_pulled_verbatim(intacct_connection, clean_ar):
    hook = IntacctHook(retry_initial_wait=0.01)
    results = hook.write_batch([
        WriteFunction("create", "CUSTOMER", f"sec-{i}", {"CUSTOMERID": f"SEC-{i:02d}",
                                                         "NAME": value})
        for i, value in enumerate(HOSTILE)
    ])  # fmt: skip
    assert [r.error for r in results] == [None] * len(HOSTILE)
    truth = {c["CUSTOMERID"]: c["NAME"] for c in all_records(intacct_connection, object="CUSTOMER")
             if c["CUSTOMERID"].startswith("SEC-")}  # fmt: skip
    assert truth == {f"SEC-{i:02d}": v for i, v in enumerate(HOSTILE)}  # the gateway kept them

    assert str(_dag("customers").test().state) in ("success", "DagRunState.SUCCESS")

    stored = dict(_rows(clean_ar, "SELECT intacct_customer_id, name FROM ar.customers"
                                  " WHERE intacct_customer_id LIKE %s", "SEC-%"))  # fmt: skip
    assert stored == truth
    total = sandbox_get(intacct_connection, "summary", object="CUSTOMER")["count"]
    assert _rows(clean_ar, "SELECT count(*) FROM ar.customers") == [(total,)]
    assert _rows(clean_ar, "SELECT count(*) FROM intacct_sync.reconciliation_errors") == [(0,)]
    _tables_intact(clean_ar)


def test_hostile_local_values_are_pushed_verbatim(intacct_connection, clean_ar):
    hook = IntacctHook(retry_initial_wait=0.01)
    enable(clean_ar)  # the push is on before the records are entered (its cut-over)
    records = LocalRecords(clean_ar)
    customers = {records.customer(value, account_number=f"SEC-P-{i:02d}"): value
                 for i, value in enumerate(HOSTILE)}  # fmt: skip
    customer = next(iter(customers))
    number = "INV-O'Brien & <Co> 100%s; --"
    invoice = records.document("invoices", customer, number,
                               [Line("12.50", HOSTILE[5]), Line("7.50", HOSTILE[7])],
                               memo=HOSTILE[0])  # fmt: skip

    assert push_object(hook, clean_ar, "customers", parse(None)).posted == len(HOSTILE)
    assert push_object(hook, clean_ar, "invoices", parse(None)).posted == 1

    sent = {c["CUSTOMERID"]: c["NAME"] for c in all_records(intacct_connection, object="CUSTOMER")
            if c["CUSTOMERID"].startswith("SEC-P-")}  # fmt: skip
    assert sent == {f"SEC-P-{i:02d}": v for i, v in enumerate(HOSTILE)}
    [(key,)] = _rows(clean_ar, "SELECT ar_recordno FROM ar.invoices WHERE id = %s", invoice)
    stored = sandbox_get(intacct_connection, "record", object="ARINVOICE", recordno=key)
    assert (stored["RECORDID"], stored["DESCRIPTION"]) == (number, HOSTILE[0])
    lines = [(c["ENTRYDESCRIPTION"], Decimal(str(c["TRX_AMOUNT"]))) for c in stored["_children"]]
    assert lines == [(HOSTILE[5], Decimal("12.50")), (HOSTILE[7], Decimal("7.50"))]
    # The local rows are as the AR platform wrote them, and every table is still there.
    names = dict(_rows(clean_ar, "SELECT id, name FROM ar.customers WHERE id = ANY(%s)",
                       list(customers)))  # fmt: skip
    assert names == customers
    _tables_intact(clean_ar)


def test_nul_is_refused_clearly_on_both_sides(clean_ar):
    """No NUL can reach the database: PostgreSQL text refuses it, and so does XML 1.0."""
    with pytest.raises(ValueError, match=r"A string literal cannot contain NUL \(0x00\)"):
        LocalRecords(clean_ar).customer("nul\x00name")
    clean_ar.rollback()
    body = X.page([{"RECORDNO": "1", "NAME": "placeholder"}])
    with pytest.raises(IntacctResponseError, match="not well-formed XML"):
        parse_response(body.replace(b"placeholder", b"nul&#0;name"))
    _tables_intact(clean_ar)


@pytest.mark.parametrize(("name", "why"), [
    ("Bell\x07 Ltd", "Control characters are not allowed in Intacct values"),
    ("Lone\ufffe Ltd", "All strings must be XML compatible: Unicode or ASCII, no NULL bytes or "
                       "control characters"),
], ids=["bell", "fffe"])  # fmt: skip
def test_a_character_xml_cannot_carry_in_one_local_record_does_not_stop_the_others(
    intacct_connection, clean_ar, name, why
):
    """PostgreSQL text holds \\x01 but XML 1.0 cannot carry it: that record is refused with
    a reconciliation error naming the reason, the others are pushed."""
    hook = IntacctHook(retry_initial_wait=0.01)
    records = LocalRecords(clean_ar)
    bad = records.customer(name, account_number="SEC-CTRL-1")
    records.customer("Plain Ltd", account_number="SEC-CTRL-2")
    counts = push_object(hook, clean_ar, "customers", parse(None))
    assert (counts.posted, counts.failed) == (1, 1)
    [(record_id, message)] = _rows(
        clean_ar, "SELECT record_id, message FROM intacct_sync.reconciliation_errors")
    assert (record_id, message) == (str(bad), f"customer SEC-CTRL-1 ({name}): {why}")
    found = sandbox_get(intacct_connection, "records", object="CUSTOMER",
                        query="CUSTOMERID LIKE 'SEC-CTRL-%'")["records"]
    assert [c["NAME"] for c in found] == ["Plain Ltd"]
    assert push_object(hook, clean_ar, "customers", parse(None)).posted == 0  # no retry loop
