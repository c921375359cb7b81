"""Envelope echo, the three failure levels, sessions and login (protocol §1–§3)."""

from __future__ import annotations

import datetime as dt
import urllib.error
import urllib.request

import pytest

from include.intacct_sandbox import SandboxServer

from .intacct_client import envelope, fn, login_xml, post, read_by_query, sandbox_json


def test_control_echo_and_results_in_request_order(sandbox: SandboxServer) -> None:
    body = envelope(fn(read_by_query("CUSTOMER", "", "RECORDNO", 1), "a")
                    + fn("<getAPISession/>", "b")
                    + fn(read_by_query("NOPE"), "c"), controlid="ctl-42")
    root = post(sandbox.url, body).xml
    assert [root.findtext(f"control/{t}") for t in ("status", "senderid", "controlid",
                                                    "uniqueid", "dtdversion")] == [
        "success", "intacct_sync_sandbox", "ctl-42", "false", "3.0"]
    results = root.findall("operation/result")
    assert [r.findtext("controlid") for r in results] == ["a", "b", "c"]
    assert [r.findtext("function") for r in results] == ["readByQuery", "getAPISession",
                                                         "readByQuery"]
    assert [r.findtext("status") for r in results] == ["success", "success", "failure"]


def test_xml_parse_error_is_a_control_failure(sandbox: SandboxServer) -> None:
    answer = post(sandbox.url, "<request><control><senderid>s</senderid><controlid>x"
                               "</controlid></control><operation>")
    root = answer.xml
    assert answer.status == 200
    assert root.findtext("control/status") == "failure"
    assert root.findtext("control/controlid") == "x"
    assert root.find("operation") is None
    assert root.findtext("errormessage/error/errorno") == "XL03000003"
    assert root.findtext("errormessage/error/description2").startswith("XML Parse schema error")


def test_entities_in_request_are_not_resolved(sandbox: SandboxServer) -> None:
    evil = ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            + envelope(fn(read_by_query("CUSTOMER", "NAME = '&x;'"))).split("?>", 1)[1])
    answer = post(sandbox.url, evil)
    assert b"root:" not in answer.body


def test_bad_sender_password_is_control_failure(sandbox: SandboxServer) -> None:
    root = post(sandbox.url, envelope(fn("<getAPISession/>"), sender=("intacct_sync_sandbox",
                                                                       "nope"))).xml
    assert root.findtext("control/status") == "failure"
    assert root.findtext("errormessage/error/errorno") == "XL03000006"
    assert "Partner ID or password" in root.findtext("errormessage/error/description2")


def test_unauthorized_sender_is_authentication_failure(sandbox: SandboxServer) -> None:
    root = post(sandbox.url, envelope(fn("<getAPISession/>"), sender=(
        "intacct_sync_unauthorized", "sandbox-sender-secret"))).xml
    assert root.findtext("control/status") == "success"
    assert root.findtext("operation/authentication/status") == "failure"
    err = root.find("operation/errormessage/error")
    assert err.findtext("description") == "Invalid Web Services Authorization"
    assert "intacct_sync_unauthorized" in err.findtext("description2")
    assert root.find("operation/result") is None


def test_bad_user_password_is_authentication_failure(sandbox: SandboxServer) -> None:
    root = post(sandbox.url, envelope(fn(read_by_query("CUSTOMER")), auth=login_xml(
        ("ws_sync", "SANDBOX-AR", "wrong")))).xml
    assert root.findtext("operation/authentication/status") == "failure"
    assert root.findtext("operation/authentication/userid") == "ws_sync"
    assert root.findtext("operation/errormessage/error/description2") == \
        "Sign-in information is incorrect"
    assert root.find("operation/result") is None


def test_unknown_company_is_http_401_gateway_error(sandbox: SandboxServer) -> None:
    answer = post(sandbox.url, envelope(fn("<getAPISession/>"), auth=login_xml(
        ("ws_sync", "OTHER", "x"))))
    assert answer.status == 401
    assert answer.headers["Content-Type"].startswith("text/xml")
    root = answer.xml
    assert [c.tag for c in root.find("control")] == ["status"]
    assert root.findtext("errormessage/error/errorno") == "XMLGW_JPP0002"


def test_get_is_refused(sandbox: SandboxServer) -> None:
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(sandbox.url)  # noqa: S310
    assert err.value.code == 405


