"""Every file in tests/fixtures/intacct parsed into the right records or typed error.

Each test names its fixture file (in the test id too), so a failure says which real
Intacct document the hook misread.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from intacct_sync.intacct import errors as E
from intacct_sync.intacct import xml_request as rq
from intacct_sync.intacct.xml_response import parse_intacct_datetime, parse_response, parse_xml
from lxml import etree

from .conftest import FIXTURES, fixture_bytes


def test_every_fixture_file_is_covered():
    """Fails when a new fixture lands without a test naming it."""
    names = sorted(p.name for p in FIXTURES.glob("*.xml"))
    assert len(names) == 32
    source = Path(__file__).read_text(encoding="utf-8")
    missing = [n for n in names if n not in source]
    assert missing == []


def _raise(name: str, http_status: int | None = None) -> E.IntacctError:
    resp = parse_response(fixture_bytes(name), http_status=http_status)
    with pytest.raises(E.IntacctError) as info:
        resp.raise_for_status()
    return info.value


def _result(name: str, index: int = 0):
    resp = parse_response(fixture_bytes(name))
    resp.raise_for_status()
    return resp.results[index]


# -- requests ------------------------------------------------------------------------------
def test_01_request_envelope_matches_sdk_wire_format():
    expected = parse_xml(fixture_bytes("01-request-envelope-sessionid.xml"))
    ours = etree.fromstring(
        rq.envelope(
            sender_id="testsenderid",
            sender_password="pass123!",
            control_id="unittest",
            functions=[],
            session_id="testsession..",
        )
    )
    assert etree.tostring(ours, method="c14n") == etree.tostring(expected, method="c14n")


def test_02_query_function_filter_matches_sdk():
    expected = parse_xml(fixture_bytes("02-request-function-query-and-filter.xml"))
    ours = rq.query(
        "unittest",
        "ARINVOICE",
        ["CUSTOMERID", "RECORDNO"],
        rq.ge("RECORDNO", 1) & rq.le("RECORDNO", 100),
        [],
        100,
        rq.ZoneInfo("UTC"),
    )
    q = ours.find("query")
    q.remove(q.find("pagesize"))  # the SDK sample omits the optional page size
    parser = etree.XMLParser(remove_blank_text=True)
    expected = etree.fromstring(etree.tostring(expected), parser)
    assert etree.tostring(ours, method="c14n") == etree.tostring(expected, method="c14n")


# -- sessions ------------------------------------------------------------------------------
def test_03_getapisession_success():
    resp = parse_response(fixture_bytes("03-getapisession-success.xml"))
    resp.raise_for_status()
    api = resp.results[0].api
    assert api == {
        "sessionid": "4dfZhgdAZ3jR-tyznJZ_UUbCeND_3A..",
        "endpoint": "https://api.intacct.com/ia/xml/xmlgw.phtml",
        "locationid": None,
    }
    assert resp.authentication.session_lifetime == timedelta(hours=12)


def test_04_getapisession_entity_session():
    resp = parse_response(fixture_bytes("04-getapisession-success-entity.xml"))
    resp.raise_for_status()
    assert resp.results[0].api["locationid"] == "testentity"
    assert resp.results[0].api["endpoint"].startswith("https://unittest.intacct.com/")
    assert resp.authentication.locationid == "testentity"
    assert resp.authentication.session_lifetime == timedelta(hours=24)


# -- control and authentication failures ----------------------------------------------------
def test_05_control_failure_xml_parse_is_control_error():
    err = _raise("05-control-failure-XL03000003-xml-parse.xml")
    assert type(err) is E.IntacctControlError
    assert err.errornos == ["XL03000003", "XL03000003"]
    assert "Opening and ending tag mismatch" in err.description2
    assert err.level == "control" and not err.retryable


def test_06_bad_sender_is_sender_credentials_error():
    err = _raise("06-control-failure-XL03000006-bad-sender.xml")
    assert type(err) is E.IntacctSenderCredentialsError
    assert err.errorno == "XL03000006" and not err.retryable


def test_07_signin_incorrect_is_user_credentials_error():
    err = _raise("07-auth-failure-XL03000006-signin-incorrect.xml")
    assert type(err) is E.IntacctUserCredentialsError
    assert err.level == "authentication"
    assert err.description2 == "Sign-in information is incorrect"


def test_08_invalid_session_is_session_expired():
    err = _raise("08-auth-failure-XL03000006-invalid-session.xml")
    assert type(err) is E.IntacctSessionExpiredError
    assert err.errorno == "XL03000006"


def test_09_sender_not_authorized():
    err = _raise("09-auth-failure-XL03000006-sender-not-authorized.xml")
    assert type(err) is E.IntacctSenderNotAuthorizedError
    assert err.description == "Invalid Web Services Authorization"
    assert "'test_sender_id' is not authorized" in err.description2
    assert err.correction.startswith("Contact the company administrator")
    assert not err.retryable


def test_10_http401_gateway_body_is_user_credentials_error(scripted_hook):
    from .conftest import Scripted

    hook, _ = scripted_hook([Scripted(401, fixture_bytes("10-http401-body-XMLGW_JPP0002.xml"))])
    with pytest.raises(E.IntacctUserCredentialsError) as info:
        hook.get_session()
    assert info.value.errorno == "XMLGW_JPP0002"
    assert info.value.http_status == 401
    assert info.value.description.startswith("Sign-in information is incorrect")


# -- readByQuery / readMore / query -----------------------------------------------------------
def test_11_empty_readbyquery():
    data = _result("11-readbyquery-empty-result.xml").data
    assert (data.records, data.count, data.totalcount, data.numremaining, data.resultid) == (
        [],
        0,
        0,
        0,
        None,
    )


def test_12_readbyquery_page1_with_resultid():
    data = _result("12-readbyquery-class-page1-resultid.xml").data
    assert (data.totalcount, data.numremaining, data.resultid) == (2, 1, "myResultId")
    [record] = data.records
    assert record["RECORDNO"] == "8" and record["NAME"] == "hello world"
    assert record["DESCRIPTION"] is None
    assert record["WHENMODIFIED"] == "07/24/2017 15:19:46"


def test_13_readbyquery_page1_of_2():
    data = _result("13-readbyquery-project-page1-of-2.xml").data
    assert [r["PROJECTID"] for r in data.records][:2] == ["P01", "S02"]
    assert (len(data.records), data.totalcount, data.numremaining, data.resultid) == (
        10,
        12,
        2,
        "READMOREID",
    )


def test_14_readmore_last_page_keeps_resultid():
    result = _result("14-readmore-project-page2-of-2.xml")
    assert result.function == "readMore"
    assert [r["PROJECTID"] for r in result.data.records] == ["S11", "S12"]
    assert result.data.numremaining == 0 and result.data.resultid == "READMOREID"


def test_15_full_apbill_record():
    data = _result("15-readbyquery-apbill-full-record.xml").data
    [bill] = data.records
    assert bill["STATE"] == "Posted" and bill["RAWSTATE"] == "A"
    assert bill["PAYTO.TAXGROUP.NAME"] is None
    assert bill["TERMVALUE"] == "::#30#:O:"
    assert len(bill) == 76
    assert data.resultid == "7765623338X7bwUx4HsmSBC9j3Gof@eQAAAAY4"


def test_16_mixed_results_map_by_controlid():
    resp = parse_response(fixture_bytes("16-read-mixed-success-and-failure-results.xml"))
    resp.raise_for_status()
    assert [r.status for r in resp.results] == ["failure", "success", "failure"]
    assert len(resp.result_for("testFunctionId")) == 2
    first = resp.results[0].error()
    assert type(first) is E.IntacctFieldNotFoundError
    assert first.errorno == "Invalid fields list x"
    assert first.control_id == "testFunctionId"
    [ok] = resp.result_for("abcdef")
    assert ok.data.listtype == "APBILL"
    assert ok.records == [
        {
            "RECORDNO": "16747",
            "VENDORID": "407258",
            "VENDORNAME": "FOSSE BOB",
            "RECORDID": "E18-6465",
        }
    ]


def test_17_readmore_expired_resultid():
    err = _result("17-readmore-failure-expired-resultid.xml").error()
    assert type(err) is E.IntacctResultIdExpiredError
    assert err.errorno == "readMore failed" and not err.retryable


def test_18_dl02000001_is_field_not_found():
    err = _result("18-readbyquery-failure-DL02000001.xml").error()
    assert type(err) is E.IntacctFieldNotFoundError
    assert (err.errorno, err.description, err.description2) == (
        "DL02000001",
        "Error",
        "There was an error processing the request.",
    )


def test_19_unknown_object():
    err = _result("19-readbyquery-failure-object-not-found.xml").error()
    assert type(err) is E.IntacctObjectNotFoundError
    assert "BADOBJECT" in err.description2


def test_20_query_response_uppercase_and_dotted():
    data = _result("20-query-vendor-response-doc-sample.xml").data
    assert (data.listtype, data.totalcount, data.offset, data.numremaining) == ("VENDOR", 18, 0, 0)
    assert data.records[0] == {
        "RECORDNO": "1010",
        "PAYTOCONTACT.CONTACTNAME": "Ackman, Alice",
        "TOTALDUE": "3797",
    }


def test_21_arinvoice_nested_shipto():
    data = _result("21-readbyquery-arinvoice.xml").data
    assert [r["RECORDNO"] for r in data.records] == ["456", "165", "109", "150"]
    first = data.records[0]
    assert first["SHIPTO"]["PRINTAS"] == "Bojangle Jones"
    assert first["SHIPTO"]["MAILADDRESS"]["CITY"] == "Austin"
    assert first["SHIPTO"]["MAILADDRESS"]["ADDRESS2"] is None
    assert data.records[3]["RECORDID"] is None


def test_22_arinvoiceitem_all_records_despite_wrong_count():
    data = _result("22-readbyquery-arinvoiceitem.xml").data
    assert [r["AMOUNT"] for r in data.records] == ["50", "35", "-35"]
    assert data.records[1]["ENTRYDESCRIPTION"] == "Line 2: "  # whitespace kept


def test_23_customer_dotted_fields_stay_flat():
    data = _result("23-readbyquery-customer-dotted-fields.xml").data
    first = data.records[0]
    assert first["BILLTO.MAILADDRESS.CITY"] == "Austin"
    assert first["DISPLAYCONTACT.EMAIL1"] is None
    assert [r["STATUS"] for r in data.records] == ["active", "active", "active", "inactive"]
    assert "CURRENCY" not in data.records[3]


def test_24_aradjustment_states_without_paging_attributes():
    result = _result("24-readbyquery-aradjustment-states.xml")
    assert result.function == "readyByQuery"
    assert result.data.totalcount is None and result.data.numremaining is None
    assert {r["STATE"] for r in result.data.records} == {
        "Paid",
        "Partially Paid",
        "Reversed",
        "Reversal",
        "Posted",
    }
    assert len(result.data.records) == 8


def test_25_arpayment_invoices_and_credits_are_lists():
    [payment] = _result("25-read-arpayment-legacy-invoices-and-credits.xml").records
    assert [i["RECORD"] for i in payment["INVOICES"]] == ["1991", "1992", "1993"]
    assert [c["RECORDTYPE"] for c in payment["CREDITS"]] == ["ri", "ra", "rr", "rp"]
    assert payment["CREDITS"][3]["RECORDID"] is None
    assert payment["RECEIPTDATE"] == "2021-09-01"


def test_26_single_application_is_still_a_list():
    [reversal] = _result("26-read-arpayment-legacy-reversal.xml").records
    assert reversal["INVOICES"] == [{"RECORD": "0001", "APPLIEDAMOUNT": "-100"}]
    when = parse_intacct_datetime(reversal["AUWHENCREATED"])
    assert when.isoformat() == "2021-08-26T16:46:42+00:00"


def test_27_sodocument_entries_and_subtotals():
    data = _result("27-read-sodocument-sales-invoice-with-entries.xml").data
    assert len(data.records) == 5
    doc = data.records[0]
    assert doc["TERM"] == {"NAME": "NET 30"}
    assert data.records[1]["TERM"] is None
    assert [e["QUANTITY"] for e in doc["SODOCUMENTENTRIES"]] == ["5.5", "10.1234"]
    assert doc["SUBTOTALS"] == [
        {"RECORDNO": "1", "DESCRIPTION": "Sales Tax", "TOTAL": "20", "TRX_TOTAL": "40"}
    ]
    assert doc["SHIPTO"]["MAILADDRESS"]["ZIP"] == "78701"


# -- writes ----------------------------------------------------------------------------------
def test_28_generic_create_success_key(make_connection):
    from intacct_sync.intacct.hook import IntacctHook, WriteFunction

    hook = IntacctHook(make_connection())
    result = _result("28-create-generic-success.xml")
    wr = hook._write_result(
        WriteFunction("create", "VENDOR", "v-1", {"VENDORID": "FOOBAR"}), result
    )
    assert wr.ok and wr.key == "760"
    assert wr.records == [{"RECORDNO": "760", "VENDORID": "FOOBAR"}]


def test_29_duplicate_create_is_duplicate_error_with_stack():
    result = _result("29-create-failure-BL34000061-duplicate.xml")
    err = result.error()
    assert type(err) is E.IntacctDuplicateError
    assert err.errornos == ["BL34000061", "BL01001973", "BL01001973"]
    assert err.correction == "Use a unique value instead."
    assert result.records == [{"RECORDNO": "1424", "PROJECTID": "Fellow PD2"}]


def test_30_legacy_create_returns_key():
    result = _result("30-legacy-create-returns-key.xml")
    assert result.ok and result.key == "C1234" and result.data is None


def test_31_transaction_aborted():
    resp = parse_response(fixture_bytes("31-transaction-aborted-XL03000009.xml"))
    resp.raise_for_status()
    aborted, failed = (r.error() for r in resp.results)
    assert type(aborted) is E.IntacctTransactionAbortedError and aborted.retryable
    assert aborted.control_id == "func1UnitTest"
    assert type(failed) is E.IntacctTransactionAbortedError and not failed.retryable
    assert failed.errornos == ["Get API Session Failed", "XL03000009"]


def test_32_delete_missing_key_is_record_not_found():
    err = _result("32-delete-failure-BL01001973-not-found.xml").error()
    assert type(err) is E.IntacctRecordNotFoundError
    assert err.description2 == "Cannot find class with key 'UT01' to delete."
