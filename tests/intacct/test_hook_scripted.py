"""IntacctHook behaviour against scripted HTTP answers (no sandbox needed)."""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from intacct_sync.intacct import errors as E
from intacct_sync.intacct.hook import CompanyLimiter, IntacctHook, IntacctSession, WriteFunction
from intacct_sync.provider import get_provider_info
from lxml import etree

from . import xmlbuild as X
from .conftest import Scripted


def bodies(adapter) -> list[etree._Element]:
    return [etree.fromstring(r.body) for r in adapter.requests]


# -- HTTP plumbing ----------------------------------------------------------------------------
@pytest.mark.security
def test_no_extra_or_credential_becomes_an_http_header(make_connection):
    hook = IntacctHook(make_connection())
    session = hook.get_conn()
    assert session.auth is None
    header_text = json.dumps(dict(session.headers))
    for value in ("user-pass-secret", "sender-pass-secret", "COMPANY", "ws_user"):
        assert value not in header_text
    assert "company_id" not in header_text.lower()


def test_prefixed_extras_from_older_forms_are_read(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_INTACCT_OLD",
        json.dumps(
            {
                "conn_type": "intacct",
                "login": "s",
                "password": "sender-secret",
                "extra": {
                    "extra__intacct__company_id": "C9",
                    "extra__intacct__user_id": "u",
                    "extra__intacct__user_password": "user-secret-9",
                    "extra__intacct__company_timezone": "Europe/Paris",
                },
            }
        ),
    )
    cfg = IntacctHook("intacct_old").config
    assert (cfg.company_id, cfg.company_timezone.key) == ("C9", "Europe/Paris")
    assert cfg.endpoint_url == "https://api.intacct.com/ia/xml/xmlgw.phtml"


def use_stdlib_log(hook: IntacctHook) -> None:
    """Route the hook's Airflow (structlog) logger to stdlib logging so caplog sees it."""
    hook._log = logging.getLogger("intacct_sync.test")


def test_a_connection_without_a_company_timezone_refuses_to_start(make_connection):
    """A guessed zone shifts every window by hours while each run "succeeds" (issue 15 item
    8): no zone, no run, and the message names the field to set."""
    hook = IntacctHook(make_connection(company_timezone=None))
    with pytest.raises(ValueError, match="company_timezone is missing; set this extra field"):
        _ = hook.company_timezone


# -- sessions ----------------------------------------------------------------------------
def test_session_is_opened_once_and_its_endpoint_used(scripted_hook):
    hook, adapter = scripted_hook(
        [
            Scripted(body=X.session()),
            Scripted(body=X.page([{"RECORDNO": "1"}])),
            Scripted(body=X.page([{"RECORDNO": "2"}])),
        ]
    )
    assert [r["RECORDNO"] for r in hook.read_by_query("CUSTOMER", "RECORDNO")] == ["1"]
    assert [r["RECORDNO"] for r in hook.read_by_query("CUSTOMER", "RECORDNO")] == ["2"]
    assert hook.api_calls["getAPISession"] == 1
    assert adapter.requests[0].url == "https://intacct.invalid/ia/xml/xmlgw.phtml"
    assert adapter.requests[1].url == "https://ep.intacct.invalid/ia/xml/xmlgw.phtml"
    assert bodies(adapter)[1].findtext("operation/authentication/sessionid") == "SESSION-ID-0001"
    login = bodies(adapter)[0].find("operation/authentication/login")
    assert login.findtext("companyid") == "COMPANY" and login.findtext("userid") == "ws_user"


def test_entity_id_goes_into_login_and_getapisession(make_connection, scripted_hook):
    make_connection(entity_id="E200")
    hook, adapter = scripted_hook([Scripted(body=X.session())])
    hook._config = None
    hook.intacct_conn_id = make_connection(entity_id="E200")
    hook.get_session()
    body = bodies(adapter)[0]
    assert body.findtext("operation/authentication/login/locationid") == "E200"
    assert body.findtext(".//getAPISession/locationid") == "E200"


