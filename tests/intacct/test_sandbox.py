"""IntacctHook against the local Intacct sandbox over real HTTP.

Each test starts its own sandbox (milliseconds) so faults, clock and data never leak.
Ground truth comes from the sandbox's ``/_sandbox/`` JSON API, never from the hook.
"""

from __future__ import annotations

import json
import logging
import math
import socket
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from intacct_sync.intacct import errors as E
from intacct_sync.intacct import sessions as hook_sessions
from intacct_sync.intacct.hook import LIMITER, IntacctHook, WriteFunction

from include.intacct_sandbox import SandboxServer

from .conftest import FAST_RETRIES


class Box:
    """A running sandbox plus helpers for its JSON API and a hook factory."""

    def __init__(self, server: SandboxServer, make_connection: Callable[..., str]) -> None:
        self.server = server
        self._make_connection = make_connection

    def get(self, path: str) -> dict[str, Any]:
        with urllib.request.urlopen(self.server.base_url + path, timeout=10) as resp:  # noqa: S310
            return json.loads(resp.read())

    def post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        req = urllib.request.Request(  # noqa: S310
            self.server.base_url + path, data=json.dumps(body or {}).encode(), method="POST",
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310
            return json.loads(resp.read())

    def faults(self, **body: Any) -> None:
        self.post("/_sandbox/faults", body)

    def connection(self, conn_id: str = "intacct_sandbox", **overrides: Any) -> str:
        c = self.server.credentials
        kwargs: dict[str, Any] = {
            "url": c["url"], "sender_id": c["sender_id"],
            "sender_password": c["sender_password"], "company_id": c["company_id"],
            "user_id": c["user_id"], "user_password": c["user_password"],
            "company_timezone": "America/Los_Angeles"}
        kwargs.update(overrides)
        return self._make_connection(conn_id, **kwargs)

    def hook(self, conn_id: str = "intacct_sandbox", *, retries: dict | None = None,
             **overrides: Any) -> IntacctHook:
        return IntacctHook(self.connection(conn_id, **overrides),
                           **{**FAST_RETRIES, **(retries or {})})

    def count(self, obj: str, query: str = "") -> int:
        q = urllib.parse.urlencode({"object": obj, "query": query, "limit": 1})
        return self.get(f"/_sandbox/records?{q}")["total"]


@pytest.fixture
def sandbox(make_connection) -> Iterator[Callable[..., Box]]:
    servers: list[SandboxServer] = []

    def start(scale: str = "tiny", **options: Any) -> Box:
        server = SandboxServer(seed=1, scale=scale, port=0, **options).start()
        servers.append(server)
        return Box(server, make_connection)

    yield start
    for server in servers:
        server.stop()


# -- sessions ------------------------------------------------------------------------------
def test_session_is_reused_across_reads(sandbox):
    box = sandbox()
    hook = box.hook()
    list(hook.read_by_query("CUSTOMER", ["RECORDNO"]))
    list(hook.read_by_query("ARINVOICE", ["RECORDNO"]))
    hook.read("CUSTOMER", ["1"])
    assert hook.api_calls["getAPISession"] == 1
    assert box.get("/_sandbox/sessions")["live_sessions"] == 1


def test_session_renewed_mid_paging_without_losing_records(sandbox):
    box = sandbox("small")
    hook = box.hook(page_size=20)
    stream = hook.read_by_query("CUSTOMER", ["RECORDNO", "CUSTOMERID"])
    first = [next(stream) for _ in range(20)]
    assert box.post("/_sandbox/sessions/invalidate")["invalidated"] == 1
    rest = list(stream)
    keys = [r["RECORDNO"] for r in first + rest]
    assert len(keys) == len(set(keys)) == box.count("CUSTOMER") == stream.totalcount
    assert hook.api_calls["getAPISession"] == 2


def test_sliding_session_expiry_every_few_calls_is_survived(sandbox):
    box = sandbox("small", session_invalidate_every=3)
    hook = box.hook(page_size=25)
    keys = [r["RECORDNO"] for r in hook.read_by_query("CUSTOMER", ["RECORDNO"])]
    assert len(keys) == len(set(keys)) == box.count("CUSTOMER")
    assert hook.api_calls["getAPISession"] >= 2


def test_entity_session_reads_only_that_entity(sandbox):
    box = sandbox("small")
    hook = box.hook(entity_id="E200")
    records = list(hook.read_by_query("ARINVOICE", ["RECORDNO", "MEGAENTITYID"]))
    expected = box.get("/_sandbox/summary?object=ARINVOICE&entity=E200")["count"]
    assert len(records) == expected > 0
    assert {r["MEGAENTITYID"] for r in records} == {"E200"}


# -- reads -----------------------------------------------------------------------------------
def test_readmore_to_the_end_with_minimum_calls(sandbox):
    box = sandbox("small")
    hook = box.hook(page_size=100)
    stream = hook.read_by_query("ARINVOICE", ["RECORDNO", "STATE", "TRX_TOTALDUE"])
    total = stream.totalcount
    keys = [r["RECORDNO"] for r in stream]
    truth = box.count("ARINVOICE")
    assert total == truth == len(keys) == len(set(keys))
    assert hook.api_calls["readByQuery"] + hook.api_calls["readMore"] == math.ceil(truth / 100)


def test_query_keyset_reads_everything_including_empty_whenmodified(sandbox):
    box = sandbox("small")
    hook = box.hook(page_size=200)
    stream = hook.query_keyset("ARINVOICE", ["RECORDID"])
    keys = [r["RECORDNO"] for r in stream]
    assert len(keys) == len(set(keys)) == box.count("ARINVOICE") == stream.totalcount
    assert box.count("ARINVOICE", "WHENMODIFIED IS NULL") > 0  # the case is really exercised


def test_keyset_paging_while_records_change_underneath(sandbox):
    box = sandbox("small")
    hook = box.hook(page_size=100)
    seen: dict[str, list[str | None]] = {}
    stream = hook.query_keyset("ARINVOICE", ["RECORDID", "STATE"])
    changes = 0
    for n, record in enumerate(stream, start=1):
        seen.setdefault(record["RECORDNO"], []).append(record["WHENMODIFIED"])
        if n % 100 == 0 and changes < 6:  # at a page boundary, before the next page
            box.post("/_sandbox/clock", {"advance_seconds": 90})
            box.post("/_sandbox/activity", {"steps": 8, "actions": [
                "edit_invoice", "pay_invoice", "create_invoice", "reverse_invoice"]})
            changes += 1
    truth = box.get("/_sandbox/records?object=ARINVOICE&limit=10000")["records"]
    final = {str(r["RECORDNO"]): r["WHENMODIFIED"] for r in truth}
    # No misses: every record, with its final version, was delivered.
    assert set(seen) == set(final)
    assert {k: v[-1] for k, v in seen.items()} == final
    # No duplicates: a version is never delivered twice.
    assert all(len(v) == len(set(v)) for v in seen.values())
    assert any(len(v) > 1 for v in seen.values())  # records really changed mid-read


def test_window_is_converted_to_company_time_zone(sandbox):
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    box = sandbox("small")
    hook = box.hook()
    start = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)  # 03/01/2025 00:00:00 in Los Angeles
    end = start + timedelta(days=30)  # across the DST change: 03/31/2025 01:00:00 there
    got = {r["RECORDNO"] for r in hook.query_keyset("ARINVOICE", ["RECORDID"],
                                                    modified_from=start, modified_to=end)}
    local_end = end.astimezone(ZoneInfo("America/Los_Angeles")).strftime("%m/%d/%Y %H:%M:%S")
    assert local_end == "03/31/2025 01:00:00"
    truth = box.count("ARINVOICE", "WHENMODIFIED >= '03/01/2025 00:00:00' AND "
                                   f"WHENMODIFIED < '{local_end}'")
    assert len(got) == truth > 0


