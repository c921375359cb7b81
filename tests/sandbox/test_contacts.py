"""The sandbox's CONTACT object (bill-to contacts of customers, customer_source
bill_to_contact): seeded contacts, readByQuery, generic create and update, ground truth,
and create_invoice's billto contact."""

from __future__ import annotations

from include.intacct_sandbox import SandboxServer

from .intacct_client import read_by_query, records, sandbox_json
from .test_writes import call, create_invoice, errors, record


def _contacts(sb: SandboxServer, query: str) -> list[dict]:
    result = call(sb, read_by_query("CONTACT", query, "RECORDNO,CONTACTNAME,CUSTOMERID,EMAIL1"))
    return records(result.find("data"))


def test_seeded_contacts_are_read_by_their_customer(sandbox: SandboxServer) -> None:
    found = _contacts(sandbox, "CUSTOMERID = 'C-00001'")
    assert sorted(c["CONTACTNAME"] for c in found) == ["Billing East", "Billing West"]
    assert all(c["CUSTOMERID"] == "C-00001" for c in found)
    assert [c["CONTACTNAME"] for c in _contacts(sandbox, "CUSTOMERID = 'C-00003'")] == [
        "Accounts Payable"]


def test_two_contacts_created_under_one_customer_then_one_updated(
    sandbox: SandboxServer,
) -> None:
    created = []
    for name in ("North AP", "South AP"):
        ok = call(sandbox, f"<create><CONTACT><CONTACTNAME>{name}</CONTACTNAME>"
                           f"<EMAIL1>{name[:5].lower()}@ap.example</EMAIL1>"
                           "<CUSTOMERID>C-00002</CUSTOMERID></CONTACT></create>")
        assert ok.findtext("status") == "success", errors(ok)
        created.append(ok.find("data")[0].findtext("RECORDNO"))
    rec = record(sandbox, "CONTACT", created[0])
    assert (rec["CONTACTNAME"], rec["CUSTOMERID"], rec["STATUS"]) == ("North AP", "C-00002",
                                                                      "active")
    assert sorted(c["CONTACTNAME"] for c in _contacts(sandbox, "CUSTOMERID = 'C-00002'")) == [
        "North AP", "South AP"]
    dup = call(sandbox, "<create><CONTACT><CONTACTNAME>North AP</CONTACTNAME>"
                        "<CUSTOMERID>C-00002</CUSTOMERID></CONTACT></create>")
    assert dup.findtext("status") == "failure"
    assert errors(dup)[0][0] == "BL34000061"
    unknown = call(sandbox, "<create><CONTACT><CONTACTNAME>Nobody AP</CONTACTNAME>"
                            "<CUSTOMERID>NO-SUCH</CUSTOMERID></CONTACT></create>")
    assert unknown.findtext("status") == "failure"
    updated = call(sandbox, f"<update><CONTACT><RECORDNO>{created[1]}</RECORDNO>"
                            "<EMAIL1>new@ap.example</EMAIL1></CONTACT></update>")
    assert updated.findtext("status") == "success", errors(updated)
    assert record(sandbox, "CONTACT", created[1])["EMAIL1"] == "new@ap.example"
    logged = sandbox_json(sandbox.base_url, "/_sandbox/writes")["writes"]
    assert [(w["function"], w["object"], w["outcome"]) for w in logged] == [
        ("create", "CONTACT", "success"), ("create", "CONTACT", "success"),
        ("create", "CONTACT", "failure"), ("create", "CONTACT", "failure"),
        ("update", "CONTACT", "success")]
    summary = sandbox_json(sandbox.base_url, "/_sandbox/summary?object=CONTACT")
    assert (summary["count"], summary["by_state"]["active"]["count"]) == (5, 5)  # 3 seeded


def test_an_invoice_keeps_its_bill_to_contact(sandbox: SandboxServer) -> None:
    result = create_invoice(sandbox, extra="<billto><contactname>Billing West</contactname>"
                                           "</billto>")
    assert result.findtext("status") == "success", errors(result)
    inv = record(sandbox, "ARINVOICE", result.findtext("key"))
    assert (inv["CUSTOMERID"], inv["BILLTO.CONTACTNAME"]) == ("C-00001", "Billing West")