def test_invalid_session_renews_and_replays_once(scripted_hook):
    hook, adapter = scripted_hook(
        [
            Scripted(body=X.session("SESSION-ONE-111")),
            Scripted(
                body=X.failure(
                    "XL03000006", "Invalid session SESSION-ONE-111", level="authentication"
                )
            ),
            Scripted(body=X.session("SESSION-TWO-222")),
            Scripted(body=X.page([{"RECORDNO": "9"}])),
        ]
    )
    assert [r["RECORDNO"] for r in hook.read_by_query("CUSTOMER", "RECORDNO")] == ["9"]
    assert bodies(adapter)[3].findtext("operation/authentication/sessionid") == "SESSION-TWO-222"


def test_invalid_session_twice_raises(scripted_hook):
    bad = X.failure("XL03000006", "Invalid session", level="authentication")
    hook, adapter = scripted_hook(
        [
            Scripted(body=X.session()),
            Scripted(body=bad),
            Scripted(body=X.session()),
            Scripted(body=bad),
        ]
    )
    with pytest.raises(E.IntacctSessionExpiredError):
        list(hook.read_by_query("CUSTOMER", "RECORDNO"))
    assert len(adapter.requests) == 4


def test_session_renewed_before_sliding_timeout_ends(scripted_hook):
    hook, adapter = scripted_hook(
        [Scripted(body=X.session("SESSION-ONE-111")), Scripted(body=X.session("SESSION-TWO-222"))],
        session_refresh_margin=3601,
    )
    first = hook.get_session()
    second = hook.get_session()  # lifetime 1 h < margin: renewed proactively
    assert (first.session_id, second.session_id) == ("SESSION-ONE-111", "SESSION-TWO-222")


@pytest.mark.security
def test_plain_http_session_endpoint_on_other_host_is_refused(scripted_hook):
    hook, _ = scripted_hook([Scripted(body=X.session(endpoint="http://evil.invalid/x"))])
    with pytest.raises(E.IntacctResponseError, match="not HTTPS"):
        hook.get_session()


# -- reads -------------------------------------------------------------------------------
def test_readmore_until_numremaining_zero_with_totalcount(scripted_hook):
    hook, adapter = scripted_hook(
        [
            Scripted(body=X.session()),
            Scripted(
                body=X.page([{"RECORDNO": "1"}, {"RECORDNO": "2"}], numremaining=1, resultid="R1")
            ),
            Scripted(
                body=X.page([{"RECORDNO": "3"}], function="readMore", totalcount=3, resultid="R1")
            ),
        ]
    )
    stream = hook.read_by_query("CUSTOMER", ["RECORDNO"], page_size=2)
    assert stream.totalcount == 3
    assert [r["RECORDNO"] for r in stream] == ["1", "2", "3"]
    assert bodies(adapter)[2].findtext(".//readMore/resultId") == "R1"
    assert stream.pages == 2


def test_empty_page_with_records_remaining_is_an_error(scripted_hook):
    hook, _ = scripted_hook(
        [
            Scripted(body=X.session()),
            Scripted(body=X.page([{"RECORDNO": "1"}], numremaining=5, resultid="R")),
            Scripted(
                body=X.page([], function="readMore", totalcount=6, numremaining=5, resultid="R")
            ),
        ]
    )
    with pytest.raises(E.IntacctResponseError, match="no records"):
        list(hook.read_by_query("CUSTOMER", "RECORDNO"))


def test_keyset_pages_continue_after_last_whenmodified_and_recordno(scripted_hook, make_connection):
    hook, adapter = scripted_hook(
        [
            Scripted(body=X.session()),
            Scripted(
                body=X.page(
                    [
                        {"RECORDNO": "5", "WHENMODIFIED": "01/02/2024 10:00:00"},
                        {"RECORDNO": "7", "WHENMODIFIED": "01/02/2024 10:00:00"},
                    ],
                    function="query",
                    obj="ARINVOICE",
                    numremaining=1,
                )
            ),
            Scripted(
                body=X.page(
                    [{"RECORDNO": "3", "WHENMODIFIED": "01/02/2024 11:00:00"}],
                    function="query",
                    obj="ARINVOICE",
                )
            ),
        ]
    )
    start = datetime(2024, 1, 2, 8, 0, tzinfo=UTC)
    end = datetime(2024, 1, 3, 8, 0, tzinfo=UTC)
    records = list(
        hook.query_keyset("ARINVOICE", ["STATE"], modified_from=start, modified_to=end, page_size=2)
    )
    assert [r["RECORDNO"] for r in records] == ["5", "7", "3"]
    second = bodies(adapter)[2].find(".//query")
    assert [f.text for f in second.iterfind("select/field")] == [
        "STATE",
        "RECORDNO",
        "WHENMODIFIED",
    ]
    flt = etree.tostring(second.find("filter")).decode()
    assert "<value>01/02/2024 00:00:00</value>" in flt  # 08:00 UTC in Los Angeles
    assert "<value>01/03/2024 00:00:00</value>" in flt
    assert "<greaterthan><field>RECORDNO</field><value>7</value>" in flt
    assert "<greaterthan><field>WHENMODIFIED</field><value>01/02/2024 10:00:00</value>" in flt


