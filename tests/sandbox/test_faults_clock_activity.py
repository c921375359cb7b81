"""Faults (HTTP and protocol level), the controllable clock, and company activity."""

from __future__ import annotations

import threading
import time

import pytest
from lxml import etree

from include.intacct_sandbox import SandboxServer

from .intacct_client import SAFE_PARSER, envelope, fn, post, read_by_query, records, sandbox_json


def set_faults(sb: SandboxServer, body: dict) -> dict:
    return sandbox_json(sb.base_url, "/_sandbox/faults", body)


def simple(sb: SandboxServer):  # noqa: ANN201
    return post(sb.url, envelope(fn(read_by_query("CUSTOMER", "", "RECORDNO", 1))))


@pytest.mark.parametrize(("fault", "status", "marker"), [
    ("http_429", 429, b"GW-0010"),
    ("http_400", 400, b"GW-0011"),
    ("http_401", 401, b"XMLGW_JPP0002"),
    ("http_502", 502, b"cf-error-details"),
    ("http_503", 503, b"cf-error-details"),
    ("html_error", 200, b"cf-error-details"),
])
def test_http_faults(sandbox: SandboxServer, fault: str, status: int, marker: bytes) -> None:
    set_faults(sandbox, {fault: {"next": 1}})
    answer = simple(sandbox)
    assert answer.status == status
    assert marker in answer.body
    assert simple(sandbox).status == 200  # next=1: only one call is hit


def test_gateway_errors_have_a_bare_control(sandbox: SandboxServer) -> None:
    set_faults(sandbox, {"http_429": {"next": 1}})
    root = simple(sandbox).xml
    assert [c.tag for c in root.find("control")] == ["status"]
    assert [c.tag for c in root.find("errormessage/error")] == ["errorno", "description"]


def test_524_processes_the_write_then_drops_the_answer(sandbox: SandboxServer) -> None:
    set_faults(sandbox, {"http_524": {"next": 1}})
    answer = post(sandbox.url, envelope(fn("<create><CUSTOMER><CUSTOMERID>LOST-ANSWER"
                                           "</CUSTOMERID><NAME>x</NAME></CUSTOMER></create>")))
    assert answer.status == 524
    log = sandbox_json(sandbox.base_url, "/_sandbox/writes")["writes"]
    assert log[-1]["outcome"] == "success"  # the write happened although the client saw 524


def test_truncated_xml(sandbox: SandboxServer) -> None:
    set_faults(sandbox, {"truncated_xml": {"next": 1}})
    answer = simple(sandbox)
    assert answer.status == 200
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(answer.body, SAFE_PARSER)


@pytest.mark.parametrize(("fault", "text"), [
    ("offline", "The Service is Temporarily Off-line"),
    ("too_many_operations", "There are too many operations running for this company"),
])
def test_protocol_level_faults(sandbox: SandboxServer, fault: str, text: str) -> None:
    set_faults(sandbox, {fault: {"next": 1}})
    root = simple(sandbox).xml
    assert root.findtext("control/status") == "failure"
    assert text in root.findtext("errormessage/error/description2")


def test_every_and_probability_schedules(sandbox: SandboxServer) -> None:
    set_faults(sandbox, {"http_503": {"every": 3}})
    statuses = [simple(sandbox).status for _ in range(6)]
    assert statuses.count(503) == 2
    set_faults(sandbox, {"clear": True, "http_502": {"probability": 0.5}})
    statuses = [simple(sandbox).status for _ in range(40)]
    assert 5 < statuses.count(502) < 35
    set_faults(sandbox, {"clear": True})
    assert simple(sandbox).status == 200


def test_session_invalidation_faults(sandbox: SandboxServer, session_id: str) -> None:
    set_faults(sandbox, {"invalid_session": {"next": 1}})
    root = post(sandbox.url, envelope(fn(read_by_query("CUSTOMER")), session=session_id)).xml
    assert root.findtext("operation/errormessage/error/description2") == "Invalid session"
    sid = post(sandbox.url, envelope(fn("<getAPISession/>"))).xml.findtext(
        "operation/result/data/api/sessionid")
    set_faults(sandbox, {"session_invalidate_every": 3})
    outcomes = [post(sandbox.url, envelope(fn(read_by_query("CUSTOMER", "", "RECORDNO", 1)),
                                           session=sid)).xml.findtext(
        "operation/authentication/status") for _ in range(4)]
    assert outcomes[:2] == ["success", "success"] and "failure" in outcomes[2:]


def test_latency_and_concurrency_limit(sandbox: SandboxServer) -> None:
    set_faults(sandbox, {"latency_ms": 300, "max_concurrent": 1,
                         "concurrency_wait_seconds": 0.05})
    t0 = time.perf_counter()
    assert simple(sandbox).status == 200
    assert time.perf_counter() - t0 >= 0.3
    texts: list[str] = []
    start = threading.Barrier(3)  # all three in flight together, however loaded the machine

    def worker() -> None:
        start.wait()
        texts.append(simple(sandbox).xml.findtext("control/status"))

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(texts) == ["failure", "failure", "success"]


def test_resultids_can_be_expired_at_run_time(sandbox: SandboxServer) -> None:
    rid = post(sandbox.url, envelope(fn(read_by_query("ARINVOICE", "", "RECORDNO", 5)))
               ).result().find("data").get("resultId")
    assert set_faults(sandbox, {"expire_resultids": True})["expired_resultids"] == 1
    result = post(sandbox.url, envelope(fn(f"<readMore><resultId>{rid}</resultId></readMore>"))
                  ).result()
    assert result.findtext("errormessage/error/errorno") == "readMore failed"


