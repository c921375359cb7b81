"""Bad-input catalogue, malformed or surprising answers from Intacct.

The gateway is scripted byte for byte (tests/intacct's scripted HTTP layer) and the answers go
through the pull's own steps — land_query (what the extract tasks run), then map and load —
into the real database. Three outcomes, each checked for "nothing lost":

* an answer the hook cannot use fails the read with its typed error: nothing is landed or
  loaded, so the next run reads the window again;
* a record Intacct sent with a value the mapping cannot take is left out as a reconciliation
  error naming the record; the rest of the page loads;
* a surprising but usable answer (an extra field, a repeated record) loads completely, once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pytest
from intacct_sync.intacct import errors as E
from intacct_sync.intacct import hook as hook_module
from intacct_sync.pull.extract import land_query
from intacct_sync.pull.landing import landed_count
from intacct_sync.pull.map_and_load import map_and_load
from intacct_sync.push.posting import enable, push_object
from intacct_sync.sync_config import SyncConfig
from intacct_sync.sync_objects import OBJECTS

from include.localenv.local_records import Line, LocalRecords
from tests.bad_input.conftest import database_state
from tests.intacct import xmlbuild as X
from tests.intacct.conftest import Scripted

pytestmark = pytest.mark.bad_input

RUN = "bad-input-run"
ATTEMPTS = 4  # tests/intacct's FAST_RETRIES: a retryable answer is given this often
MODIFIED = "11/20/2026 10:00:00"


@pytest.fixture(autouse=True)
def _fresh_sessions():
    """Every script starts with getAPISession: no session may be left from another test."""
    hook_module.reset_sessions()
    yield
    hook_module.reset_sessions()


def customer(n: int, **fields: str) -> dict[str, str]:
    return {"RECORDNO": str(n), "CUSTOMERID": f"BAD-C{n}", "NAME": f"Customer {n}",
            "STATUS": "active", "CURRENCY": "USD", "WHENMODIFIED": MODIFIED, **fields}  # fmt: skip


def payment(n: int, **fields: str) -> dict[str, str]:
    return {"RECORDNO": str(n), "CUSTOMERID": "BAD-C1", "STATE": "C", "CURRENCY": "USD",
            "RECEIPTDATE": "11/20/2026", "TRX_TOTALENTERED": "10.00", "WHENMODIFIED": MODIFIED,
            **fields}  # fmt: skip


def pull(hook, connection, name: str):
    """What the extract, map and load tasks of one run do, with this hook."""
    obj = OBJECTS[name]
    land_query(
        hook, connection, object_name=name, intacct_object=obj.intacct_object,
        fields=list(obj.fields), query="", docparid=obj.docparid,
        children=obj.children.spec() if obj.children else None, landing_run_id=RUN,
        chunk="", log=logging.getLogger(__name__),
    )  # fmt: skip
    return map_and_load(connection, obj, RUN, company_tz=hook.company_timezone)


def _rows(connection, sql: str, *args) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, args)
        rows = cursor.fetchall()
    connection.rollback()
    return rows


# -- answers the hook cannot use: the read fails, nothing lands -------------------------------
@dataclass(frozen=True)
class Unusable:
    answers: list[Scripted]  # after the session
    error: type[Exception]
    message: str  # str(error) starts with it


def _again(answer: Scripted) -> list[Scripted]:
    return [answer] * ATTEMPTS


UNUSABLE = [
    pytest.param(
        Unusable(_again(Scripted(200, b"Internal error", {"Content-Type": "text/plain"})),
                 E.IntacctResponseError, "Response is not well-formed XML: Start tag expected"),
        id="response-not-xml",
    ),
    pytest.param(
        Unusable(_again(Scripted(200, b"<html><body><h1>Down for maintenance</h1></body></html>",
                                 {"Content-Type": "text/html"})),
                 E.IntacctTemporarilyUnavailableError,
                 "Intacct answered HTTP 200 with an HTML error page [HTTP 200]"),
        id="response-html-page-with-200",
    ),
    pytest.param(
        Unusable(_again(Scripted(body=X.page([customer(1), customer(2)])[:300])),
                 E.IntacctResponseError, "Response is not well-formed XML: "),
        id="response-truncated-xml",
    ),
    pytest.param(
        Unusable(_again(Scripted(body=b"<?xml version='1.0'?><result><status>success</status>"
                                      b"</result>")),
                 E.IntacctResponseError, "Expected <response>, got <result> [HTTP 200]"),
        id="response-wrong-root-element",
    ),
    pytest.param(
        Unusable([Scripted(body=X.response(
                      "<result><status>failure</status><function>readByQuery</function>"
                      "<controlid>x</controlid></result>"))],
                 E.IntacctResultError,
                 "failure: readByQuery answered failure without an error message"),
        id="response-failure-without-errormessage",
    ),
    pytest.param(
        Unusable(_again(Scripted(body=X.page([], controlid="someone-elses-read"))),
                 E.IntacctResponseError, "No result for function "),
        id="response-answers-another-function",
    ),
    pytest.param(
        Unusable([Scripted(body=X.page([customer(1)], numremaining=3, resultid=""))],
                 E.IntacctResponseError, "CUSTOMER: 3 records remain but no resultId was given"),
        id="response-records-remain-without-resultid",
    ),
    pytest.param(
        Unusable([Scripted(body=X.page([customer(1)], numremaining=1, resultid="R1")),
                  Scripted(body=X.page([], function="readMore", numremaining=1, resultid="R1",
                                       totalcount=2))],
                 E.IntacctResponseError,
                 "CUSTOMER: readMore returned no records with 1 remaining"),
        id="response-readmore-empty-page-with-records-remaining",
    ),
    pytest.param(
        Unusable([Scripted(body=X.page([customer(1), {"CUSTOMERID": "NO-KEY", "NAME": "x"}]))],
                 ValueError, "customers: a record without RECORDNO cannot be landed: "
                             "{'CUSTOMERID': 'NO-KEY', 'NAME': 'x'}"),
        id="response-record-without-recordno",
    ),
]  # fmt: skip


@pytest.mark.parametrize("case", UNUSABLE)
def test_an_unusable_answer_fails_the_read_with_its_type_and_lands_nothing(
    case: Unusable, scripted_hook, clean_ar
):
    hook, adapter = scripted_hook([Scripted(body=X.session()), *case.answers])
    before = database_state(clean_ar)

    with pytest.raises(case.error) as failed:
        pull(hook, clean_ar, "customers")

    assert str(failed.value).startswith(case.message), str(failed.value)
    assert adapter.script == [], "every scripted answer was asked for (retries included)"
    assert landed_count(clean_ar, RUN, "customers") == 0
    assert database_state(clean_ar) == before


# -- records the mapping cannot take: reconciliation errors, the rest loads ----------------------
@dataclass(frozen=True)
class BadRecord:
    name: str  # registry object
    records: list[dict[str, str]]  # RECORDNO 2 is the bad one
    message: str
    hint: str


BAD_RECORDS = [
    pytest.param(
        BadRecord("payments", [payment(1), payment(2, TRX_TOTALENTERED="12,50"), payment(3)],
                  "amount is not a decimal number", "Check the payment's amounts in Intacct."),
        id="record-amount-is-text",
    ),
    pytest.param(
        BadRecord("payments", [payment(1), payment(2, RECEIPTDATE="2026-11-20"), payment(3)],
                  "RECEIPTDATE='2026-11-20' is not a MM/DD/YYYY date",
                  "Intacct sent a date in a format the sync does not read; the record is left"
                  " out rather than loaded without it. Check the field in Intacct (a changed"
                  " date format or custom field), then retry."),
        id="record-date-in-another-format",
    ),
    pytest.param(
        BadRecord("customers",
                  [customer(1), customer(2, WHENMODIFIED="2026-11-20T10:00:00Z"), customer(3)],
                  "WHENMODIFIED='2026-11-20T10:00:00Z' is not a MM/DD/YYYY HH:MM:SS date",
                  "Intacct sent a date in a format the sync does not read; the record is left"
                  " out rather than loaded without it. Check the field in Intacct (a changed"
                  " date format or custom field), then retry."),
        id="record-whenmodified-unreadable",
    ),
    pytest.param(
        BadRecord("customers", [customer(1), customer(2, STATUS="suspended"), customer(3)],
                  "CUSTOMER STATUS is neither active nor inactive",
                  "Check the customer's status in Intacct."),
        id="record-unknown-status",
    ),
    pytest.param(
        BadRecord("customers", [customer(1), customer(2, NAME=""), customer(3)],
                  "CUSTOMER has no NAME",
                  "Give the customer a name in Intacct; it is synced on its next change."),
        id="record-without-name",
    ),
]  # fmt: skip


@pytest.mark.parametrize("case", BAD_RECORDS)
def test_a_record_the_mapping_cannot_take_is_an_error_and_the_rest_loads(
    case: BadRecord, scripted_hook, clean_ar
):
    obj = OBJECTS[case.name]
    details = [Scripted(body=X.page([], obj="arpymtdetail"))] if obj.children else []
    hook, _ = scripted_hook(
        [Scripted(body=X.session()), Scripted(body=X.page(case.records)), *details]
    )

    counts = pull(hook, clean_ar, case.name)

    assert (counts.inserted, counts.rejected_ids) == (2, ["2"])
    loaded = _rows(clean_ar, f"SELECT intacct_recordno FROM {obj.table} ORDER BY 1")
    assert loaded == [(1,), (3,)]
    errors = _rows(
        clean_ar,
        "SELECT record_id, direction, message, hint, state FROM"
        " intacct_sync.reconciliation_errors WHERE object = %s",
        case.name,
    )
    assert errors == [("2", "pull", case.message, case.hint, "open")]
    assert landed_count(clean_ar, RUN, case.name) == 0  # the landing was cleaned up


# -- surprising but usable: everything loads, once ----------------------------------------------
def test_an_extra_field_intacct_sends_is_kept_not_dropped(scripted_hook, clean_ar):
    """response-unknown-extra-field: a custom field nobody asked the mapping for."""
    hook, _ = scripted_hook([
        Scripted(body=X.session()),
        Scripted(body=X.page([customer(1, CRM_TIER="gold & <silver>"), customer(2)])),
    ])  # fmt: skip
    assert pull(hook, clean_ar, "customers").inserted == 2
    assert _rows(
        clean_ar, "SELECT intacct_recordno, custom_fields FROM ar.customers ORDER BY 1"
    ) == [(1, {"CRM_TIER": "gold & <silver>"}), (2, {})]
    assert _rows(clean_ar, "SELECT count(*) FROM intacct_sync.reconciliation_errors") == [(0,)]


def test_a_record_repeated_in_a_page_loads_once(scripted_hook, clean_ar):
    """response-duplicate-record-in-page: the same RECORDNO twice in one answer."""
    hook, _ = scripted_hook([
        Scripted(body=X.session()),
        Scripted(body=X.page([customer(1), customer(2), customer(1)])),
    ])  # fmt: skip
    counts = pull(hook, clean_ar, "customers")
    assert (counts.inserted, counts.rejected) == (2, 0)
    assert _rows(clean_ar, "SELECT intacct_recordno, name FROM ar.customers ORDER BY 1") == [
        (1, "Customer 1"),
        (2, "Customer 2"),
    ]


# -- a write answer that does not belong to the write -------------------------------------------
def test_a_write_answer_for_another_control_id_is_an_error_and_nothing_is_linked(
    scripted_hook, clean_ar
):
    """response-write-result-for-another-controlid: the answer carries a result, but not for
    the write that was sent; the invoice is not marked posted, so the next push resends it
    under the same control id (Intacct refuses the replay if the first one was applied)."""
    enable(clean_ar)  # the push is on before the records are entered (its cut-over)
    records = LocalRecords(clean_ar)
    customer_id = records.customer("Linked Co", account_number="BAD-LINKED")
    with clean_ar, clean_ar.cursor() as cursor:  # as if pushed earlier: linked to Intacct
        cursor.execute("UPDATE ar.customers SET intacct_recordno = 9001, intacct_customer_id ="
                       " 'BAD-LINKED' WHERE id = %s", (customer_id,))  # fmt: skip
    invoice = records.document("invoices", customer_id, "BAD-CTRL-1", [Line("10.00")])
    other = (
        "<result><status>success</status><function>create_invoice</function>"
        "<controlid>someone-elses-write</controlid><key>777</key></result>"
    )
    hook, adapter = scripted_hook([Scripted(body=X.session()), Scripted(body=X.response(other))])

    counts = push_object(hook, clean_ar, "invoices", SyncConfig())

    assert (counts.posted, counts.failed_ids) == (0, [str(invoice)])
    [sent] = [r.body for r in adapter.requests[1:]]
    [(message, hint)] = _rows(
        clean_ar,
        "SELECT message, hint FROM intacct_sync.reconciliation_errors"
        " WHERE object = 'invoices' AND record_id = %s",
        str(invoice),
    )
    control_id = message.split("control id ")[1].split(";")[0]
    assert control_id.encode() in sent and control_id != "someone-elses-write"
    assert message == (
        f"invoice BAD-CTRL-1: Intacct's answer has no result for control id {control_id}; the"
        " next push sends it again under the same control id (if it was applied, Intacct"
        " refuses the replay)"
    )
    assert hint == E.IntacctResponseError.hint
    assert _rows(clean_ar, "SELECT ar_recordno FROM ar.invoices WHERE id = %s", invoice) == [
        (None,)
    ]
    assert _rows(clean_ar, "SELECT count(*) FROM intacct_sync.pushes") == [(0,)]
