"""Exactly once whatever the timing and whatever people do (issue 17 items 1, 2, 3, 7): a push
without an answer, a pull in between, a clerk re-entering a "stuck" payment, an edit while the
write is in flight, and records older than the cut-over. Every test ends on the sandbox's
ground truth and PostgreSQL: one local row, one Intacct record, linked (or, where a person
must act, the error that says so)."""

from __future__ import annotations

import logging
from datetime import date
from zoneinfo import ZoneInfo

import pandas as pd
import psycopg2
import pytest
from intacct_sync.intacct.errors import IntacctError
from intacct_sync.intacct.hook import IntacctHook
from intacct_sync.mapping import payments as payment_mapping
from intacct_sync.pull.extract import land_query
from intacct_sync.pull.loading import _copy_frame, load
from intacct_sync.pull.map_and_load import map_and_load
from intacct_sync.push import links as push_links
from intacct_sync.push.posting import push_object
from intacct_sync.sync_config import parse
from intacct_sync.sync_objects import OBJECTS

from include.localenv.local_records import Application, Line
from tests.ground_truth import all_records, sandbox_post

PAYMENTS = OBJECTS["payments"]


# -- helpers ------------------------------------------------------------------------------------
def _rows(connection, sql: str, *args) -> list[tuple]:
    with connection, connection.cursor() as cursor:
        cursor.execute(sql, args)
        return cursor.fetchall()


def _ready_payment(records, push, reference: str, amount: str = "60.00") -> int:
    """A local customer and invoice already in Intacct, and a completed payment of it."""
    customer = records.customer(f"Once {reference}", account_number=f"{reference}-C")
    invoice = records.document("invoices", customer, f"{reference}-I", [Line("100.00")])
    assert push("customers").posted == 1 and push("invoices").posted == 1
    return records.payment(customer, amount, [Application(invoice, amount)],
                           reference=reference, payment_date=date(2026, 11, 20))  # fmt: skip


def _push_without_answer(server, clean_ar, name: str, fault: str = "http_524") -> None:
    """Push `name` while every call fails with `fault` until the retries run out (a 524 is
    processed by Intacct first: the write is committed and its answer lost)."""
    hook = IntacctHook(retry_attempts=2, retry_initial_wait=0.01, retry_max_wait=0.02)
    sandbox_post(server, "faults", {fault: {"probability": 1.0}})
    try:
        with pytest.raises(IntacctError):
            push_object(hook, clean_ar, name, parse(None))
    finally:
        sandbox_post(server, "faults", {"clear": True})


def _error(connection, obj: str, local_id: int) -> tuple[str, str] | None:
    found = _rows(connection, "SELECT state, message FROM intacct_sync.reconciliation_errors"
                  " WHERE object = %s AND direction = 'push' AND record_id = %s",
                  obj, str(local_id))  # fmt: skip
    return found[0] if found else None


def _intacct_payments(server, reference: str) -> list[dict]:
    return all_records(server, object="ARPYMT", query=f"DOCNUMBER = '{reference}'")


def _local_payments(connection, reference: str) -> list[tuple]:
    return _rows(connection, "SELECT id, origin, intacct_recordno FROM ar.payments"
                 " WHERE reference = %s AND deleted_at IS NULL ORDER BY id", reference)  # fmt: skip


def _pulled(hook, reference: str):
    """What a payments pull maps for this payment (its ARPYMT and details, as in Intacct)."""
    headers = list(hook.read_by_query("ARPYMT", list(PAYMENTS.fields),
                                      f"DOCNUMBER = '{reference}'"))  # fmt: skip
    keys = ", ".join(f"'{h['RECORDNO']}'" for h in headers)
    details = list(hook.read_by_query("ARPYMTDETAIL", list(PAYMENTS.children.fields),
                                      f"PAYMENTKEY IN ({keys})"))  # fmt: skip
    return payment_mapping.map_records(pd.DataFrame.from_records(headers),
                                       pd.DataFrame.from_records(details))  # fmt: skip


