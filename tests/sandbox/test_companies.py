"""Several companies in one sandbox process: own data, time zone, entities, sessions, faults,
clock and truth per company, chosen by the login companyid (issue 20, Sandbox)."""

from __future__ import annotations

import pytest

from include.intacct_sandbox import SandboxServer
from include.localenv import sandbox_api

from .conftest import BERLIN, GLOBEX
from .intacct_client import SENDER, envelope, fn, login_xml, post, read_by_query, records

DEFAULT = ("ws_sync", "SANDBOX-AR", "sandbox-user-secret")
ACME = (BERLIN["user_id"], BERLIN["company_id"], BERLIN["user_password"])
GLOB = ("ws_sync", GLOBEX["company_id"], "sandbox-user-secret")


def login_call(url: str, user: tuple[str, str, str], functions: str,
               locationid: str | None = None):  # noqa: ANN201
    return post(url, envelope(functions, auth=login_xml(user, locationid)))


def customers(sb: SandboxServer, user: tuple[str, str, str]) -> list[dict]:
    answer = login_call(sb.url, user, fn(read_by_query("CUSTOMER", fields="CUSTOMERID,NAME")))
    result = answer.result()
    assert result.findtext("status") == "success", answer.body[:600]
    return records(result.find("data"))


def auth_of(answer) -> tuple[str, str, str]:  # noqa: ANN001
    auth = answer.xml.find("operation/authentication")
    return (auth.findtext("status"), auth.findtext("companyid"),
            auth.findtext("sessiontimestamp") or "")


def error_texts(answer) -> list[str]:  # noqa: ANN001
    return [e.findtext("description2") or "" for e in answer.xml.iter("error")]


def session_of(url: str, user: tuple[str, str, str]) -> str:
    answer = login_call(url, user, fn("<getAPISession/>"))
    return answer.xml.findtext("operation/result/data/api/sessionid")


def test_three_companies_have_their_own_data_time_zone_and_entities(
        companies_sandbox: SandboxServer) -> None:
    sb = companies_sandbox
    names = {user[1]: [c["NAME"] for c in customers(sb, user)] for user in (DEFAULT, ACME, GLOB)}
    assert all(names.values())
    assert len({tuple(v) for v in names.values()}) == 3, "every company is seeded on its own"

    stamps = {u[1]: auth_of(login_call(sb.url, u, fn("<getAPISession/>")))[2]
              for u in (DEFAULT, ACME)}
    assert stamps["SANDBOX-AR"].endswith("-08:00")
    assert stamps["ACME-BERLIN"].endswith("+01:00")
    clock = sandbox_api.get(sb.base_url, "clock", company="ACME-BERLIN")
    assert clock["timezone"] == "Europe/Berlin"
    assert sandbox_api.get(sb.base_url, "clock")["timezone"] == "America/Los_Angeles"

    # GLOBEX is multi-entity with two entities; ACME signs in at the top level only
    ok = login_call(sb.url, GLOB, fn("<getAPISession/>"), locationid="E200")
    assert auth_of(ok)[0] == "success"
    assert ok.xml.findtext("operation/result/data/api/locationid") == "E200"
    refused = login_call(sb.url, GLOB, fn("<getAPISession/>"), locationid="E300")
    assert auth_of(refused)[0] == "failure"
    assert "invalid location 'E300'" in " ".join(error_texts(refused))
    assert auth_of(login_call(sb.url, ACME, fn("<getAPISession/>"), locationid="E200"))[0] \
        == "failure"
    assert auth_of(login_call(sb.url, DEFAULT, fn("<getAPISession/>"), locationid="E300"))[0] \
        == "success"
    config = sandbox_api.get(sb.base_url, "config", company="GLOBEX-ME")
    assert config["company_id"] == "GLOBEX-ME" and config["entity_ids"] == ["E100", "E200"]
    assert config["url"].endswith("/companies/GLOBEX-ME/ia/xml/xmlgw.phtml")


def test_a_write_to_one_company_is_absent_from_the_others_truth(
        companies_sandbox: SandboxServer) -> None:
    sb = companies_sandbox
    create = fn("<create><CUSTOMER><CUSTOMERID>ONLY-GLOBEX</CUSTOMERID><NAME>Globex only</NAME>"
                "</CUSTOMER></create>")
    answer = login_call(sb.url, GLOB, create)
    assert answer.result().findtext("status") == "success", answer.body[:600]

    def has(company: str | None) -> tuple[bool, int]:
        ids = {r["CUSTOMERID"] for r in sandbox_api.records(sb.base_url, company,
                                                            object="CUSTOMER")}
        writes = sandbox_api.get(sb.base_url, "writes", company)
        return "ONLY-GLOBEX" in ids, len(writes["writes"])

    assert has("GLOBEX-ME") == (True, 1)
    assert has("ACME-BERLIN") == (False, 0)
    assert has(None) == (False, 0)
    # the query-parameter form addresses the same company as the path prefix
    via_query = sandbox_api.get(sb.base_url, "writes", company=None)  # default
    assert via_query["writes"] == []
    url = f"{sb.base_url}/_sandbox/writes?company=GLOBEX-ME"
    import json
    import urllib.request
    with urllib.request.urlopen(url, timeout=30) as resp:  # noqa: S310 - loopback
        assert len(json.load(resp)["writes"]) == 1


