"""Writes: generic and legacy AR functions, validation errors, uniqueid, transactions (§6)."""

from __future__ import annotations

from include.intacct_sandbox import SandboxServer

from .intacct_client import envelope, fn, post, read_by_query, records, sandbox_json


def call(sb: SandboxServer, body: str, controlid: str = "w1", **kw: object):  # noqa: ANN201
    return post(sb.url, envelope(fn(body, controlid), **kw)).result()  # type: ignore[arg-type]


def errors(result) -> list[tuple[str, str]]:  # noqa: ANN001
    return [(e.findtext("errorno"), e.findtext("description2"))
            for e in result.findall("errormessage/error")]


def record(sb: SandboxServer, obj: str, recordno: int | str) -> dict:
    return sandbox_json(sb.base_url, f"/_sandbox/record?object={obj}&recordno={recordno}")


INVOICE = ("<create_invoice><customerid>{cust}</customerid><datecreated><year>2026</year>"
           "<month>11</month><day>2</day></datecreated>{extra}<invoiceitems>{lines}"
           "</invoiceitems></create_invoice>")
LINE = ("<lineitem><glaccountno>{acct}</glaccountno><amount>{amount}</amount>"
        "<memo>Widgets &amp; more</memo><locationid>E100</locationid>"
        "<departmentid>{dept}</departmentid></lineitem>")


def create_invoice(sb: SandboxServer, cust: str = "C-00001", extra: str = "",
                   lines: str | None = None):  # noqa: ANN201
    lines = lines or LINE.format(acct="4000", amount="100.00", dept="SALES") + LINE.format(
        acct="4900", amount="-10", dept="SALES")
    return call(sb, INVOICE.format(cust=cust, extra=extra, lines=lines))


def test_generic_create_customer_and_duplicate(sandbox: SandboxServer) -> None:
    ok = call(sandbox, "<create><CUSTOMER><CUSTOMERID>NEW-100</CUSTOMERID><NAME>Nouveau &amp; "
                       "Fils</NAME><DISPLAYCONTACT><EMAIL1>a@b.example</EMAIL1><MAILADDRESS>"
                       "<CITY>Lyon</CITY></MAILADDRESS></DISPLAYCONTACT></CUSTOMER></create>")
    data = ok.find("data")
    assert data.attrib == {"listtype": "objects", "count": "1"}
    assert data[0].tag == "customer" and data[0].findtext("CUSTOMERID") == "NEW-100"
    rec = record(sandbox, "CUSTOMER", data[0].findtext("RECORDNO"))
    assert rec["NAME"] == "Nouveau & Fils"
    assert rec["DISPLAYCONTACT.MAILADDRESS.CITY"] == "Lyon"
    assert rec["STATUS"] == "active"
    dup = call(sandbox, "<create><CUSTOMER><CUSTOMERID>C-00002</CUSTOMERID><NAME>x</NAME>"
                        "</CUSTOMER></create>")
    assert dup.findtext("status") == "failure"
    assert [e[0] for e in errors(dup)] == ["BL34000061", "BL01001973", "BL01001973"]
    assert dup.find("data").attrib == {"listtype": "objects", "count": "0"}
    bad_mail = call(sandbox, "<create><CUSTOMER><NAME>x</NAME><DISPLAYCONTACT><EMAIL1>nope"
                             "</EMAIL1></DISPLAYCONTACT></CUSTOMER></create>")
    assert [e[0] for e in errors(bad_mail)] == ["BL03000018", "BL01001973", "BL01001973"]


def test_legacy_create_invoice_returns_key_and_lines(sandbox: SandboxServer) -> None:
    result = create_invoice(sandbox, extra="<invoiceno>PORTAL-1</invoiceno>")
    assert result.findtext("status") == "success"
    assert result.find("data") is None
    key = result.findtext("key")
    inv = record(sandbox, "ARINVOICE", key)
    assert (inv["RECORDID"], inv["STATE"], inv["TRX_TOTALENTERED"]) == ("PORTAL-1", "Posted", 90)
    assert [c["TRX_AMOUNT"] for c in inv["_children"]] == [100, -10]
    assert inv["_children"][0]["ENTRYDESCRIPTION"] == "Widgets & more"
    lines = records(call(sandbox, read_by_query("ARINVOICEITEM", f"RECORDKEY = {key}",
                                                "AMOUNT,DEPARTMENTID")).find("data"))
    assert lines == [{"AMOUNT": "100", "DEPARTMENTID": "SALES"},
                     {"AMOUNT": "-10", "DEPARTMENTID": "SALES"}]
    audit = records(call(sandbox, read_by_query(
        "AUDITHISTORY", f"OBJECTTYPE = 'arinvoice' AND OBJECTKEY = '{key}'",
        "ACCESSMODE,OBJECTKEY")).find("data"))
    assert audit == [{"ACCESSMODE": "Create", "OBJECTKEY": key}]