def test_keyset_refuses_naive_window(make_connection):
    hook = IntacctHook(make_connection())
    with pytest.raises(ValueError, match="aware"):
        hook.query_keyset("ARINVOICE", ["RECORDNO"], modified_from=datetime(2024, 1, 1))


# -- errors and retries ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("first", "error_class"),
    [
        (Scripted(429, b"", {"Retry-After": "0"}), E.IntacctRateLimitedError),
        (Scripted(502, b"bad gateway"), E.IntacctTemporarilyUnavailableError),
        (
            Scripted(503, b"<html><body>maintenance</body></html>", {"Content-Type": "text/html"}),
            E.IntacctTemporarilyUnavailableError,
        ),
        (Scripted(524, b""), E.IntacctGatewayTimeoutError),
        (
            Scripted(200, b"<html><div class='cf-error-details'>x</div></html>"),
            E.IntacctTemporarilyUnavailableError,
        ),
        (
            Scripted(
                body=X.failure(
                    "XL03000006",
                    "There are too many operations running for this company (200024).",
                    level="control",
                )
            ),
            E.IntacctTooManyOperationsError,
        ),
        (
            Scripted(body=X.failure("XMLGW_JPP0001", "busy", level="control")),
            E.IntacctTooManyOperationsError,
        ),
        (
            Scripted(body=X.failure("GW-0010", "rate limit", level="control")),
            E.IntacctRateLimitedError,
        ),
        (
            Scripted(body=X.failure("XX", "The Service is Temporarily Off-line")),
            E.IntacctTemporarilyUnavailableError,
        ),
        (
            Scripted(exc=requests.ConnectionError("NewConnectionError: Connection refused")),
            E.IntacctUnreachableError,
        ),
        (Scripted(exc=requests.ReadTimeout("read timed out")), E.IntacctGatewayTimeoutError),
        (Scripted(200, b"<response><control><status>succ"), E.IntacctResponseError),
    ],
    ids=[
        "429",
        "502",
        "503-html",
        "524",
        "cloudflare-200",
        "too-many-200024",
        "XMLGW_JPP0001",
        "GW-0010",
        "off-line",
        "refused",
        "read-timeout",
        "truncated",
    ],
)
def test_transient_failure_is_retried_then_succeeds(scripted_hook, first, error_class):
    hook, adapter = scripted_hook(
        [Scripted(body=X.session()), first, Scripted(body=X.page([{"RECORDNO": "1"}]))]
    )
    assert len(list(hook.read_by_query("CUSTOMER", "RECORDNO"))) == 1
    assert len(adapter.requests) == 3


@pytest.mark.parametrize(
    ("answer", "error_class"),
    [
        (Scripted(429, b""), E.IntacctRateLimitedError),
        (Scripted(503, b""), E.IntacctTemporarilyUnavailableError),
    ],
)
def test_transient_failure_gives_up_after_bounded_attempts(scripted_hook, answer, error_class):
    hook, adapter = scripted_hook([Scripted(body=X.session())] + [answer] * 4, retry_attempts=4)
    with pytest.raises(error_class) as info:
        list(hook.read_by_query("CUSTOMER", "RECORDNO"))
    assert info.value.retryable
    assert len(adapter.requests) == 1 + 4