def test_session_lifecycle(sandbox: SandboxServer) -> None:
    result = post(sandbox.url, envelope(fn("<getAPISession/>"))).result()
    sid = result.findtext("data/api/sessionid")
    assert result.findtext("data/api/endpoint") == sandbox.url
    assert result.findtext("data/api/locationid") == ""
    first = post(sandbox.url, envelope(fn(read_by_query("CUSTOMER", "", "RECORDNO", 1)),
                                       session=sid)).xml
    auth = first.find("operation/authentication")
    assert auth.findtext("status") == "success"
    timeout1 = dt.datetime.fromisoformat(auth.findtext("sessiontimeout"))
    stamp1 = dt.datetime.fromisoformat(auth.findtext("sessiontimestamp"))
    assert timeout1 - stamp1 == dt.timedelta(hours=6)
    assert stamp1.utcoffset() in (dt.timedelta(hours=-8), dt.timedelta(hours=-7))
    sandbox_json(sandbox.base_url, "/_sandbox/clock", {"advance_seconds": 5 * 3600})
    second = post(sandbox.url, envelope(fn("<getAPISession/>"), session=sid)).xml
    timeout2 = dt.datetime.fromisoformat(second.findtext("operation/authentication/"
                                                         "sessiontimeout"))
    assert timeout2 - timeout1 >= dt.timedelta(hours=5)  # sliding
    sandbox_json(sandbox.base_url, "/_sandbox/clock", {"advance_seconds": 6 * 3600 + 5})
    expired = post(sandbox.url, envelope(fn(read_by_query("CUSTOMER")), session=sid)).xml
    assert expired.findtext("operation/authentication/status") == "failure"
    assert expired.findtext("operation/authentication/userid") == ""
    assert expired.findtext("operation/authentication/companyid") == ""
    assert expired.findtext("operation/errormessage/error/errorno") == "XL03000006"
    assert expired.findtext("operation/errormessage/error/description2").startswith(
        "Invalid session")


def test_entity_session_sees_only_its_entity(sandbox: SandboxServer) -> None:
    result = post(sandbox.url, envelope(fn("<getAPISession><locationid>E200</locationid>"
                                           "</getAPISession>"))).result()
    assert result.findtext("data/api/locationid") == "E200"
    sid = result.findtext("data/api/sessionid")
    root = post(sandbox.url, envelope(fn(read_by_query("ARINVOICE", "", "RECORDNO,MEGAENTITYID",
                                                       1000)), session=sid)).xml
    assert root.findtext("operation/authentication/locationid") == "E200"
    data = root.find("operation/result/data")
    entities = {r.findtext("MEGAENTITYID") for r in data}
    assert entities == {"E200"}
    truth = sandbox_json(sandbox.base_url, "/_sandbox/summary?object=ARINVOICE")
    assert int(data.get("totalcount")) == truth["by_entity"]["E200"]["count"]


def test_login_with_locationid_and_piped_company(sandbox: SandboxServer) -> None:
    for auth in (login_xml(locationid="E300"),
                 login_xml(("ws_sync", "SANDBOX-AR|E300", "sandbox-user-secret"))):
        root = post(sandbox.url, envelope(fn(read_by_query("ARPYMT", "", "MEGAENTITYID", 50)),
                                          auth=auth)).xml
        assert root.findtext("operation/authentication/locationid") == "E300"
        assert {r.findtext("MEGAENTITYID") for r in root.find("operation/result/data")} == {
            "E300"}


def test_compact_output_when_includewhitespace_false(sandbox: SandboxServer) -> None:
    answer = post(sandbox.url, envelope(fn(read_by_query("CUSTOMER", "", "NAME", 3)),
                                        whitespace=False))
    assert b"\n" not in answer.body.split(b"?>", 1)[1]
    assert len(answer.result().find("data")) == 3


def test_gzip_when_asked(sandbox: SandboxServer) -> None:
    import gzip

    answer = post(sandbox.url, envelope(fn(read_by_query("ARINVOICE", "", "*", 20))),
                  headers={"Accept-Encoding": "gzip,deflate"})
    assert answer.headers.get("Content-Encoding") == "gzip"
    assert gzip.decompress(answer.body).startswith(b"<?xml")


def test_several_operations_in_one_request(sandbox: SandboxServer) -> None:
    one = envelope(fn(read_by_query("CUSTOMER", "", "RECORDNO", 1), "x"))
    op = one[one.index("<operation"):one.index("</request>")]
    bad = op.replace("sandbox-user-secret", "wrong")
    root = post(sandbox.url, one.replace("</request>", bad + op + "</request>")).xml
    assert [o.findtext("authentication/status") for o in root.findall("operation")] == [
        "success", "failure", "success"]