def test_faults_and_clock_of_one_company_leave_the_others_alone(
        companies_sandbox: SandboxServer) -> None:
    sb = companies_sandbox
    sandbox_api.post(sb.base_url, "faults", {"http_503": {"every": 1}}, company="ACME-BERLIN")
    broken = login_call(sb.url, ACME, fn("<getAPISession/>"))
    assert broken.status == 503
    for user in (DEFAULT, GLOB):
        fine = login_call(sb.url, user, fn("<getAPISession/>"))
        assert fine.status == 200 and auth_of(fine)[0] == "success"
    assert sandbox_api.get(sb.base_url, "faults")["schedules"] == {}
    assert "http_503" in sandbox_api.get(sb.base_url, "faults", "ACME-BERLIN")["schedules"]

    before = sandbox_api.get(sb.base_url, "clock", "GLOBEX-ME")["epoch"]
    sandbox_api.post(sb.base_url, "clock", {"advance_seconds": 7200}, company="ACME-BERLIN")
    assert sandbox_api.get(sb.base_url, "clock", "GLOBEX-ME")["epoch"] == before
    assert sandbox_api.get(sb.base_url, "clock", "ACME-BERLIN")["epoch"] == before + 7200


def test_a_session_of_one_company_is_refused_by_another(
        companies_sandbox: SandboxServer) -> None:
    sb = companies_sandbox
    sid = session_of(sb.url, GLOB)
    call = fn(read_by_query("CUSTOMER", fields="CUSTOMERID", pagesize=1))
    acme_url = sb.company("ACME-BERLIN")["url"]
    refused = post(acme_url, envelope(call, session=sid))
    assert refused.status == 200
    assert auth_of(refused)[0] == "failure"
    assert refused.xml.findtext("operation/errormessage/error/errorno") == "XL03000006"
    assert error_texts(refused) == ["Invalid session"]
    for url in (sb.url, sb.company("GLOBEX-ME")["url"]):  # shared path finds its company
        ok = post(url, envelope(call, session=sid))
        assert auth_of(ok)[:2] == ("success", "GLOBEX-ME"), ok.body[:600]
    # a login for another company on a company's own URL is an unknown company there
    assert login_call(acme_url, GLOB, fn("<getAPISession/>")).status == 401


def test_wrong_password_or_company_is_refused_while_the_others_answer(
        companies_sandbox: SandboxServer) -> None:
    sb = companies_sandbox
    wrong = login_call(sb.url, (ACME[0], ACME[1], "sandbox-user-secret"), fn("<getAPISession/>"))
    assert wrong.status == 200 and auth_of(wrong)[0] == "failure"
    assert wrong.xml.findtext("operation/errormessage/error/errorno") == "XL03000006"
    assert error_texts(wrong) == ["Sign-in information is incorrect"]
    unknown = login_call(sb.url, ("ws_sync", "NO-SUCH-CO", "sandbox-user-secret"),
                         fn("<getAPISession/>"))
    assert unknown.status == 401 and b"XMLGW_JPP0002" in unknown.body
    for user in (DEFAULT, ACME, GLOB):
        assert auth_of(login_call(sb.url, user, fn("<getAPISession/>")))[0] == "success"
    assert SENDER[0] == sb.company("ACME-BERLIN")["sender_id"]


def test_a_company_added_at_run_time_answers_and_seeds_lazily(
        companies_sandbox: SandboxServer) -> None:
    sb = companies_sandbox
    listed = {c["company_id"]: c for c in sandbox_api.get(sb.base_url, "companies")["companies"]}
    assert set(listed) == {"SANDBOX-AR", "ACME-BERLIN", "GLOBEX-ME"}
    assert listed["GLOBEX-ME"]["seeded"] is False, "configured companies seed on first use"

    added = sandbox_api.post(sb.base_url, "companies", {
        "company_id": "INITECH", "user_password": "initech-pw", "settings": {"seed": 11}})
    assert added["url"].endswith("/companies/INITECH/ia/xml/xmlgw.phtml")
    assert added["seeded"] is False
    user = ("ws_sync", "INITECH", "initech-pw")
    assert customers(sb, user)
    listed = {c["company_id"]: c for c in sandbox_api.get(sb.base_url, "companies")["companies"]}
    assert listed["INITECH"]["seeded"] is True
    assert listed["GLOBEX-ME"]["seeded"] is False
    assert sandbox_api.get(sb.base_url, "config", "INITECH")["seed"] == 11

    import urllib.error
    with pytest.raises(urllib.error.HTTPError) as dup:
        sandbox_api.post(sb.base_url, "companies", {"company_id": "INITECH"})
    assert dup.value.code == 400
    with pytest.raises(urllib.error.HTTPError) as bad_entity:
        sandbox_api.post(sb.base_url, "companies", {"company_id": "X", "entity_ids": ["Z9"]})
    assert bad_entity.value.code == 400
    with pytest.raises(urllib.error.HTTPError) as missing:
        sandbox_api.get(sb.base_url, "clock", "NOPE")
    assert missing.value.code == 404


def test_cli_configures_companies_from_a_file(tmp_path) -> None:  # noqa: ANN001
    import json
    import subprocess
    import sys

    spec = tmp_path / "companies.json"
    spec.write_text(json.dumps([BERLIN]))
    proc = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "include.intacct_sandbox", "--port", "0", "--scale", "tiny",
         "--companies", str(spec)], stdout=subprocess.PIPE, text=True)
    try:
        line = json.loads(proc.stdout.readline())
        assert line["company_id"] == "SANDBOX-AR"
        acme = {c["company_id"]: c for c in line["companies"]}["ACME-BERLIN"]
        answer = login_call(acme["url"], ACME, fn("<getAPISession/>"))
        assert auth_of(answer)[:2] == ("success", "ACME-BERLIN")
        assert auth_of(answer)[2].endswith("+01:00")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