# -- item 1 and 2: no answer, a pull, then the next push --------------------------------------
def test_lost_answer_then_pull_then_replay_leaves_one_payment_linked(
    records, push, hook, clean_ar, intacct_connection, writes
):
    server = intacct_connection
    payment = _ready_payment(records, push, "ONCE-P1")
    writes()
    _push_without_answer(server, clean_ar, "payments")

    # Intacct committed the payment; the platform does not know its key, but says so.
    [in_intacct] = _intacct_payments(server, "ONCE-P1")
    assert [w["outcome"] for w in writes("create_arpayment")][:1] == ["success"]
    assert _local_payments(clean_ar, "ONCE-P1") == [(payment, "local", None)]
    state, message = _error(clean_ar, "payments", payment)
    assert state == "outcome unknown" and "ONCE-P1" in message
    assert _rows(clean_ar, "SELECT state, document_number FROM intacct_sync.push_links"
                 " WHERE object = 'payments' AND local_id = %s", payment) == [
        ("unknown", "ONCE-P1")]  # fmt: skip

    # The hourly pull meets it: the loader links it to the local row (its hook, called the
    # way intacct_sync/pull/loading.py calls it on `incoming`), so its upsert inserts nothing.
    mapped = _pulled(hook, "ONCE-P1")
    ids = mapped.rows["intacct_recordno"].astype(str).tolist()
    with clean_ar, clean_ar.cursor() as cursor:
        _copy_frame(cursor, "incoming", mapped.rows)
        assert push_links.link_pulled(cursor, "payments", ids) == 1
        cursor.execute("DROP TABLE incoming")
    counts = load(clean_ar, PAYMENTS, mapped)
    assert (counts.inserted, counts.rejected) == (0, 0)
    assert _local_payments(clean_ar, "ONCE-P1") == [
        (payment, "local", int(in_intacct["RECORDNO"]))]  # fmt: skip

    # The next push looks the payment up before writing: found, linked, nothing sent.
    again = push("payments")
    assert (again.found, again.posted, again.failed) == (1, 0, 0)
    assert writes() == []
    assert _error(clean_ar, "payments", payment)[0] == "resolved"
    assert push("payments").found == 0 and writes() == []
    # One local row, one Intacct payment, linked; the invoice credited once.
    assert len(_intacct_payments(server, "ONCE-P1")) == 1
    assert _local_payments(clean_ar, "ONCE-P1") == [
        (payment, "local", int(in_intacct["RECORDNO"]))]  # fmt: skip
    assert _rows(clean_ar, "SELECT intacct_key FROM intacct_sync.pushes WHERE object ="
                 " 'payments' AND local_id = %s AND action = 'create'", payment) == [
        (str(in_intacct["RECORDNO"]),)]  # fmt: skip
    [invoice] = all_records(server, object="ARINVOICE", query="RECORDID = 'ONCE-P1-I'")
    assert float(invoice["TRX_TOTALDUE"]) == 40.0


def test_pull_between_lost_answer_and_replay_inserts_no_second_payment(
    records, push, hook, clean_ar, intacct_connection
):
    """The same through the pull's own map and load: flips once intacct_sync/pull/loading.py calls
    push_links.link_pulled(cursor, obj.name, ids) before its upsert."""
    server = intacct_connection
    payment = _ready_payment(records, push, "ONCE-P2")
    _push_without_answer(server, clean_ar, "payments")
    [in_intacct] = _intacct_payments(server, "ONCE-P2")
    land_query(
        hook, clean_ar, object_name="payments", intacct_object="ARPYMT",
        fields=list(PAYMENTS.fields), query="DOCNUMBER = 'ONCE-P2'", docparid=None,
        children=PAYMENTS.children.spec(), landing_run_id="once-p2", chunk="",
        log=logging.getLogger(__name__),
    )  # fmt: skip
    map_and_load(clean_ar, PAYMENTS, "once-p2", company_tz=ZoneInfo("America/Los_Angeles"))
    assert _local_payments(clean_ar, "ONCE-P2") == [
        (payment, "local", int(in_intacct["RECORDNO"]))]  # fmt: skip
    assert push("payments").found == 1
    assert len(_intacct_payments(server, "ONCE-P2")) == 1


def test_outcome_unknown_that_intacct_never_received_is_posted_by_the_next_push(
    records, push, clean_ar, intacct_connection, writes
):
    server = intacct_connection
    payment = _ready_payment(records, push, "ONCE-P3")
    writes()
    _push_without_answer(server, clean_ar, "payments", fault="http_503")  # never processed
    assert _intacct_payments(server, "ONCE-P3") == []
    assert _error(clean_ar, "payments", payment)[0] == "outcome unknown"

    again = push("payments")
    assert (again.found, again.posted) == (0, 1)
    assert [w["outcome"] for w in writes("create_arpayment")] == ["success"]
    [in_intacct] = _intacct_payments(server, "ONCE-P3")
    assert _local_payments(clean_ar, "ONCE-P3") == [
        (payment, "local", int(in_intacct["RECORDNO"]))]  # fmt: skip
    assert _error(clean_ar, "payments", payment)[0] == "resolved"