@pytest.mark.security
def test_hostile_filter_value_matches_literally(sandbox):
    from intacct_sync.intacct import xml_request as rq

    box = sandbox("small")
    hook = box.hook()
    hostile = "O'Brien & <Co>' OR RECORDNO > '0"
    assert list(hook.read_by_query("CUSTOMER", "RECORDNO", rq.eq("NAME", hostile))) == []
    names = [r["NAME"] for r in hook.read_by_query("CUSTOMER", ["NAME"])]
    quoted = next(n for n in names if "'" in n or "&" in n)
    found = list(hook.read_by_query("CUSTOMER", ["NAME"], rq.eq("NAME", quoted)))
    assert [r["NAME"] for r in found] == [quoted]


def test_read_and_read_by_name(sandbox):
    box = sandbox()
    hook = box.hook()
    [by_key] = hook.read("CUSTOMER", ["1"], ["RECORDNO", "CUSTOMERID"])
    [by_name] = hook.read_by_name("CUSTOMER", [by_key["CUSTOMERID"]], ["RECORDNO"])
    assert by_name["RECORDNO"] == "1"
    assert hook.read("CUSTOMER", ["999999"]) == []


def test_unknown_field_is_field_not_found(sandbox):
    hook = sandbox().hook()
    with pytest.raises(E.IntacctFieldNotFoundError):
        list(hook.read_by_query("CUSTOMER", ["RECORDNO", "NO_SUCH_FIELD"]))


