"""Multi-entity: an entity session writes only what it can read; LOCATIONENTITY lists the
entities (README "Multi-entity").

Every outcome is checked against the sandbox's own ground truth (`/_sandbox/record`,
`/_sandbox/records`, `/_sandbox/writes`, `/_sandbox/config`), not against the answer alone.
"""

from __future__ import annotations

import urllib.error
from urllib.parse import quote

import pytest

from include.intacct_sandbox import SandboxServer

from .intacct_client import (
    envelope,
    fn,
    login_xml,
    post,
    read_by_query,
    records,
    sandbox_json,
)

DATE = "<year>2026</year><month>11</month><day>5</day>"


def call(sb: SandboxServer, body: str, entity: str | None = None, controlid: str = "w1"):  # noqa: ANN201
    """One function, signed in to `entity` (None: the top level)."""
    return post(sb.url, envelope(fn(body, controlid), auth=login_xml(locationid=entity))
                ).result()


def errors(result) -> list[tuple[str, str]]:  # noqa: ANN001
    return [(e.findtext("errorno"), e.findtext("description2"))
            for e in result.findall("errormessage/error")]


def truth_record(sb: SandboxServer, obj: str, recordno: int | str) -> dict | None:
    try:
        return sandbox_json(sb.base_url, f"/_sandbox/record?object={obj}&recordno={recordno}")
    except urllib.error.HTTPError as err:
        if err.code == 404:
            return None
        raise


def truth_first(sb: SandboxServer, obj: str, query: str) -> dict:
    found = sandbox_json(sb.base_url, f"/_sandbox/records?object={obj}&limit=1"
                                      f"&query={quote(query)}")["records"]
    assert found, f"the seeded company has no {obj} with {query}"
    return found[0]


def open_invoice(sb: SandboxServer, entity: str) -> dict:
    """A posted, unpaid AR invoice of `entity` whose customer is top level."""
    for inv in sandbox_json(sb.base_url, "/_sandbox/records?object=ARINVOICE&limit=200&query="
                            + quote(f"MEGAENTITYID = '{entity}' AND STATE = 'Posted' AND "
                                    "MODULEKEY = '4.AR' AND CURRENCY = 'USD'"))["records"]:
        cust = truth_record(sb, "CUSTOMER", inv["CUSTREC"])
        if cust and not cust["MEGAENTITYID"] and cust["STATUS"] == "active":
            return inv
    raise AssertionError(f"no open {entity} invoice with a top-level customer")


def pay(invoice: dict, amount: str = "10") -> str:
    return (f"<create_arpayment><customerid>{invoice['CUSTOMERID']}</customerid><paymentamount>"
            f"{amount}</paymentamount><bankaccountid>BOA-OPER</bankaccountid><datereceived>"
            f"{DATE}</datereceived><paymentmethod>Printed Check</paymentmethod><arpaymentitem>"
            f"<invoicekey>{invoice['RECORDNO']}</invoicekey><amount>{amount}</amount>"
            "</arpaymentitem></create_arpayment>")


def new_invoice(customer: str, location: str = "") -> str:
    loc = f"<locationid>{location}</locationid>" if location else ""
    return (f"<create_invoice><customerid>{customer}</customerid><datecreated>{DATE}"
            "</datecreated><invoiceitems><lineitem><glaccountno>4000</glaccountno><amount>25"
            f"</amount>{loc}</lineitem></invoiceitems></create_invoice>")