@pytest.mark.parametrize(
    ("answer", "error_class"),
    [
        (
            X.failure("DL02000001", "There was an error processing the request."),
            E.IntacctFieldNotFoundError,
        ),
        (
            X.failure("Query Failed", "Object definition BADOBJECT not found"),
            E.IntacctObjectNotFoundError,
        ),
        (
            X.failure(
                "BL01001973",
                "You do not have permission for API operation READ_BY_QUERY on customer",
            ),
            E.IntacctPermissionError,
        ),
        (X.failure("XL03000003", "XML Parse schema error", level="control"), E.IntacctControlError),
    ],
    ids=["DL02000001", "object-not-found", "permission", "XL03000003"],
)
def test_permanent_failure_is_not_retried(scripted_hook, answer, error_class):
    hook, adapter = scripted_hook([Scripted(body=X.session()), Scripted(body=answer)])
    with pytest.raises(error_class) as info:
        list(hook.read_by_query("CUSTOMER", "RECORDNO"))
    assert not info.value.retryable
    assert len(adapter.requests) == 2


def test_retry_after_header_is_honoured(scripted_hook):
    hook, _ = scripted_hook(
        [
            Scripted(body=X.session()),
            Scripted(429, b"", {"Retry-After": "0.3"}),
            Scripted(body=X.page([])),
        ],
        retry_max_wait=1.0,
    )
    started = time.monotonic()
    list(hook.read_by_query("CUSTOMER", "RECORDNO"))
    assert time.monotonic() - started >= 0.3


def test_http_404_html_is_not_retried(scripted_hook):
    hook, adapter = scripted_hook(
        [Scripted(404, b"<html>not found</html>", {"Content-Type": "text/html"})]
    )
    with pytest.raises(E.IntacctHttpError):
        hook.get_session()
    assert len(adapter.requests) == 1


@pytest.mark.security
def test_doctype_response_is_refused_without_expanding_entities(scripted_hook):
    evil = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<response><control><status>&x;</status></control></response>"
    )
    hook, adapter = scripted_hook([Scripted(body=evil)])
    with pytest.raises(E.IntacctResponseError, match="DOCTYPE") as info:
        hook.get_session()
    assert not info.value.retryable and len(adapter.requests) == 1


# -- writes ------------------------------------------------------------------------------
def _write_response(*results: tuple[str, str, str]) -> bytes:
    """results: (controlid, status, inner xml)"""
    return X.response(
        *(
            f"<result><status>{s}</status><function>create_invoice</function>"
            f"<controlid>{c}</controlid>{inner}</result>"
            for c, s, inner in results
        )
    )


def test_write_batch_maps_results_back_and_sends_uniqueid(scripted_hook):
    f1 = WriteFunction("create_invoice", "ARINVOICE", "inv-1", {"customerid": "C1"})
    f2 = WriteFunction("create_invoice", "ARINVOICE", "inv-2", {"customerid": "C2"})
    dup = (
        "<errormessage><error><errorno>BL01001973</errorno><description></description>"
        "<description2>A transaction with the number 'INV-2' already exists.</description2>"
        "<correction></correction></error></errormessage>"
    )
    hook, adapter = scripted_hook(
        [
            Scripted(body=X.session()),
            Scripted(
                body=_write_response(
                    (f2.control_id, "failure", dup), (f1.control_id, "success", "<key>101</key>")
                )
            ),
        ]
    )
    r1, r2 = hook.write_batch([f1, f2])
    assert (r1.record_id, r1.ok, r1.key) == ("inv-1", True, "101")
    assert (r2.record_id, r2.ok, type(r2.error)) == ("inv-2", False, E.IntacctDuplicateError)
    body = bodies(adapter)[1]
    assert body.findtext("control/uniqueid") == "true"
    assert [f.get("controlid") for f in body.iterfind(".//function")] == [
        f1.control_id,
        f2.control_id,
    ]


def test_already_recorded_replay_is_success_and_key_is_looked_up(scripted_hook):
    f = WriteFunction(
        "create_invoice", "ARINVOICE", "inv-9", {"customerid": "C1", "invoiceno": "INV-9"}
    )
    already = (
        "<errormessage><error><errorno>XL03000000</errorno><description></description>"
        "<description2>A successful transaction has already been recorded with the control id "
        f"{f.control_id}"
        "</description2><correction></correction></error></errormessage>"
    )
    hook, adapter = scripted_hook(
        [
            Scripted(body=X.session()),
            Scripted(body=_write_response((f.control_id, "failure", already))),
            Scripted(
                body=X.page(
                    [{"RECORDNO": "555", "RECORDID": "INV-9", "CUSTOMERID": "C1"}],
                    obj="arinvoice",
                )
            ),
        ]
    )
    [result] = hook.write_batch([f])
    assert result.ok and result.already_recorded and result.key == "555"
    query = bodies(adapter)[2].findtext(".//readByQuery/query")
    assert query == "(RECORDID IN ('INV-9') AND CUSTOMERID IN ('C1'))"