def test_stuck_payment_deleted_and_re_entered_is_flagged_not_posted_twice(
    records, push, clean_ar, intacct_connection, writes
):
    server = intacct_connection
    payment = _ready_payment(records, push, "ONCE-P4", amount="40.00")  # a partial payment
    [(customer, invoice)] = _rows(
        clean_ar, "SELECT p.customer_id, a.invoice_id FROM ar.payments p"
        " JOIN ar.payment_applications a ON a.payment_id = p.id WHERE p.id = %s", payment)
    _push_without_answer(server, clean_ar, "payments")
    assert len(_intacct_payments(server, "ONCE-P4")) == 1
    # The clerk sees a "stuck" payment, deletes it and enters it again.
    _rows(clean_ar, "DELETE FROM ar.payments WHERE id = %s RETURNING id", payment)
    again = records.payment(customer, "40.00", [Application(invoice, "40.00")],
                            reference="ONCE-P4", payment_date=date(2026, 11, 20))  # fmt: skip
    writes()

    counts = push("payments")
    assert (counts.posted, counts.failed) == (0, 1)
    assert writes("create_arpayment") == []
    state, message = _error(clean_ar, "payments", again)
    assert state == "open"
    assert f"re-entry of payment {payment}" in message and "Intacct has it as ARPYMT" in message
    assert push("payments").posted == 0  # stays flagged
    assert len(_intacct_payments(server, "ONCE-P4")) == 1

    # A person confirms it is the same payment (retry): linked to Intacct's, not posted.
    [(error_id,)] = _rows(clean_ar, "SELECT id FROM intacct_sync.reconciliation_errors"
                          " WHERE object = 'payments' AND record_id = %s", str(again))
    _rows(clean_ar, "SELECT intacct_sync.retry_error(%s)", error_id)
    assert push("payments").found == 1
    assert writes("create_arpayment") == []
    [in_intacct] = _intacct_payments(server, "ONCE-P4")
    assert _local_payments(clean_ar, "ONCE-P4") == [
        (again, "local", int(in_intacct["RECORDNO"]))]  # fmt: skip
    assert _error(clean_ar, "payments", again)[0] == "resolved"
    assert _error(clean_ar, "payments", payment)[0] == "resolved"


# -- item 3: an edit while the write is in flight ---------------------------------------------
class _ClerkEditsDuringTheWrite(IntacctHook):
    """The real hook; a clerk's edit commits after the push read the row, before the answer."""

    edit: tuple[str, tuple] | None = None

    def write_batch(self, functions, **kw):
        if self.edit:
            sql, args = self.edit
            with psycopg2.connect(self.dsn) as other, other.cursor() as cursor:
                cursor.execute(sql, args)
            other.close()
            self.edit = None
        return super().write_batch(functions, **kw)


def test_invoice_edited_while_posting_is_a_changed_while_posting_error(
    records, push, clean_ar, intacct_connection, writes, ar_database_dsn
):
    server = intacct_connection
    customer = records.customer("Once Edited", account_number="ONCE-E1-C")
    assert push("customers").posted == 1
    invoice = records.document("invoices", customer, "ONCE-E1", [Line("100.00")])
    hook = _ClerkEditsDuringTheWrite(retry_initial_wait=0.01, retry_max_wait=0.05)
    hook.dsn = ar_database_dsn
    hook.edit = ("UPDATE ar.invoices SET total = 150.00, memo = 'rush' WHERE id = %s", (invoice,))
    writes()

    counts = push_object(hook, clean_ar, "invoices", parse(None))
    assert (counts.posted, counts.changed) == (1, 1)
    [in_intacct] = all_records(server, object="ARINVOICE", query="RECORDID = 'ONCE-E1'")
    assert float(in_intacct["TRX_TOTALENTERED"]) == 100.0
    state, message = _error(clean_ar, "invoices", invoice)
    assert state == "open" and "changed while posting" in message
    assert "total: Intacct has 100.0, the platform has 150.0" in message
    assert "memo: Intacct has None, the platform has 'rush'" in message
    # Linked all the same (Intacct has it), and not posted again; the error stays open.
    assert _rows(clean_ar, "SELECT ar_recordno FROM ar.invoices WHERE number = 'ONCE-E1'") == [
        (int(in_intacct["RECORDNO"]),)]  # fmt: skip
    assert push("invoices").posted == 0
    assert [w["function"] for w in writes()] == ["create_invoice"]
    assert _error(clean_ar, "invoices", invoice)[0] == "open"