def test_entity_session_cannot_read_or_write_another_entitys_records(
        sandbox: SandboxServer) -> None:
    invoice = open_invoice(sandbox, "E100")
    key = invoice["RECORDNO"]
    payment = truth_first(sandbox, "ARPYMT", "MEGAENTITYID = 'E100' AND STATE = 'C'")
    credit = truth_first(sandbox, "ARADJUSTMENT", "MEGAENTITYID = 'E100' AND STATE = 'Posted'")
    own_credit = truth_first(sandbox, "ARADJUSTMENT", "MEGAENTITYID = 'E300' AND STATE = 'Posted'")
    private = truth_first(sandbox, "CUSTOMER", "MEGAENTITYID = 'E200' AND STATUS = 'T'")
    before = truth_record(sandbox, "ARINVOICE", key)
    counts = sandbox_json(sandbox.base_url, "/_sandbox/summary")

    read = call(sandbox, f"<read><object>ARINVOICE</object><keys>{key}</keys><fields>RECORDNO"
                         "</fields></read>", "E300")
    assert read.find("data").get("count") == "0"

    attempts = {
        "pay": (pay(invoice), [("DL03000005", f"No record exits for the invoicekey {key}"),
                               ("BL01001973", "Could not create ARPayment record!")]),
        "reverse": (f'<reverse_invoice key="{key}"><datereversed>{DATE}</datereversed>'
                    "</reverse_invoice>",
                    [("BL01001973", f"Cannot find invoice with key '{key}' to reverse.")]),
        "update": (f"<update><ARINVOICE><RECORDNO>{key}</RECORDNO><DESCRIPTION>moved"
                   "</DESCRIPTION></ARINVOICE></update>",
                   [("BL01001973", f"Cannot find arinvoice with key '{key}' to update.")]),
        "delete": (f"<delete><object>ARINVOICE</object><keys>{key}</keys></delete>",
                   [("BL01001973", f"Cannot find arinvoice with key '{key}' to delete.")]),
        "delete_invoice": (f'<delete_invoice key="{key}"/>',
                           [("BL01001973", f"Cannot find arinvoice with key '{key}' to "
                                           "delete.")]),
        "reverse_payment": (f'<reverse_arpayment key="{payment["RECORDNO"]}"/>',
                            [("BL01001973", "Cannot find arpayment with key "
                                            f"'{payment['RECORDNO']}' to reverse.")]),
        "apply_credit": (f"<apply_arpayment><arpaymentkey>{credit['RECORDNO']}</arpaymentkey>"
                         f"<arpaymentitems><arpaymentitem><invoicekey>{key}</invoicekey>"
                         "<amount>1</amount></arpaymentitem></arpaymentitems>"
                         "</apply_arpayment>",
                         [("BL01001973", "Cannot find the payment or credit with key "
                                         f"'{credit['RECORDNO']}' to apply.")]),
        "apply_to_hidden_invoice": (
            f"<apply_arpayment><arpaymentkey>{own_credit['RECORDNO']}</arpaymentkey>"
            f"<arpaymentitems><arpaymentitem><invoicekey>{key}</invoicekey><amount>1</amount>"
            "</arpaymentitem></arpaymentitems></apply_arpayment>",
            [("DL03000005", f"No record exits for the invoicekey {key}"),
             ("BL01001973", "Could not create ARPayment record!")]),
        "update_private_customer": (
            f"<update><CUSTOMER><RECORDNO>{private['RECORDNO']}</RECORDNO><COMMENTS>moved"
            "</COMMENTS></CUSTOMER></update>",
            [("BL01001973", f"Cannot find customer with key '{private['RECORDNO']}' to "
                            "update.")]),
        "private_customer": (new_invoice(private["CUSTOMERID"]),
                             [("BL01001973", f"Invalid Customer '{private['CUSTOMERID']}' "
                                             "specified."),
                              ("BL01001973", "Could not create Invoice record!")]),
    }
    for what, (body, expected) in attempts.items():
        result = call(sandbox, body, "E300", controlid=what)
        assert result.findtext("status") == "failure", what
        assert errors(result) == expected, what

    # Nothing changed, and the sandbox's write log saw each refusal in E300.
    assert truth_record(sandbox, "ARINVOICE", key) == before
    assert truth_record(sandbox, "ARPYMT", payment["RECORDNO"])["STATE"] == "C"
    assert truth_record(sandbox, "ARADJUSTMENT", credit["RECORDNO"])["STATE"] == "Posted"
    assert truth_record(sandbox, "ARADJUSTMENT", own_credit["RECORDNO"])["STATE"] == "Posted"
    assert truth_record(sandbox, "CUSTOMER", private["RECORDNO"]) == private
    assert sandbox_json(sandbox.base_url, "/_sandbox/summary") == counts
    log = {w["controlid"]: w for w in sandbox_json(sandbox.base_url, "/_sandbox/writes")["writes"]}
    assert {w: (log[w]["outcome"], log[w]["entity"]) for w in attempts} == {
        w: ("failure", "E300") for w in attempts}