def test_a_replayed_batch_finds_its_keys_in_one_query_and_flags_a_deleted_record(
    scripted_hook,
):
    fs = [
        WriteFunction("create_invoice", "ARINVOICE", f"inv-{n}",
                      {"customerid": "C1", "invoiceno": f"INV-{n}"})
        for n in (1, 2, 3)
    ]  # fmt: skip

    def already(f: WriteFunction) -> tuple[str, str, str]:
        return (
            f.control_id,
            "failure",
            "<errormessage><error><errorno>XL03000000</errorno><description></description>"
            "<description2>A successful transaction has already been recorded with the "
            f"control id {f.control_id}</description2><correction></correction></error>"
            "</errormessage>",
        )

    hook, adapter = scripted_hook(
        [
            Scripted(body=X.session()),
            Scripted(body=_write_response(*(already(f) for f in fs))),
            Scripted(
                body=X.page(
                    [
                        {"RECORDNO": "701", "RECORDID": "INV-1", "CUSTOMERID": "C1"},
                        {"RECORDNO": "703", "RECORDID": "INV-3", "CUSTOMERID": "C1"},
                    ],
                    obj="arinvoice",
                )
            ),
        ]
    )
    results = hook.write_batch(fs)
    assert [(r.ok, r.key) for r in results] == [(True, "701"), (False, None), (True, "703")]
    assert isinstance(results[1].error, E.IntacctRecordNotFoundError)
    assert len(bodies(adapter)) == 3  # session, the writes, one lookup for all three
    query = bodies(adapter)[2].findtext(".//readByQuery/query")
    assert query == "(RECORDID IN ('INV-1','INV-2','INV-3') AND CUSTOMERID IN ('C1'))"


def test_only_the_transiently_failed_function_is_resent(scripted_hook):
    f1 = WriteFunction("create_invoice", "ARINVOICE", "a", {"customerid": "C1"})
    f2 = WriteFunction("create_invoice", "ARINVOICE", "b", {"customerid": "C1"})
    busy = (
        "<errormessage><error><errorno>XX</errorno><description></description><description2>"
        "There are too many operations running for this company (200024).</description2>"
        "<correction></correction></error></errormessage>"
    )
    hook, adapter = scripted_hook(
        [
            Scripted(body=X.session()),
            Scripted(
                body=_write_response(
                    (f1.control_id, "success", "<key>1</key>"), (f2.control_id, "failure", busy)
                )
            ),
            Scripted(body=_write_response((f2.control_id, "success", "<key>2</key>"))),
        ]
    )
    results = hook.write_batch([f1, f2])
    assert [r.key for r in results] == ["1", "2"]
    resent = [f.get("controlid") for f in bodies(adapter)[2].iterfind(".//function")]
    assert resent == [f2.control_id]


def test_write_replay_after_timeout_reuses_the_same_control_id(scripted_hook):
    f = WriteFunction("create_invoice", "ARINVOICE", "inv-t", {"customerid": "C1"})
    hook, adapter = scripted_hook(
        [
            Scripted(body=X.session()),
            Scripted(exc=requests.ReadTimeout("timed out")),
            Scripted(body=_write_response((f.control_id, "success", "<key>77</key>"))),
        ]
    )
    [result] = hook.write_batch([f])
    assert result.key == "77"
    sent = [b.find(".//function").get("controlid") for b in bodies(adapter)[1:]]
    assert sent == [f.control_id, f.control_id]


def test_duplicate_control_ids_in_one_batch_are_refused(make_connection):
    hook = IntacctHook(make_connection())
    f = WriteFunction("create", "CUSTOMER", "c1", {"CUSTOMERID": "C1"})
    with pytest.raises(ValueError, match="Duplicate"):
        hook.write_batch([f, f])


