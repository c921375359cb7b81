"""Request building: safe filters, time zones, control ids, legacy element order."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from intacct_sync.intacct import xml_request as rq
from lxml import etree

LA = ZoneInfo("America/Los_Angeles")


@pytest.mark.security
def test_hostile_customer_name_is_escaped_in_readbyquery_string():
    q = rq.build_query(rq.eq("NAME", "O'Brien & <Co>"), LA)
    assert q == "NAME = 'O\\'Brien & <Co>'"


@pytest.mark.security
def test_backslash_cannot_close_the_literal():
    q = rq.eq("NAME", "x\\' OR RECORDNO > '0").to_query(LA)
    assert q == "NAME = 'x\\\\\\' OR RECORDNO > \\'0'"


@pytest.mark.security
def test_hostile_query_is_xml_escaped_in_the_request_body():
    q = rq.build_query(rq.eq("NAME", "O'Brien & <Co>"), LA)
    body = rq.envelope(
        sender_id="s",
        sender_password="p",
        control_id="c",
        session_id="x",
        functions=[rq.read_by_query("f", "CUSTOMER", "*", q, 10)],
    )
    assert b"O\\'Brien &amp; &lt;Co&gt;" in body
    # And it round-trips to exactly the query text.
    assert etree.fromstring(body).findtext(".//query") == q


@pytest.mark.security
def test_field_names_are_validated():
    with pytest.raises(ValueError):
        rq.eq("NAME = 'x' OR 1", "y")


@pytest.mark.security
def test_object_names_are_validated():
    with pytest.raises(ValueError):
        rq.read_by_query("f", "CUSTOMER</object><x>", "*", "", 10)


def test_aware_datetime_is_converted_to_company_zone():
    when = datetime(2024, 1, 15, 20, 30, 5, tzinfo=UTC)
    assert (
        rq.build_query(rq.ge("WHENMODIFIED", when), LA) == "WHENMODIFIED >= '01/15/2024 12:30:05'"
    )


def test_naive_datetime_is_refused():
    with pytest.raises(ValueError, match="naive"):
        rq.build_query(rq.ge("WHENMODIFIED", datetime(2024, 1, 1)), LA)


LA = ZoneInfo("America/Los_Angeles")


@pytest.mark.parametrize(
    ("start", "end", "bounds"),
    [
        # An ordinary hour: the plain conversion.
        ("2026-06-01T10:00", "2026-06-01T11:00", ("06/01/2026 03:00:00", "06/01/2026 04:00:00")),
        # Fall-back: [08:00, 09:00) UTC is 01:00-01:59 PDT, and 09:00 UTC is 01:00 PST. The
        # plain conversion asks for 01:00 <= WHENMODIFIED < 01:00: nothing.
        ("2026-11-01T08:00", "2026-11-01T09:00", ("11/01/2026 00:00:00", "11/01/2026 02:00:00")),
        # The repeated hour itself, in PST.
        ("2026-11-01T09:00", "2026-11-01T10:00", ("11/01/2026 01:00:00", "11/01/2026 02:00:00")),
        # Spring-forward: [09:00, 10:00) UTC is 01:00-01:59 PST; 10:00 UTC is 03:00 PDT.
        ("2026-03-08T09:00", "2026-03-08T10:00", ("03/08/2026 01:00:00", "03/08/2026 03:00:00")),
        ("2026-03-08T10:00", "2026-03-08T11:00", ("03/08/2026 03:00:00", "03/08/2026 04:00:00")),
        # A year across both nights: the lowest offset for the start, the highest for the end.
        ("2026-01-01T08:00", "2027-01-01T08:00", ("01/01/2026 00:00:00", "01/01/2027 01:00:00")),
    ],
    ids=["summer-hour", "fall-back-pdt", "fall-back-pst", "spring-before", "spring-after", "year"],
)
def test_window_bounds_hold_every_local_time_of_the_window(start, end, bounds):
    """Issue 15 item 3: the window ending 09:00 UTC on the fall-back night was an hour short."""
    low = datetime.fromisoformat(start).replace(tzinfo=UTC)
    high = datetime.fromisoformat(end).replace(tzinfo=UTC)
    assert rq.local_bounds(low, high, LA) == bounds
    # Every instant of the window, read as local time, lies inside the bounds.
    fmt = "%m/%d/%Y %H:%M:%S"
    lo, hi = (datetime.strptime(b, fmt) for b in bounds)
    moment = low
    while moment < high:
        assert lo <= moment.astimezone(LA).replace(tzinfo=None) < hi
        moment += (high - low) / 97


def test_window_bounds_refuse_naive_times():
    with pytest.raises(ValueError, match="naive"):
        rq.local_bounds(datetime(2026, 1, 1), None, LA)


def test_query_filter_renders_elements_with_zone_conversion():
    el = rq.query(
        "c",
        "ARINVOICE",
        ["RECORDNO"],
        rq.ge("WHENMODIFIED", datetime(2024, 7, 1, 7, 0, tzinfo=UTC))
        & rq.eq("CUSTOMERID", "O'Brien & <Co>"),
        [("WHENMODIFIED", True), ("RECORDNO", True)],
        500,
        LA,
    )
    f = el.find("query/filter/and")
    assert f[0].tag == "greaterthanorequalto" and f[0].findtext("value") == "07/01/2024 00:00:00"
    assert f[1].findtext("value") == "O'Brien & <Co>"
    assert [o.findtext("field") for o in el.iterfind("query/orderby/order")] == [
        "WHENMODIFIED",
        "RECORDNO",
    ]


def test_in_and_between_and_or():
    q = (rq.in_("STATE", ["A", "B"]) | rq.between("RECORDNO", 1, 5)).to_query(LA)
    assert q == "(STATE IN ('A','B') OR (RECORDNO >= 1 AND RECORDNO <= 5))"


def test_control_id_is_deterministic_per_record_and_action():
    a = rq.derive_control_id("create_invoice", "ARINVOICE", "inv-1")
    assert a == rq.derive_control_id("create_invoice", "ARINVOICE", "inv-1")
    assert a != rq.derive_control_id("create_invoice", "ARINVOICE", "inv-2")
    assert a != rq.derive_control_id("reverse_invoice", "ARINVOICE", "inv-1")


def test_update_control_id_changes_with_content():
    one = rq.derive_control_id("update", "CUSTOMER", "c1", content={"NAME": "A"})
    two = rq.derive_control_id("update", "CUSTOMER", "c1", content={"NAME": "B"})
    assert one != two


def test_long_or_odd_record_ids_give_valid_control_ids():
    cid = rq.derive_control_id("create", "CUSTOMER", "x" * 400 + " é<>")
    assert 1 <= len(cid) <= 256 and "<" not in cid


def test_legacy_create_invoice_uses_xsd_order_and_date_objects():
    fn = rq.legacy_write(
        "c",
        "create_invoice",
        {
            "invoiceitems": [{"amount": "10.00", "glaccountno": "4000", "locationid": "E100"}],
            "datecreated": date(2024, 6, 3),
            "customerid": "C1",
            "invoiceno": "INV-1",
        },
        LA,
    )
    inv = fn.find("create_invoice")
    assert [c.tag for c in inv] == ["customerid", "datecreated", "invoiceno", "invoiceitems"]
    assert [c.text for c in inv.find("datecreated")] == ["2024", "06", "03"]
    assert [c.tag for c in inv.find("invoiceitems/lineitem")] == [
        "glaccountno",
        "amount",
        "locationid",
    ]


def test_legacy_function_refuses_unknown_fields():
    with pytest.raises(ValueError, match="does not accept"):
        rq.legacy_write("c", "create_invoice", {"customerid": "C1", "bogus": 1}, LA)


def test_apply_arpayment_items_order():
    fn = rq.legacy_write(
        "c",
        "apply_arpayment",
        {
            "arpaymentitems": [{"amount": 5, "invoicekey": "12"}],
            "arpaymentkey": "7",
            "paymentdate": date(2024, 1, 2),
        },
        LA,
    )
    ap = fn.find("apply_arpayment")
    assert [c.tag for c in ap] == ["arpaymentkey", "paymentdate", "arpaymentitems"]
    assert [c.tag for c in ap.find("arpaymentitems/arpaymentitem")] == ["invoicekey", "amount"]


def test_generic_create_dates_are_mm_dd_yyyy():
    fn = rq.generic_write("c", "create", "ARPYMT", {"RECEIPTDATE": date(2019, 5, 15)}, LA)
    assert fn.findtext("create/ARPYMT/RECEIPTDATE") == "05/15/2019"


def test_entity_login_and_uniqueid_in_envelope():
    body = rq.envelope(
        sender_id="s",
        sender_password="p",
        control_id="c",
        functions=[],
        login=rq.Login("u", "co", "pw", "E100"),
        uniqueid=True,
    )
    root = etree.fromstring(body)
    assert root.findtext("control/uniqueid") == "true"
    assert root.findtext("operation/authentication/login/locationid") == "E100"


@pytest.mark.security
def test_redact_xml_hides_passwords_and_session_ids():
    body = rq.envelope(
        sender_id="s",
        sender_password="sender-secret",
        control_id="c",
        functions=[],
        session_id="sess-secret-123",
    )
    text = rq.redact_xml(body)
    assert "sender-secret" not in text and "sess-secret-123" not in text
    assert "<password>***</password>" in text


@pytest.mark.security
def test_delete_key_with_a_comma_is_refused():
    with pytest.raises(ValueError, match="contains a comma"):
        rq.generic_delete("c1", "CUSTOMER", ["1,2"])


@pytest.mark.security
def test_login_repr_never_shows_the_password():
    assert "pw-that-must-not-show" not in repr(rq.Login("u", "C", "pw-that-must-not-show"))


def test_update_version_changes_the_control_id():
    fields = {"RECORDNO": "7", "NAME": "A"}
    first = rq.derive_control_id("update", "CUSTOMER", "c-7", content=fields, version="1")
    third = rq.derive_control_id("update", "CUSTOMER", "c-7", content=fields, version="3")
    assert first != third