def test_same_entity_and_top_level_writes_work(sandbox: SandboxServer) -> None:
    e100 = open_invoice(sandbox, "E100")
    paid = call(sandbox, pay(e100), "E100")
    assert paid.findtext("status") == "success", errors(paid)
    payment = truth_record(sandbox, "ARPYMT", paid.findtext("key"))
    assert payment["MEGAENTITYID"] == "E100"
    assert truth_record(sandbox, "ARINVOICE", e100["RECORDNO"])["TRX_TOTALPAID"] == 10

    # A record is created in the session's entity, whatever its top-level customer.
    customer = e100["CUSTOMERID"]
    created = call(sandbox, new_invoice(customer), "E300")
    assert created.findtext("status") == "success", errors(created)
    assert truth_record(sandbox, "ARINVOICE", created.findtext("key"))["MEGAENTITYID"] == "E300"
    new_customer = call(sandbox, "<create><CUSTOMER><CUSTOMERID>E300-NEW</CUSTOMERID><NAME>"
                                 "Canada only</NAME></CUSTOMER></create>", "E300")
    rn = new_customer.find("data")[0].findtext("RECORDNO")
    assert truth_record(sandbox, "CUSTOMER", rn)["MEGAENTITYID"] == "E300"
    # ... and is then private to that entity.
    hidden = call(sandbox, new_invoice("E300-NEW"), "E100")
    assert errors(hidden)[0] == ("BL01001973", "Invalid Customer 'E300-NEW' specified.")

    # An entity session may change the top-level records it reads (a shared customer).
    top_customer = truth_record(sandbox, "CUSTOMER", e100["CUSTREC"])
    updated = call(sandbox, f"<update><CUSTOMER><RECORDNO>{top_customer['RECORDNO']}</RECORDNO>"
                            "<COMMENTS>seen from E300</COMMENTS></CUSTOMER></update>", "E300")
    assert updated.findtext("status") == "success", errors(updated)
    assert truth_record(sandbox, "CUSTOMER", top_customer["RECORDNO"])["COMMENTS"] == (
        "seen from E300")

    # The top level keeps full access: it reverses an E300 invoice and pays an E200 one.
    e300 = open_invoice(sandbox, "E300")
    reversed_ = call(sandbox, f'<reverse_invoice key="{e300["RECORDNO"]}"><datereversed>{DATE}'
                              "</datereversed></reverse_invoice>")
    assert reversed_.findtext("status") == "success", errors(reversed_)
    assert truth_record(sandbox, "ARINVOICE", e300["RECORDNO"])["STATE"] == "Reversed"
    e200 = truth_first(sandbox, "ARINVOICE", "MEGAENTITYID = 'E200' AND STATE = 'Posted' AND "
                                             "MODULEKEY = '4.AR'")
    deleted = call(sandbox, f'<delete_invoice key="{e200["RECORDNO"]}"/>')
    assert deleted.findtext("status") == "success", errors(deleted)
    assert truth_record(sandbox, "ARINVOICE", e200["RECORDNO"]) is None


ENTITY_FIELDS = ["RECORDNO", "LOCATIONID", "NAME", "CURRENCY", "STATUS", "WHENMODIFIED"]


@pytest.mark.parametrize("entity", [None, "E300"])
def test_locationentity_lists_the_entities(sandbox: SandboxServer, entity: str | None) -> None:
    config = sandbox_json(sandbox.base_url, "/_sandbox/config")
    truth = sandbox_json(sandbox.base_url, "/_sandbox/records?object=LOCATIONENTITY")["records"]
    assert [r["LOCATIONID"] for r in truth] == config["entity_ids"]
    expected = [{f: "" if r[f] is None else str(r[f]) for f in ENTITY_FIELDS} for r in truth]

    select = "".join(f"<field>{f}</field>" for f in ENTITY_FIELDS)
    queried = call(sandbox, f"<query><object>LOCATIONENTITY</object><select>{select}</select>"
                            "<orderby><order><field>RECORDNO</field><ascending/></order>"
                            "</orderby></query>", entity)
    assert queried.findtext("status") == "success", errors(queried)
    assert records(queried.find("data")) == expected

    by_query = call(sandbox, read_by_query("LOCATIONENTITY", "STATUS = 'T'",
                                           ",".join(ENTITY_FIELDS)), entity)
    assert records(by_query.find("data")) == expected
    everything = call(sandbox, read_by_query("LOCATIONENTITY", ""), entity).find("data")
    assert everything.get("totalcount") == str(len(truth))
    assert {"FIRSTMONTH", "WEEKSTART", "PARENTID", "CONTACTINFO.CONTACTNAME"} <= {
        c.tag for c in everything[0]}

    keys = ",".join(str(r["RECORDNO"]) for r in truth[:2])
    read = call(sandbox, f"<read><object>LOCATIONENTITY</object><keys>{keys}</keys><fields>"
                         "LOCATIONID,NAME</fields></read>", entity)
    assert records(read.find("data")) == [{"LOCATIONID": r["LOCATIONID"], "NAME": r["NAME"]}
                                          for r in truth[:2]]
    by_name = call(sandbox, "<readByName><object>LOCATIONENTITY</object><keys>E300</keys>"
                            "<fields>RECORDNO,CURRENCY</fields></readByName>", entity)
    e300 = next(r for r in truth if r["LOCATIONID"] == "E300")
    assert records(by_name.find("data")) == [{"RECORDNO": str(e300["RECORDNO"]),
                                              "CURRENCY": e300["CURRENCY"]}]