def test_expired_resultid_is_typed(sandbox):
    box = sandbox("small")
    stream = box.hook(page_size=10).read_by_query("CUSTOMER", ["RECORDNO"])
    next(stream)
    box.post("/_sandbox/resultids/expire")
    with pytest.raises(E.IntacctResultIdExpiredError):
        list(stream)


# -- errors and retries ------------------------------------------------------------------------
TRANSIENT = [
    ("http_429", E.IntacctRateLimitedError),
    ("http_502", E.IntacctTemporarilyUnavailableError),
    ("http_503", E.IntacctTemporarilyUnavailableError),
    ("http_524", E.IntacctGatewayTimeoutError),
    ("html_error", E.IntacctTemporarilyUnavailableError),
    ("truncated_xml", E.IntacctResponseError),
    ("offline", E.IntacctTemporarilyUnavailableError),
    ("too_many_operations", E.IntacctTooManyOperationsError),
]


@pytest.mark.parametrize(("fault", "error_class"), TRANSIENT, ids=[t[0] for t in TRANSIENT])
def test_transient_fault_is_retried_and_read_completes(sandbox, fault, error_class):
    box = sandbox()
    hook = box.hook()
    hook.get_session()
    box.faults(**{fault: {"next": 2}})
    keys = [r["RECORDNO"] for r in hook.read_by_query("CUSTOMER", ["RECORDNO"])]
    assert len(keys) == box.count("CUSTOMER")
    assert hook.api_calls["readByQuery"] == 3  # two failures, then success


@pytest.mark.parametrize(("fault", "error_class"), TRANSIENT, ids=[t[0] for t in TRANSIENT])
def test_persistent_transient_fault_raises_its_class_after_bounded_attempts(
        sandbox, fault, error_class):
    box = sandbox()
    hook = box.hook(retries={"retry_attempts": 3})
    hook.get_session()
    box.faults(**{fault: {"every": 1}})
    with pytest.raises(error_class) as info:
        list(hook.read_by_query("CUSTOMER", ["RECORDNO"]))
    assert info.value.retryable
    assert hook.api_calls["readByQuery"] == 3


@pytest.mark.parametrize(("fault", "error_class", "errorno"), [
    ("http_401", E.IntacctUserCredentialsError, "XMLGW_JPP0002"),
    ("http_400", E.IntacctUserCredentialsError, "GW-0011"),
], ids=["http_401", "http_400"])
def test_gateway_auth_failures_are_not_retried(sandbox, fault, error_class, errorno):
    box = sandbox()
    hook = box.hook()
    hook.get_session()
    box.faults(**{fault: {"every": 1}})
    with pytest.raises(error_class) as info:
        list(hook.read_by_query("CUSTOMER", ["RECORDNO"]))
    assert info.value.errorno == errorno and not info.value.retryable
    assert hook.api_calls["readByQuery"] == 1


# -- writes ------------------------------------------------------------------------------------
def _invoice(number: str | None, customer: str = "C-00001", amount: str = "100.00",
             description: str = "intacct-sync test") -> dict[str, Any]:
    return {"customerid": customer, "datecreated": date(2026, 11, 2), "invoiceno": number,
            "description": description,
            "invoiceitems": [{"glaccountno": "4000", "amount": amount, "memo": "line 1"}]}


def _write_outcomes(box: Box, control_id: str) -> list[str]:
    q = urllib.parse.urlencode({"controlid": control_id})
    return [w["outcome"] for w in box.get(f"/_sandbox/writes?{q}")["writes"]]