def test_numbering_collision_and_unknown_dimension(sandbox: SandboxServer) -> None:
    collision = create_invoice(sandbox, extra="<invoiceno>INV-0000001</invoiceno>")
    assert errors(collision) == [
        ("BL01001973", "A transaction with the number 'INV-0000001' already exists."),
        ("BL01001973", "Could not create Invoice record!")]
    bad_dim = create_invoice(sandbox, lines=LINE.format(acct="4000", amount="5", dept="NOPE"))
    assert errors(bad_dim)[0] == ("BL01001973", "Invalid Department 'NOPE' specified.")
    bad_cust = create_invoice(sandbox, cust="C-99999")
    assert "Invalid Customer 'C-99999'" in errors(bad_cust)[0][1]


def test_generic_create_invoice_and_adjustment(sandbox: SandboxServer) -> None:
    inv = call(sandbox, "<create><ARINVOICE><CUSTOMERID>C-00003</CUSTOMERID><WHENCREATED>"
                        "11/02/2026</WHENCREATED><RECORDID>GEN-1</RECORDID><ARINVOICEITEMS>"
                        "<ARINVOICEITEM><ACCOUNTNO>4100</ACCOUNTNO><TRX_AMOUNT>250.5</TRX_AMOUNT>"
                        "<LOCATIONID>E100</LOCATIONID><PROJECTID>PRJ-100</PROJECTID>"
                        "</ARINVOICEITEM></ARINVOICEITEMS></ARINVOICE></create>")
    assert inv.find("data")[0].findtext("RECORDID") == "GEN-1"
    adj = call(sandbox, "<create_aradjustment><customerid>C-00003</customerid><datecreated>"
                        "<year>2026</year><month>11</month><day>3</day></datecreated>"
                        "<adjustmentno>CM-NEW</adjustmentno><aradjustmentitems><lineitem>"
                        "<glaccountno>4950</glaccountno><amount>-40</amount></lineitem>"
                        "</aradjustmentitems></create_aradjustment>")
    rec = record(sandbox, "ARADJUSTMENT", adj.findtext("key"))
    assert (rec["RECORDID"], rec["TRX_TOTALENTERED"], rec["STATE"]) == ("CM-NEW", -40, "Posted")


def test_payment_apply_reverse_cycle(sandbox: SandboxServer) -> None:
    key = create_invoice(sandbox).findtext("key")
    pay = call(sandbox, "<create_arpayment><customerid>C-00001</customerid><paymentamount>60"
                        "</paymentamount><bankaccountid>BOA-OPER</bankaccountid><datereceived>"
                        "<year>2026</year><month>11</month><day>5</day></datereceived>"
                        "<paymentmethod>Printed Check</paymentmethod><arpaymentitem><invoicekey>"
                        f"{key}</invoicekey><amount>60</amount></arpaymentitem>"
                        "</create_arpayment>")
    pay_key = pay.findtext("key")
    inv = record(sandbox, "ARINVOICE", key)
    assert (inv["STATE"], inv["TRX_TOTALPAID"], inv["TRX_TOTALDUE"]) == ("Partially Paid", 60, 30)
    credit = call(sandbox, "<create_aradjustment><customerid>C-00001</customerid><datecreated>"
                           "<year>2026</year><month>11</month><day>3</day></datecreated>"
                           "<aradjustmentitems><lineitem><glaccountno>4950</glaccountno><amount>"
                           "-30</amount></lineitem></aradjustmentitems></create_aradjustment>")
    applied = call(sandbox, f"<apply_arpayment><arpaymentkey>{credit.findtext('key')}"
                            "</arpaymentkey><paymentdate><year>2026</year><month>11</month>"
                            "<day>6</day></paymentdate><arpaymentitems><arpaymentitem>"
                            f"<invoicekey>{key}</invoicekey><amount>30</amount></arpaymentitem>"
                            "</arpaymentitems></apply_arpayment>")
    assert applied.findtext("status") == "success"
    assert record(sandbox, "ARINVOICE", key)["STATE"] == "Paid"
    assert record(sandbox, "ARADJUSTMENT", credit.findtext("key"))["STATE"] == "Paid"
    rev = call(sandbox, f'<reverse_arpayment key="{pay_key}"><datereversed><year>2026</year>'
                        "<month>11</month><day>7</day></datereversed></reverse_arpayment>")
    reversal = record(sandbox, "ARPYMT", rev.findtext("key"))
    assert (reversal["STATE"], reversal["TRX_TOTALENTERED"]) == ("V", -60)
    assert record(sandbox, "ARPYMT", pay_key)["STATE"] == "V"
    inv = record(sandbox, "ARINVOICE", key)
    assert (inv["STATE"], inv["TRX_TOTALPAID"]) == ("Partially Paid", 30)
    again = call(sandbox, f'<reverse_arpayment key="{pay_key}"/>')
    assert again.findtext("status") == "failure"