def test_clock_set_and_advance(sandbox: SandboxServer) -> None:
    before = sandbox_json(sandbox.base_url, "/_sandbox/clock")
    after = sandbox_json(sandbox.base_url, "/_sandbox/clock", {"advance_seconds": 3600})
    assert after["epoch"] - before["epoch"] >= 3600
    frozen = sandbox_json(sandbox.base_url, "/_sandbox/clock",
                          {"set": "2027-01-15T09:00:00", "freeze": True})
    assert frozen["local"] == "01/15/2027 09:00:00"
    assert frozen["iso"] == "2027-01-15T09:00:00-08:00"
    created = post(sandbox.url, envelope(fn("<create><CUSTOMER><NAME>Clocked</NAME></CUSTOMER>"
                                            "</create>"))).result()
    key = created.find("data")[0].findtext("RECORDNO")
    rec = sandbox_json(sandbox.base_url, f"/_sandbox/record?object=CUSTOMER&recordno={key}")
    assert rec["WHENMODIFIED"] == "01/15/2027 09:00:00"


def test_activity_changes_data_between_syncs(sandbox: SandboxServer) -> None:
    sandbox_json(sandbox.base_url, "/_sandbox/clock", {"freeze": True})
    since = sandbox_json(sandbox.base_url, "/_sandbox/clock")["local"]
    events = sandbox_json(sandbox.base_url, "/_sandbox/activity", {"steps": 40})["events"]
    done = {e["action"] for e in events if "skipped" not in e}
    assert {"create_invoice", "pay_invoice", "edit_invoice"} <= done
    changed = records(post(sandbox.url, envelope(fn(read_by_query(
        "ARINVOICE", f"WHENMODIFIED >= '{since}'", "RECORDNO", 1000)))).result().find("data"))
    touched = {e["recordno"] for e in events if e.get("object") == "ARINVOICE"
               and e["action"] in ("create_invoice", "edit_invoice") and "skipped" not in e}
    touched -= {e["recordno"] for e in events if e["action"] == "delete_invoice"}
    touched -= {e.get("old_arinvoice") for e in events}
    assert touched
    assert touched <= {int(r["RECORDNO"]) for r in changed}


def test_editing_a_sales_invoice_recreates_its_ar_invoice(sandbox: SandboxServer) -> None:
    events = sandbox_json(sandbox.base_url, "/_sandbox/activity",
                          {"steps": 1, "actions": ["edit_sales_invoice"]})["events"]
    event = events[0]
    old, new = event["old_arinvoice"], event["new_arinvoice"]
    assert new != old
    doc = sandbox_json(sandbox.base_url,
                       f"/_sandbox/record?object=SODOCUMENT&recordno={event['recordno']}")
    assert doc["PRRECORDKEY"] == new
    gone = post(sandbox.url, envelope(fn(f"<read><object>ARINVOICE</object><keys>{old}</keys>"
                                         "</read>"))).result().find("data")
    assert gone.get("count") == "0"
    audit = records(post(sandbox.url, envelope(fn(read_by_query(
        "AUDITHISTORY", f"OBJECTTYPE = 'arinvoice' AND OBJECTKEY IN ('{old}', '{new}')",
        "OBJECTKEY,ACCESSMODE")))).result().find("data"))
    assert {(a["OBJECTKEY"], a["ACCESSMODE"]) for a in audit} == {(str(old), "Delete"),
                                                                  (str(new), "Create")}


def test_late_committing_batch(sandbox: SandboxServer) -> None:
    sandbox_json(sandbox.base_url, "/_sandbox/clock", {"freeze": True})
    started = sandbox_json(sandbox.base_url, "/_sandbox/clock")["local"]
    event = sandbox_json(sandbox.base_url, "/_sandbox/activity",
                         {"steps": 1, "actions": ["late_commit_batch"]})["events"][0]
    query = read_by_query("ARINVOICE", f"WHENMODIFIED >= '{started}'", "RECORDNO,WHENMODIFIED")
    assert post(sandbox.url, envelope(fn(query))).result().find("data").get("count") == "0"
    sandbox_json(sandbox.base_url, "/_sandbox/clock", {"advance_seconds": 300})
    assert post(sandbox.url, envelope(fn(query))).result().find("data").get("count") == "0"
    sandbox_json(sandbox.base_url, "/_sandbox/clock", {"advance_seconds": 200})
    rows = records(post(sandbox.url, envelope(fn(query))).result().find("data"))
    # The batch creates `size` invoices and pays `size` open invoices (touching them too).
    assert event["size"] <= len(rows) <= 2 * event["size"]
    assert {r["WHENMODIFIED"] for r in rows} == {started}  # stamped 8 minutes before visible
    payments = read_by_query("ARPYMT", f"WHENMODIFIED >= '{started}'", "RECORDNO,WHENMODIFIED")
    paid = records(post(sandbox.url, envelope(fn(payments))).result().find("data"))
    assert len(paid) == event["size"]
    assert {r["WHENMODIFIED"] for r in paid} == {started}


def test_reset_restores_the_seeded_company(sandbox: SandboxServer) -> None:
    truth = sandbox_json(sandbox.base_url, "/_sandbox/summary?object=ARINVOICE")
    sandbox_json(sandbox.base_url, "/_sandbox/activity", {"steps": 20})
    sandbox_json(sandbox.base_url, "/_sandbox/reset", {})
    assert sandbox_json(sandbox.base_url, "/_sandbox/summary?object=ARINVOICE") == truth
    assert sandbox_json(sandbox.base_url, "/_sandbox/writes")["count"] == 0