# -- secrets -----------------------------------------------------------------------------
@pytest.mark.security
def test_secrets_absent_from_logs_and_errors(scripted_hook, caplog, capfd):
    hook, _ = scripted_hook(
        [
            Scripted(body=X.session("SESSION-ID-SECRET-42")),
            Scripted(
                body=X.failure(
                    "XL03000006", "Invalid session SESSION-ID-SECRET-42", level="authentication"
                )
            ),
            Scripted(body=X.session("SESSION-ID-SECRET-43")),
            Scripted(
                body=X.failure(
                    "XL03000006", "Invalid session SESSION-ID-SECRET-43", level="authentication"
                )
            ),
        ]
    )
    use_stdlib_log(hook)
    with caplog.at_level(logging.DEBUG), pytest.raises(E.IntacctSessionExpiredError) as info:
        list(hook.read_by_query("CUSTOMER", "RECORDNO"))
    out, err = capfd.readouterr()
    text = caplog.text + out + err + str(info.value) + repr(info.value.to_dict())
    assert "Intacct request to" in caplog.text  # debug logging really ran
    for secret in (
        "SESSION-ID-SECRET-42",
        "SESSION-ID-SECRET-43",
        "sender-pass-secret",
        "user-pass-secret",
    ):
        assert secret not in text
    assert "pass-secret" not in repr(hook.config)
    assert "SECRET" not in repr(IntacctSession("SESSION-ID-SECRET-42", "https://x", None, None))


# -- test_connection ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("answers", "words"),
    [
        (
            [
                X.failure(
                    "XL03000006", "Incorrect Intacct XML Partner ID or password.", level="control"
                )
            ],
            "sender id or sender password",
        ),
        (
            [
                X.failure(
                    "XL03000006",
                    "The sender ID 's' is not authorized",
                    level="authentication",
                    description="Invalid Web Services Authorization",
                )
            ],
            "Web Services authorizations",
        ),
        (
            [X.failure("XL03000006", "Sign-in information is incorrect", level="authentication")],
            "company id, the web services user id and its password",
        ),
        (
            [X.session(), X.failure("BL01001973", "You do not have permission for API operation")],
            "may not read customers",
        ),
        ([X.session(), X.page([{"RECORDNO": "1"}], totalcount=42)], "42 customers readable"),
    ],
    ids=["wrong-sender", "sender-not-authorized", "wrong-user", "missing-permission", "ok"],
)
def test_test_connection_explains_in_plain_words(scripted_hook, answers, words):
    hook, _ = scripted_hook([Scripted(body=a) for a in answers])
    ok, message = hook.test_connection()
    assert words in message
    assert ok is (words.endswith("readable"))


def test_test_connection_reads_one_page_and_no_more(scripted_hook):
    """Reads fetch a page ahead; a check that needs one page must not pay for a second."""
    more = X.page([{"RECORDNO": "1"}], totalcount=42, numremaining=41, resultid="R1")
    hook, adapter = scripted_hook([Scripted(body=X.session()), Scripted(body=more)])
    ok, _ = hook.test_connection()
    assert ok
    functions = [b.find("operation/content/function")[0].tag for b in bodies(adapter)]
    assert functions == ["getAPISession", "readByQuery"]


def test_a_stream_reads_every_page_in_order_one_ahead(scripted_hook):
    pages = [
        X.page([{"RECORDNO": str(n)}], totalcount=3, numremaining=2 - n, resultid="R")
        for n in range(3)
    ]
    hook, adapter = scripted_hook([Scripted(body=X.session()), *(Scripted(body=p) for p in pages)])
    stream = hook.read_by_query("CUSTOMER", "RECORDNO")
    assert next(stream)["RECORDNO"] == "0"
    # The second page was asked for while the first was being read.
    deadline = time.monotonic() + 5
    while len(adapter.requests) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(adapter.requests) == 3
    assert [r["RECORDNO"] for r in stream] == ["1", "2"]
    assert stream.pages == 3


def test_test_connection_unreachable(scripted_hook):
    refused = requests.ConnectionError("NewConnectionError: Connection refused")
    hook, _ = scripted_hook([Scripted(exc=refused), Scripted(exc=refused)])
    ok, message = hook.test_connection()
    assert not ok and "Could not reach the endpoint URL" in message