def test_write_batch_maps_each_result_to_its_record(sandbox):
    box = sandbox()
    hook = box.hook()
    existing = box.get("/_sandbox/records?object=ARINVOICE&limit=1")["records"][0]["RECORDID"]
    functions = [
        WriteFunction("create_invoice", "ARINVOICE", "local-1", _invoice("T-0001")),
        WriteFunction("create_invoice", "ARINVOICE", "local-2", _invoice(existing)),
        WriteFunction("create", "CUSTOMER", "cust-9", {"CUSTOMERID": "T-CUST-9",
                                                       "NAME": "O'Brien & <Co>"}),
        WriteFunction("create", "CUSTOMER", "cust-1", {"CUSTOMERID": "C-00001", "NAME": "dup"}),
    ]
    results = hook.write_batch(functions)
    assert [r.record_id for r in results] == ["local-1", "local-2", "cust-9", "cust-1"]
    assert [r.ok for r in results] == [True, False, True, False]
    assert type(results[1].error) is E.IntacctDuplicateError
    assert type(results[3].error) is E.IntacctDuplicateError
    assert results[3].error.errorno == "BL34000061"
    [created] = hook.read("ARINVOICE", [results[0].key], ["RECORDID"])
    assert created["RECORDID"] == "T-0001"
    [customer] = hook.read("CUSTOMER", [results[2].key], ["NAME"])
    assert customer["NAME"] == "O'Brien & <Co>"
    assert hook.api_calls["create_invoice"] == 1  # one request for the whole batch