def test_edit_between_a_lost_answer_and_the_next_push_is_caught_too(
    records, push, clean_ar, intacct_connection, writes
):
    """The version compared is the one sent, even when the answer came a push later."""
    server = intacct_connection
    customer = records.customer("Once Edited Later", account_number="ONCE-E2-C")
    assert push("customers").posted == 1
    invoice = records.document("invoices", customer, "ONCE-E2", [Line("80.00")])
    _push_without_answer(server, clean_ar, "invoices")
    _rows(clean_ar, "UPDATE ar.invoice_lines SET amount = 90.00 WHERE invoice_id = %s"
          " RETURNING line_no", invoice)  # fmt: skip
    writes()

    counts = push("invoices")
    assert (counts.found, counts.changed, counts.posted) == (1, 1, 0)
    assert writes() == []
    state, message = _error(clean_ar, "invoices", invoice)
    assert state == "open" and "changed while posting" in message
    assert "lines: Intacct has [1: 80.0], the platform has [1: 90.0]" in message
    [in_intacct] = all_records(server, object="ARINVOICE", query="RECORDID = 'ONCE-E2'")
    assert _rows(clean_ar, "SELECT ar_recordno FROM ar.invoices WHERE number = 'ONCE-E2'") == [
        (int(in_intacct["RECORDNO"]),)]  # fmt: skip


# -- item 7: the push cut-over ----------------------------------------------------------------
def test_first_push_posts_none_of_the_records_older_than_the_cut_over(
    records, push, clean_ar, intacct_connection
):
    server = intacct_connection
    customer = records.customer("Once Cut Over", account_number="ONCE-X-C")
    assert push("customers").posted == 1
    old = records.document("invoices", customer, "ONCE-X-OLD", [Line("10.00")])
    old_draft = records.document("invoices", customer, "ONCE-X-DRAFT", [Line("11.00")],
                                 state="draft")  # fmt: skip
    [(moment,)] = _rows(clean_ar, "SELECT now()")
    new = records.document("invoices", customer, "ONCE-X-NEW", [Line("12.00")])
    _rows(clean_ar, "UPDATE ar.invoices SET state = 'open' WHERE id = %s RETURNING id",
          old_draft)  # made ready after the cut-over  # fmt: skip
    config = {"sync_start": {"invoices": moment.isoformat()}}

    assert push("invoices", **config).posted == 2
    numbers = sorted(r["RECORDID"] for r in all_records(
        server, object="ARINVOICE", query="RECORDID LIKE 'ONCE-X-%'"))  # fmt: skip
    assert numbers == ["ONCE-X-DRAFT", "ONCE-X-NEW"]
    assert push("invoices", **config).posted == 0  # the old one stays out

    # A person queues the old one explicitly: posted.
    _rows(clean_ar, "SELECT intacct_sync.queue_push('invoices', %s)", old)
    assert push("invoices", **config).posted == 1
    in_intacct = {r["RECORDID"]: r["RECORDNO"] for r in all_records(
        server, object="ARINVOICE", query="RECORDID LIKE 'ONCE-X-%'")}  # fmt: skip
    assert len(in_intacct) == 3
    linked = dict(_rows(clean_ar, "SELECT number, ar_recordno FROM ar.invoices"
                        " WHERE id = ANY(%s)", [old, old_draft, new]))  # fmt: skip
    assert linked == {k: int(v) for k, v in in_intacct.items()}


def test_cut_over_without_configuration_is_the_first_push(records, push, clean_ar):
    """Unconfigured, the cut-over is the moment the push first ran for the object: what the
    platform held then is never posted (here: the invoice entered before the first push)."""
    _rows(clean_ar, "DELETE FROM intacct_sync.sync_state WHERE direction = 'push'"
          " RETURNING object")  # the sync not enabled yet  # fmt: skip
    customer = records.customer("Once Never Pushed", account_number="ONCE-Y-C")
    records.document("invoices", customer, "ONCE-Y-OLD", [Line("10.00")])
    assert push("customers").posted == 1
    assert push("invoices").posted == 0
    records.document("invoices", customer, "ONCE-Y-NEW", [Line("10.00")])
    assert push("invoices").posted == 1
    assert _rows(clean_ar, "SELECT number FROM ar.invoices WHERE ar_recordno IS NOT NULL") == [
        ("ONCE-Y-NEW",)]  # fmt: skip