# -- concurrency -------------------------------------------------------------------------
def test_company_limiter_caps_parallel_callers():
    limiter = CompanyLimiter()
    start = threading.Barrier(8)

    def work():
        start.wait()
        with limiter.slot("ACME", 2):
            time.sleep(0.1)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert limiter.peak["acme"] == 2 and limiter.in_flight("ACME") == 0


# -- provider ----------------------------------------------------------------------------
def test_provider_info_is_valid_and_marks_user_password_sensitive():
    import airflow
    import jsonschema

    schema = json.loads((Path(airflow.__file__).parent / "provider_info.schema.json").read_text())
    info = get_provider_info()
    jsonschema.validate(info, schema)
    [conn] = info["connection-types"]
    assert (conn["connection-type"], conn["hook-name"]) == ("intacct", "Sage Intacct")
    fields = conn["conn-fields"]
    assert set(fields) == {
        "company_id",
        "user_id",
        "user_password",
        "entity_id",
        "company_timezone",
        "page_size",
        "max_concurrent_requests",
    }
    assert fields["user_password"]["schema"]["format"] == "password"
    assert conn["ui-field-behaviour"]["relabeling"]["login"] == "Sender ID"


def test_installed_distribution_registers_the_connection_type():
    """Airflow 3.3 discovers it from the `apache_airflow_provider` entry point (pip install -e)."""
    from airflow.providers_manager import ProvidersManager

    pm = ProvidersManager()
    assert "intacct-sync" in pm.providers, "run: .venv/bin/pip install --no-deps -e ."
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

    hook_info = ProvidersManagerTaskRuntime().hooks["intacct"]
    assert hook_info.hook_class_name == "intacct_sync.intacct.hook.IntacctHook"
    assert hook_info.hook_name == "Sage Intacct"
    widgets = pm.connection_form_widgets
    assert widgets["extra__intacct__user_password"].is_sensitive
    assert not widgets["extra__intacct__company_id"].is_sensitive
    assert pm.field_behaviours["intacct"]["relabeling"]["host"] == "Endpoint URL"


def _paged_hook(make_connection, pages: int, per_page: int = 200) -> IntacctHook:
    """A hook whose gateway serves `pages` readByQuery/readMore pages generated on demand."""
    from requests.adapters import BaseAdapter

    from tests.intacct.conftest import answering

    class Pager(BaseAdapter):
        served = 0

        def send(self, request, **kwargs):  # type: ignore[override]
            resp = requests.Response()
            resp.status_code = 200
            if b"getAPISession" in request.body:
                resp._content = X.session()
            else:
                n = self.served
                self.served += 1
                records = [{"RECORDNO": str(n * per_page + i), "NAME": f"Customer {i}" * 5,
                            "WHENMODIFIED": "01/01/2024 00:00:00"} for i in range(per_page)]
                resp._content = answering(request.body, X.page(
                    records, totalcount=pages * per_page,
                    numremaining=(pages - n - 1) * per_page, resultid="R"))
            return resp

        def close(self) -> None:
            pass

    hook = IntacctHook(make_connection(page_size=per_page))
    plain_session = hook.get_conn
    pager = Pager()

    def paged_session(*args, **kwargs):  # every thread's session (reads fetch a page ahead)
        session = plain_session(*args, **kwargs)
        session.mount("https://", pager)
        return session

    hook.get_conn = paged_session
    return hook


def test_memory_stays_flat_however_many_pages_are_read(make_connection):
    import gc
    import tracemalloc

    def peak(pages: int) -> int:
        hook = _paged_hook(make_connection, pages)
        gc.collect()
        tracemalloc.start()
        count = sum(1 for _ in hook.read_by_query("CUSTOMER", "*"))
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert count == pages * 200
        return top

    small, large = peak(3), peak(30)
    assert large < small * 1.5, (small, large)


@pytest.mark.security
def test_passwords_and_session_ids_are_registered_with_airflows_masker(scripted_hook):
    from airflow.sdk.log import redact

    hook, adapter = scripted_hook([Scripted(body=X.session("SESSION-ID-MASKED-77"))])
    hook.get_session()
    text = redact("sender-pass-secret user-pass-secret SESSION-ID-MASKED-77")
    assert "secret" not in text and "MASKED" not in text
    sent = json.dumps(dict(adapter.requests[0].headers))
    assert "secret" not in sent and "Authorization" not in sent