def test_payment_validation_errors(sandbox: SandboxServer) -> None:
    eur_customer = "C-00005"  # c % 9 == 4 → EUR
    template = ("<create_arpayment><customerid>{cust}</customerid><paymentamount>10"
                "</paymentamount>{acct}<datereceived><year>2026</year><month>11</month><day>5"
                "</day></datereceived><paymentmethod>EFT</paymentmethod>{items}"
                "</create_arpayment>")
    undep = call(sandbox, template.format(cust=eur_customer, acct="<undepfundsacct>1050"
                                          "</undepfundsacct>", items=""))
    assert errors(undep)[0][0] == "BL02000051"
    assert "foreign currency" in errors(undep)[0][1]
    no_batch = call(sandbox, template.format(cust="C-00001", acct="", items=""))
    assert errors(no_batch)[0][1] == "Please provide a payment batch key."
    stale = call(sandbox, template.format(cust="C-00001", acct="<bankaccountid>BOA-OPER"
                                          "</bankaccountid>", items="<arpaymentitem><invoicekey>"
                                          "42</invoicekey><amount>10</amount></arpaymentitem>"))
    assert errors(stale)[0] == ("DL03000005", "No record exits for the invoicekey 42")


def test_payment_batch_key_required_mode() -> None:
    with SandboxServer(scale="tiny", payment_batch_required=True) as sb:
        result = call(sb, "<create_arpayment><customerid>C-00001</customerid><paymentamount>1"
                          "</paymentamount><bankaccountid>BOA-OPER</bankaccountid><datereceived>"
                          "<year>2026</year><month>1</month><day>5</day></datereceived>"
                          "<paymentmethod>Cash</paymentmethod></create_arpayment>")
        assert errors(result)[0][1] == "Please provide a payment batch key."


def test_generic_update_and_delete(sandbox: SandboxServer) -> None:
    upd = call(sandbox, "<update><CUSTOMER><RECORDNO>3</RECORDNO><STATUS>inactive</STATUS>"
                        "</CUSTOMER></update>")
    assert upd.find("data").attrib["count"] == "1"
    assert record(sandbox, "CUSTOMER", 3)["STATUS"] == "inactive"
    key = create_invoice(sandbox).findtext("key")
    deleted = call(sandbox, f"<delete><object>ARINVOICE</object><keys>{key}</keys></delete>")
    assert deleted.findtext("status") == "success"
    assert [c.tag for c in deleted] == ["status", "function", "controlid"]
    missing = call(sandbox, f"<delete><object>ARINVOICE</object><keys>{key}</keys></delete>")
    assert errors(missing) == [("BL01001973", f"Cannot find arinvoice with key '{key}' to "
                                              "delete.")]
    audit = records(call(sandbox, read_by_query("AUDITHISTORY", "ACCESSMODE = 'D' AND "
                                                f"OBJECTKEY = '{key}'", "ACCESSMODE")
                         ).find("data"))
    assert audit == [{"ACCESSMODE": "Delete"}]