def test_write_replay_after_forced_timeout_creates_exactly_one_record(sandbox):
    box = sandbox()
    hook = box.hook(retries={"timeout": 0.5, "retry_attempts": 5})
    hook.get_session()
    box.faults(latency_ms=900)
    threading.Timer(0.3, lambda: box.faults(latency_ms=0)).start()
    # No invoice number: Intacct numbers it, so only uniqueid + the control id can stop a
    # second invoice when the first attempt is still running on the server.
    f = WriteFunction("create_invoice", "ARINVOICE", "local-timeout",
                      _invoice(None, description="timeout-replay-test"))
    [result] = hook.write_batch([f])
    # Wait (generously, for a loaded machine) until the abandoned first attempt has finished
    # on the server and both attempts are in its write log.
    deadline = time.monotonic() + 30
    while len(outcomes := _write_outcomes(box, f.control_id)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert result.ok and result.key is not None
    assert box.count("ARINVOICE", "DESCRIPTION = 'timeout-replay-test'") == 1
    assert outcomes.count("success") == 1 and len(outcomes) >= 2


@pytest.mark.parametrize("fault", ["http_524", "truncated_xml"])
def test_write_replay_after_processed_but_lost_answer_is_success(sandbox, fault):
    box = sandbox()
    hook = box.hook()
    hook.get_session()
    box.faults(**{fault: {"next": 1}})
    f = WriteFunction("create_invoice", "ARINVOICE", f"local-{fault}", _invoice(f"T-{fault}"))
    [result] = hook.write_batch([f])
    assert result.ok and result.already_recorded
    truth = box.get("/_sandbox/records?" + urllib.parse.urlencode(
        {"object": "ARINVOICE", "query": f"RECORDID = 'T-{fault}'"}))
    assert truth["total"] == 1
    assert result.key == str(truth["records"][0]["RECORDNO"])


def test_legacy_ar_functions_round_trip(sandbox):
    box = sandbox()
    hook = box.hook()
    inv = hook.create_invoice("inv-77", _invoice("T-0077", amount="250.00"))
    assert inv.ok, inv.error
    pay = hook.create_arpayment("pay-77", {
        "customerid": "C-00001", "paymentamount": "250.00", "bankaccountid": "BOA-OPER",
        "datereceived": date(2026, 11, 3), "paymentmethod": "Printed Check",
        "arpaymentitem": [{"invoicekey": inv.key, "amount": "250.00"}]})
    if not pay.ok:  # show the sandbox's answer rather than a bare assert
        pytest.fail(f"create_arpayment failed: {pay.error}")
    [invoice] = hook.read("ARINVOICE", [inv.key], ["STATE", "TRX_TOTALDUE"])
    assert invoice["STATE"] == "Paid"
    rev = hook.reverse_arpayment(pay.key, date(2026, 11, 4))
    assert rev.ok, rev.error
    void = hook.reverse_invoice(inv.key, date(2026, 11, 5), description="void")
    assert void.ok, void.error
    missing = hook.delete("CUSTOMER", "999999")
    assert type(missing.error) is E.IntacctRecordNotFoundError


# -- concurrency ------------------------------------------------------------------------------
def _parallel_reads(box: Box, max_concurrent_requests: int, callers: int = 6) -> list[Exception]:
    failures: list[Exception] = []
    start = threading.Barrier(callers)

    def caller(i: int) -> None:
        hook = box.hook(f"intacct_par{i}", retries={"retry_attempts": 1},
                        page_size=25, max_concurrent_requests=max_concurrent_requests)
        start.wait()
        try:
            list(hook.read_by_query("CUSTOMER", ["RECORDNO"]))
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            failures.append(exc)

    for i in range(callers):
        box.connection(f"intacct_par{i}")
    box.hook("intacct_par0").get_session()  # one shared session: only reads compete
    threads = [threading.Thread(target=caller, args=(i,)) for i in range(callers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return failures


def test_concurrency_cap_holds_under_parallel_callers(sandbox):
    # 100 ms per call keeps the callers overlapping even on a loaded machine.
    box = sandbox("small", max_concurrent=2, concurrency_wait_seconds=0.0, latency_ms=100)
    LIMITER.peak.clear()
    assert _parallel_reads(box, max_concurrent_requests=2) == []
    assert LIMITER.peak["sandbox-ar"] == 2


def test_without_the_cap_the_sandbox_refuses_parallel_callers(sandbox):
    """Control for the test above: the sandbox really punishes a third request."""
    box = sandbox("small", max_concurrent=2, concurrency_wait_seconds=0.0, latency_ms=30)
    failures = _parallel_reads(box, max_concurrent_requests=6)
    assert failures and all(isinstance(f, E.IntacctTooManyOperationsError) for f in failures)


# -- secrets ------------------------------------------------------------------------------------
@pytest.mark.security
def test_secrets_absent_from_captured_logs(sandbox, caplog, capfd):
    box = sandbox("small", session_invalidate_every=4)
    hook = box.hook(page_size=30)
    hook._log = logging.getLogger("intacct_sync.sandbox_test")  # stdlib, so caplog sees it
    with caplog.at_level(logging.DEBUG):
        list(hook.read_by_query("CUSTOMER", ["RECORDNO"]))
        box.faults(http_503={"next": 1})
        [result] = hook.write_batch([WriteFunction("create_invoice", "ARINVOICE", "s-1",
                                                   _invoice("T-SECRET"))])
        ok, message = box.hook("intacct_bad", user_password="wrong-password-xyz").test_connection()
    out, err = capfd.readouterr()
    captured = caplog.text + out + err + message + json.dumps(result.to_dict())
    assert "Intacct request to" in caplog.text and not ok
    secrets = [box.server.credentials["sender_password"], box.server.credentials["user_password"],
               "wrong-password-xyz", *hook_sessions.SEEN_SESSION_IDS]
    assert len(secrets) >= 5  # several sessions were opened and must all be hidden
    assert [s for s in secrets if s in captured] == []


# -- test_connection ------------------------------------------------------------------------------
@pytest.mark.parametrize(("overrides", "ok", "words"), [
    ({}, True, "customers readable"),
    ({"sender_password": "not-the-sender-password"}, False, "sender id or sender password"),
    ({"sender_id": "intacct_sync_unauthorized"}, False, "Web Services authorizations"),
    ({"user_password": "not-the-user-password"}, False, "company id, the web services user id"),
    ({"company_id": "NO-SUCH-COMPANY"}, False, "company id, the web services user id"),
    ({"url": "http://127.0.0.1:{closed_port}/ia/xml/xmlgw.phtml"}, False, "Could not reach"),
], ids=["ok", "wrong-sender-password", "sender-not-authorized", "wrong-user-password",
        "wrong-company", "unreachable"])
def test_test_connection_against_sandbox(sandbox, overrides, ok, words):
    box = sandbox()
    if "{closed_port}" in overrides.get("url", ""):
        with socket.socket() as probe:  # a port that was free a moment ago: nothing listens
            probe.bind(("127.0.0.1", 0))
            closed_port = probe.getsockname()[1]
        overrides = {"url": overrides["url"].format(closed_port=closed_port)}
    result, message = box.hook("intacct_tc", **overrides).test_connection()
    assert (result, words in message) == (ok, True), message


# -- review fixes: lost replies, transactions, versions, deleted records ----------------------
def test_lost_readmore_reply_is_an_error_not_a_silent_gap(sandbox):
    box = sandbox("small")
    hook = box.hook(page_size=50)
    stream = hook.read_by_query("CUSTOMER", ["RECORDNO"])
    [next(stream) for _ in range(50)]
    # The server serves page 2 (its cursor moves on) but the reply is cut off; the retry
    # then answers with page 3. Intacct's own counts must expose the gap.
    box.faults(truncated_xml={"next": 1})
    with pytest.raises(E.IntacctResponseError, match="skipped or repeated records"):
        list(stream)


def test_replayed_transaction_reports_every_function_recorded(sandbox):
    box = sandbox()
    hook = box.hook()
    hook.get_session()
    box.faults(truncated_xml={"next": 1})
    functions = [WriteFunction("create_invoice", "ARINVOICE", "tx-a", _invoice("T-TXA")),
                 WriteFunction("create_invoice", "ARINVOICE", "tx-b", _invoice("T-TXB"))]
    results = hook.write_batch(functions, transaction=True)
    assert [(r.ok, r.already_recorded) for r in results] == [(True, True), (True, True)]
    assert box.count("ARINVOICE", "RECORDID IN ('T-TXA', 'T-TXB')") == 2


def test_update_back_to_earlier_values_is_still_sent(sandbox):
    box = sandbox()
    hook = box.hook()
    key = str(box.get("/_sandbox/records?object=CUSTOMER&limit=1")["records"][0]["RECORDNO"])
    for version, name in enumerate(["Name A", "Name B", "Name A"]):
        [result] = hook.write_batch([WriteFunction(
            "update", "CUSTOMER", "cust-upd", {"RECORDNO": key, "NAME": name},
            version=str(version))])
        assert result.ok and not result.already_recorded, name
    [customer] = hook.read("CUSTOMER", [key], ["NAME"])
    assert customer["NAME"] == "Name A"


def test_replayed_create_of_a_record_deleted_since_is_a_failure(sandbox):
    box = sandbox()
    hook = box.hook()
    create = WriteFunction("create", "CUSTOMER", "gone-1", {"CUSTOMERID": "T-GONE",
                                                           "NAME": "Gone Ltd"})
    [created] = hook.write_batch([create])
    assert created.ok and created.key
    [deleted] = hook.write_batch([WriteFunction("delete", "CUSTOMER", "gone-1",
                                                key=created.key)])
    assert deleted.ok
    [again] = hook.write_batch([create])
    assert not again.ok and isinstance(again.error, E.IntacctRecordNotFoundError)


def test_an_isolating_read_skips_exactly_the_unreadable_record(sandbox):
    """A page that cannot be parsed is read again by key in halving pieces: every other
    record arrives, the bad one is named with what was wrong; without isolation it fails."""
    box = sandbox("small")
    hook = box.hook()
    truth = box.get("/_sandbox/records?object=CUSTOMER&limit=10000")["records"]
    bad = truth[len(truth) // 2]["RECORDNO"]
    box.post("/_sandbox/edit", {"object": "CUSTOMER", "recordno": bad,
                                "set": {"NAME": "tab\x0bhere"}})  # fmt: skip
    with pytest.raises(E.IntacctUnreadableResponseError):
        list(hook.read_by_query("CUSTOMER", ["RECORDNO", "NAME"], page_size=40))
    stream = hook.read_by_query("CUSTOMER", ["RECORDNO", "NAME"], page_size=40, isolate=True)
    read = sorted(int(r["RECORDNO"]) for r in stream)
    assert read == sorted(c["RECORDNO"] for c in truth if c["RECORDNO"] != bad)
    [skipped] = stream.unreadable
    assert (skipped.object, skipped.key) == ("CUSTOMER", str(bad))
    assert "Char" in skipped.error
