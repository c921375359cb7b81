"""readByQuery / readMore / query / read / readByName / lookup against ground truth (§4)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest

from include.intacct_sandbox import SandboxServer
from include.intacct_sandbox.object_definitions import OBJECTS

from .intacct_client import envelope, fn, post, read_by_query, records, sandbox_json


def all_records(sb: SandboxServer, obj: str) -> list[dict]:
    out, offset = [], 0
    while True:
        page = sandbox_json(sb.base_url, f"/_sandbox/records?object={obj}&offset={offset}"
                            "&limit=10000")
        out += page["records"]
        offset += len(page["records"])
        if offset >= page["total"]:
            return out


def read_all(sb: SandboxServer, obj: str, query: str, fields: str = "RECORDNO",
             pagesize: int = 1000, docparid: str | None = None) -> list[dict]:
    """readByQuery + readMore until numremaining is 0, checking the page arithmetic."""
    result = post(sb.url, envelope(fn(read_by_query(obj, query, fields, pagesize,
                                                    docparid)))).result()
    assert result.findtext("status") == "success", result.findtext(".//description2")
    data = result.find("data")
    total = int(data.get("totalcount"))
    rows = records(data)
    delivered = len(rows)
    while True:
        assert int(data.get("count")) == len(data)
        assert int(data.get("numremaining")) == total - delivered
        assert int(data.get("totalcount")) == total
        if data.get("numremaining") == "0":
            break
        rid = data.get("resultId")
        assert rid
        data = post(sb.url, envelope(fn(f"<readMore><resultId>{rid}</resultId></readMore>"))
                    ).result().find("data")
        rows += records(data)
        delivered += len(data)
    assert len(rows) == total
    return rows


def d(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%m/%d/%Y %H:%M:%S" if " " in text else "%m/%d/%Y")


QUERY_CASES: list[tuple[str, str, Callable[[dict], bool]]] = [
    ("CUSTOMER", "STATUS = 'T'", lambda r: r["STATUS"] == "active"),
    ("CUSTOMER", "STATUS = 'inactive'", lambda r: r["STATUS"] == "inactive"),
    ("CUSTOMER", "CURRENCY != 'USD' AND (STATUS = 'active' OR ONHOLD = 'true')",
     lambda r: r["CURRENCY"] != "USD" and (r["STATUS"] == "active" or r["ONHOLD"])),
    ("CUSTOMER", "CURRENCY IN ('EUR','GBP')", lambda r: r["CURRENCY"] in ("EUR", "GBP")),
    ("CUSTOMER", "CURRENCY NOT IN ('USD')", lambda r: r["CURRENCY"] != "USD"),
    ("CUSTOMER", "NAME LIKE '%&%'", lambda r: "&" in r["NAME"]),
    ("CUSTOMER", "NAME NOT LIKE 'A%'", lambda r: not r["NAME"].startswith("A")),
    ("CUSTOMER", "NAME LIKE '_resund%'", lambda r: re.match(r"^.resund", r["NAME"]) is not None),
    ("CUSTOMER", "NAME = 'O\\'Brien Freight Inc.' OR NAME LIKE 'O\\'Brien%'",
     lambda r: r["NAME"].startswith("O'Brien")),
    ("CUSTOMER", "TAXID IS NULL", lambda r: r["TAXID"] is None),
    ("CUSTOMER", "WHENMODIFIED IS NOT NULL AND RECORDNO <= 40",
     lambda r: r["WHENMODIFIED"] is not None and r["RECORDNO"] <= 40),
    ("CUSTOMER", "NOT CURRENCY = 'USD'", lambda r: r["CURRENCY"] != "USD"),
    ("ARINVOICE", "TRX_TOTALENTERED > 1000 AND TRX_TOTALENTERED <= 2000.5",
     lambda r: 1000 < r["TRX_TOTALENTERED"] <= 2000.5),
    ("ARINVOICE", "STATE = 'Partially Paid' OR STATE = 'Reversal'",
     lambda r: r["STATE"] in ("Partially Paid", "Reversal")),
    ("ARINVOICE", "WHENCREATED >= '01/01/2026' AND WHENCREATED < '03/01/2026'",
     lambda r: dt.datetime(2026, 1, 1) <= d(r["WHENCREATED"]) < dt.datetime(2026, 3, 1)),
    ("ARINVOICE", "WHENMODIFIED >= '06/01/2026 08:30:00'",
     lambda r: r["WHENMODIFIED"] is not None and d(r["WHENMODIFIED"]) >= dt.datetime(
         2026, 6, 1, 8, 30)),
    ("ARINVOICE", "WHENMODIFIED < '06/01/2026 08:30:00' AND MEGAENTITYID = 'E300'",
     lambda r: r["WHENMODIFIED"] is not None and d(r["WHENMODIFIED"]) < dt.datetime(
         2026, 6, 1, 8, 30) and r["MEGAENTITYID"] == "E300"),
    ("ARINVOICE", "WHENMODIFIED IS NULL", lambda r: r["WHENMODIFIED"] is None),
    ("ARINVOICE", "RECORDNO > 1100 AND RECORDNO < 1200 AND CURRENCY <> 'USD'",
     lambda r: 1100 < r["RECORDNO"] < 1200 and r["CURRENCY"] != "USD"),
    # a key lookup (the balance refresh): listed keys only, one of them missing, one excluded
    ("ARINVOICE", "RECORDNO IN (1005, '1107', 1450, 99999999) AND RECORDNO > 1006",
     lambda r: r["RECORDNO"] in (1107, 1450)),
    ("ARINVOICE", "RECORDNO IN (1005, 1107) OR RECORDNO = 1300",
     lambda r: r["RECORDNO"] in (1005, 1107, 1300)),
    ("ARINVOICE", "RECORDNO NOT IN (1005, 1007) AND RECORDNO < 1010",
     lambda r: r["RECORDNO"] < 1010 and r["RECORDNO"] not in (1005, 1007)),
    ("ARINVOICE", "RECORDNO IN (1005, 1107, 1450) AND CURRENCY = 'USD'",
     lambda r: r["RECORDNO"] in (1005, 1107, 1450) and r["CURRENCY"] == "USD"),
]


@pytest.mark.parametrize(("obj", "query", "expected"), QUERY_CASES,
                         ids=[q for _, q, _ in QUERY_CASES])
def test_readbyquery_language_matches_ground_truth(sandbox: SandboxServer, obj: str, query: str,
                                                  expected: Callable[[dict], bool]) -> None:
    truth = {r["RECORDNO"] for r in all_records(sandbox, obj) if expected(r)}
    got = [int(r["RECORDNO"]) for r in read_all(sandbox, obj, query, pagesize=250)]
    assert len(got) == len(set(got))
    assert set(got) == truth
    assert truth  # every case selects something in the seeded data


def test_rownum_limits_rows(sandbox: SandboxServer) -> None:
    rows = read_all(sandbox, "ARINVOICE", "rownum < 6 AND STATE = 'Paid'", "RECORDNO,STATE")
    assert len(rows) == 5 and {r["STATE"] for r in rows} == {"Paid"}


def test_paging_covers_everything_once(sandbox: SandboxServer) -> None:
    rows = read_all(sandbox, "ARINVOICEITEM", "", "RECORDNO,RECORDKEY,AMOUNT", pagesize=333)
    truth = sandbox_json(sandbox.base_url, "/_sandbox/summary?object=ARINVOICEITEM")
    assert len({r["RECORDNO"] for r in rows}) == truth["count"]
    assert round(sum(float(r["AMOUNT"]) for r in rows), 2) == round(truth["AMOUNT"], 2)


def test_single_page_has_empty_result_id_and_single_record_is_a_list(
        sandbox: SandboxServer) -> None:
    data = post(sandbox.url, envelope(fn(read_by_query("CUSTOMER", "CUSTOMERID = 'C-00001'",
                                                       "CUSTOMERID,NAME")))).result().find("data")
    assert data.attrib == {"listtype": "customer", "count": "1", "totalcount": "1",
                           "numremaining": "0", "resultId": ""}
    assert [c.tag for c in data] == ["customer"]
    assert [c.tag for c in data[0]] == ["CUSTOMERID", "NAME"]


def test_readmore_reads_a_snapshot(sandbox: SandboxServer) -> None:
    first = post(sandbox.url, envelope(fn(read_by_query("CUSTOMER", "", "RECORDNO,NAME", 100))
                                       )).result().find("data")
    rid = first.get("resultId")
    post(sandbox.url, envelope(fn("<update><CUSTOMER><RECORDNO>140</RECORDNO><NAME>Renamed"
                                  "</NAME></CUSTOMER></update>")))
    post(sandbox.url, envelope(fn("<create><CUSTOMER><NAME>Brand new</NAME></CUSTOMER>"
                                  "</create>")))
    page2 = post(sandbox.url, envelope(fn(f"<readMore><resultId>{rid}</resultId></readMore>"))
                 ).result().find("data")
    assert page2.get("totalcount") == first.get("totalcount") == "150"
    names = {r["RECORDNO"]: r["NAME"] for r in records(page2)}
    assert names["140"] != "Renamed"
    fresh = read_all(sandbox, "CUSTOMER", "RECORDNO = 140", "NAME")
    assert fresh == [{"NAME": "Renamed"}]


def test_resultid_expires_on_the_sandbox_clock(sandbox: SandboxServer) -> None:
    data = post(sandbox.url, envelope(fn(read_by_query("ARINVOICE", "", "RECORDNO", 10)))
                ).result().find("data")
    rid = data.get("resultId")
    sandbox_json(sandbox.base_url, "/_sandbox/clock", {"advance_seconds": 901})
    result = post(sandbox.url, envelope(fn(f"<readMore><resultId>{rid}</resultId></readMore>"))
                  ).result()
    assert result.findtext("status") == "failure"
    assert result.findtext("errormessage/error/errorno") == "readMore failed"
    assert rid in result.findtext("errormessage/error/description2")


def test_pagesize_limits(sandbox: SandboxServer) -> None:
    bad = post(sandbox.url, envelope(fn(read_by_query("CUSTOMER", "", "RECORDNO", 1001))))
    assert bad.result().findtext("status") == "failure"
    bad_q = post(sandbox.url, envelope(fn("<query><object>CUSTOMER</object><select><field>"
                                          "RECORDNO</field></select><pagesize>2001</pagesize>"
                                          "</query>")))
    assert bad_q.result().findtext("status") == "failure"


def test_unknown_field_and_object_errors(sandbox: SandboxServer) -> None:
    for body in (read_by_query("ARINVOICE", "", "RECORDNO,CUSTOM_GONE"),
                 read_by_query("ARINVOICE", "CUSTOM_GONE = 1", "RECORDNO"),
                 read_by_query("ARINVOICE", "RECORDNO = = 1", "RECORDNO"),
                 "<read><object>ARINVOICE</object><keys>1001</keys><fields>NOPE</fields></read>",
                 "<query><object>ARINVOICE</object><select><field>NOPE</field></select></query>"):
        err = post(sandbox.url, envelope(fn(body))).result().find("errormessage/error")
        assert err.findtext("errorno") == "DL02000001"
    err = post(sandbox.url, envelope(fn(read_by_query("BADOBJECT")))).result().find(
        "errormessage/error")
    assert (err.findtext("errorno"), err.findtext("description2")) == (
        "Query Failed", "Object definition BADOBJECT not found")


@pytest.mark.parametrize("obj", ["CUSTOMER", "ARINVOICE", "ARINVOICEITEM", "ARADJUSTMENT",
                                 "ARADJUSTMENTITEM", "ARPYMT", "ARPYMTDETAIL", "SODOCUMENT",
                                 "SODOCUMENTENTRY"])
def test_every_standard_field_is_served_everywhere(sandbox: SandboxServer, obj: str) -> None:
    names = list(OBJECTS[obj].fields)
    fields = ",".join(names)
    data = post(sandbox.url, envelope(fn(read_by_query(obj, "", fields, 2)))).result().find(
        "data")
    assert [c.tag for c in data[0]] == names
    select = "".join(f"<field>{n}</field>" for n in names)
    q = post(sandbox.url, envelope(fn(f"<query><object>{obj}</object><select>{select}</select>"
                                      "<pagesize>2</pagesize></query>"))).result().find("data")
    assert [c.tag for c in q[0]] == names
    key = data[0].findtext("RECORDNO")
    r = post(sandbox.url, envelope(fn(f"<read><object>{obj}</object><keys>{key}</keys>"
                                      f"<fields>{fields}</fields></read>"))).result().find("data")
    assert r.get("count") == "1"
    assert [c.tag for c in r[0]] == names


def test_query_filters_order_paging(sandbox: SandboxServer) -> None:
    def query(body: str) -> list[dict]:
        result = post(sandbox.url, envelope(fn(body))).result()
        assert result.findtext("status") == "success"
        return records(result.find("data"))

    truth = [r for r in all_records(sandbox, "ARINVOICE")
             if r["CURRENCY"] in ("EUR", "GBP") and r["STATE"] == "Paid"]
    truth.sort(key=lambda r: (-r["TRX_TOTALENTERED"], r["RECORDNO"]))
    base = ("<query><object>ARINVOICE</object><select><field>RECORDNO</field>"
            "<field>TRX_TOTALENTERED</field></select><filter><and><in><field>CURRENCY</field>"
            "<value>EUR</value><value>GBP</value></in><equalto><field>STATE</field>"
            "<value>Paid</value></equalto></and></filter><orderby><order><field>"
            "TRX_TOTALENTERED</field><descending/></order><order><field>RECORDNO</field>"
            "<ascending/></order></orderby><pagesize>7</pagesize><offset>{}</offset></query>")
    got, offset = [], 0
    while True:
        page = query(base.format(offset))
        got += page
        offset += 7
        if not page:
            break
    assert [int(r["RECORDNO"]) for r in got] == [r["RECORDNO"] for r in truth]
    lower = query("<query><object>CUSTOMER</object><select><field>NAME</field></select>"
                  "<filter><like><field>NAME</field><value>acme%</value></like></filter>"
                  "<options><caseinsensitive>true</caseinsensitive></options></query>")
    assert lower and all(r["NAME"].lower().startswith("acme") for r in lower)
    assert query("<query><object>CUSTOMER</object><select><field>NAME</field></select>"
                 "<filter><like><field>NAME</field><value>acme%</value></like></filter></query>"
                 ) == []
    between = query("<query><object>ARINVOICE</object><select><field>RECORDNO</field></select>"
                    "<filter><between><field>RECORDNO</field><value>1010</value><value>1019"
                    "</value></between></filter></query>")
    assert len(between) == 10


def test_query_is_reevaluated_each_call(sandbox: SandboxServer) -> None:
    body = ("<query><object>CUSTOMER</object><select><field>RECORDNO</field></select>"
            "<pagesize>1</pagesize></query>")
    before = post(sandbox.url, envelope(fn(body))).result().find("data")
    assert before.attrib["listtype"] == "CUSTOMER" and before[0].tag == "CUSTOMER"
    post(sandbox.url, envelope(fn("<create><CUSTOMER><NAME>X</NAME></CUSTOMER></create>")))
    after = post(sandbox.url, envelope(fn(body))).result().find("data")
    assert int(after.get("totalcount")) == int(before.get("totalcount")) + 1
    assert "resultId" not in after.attrib


def test_query_aggregates(sandbox: SandboxServer) -> None:
    data = post(sandbox.url, envelope(fn(
        "<query><object>ARINVOICE</object><select><field>CURRENCY</field><count>RECORDNO"
        "</count><sum>TRX_TOTALENTERED</sum></select></query>"))).result().find("data")
    got = {r["CURRENCY"]: (int(r["COUNT.RECORDNO"]), float(r["SUM.TRX_TOTALENTERED"]))
           for r in records(data)}
    truth = sandbox_json(sandbox.base_url, "/_sandbox/summary?object=ARINVOICE")["by_currency"]
    assert {k: v["count"] for k, v in truth.items()} == {k: c for k, (c, _) in got.items()}
    for cur, (_, total) in got.items():
        assert total == pytest.approx(truth[cur]["TRX_TOTALENTERED"])


def test_read_and_read_by_name(sandbox: SandboxServer) -> None:
    data = post(sandbox.url, envelope(fn("<read><object>CUSTOMER</object><keys>1,2,999999</keys>"
                                         "<fields>CUSTOMERID</fields></read>"))
                ).result().find("data")
    assert data.attrib == {"listtype": "CUSTOMER", "count": "2"}
    assert [r["CUSTOMERID"] for r in records(data)] == ["C-00001", "C-00002"]
    by_name = post(sandbox.url, envelope(fn(
        "<readByName><object>ARINVOICE</object><keys>INV-0000003,INV-9999999</keys>"
        "<fields>RECORDNO,RECORDID</fields></readByName>"))).result().find("data")
    assert records(by_name) == [{"RECORDNO": "1003", "RECORDID": "INV-0000003"}]
    lookup = post(sandbox.url, envelope(fn("<lookup><object>ARPYMT</object></lookup>"))
                  ).result()
    ids = [e.text for e in lookup.iter("ID")]
    assert ids == list(OBJECTS["ARPYMT"].fields)


def test_sales_documents_link_to_ar_invoices(sandbox: SandboxServer) -> None:
    docs = read_all(sandbox, "SODOCUMENT", "STATE = 'Closed'", "RECORDNO,DOCNO,PRRECORDKEY,"
                    "DOCPARID,TRX_TOTAL", docparid="Sales Invoice")
    assert docs and {r["DOCPARID"] for r in docs} == {"Sales Invoice"}
    invoices = {r["RECORDNO"]: r for r in all_records(sandbox, "ARINVOICE")}
    for doc in docs[:50]:
        inv = invoices[int(doc["PRRECORDKEY"])]
        assert inv["RECORDID"] == doc["DOCNO"]
        assert inv["MODULEKEY"] == "8.SO"
        assert inv["TRX_TOTALENTERED"] == pytest.approx(float(doc["TRX_TOTAL"]))
    returns = read_all(sandbox, "SODOCUMENT", "", "DOCPARID,PRRECORDKEY",
                       docparid="Sales Return")
    assert returns and {r["DOCPARID"] for r in returns} == {"Sales Return"}
    drafts = read_all(sandbox, "SODOCUMENT", "STATE = 'Draft'", "PRRECORDKEY")
    assert drafts and all(r["PRRECORDKEY"] == "" for r in drafts)


def test_read_sodocument_nested_entries_and_iso_dates(sandbox: SandboxServer) -> None:
    doc = post(sandbox.url, envelope(fn("<read><object>SODOCUMENT</object><keys>100005</keys>"
                                        "<fields>*</fields></read>"))).result().find("data")[0]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", doc.findtext("WHENPOSTED"))
    assert doc.find("TERM/NAME") is not None
    entries = doc.findall("SODOCUMENTENTRIES/sodocumententry")
    lines = read_all(sandbox, "SODOCUMENTENTRY", "DOCHDRNO = 100005", "RECORDNO")
    assert len(entries) == len(lines) >= 1


def test_dates_time_zone_and_data_variety(sandbox: SandboxServer) -> None:
    rows = read_all(sandbox, "ARINVOICE", "RECORDNO < 1300", "RECORDNO,WHENCREATED,WHENMODIFIED,"
                    "AUWHENCREATED,CURRENCY,MEGAENTITYID,STATE,DESCRIPTION")
    for r in rows:
        assert re.fullmatch(r"\d\d/\d\d/\d{4}", r["WHENCREATED"])
        if r["WHENMODIFIED"]:
            local = d(r["WHENMODIFIED"])
            utc = d(r["AUWHENCREATED"])
            assert local - utc + dt.timedelta(seconds=0) in (
                dt.timedelta(hours=-8, seconds=120), dt.timedelta(hours=-7, seconds=120))
    assert any(not r["WHENMODIFIED"] for r in rows)  # old records with NULL WHENMODIFIED
    assert {r["CURRENCY"] for r in rows} >= {"USD", "EUR", "GBP"}
    assert {r["MEGAENTITYID"] for r in rows} == {"E100", "E200", "E300"}
    assert {"Posted", "Paid", "Partially Paid"} <= {r["STATE"] for r in rows}
    assert any(len(r["DESCRIPTION"]) > 500 for r in rows)
    customers = all_records(sandbox, "CUSTOMER")
    assert any("<" in c["NAME"] for c in customers) and any("&" in c["NAME"] for c in customers)
    assert any(not c["NAME"].isascii() for c in customers)
    lines = all_records(sandbox, "ARINVOICEITEM")
    assert any(r["AMOUNT"] < 0 for r in lines) and any(r["AMOUNT"] == 0 for r in lines)


def test_company_time_zone_is_configurable() -> None:
    with SandboxServer(seed=1, scale="tiny", timezone="UTC") as sb:
        row = read_all(sb, "ARINVOICE", "RECORDNO = 1010", "WHENMODIFIED,AUWHENCREATED")[0]
        assert d(row["WHENMODIFIED"]) - d(row["AUWHENCREATED"]) == dt.timedelta(seconds=120)