def test_reverse_and_delete_invoice_legacy(sandbox: SandboxServer) -> None:
    key = create_invoice(sandbox).findtext("key")
    rev = call(sandbox, f'<reverse_invoice key="{key}"><datereversed><year>2026</year><month>11'
                        "</month><day>9</day></datereversed></reverse_invoice>")
    assert record(sandbox, "ARINVOICE", key)["STATE"] == "Reversed"
    reversal = record(sandbox, "ARINVOICE", rev.findtext("key"))
    assert (reversal["STATE"], reversal["TRX_TOTALENTERED"]) == ("Reversal", -90)
    other = create_invoice(sandbox).findtext("key")
    assert call(sandbox, f'<delete_invoice key="{other}"/>').findtext("status") == "success"
    oe = call(sandbox, '<delete_invoice key="1002"/>')  # generated by Order Entry
    assert "Order Entry" in errors(oe)[0][1]


def test_uniqueid_refuses_a_repeated_control_id(sandbox: SandboxServer) -> None:
    body = ("<create><CUSTOMER><CUSTOMERID>ONCE</CUSTOMERID><NAME>Once</NAME></CUSTOMER>"
            "</create>")
    first = post(sandbox.url, envelope(fn(body, "cust-ONCE"), uniqueid="true")).result()
    assert first.findtext("status") == "success"
    second = post(sandbox.url, envelope(fn(body, "cust-ONCE"), uniqueid="true")).result()
    assert second.findtext("status") == "failure"
    assert errors(second)[0][1] == ("A successful transaction has already been recorded with "
                                    "the control id cust-ONCE")
    log = sandbox_json(sandbox.base_url, "/_sandbox/writes?controlid=cust-ONCE")["writes"]
    assert [w["outcome"] for w in log] == ["success", "refused_duplicate"]
    assert log[0]["payload"]["CUSTOMER"]["NAME"] == "Once"
    assert "password" not in str(log).lower()


def test_transaction_rolls_back(sandbox: SandboxServer) -> None:
    ok = "<create><CUSTOMER><CUSTOMERID>TX-A</CUSTOMERID><NAME>A</NAME></CUSTOMER></create>"
    bad = "<create><CUSTOMER><CUSTOMERID>C-00001</CUSTOMERID><NAME>B</NAME></CUSTOMER></create>"
    after = "<create><CUSTOMER><CUSTOMERID>TX-C</CUSTOMERID><NAME>C</NAME></CUSTOMER></create>"
    root = post(sandbox.url, envelope(fn(ok, "1") + fn(bad, "2") + fn(after, "3"),
                                      transaction=True)).xml
    results = root.findall("operation/result")
    assert [r.findtext("status") for r in results] == ["aborted", "failure", "aborted"]
    assert results[0].findtext("errormessage/error/errorno") == "XL03000009"
    assert [e.findtext("errorno") for e in results[1].iter("error")][-1] == "XL03000009"
    found = records(post(sandbox.url, envelope(fn(read_by_query(
        "CUSTOMER", "CUSTOMERID IN ('TX-A', 'TX-C')", "CUSTOMERID")))).result().find("data"))
    assert found == []
    outcomes = [w["outcome"] for w in sandbox_json(sandbox.base_url, "/_sandbox/writes")
                ["writes"]]
    assert outcomes == ["rolled_back", "failure", "aborted"]


def test_audithistory_query_uses_codes_like_hotglue_expects(sandbox: SandboxServer) -> None:
    key = create_invoice(sandbox).findtext("key")
    call(sandbox, f"<delete><object>ARINVOICE</object><keys>{key}</keys></delete>")
    data = call(sandbox, "<query><object>AUDITHISTORY</object><select><field>OBJECTKEY</field>"
                         "<field>ACCESSMODE</field></select><filter><and><equalto><field>"
                         "OBJECTTYPE</field><value>arinvoice</value></equalto><in><field>"
                         "ACCESSMODE</field><value>C</value><value>D</value></in></and>"
                         "</filter></query>").find("data")
    got = {(r["OBJECTKEY"], r["ACCESSMODE"]) for r in records(data)}
    assert {(key, "C"), (key, "D")} <= got
