"""Build Intacct XML requests: the envelope, every function the hook sends, control ids.

Everything is built as lxml elements and serialised by lxml, so text is always XML-escaped;
nothing here concatenates XML strings. Filters and values come from intacct_sync.intacct.filters
(re-exported here, so callers build a whole request from one module).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from lxml import etree

from intacct_sync.intacct.filters import (
    _OBJECT_NAME,
    And,
    Condition,
    Filter,
    Or,
    between,
    build_query,
    check_field_name,
    check_object_name,
    eq,
    format_date,
    format_datetime,
    format_value,
    ge,
    gt,
    in_,
    is_not_null,
    is_null,
    le,
    like,
    local_bounds,
    lt,
    modified_window,
    ne,
    quote_literal,
)

MAX_CONTROL_ID = 256


# -- control ids ------------------------------------------------------------------------------
def new_control_id() -> str:
    return str(uuid.uuid4())


def derive_control_id(action: str, obj: str | None, record_id: str, *,
                      content: Mapping[str, Any] | None = None,
                      version: str | None = None) -> str:
    """A deterministic function control id for a write of one record.

    The same record and action always give the same id, so with ``uniqueid=true`` Intacct
    itself refuses to run a replayed write twice. ``content`` (used for updates) adds a
    digest of the payload so two *different* updates of one record are not mistaken for
    a replay of the first; ``version`` (the record's local version) separates updates that
    return a record to earlier values.
    """
    base = f"{action}:{obj or ''}:{record_id}"
    if version:
        base = f"{base}@{version}"
    if content is not None:
        digest = hashlib.sha256(repr(_canonical(content)).encode()).hexdigest()[:16]
        base = f"{base}:{digest}"
    safe = re.sub(r"[^A-Za-z0-9_.:@/-]", "_", base)
    if len(safe) > MAX_CONTROL_ID or safe != base:
        # Keep it readable but unambiguous: sanitised prefix + digest of the exact base.
        digest = hashlib.sha256(base.encode()).hexdigest()[:24]
        safe = f"{safe[: MAX_CONTROL_ID - 26]}~{digest}"
    return safe


def _canonical(value: Any) -> Any:
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), _canonical(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_canonical(v) for v in value)
    return str(value)


# -- payloads ----------------------------------------------------------------------------------
def _date_object(parent: etree._Element, tag: str, value: date) -> None:
    el = etree.SubElement(parent, tag)
    etree.SubElement(el, "year").text = f"{value.year:04d}"
    etree.SubElement(el, "month").text = f"{value.month:02d}"
    etree.SubElement(el, "day").text = f"{value.day:02d}"


def append_fields(parent: etree._Element, fields: Mapping[str, Any], company_tz: ZoneInfo, *,
                  legacy_dates: bool) -> etree._Element:
    """Append ``fields`` as child elements, in mapping order.

    Nested mappings become nested elements; a list repeats the element (``lineitem``);
    ``None`` is omitted. With ``legacy_dates`` a ``date`` becomes a year/month/day object
    (legacy functions), otherwise ``MM/DD/YYYY`` (generic functions).
    """
    for name, value in fields.items():
        if not _OBJECT_NAME.match(name):
            raise ValueError(f"Invalid element name {name!r}")
        if value is None:
            continue
        items = value if isinstance(value, list | tuple) else [value]
        for item in items:
            if isinstance(item, Mapping):
                append_fields(etree.SubElement(parent, name), item, company_tz,
                              legacy_dates=legacy_dates)
            elif legacy_dates and isinstance(item, date) and not isinstance(item, datetime):
                _date_object(parent, name, item)
            else:
                etree.SubElement(parent, name).text = format_value(item, company_tz)
    return parent


# Legacy AR functions: element order from the XSD (protocol §6.2). Legacy functions are
# validated against the schema by Intacct, so payload keys are reordered to this order.
ORDER: dict[str, tuple[str, ...]] = {
    "create_invoice": (
        "customerid", "datecreated", "dateposted", "datedue", "termname", "batchkey",
        "action", "invoiceno", "ponumber", "onhold", "description", "externalid", "billto",
        "shipto", "basecurr", "currency", "exchratedate", "exchratetype", "exchrate", "nogl",
        "supdocid", "customfields", "taxsolutionid", "invoiceitems"),
    "create_aradjustment": (
        "customerid", "datecreated", "dateposted", "batchkey", "adjustmentno", "action",
        "invoiceno", "description", "externalid", "basecurr", "currency", "exchratedate",
        "exchratetype", "exchrate", "nogl", "aradjustmentitems"),
    "lineitem": (
        "accountlabel", "glaccountno", "offsetglaccountno", "amount", "allocationid", "memo",
        "locationid", "departmentid", "item1099", "form1099type", "form1099box", "key",
        "totalpaid", "totaldue", "customfields", "revrectemplate", "defrevaccount",
        "revrecstartdate", "revrecenddate", "projectid", "taskid", "costtypeid", "customerid",
        "vendorid", "employeeid", "itemid", "classid", "contractid", "warehouseid",
        "billable", "totaltrxamount", "partialexempt", "paymenttaxcapture", "taxentries"),
    "create_arpayment": (
        "customerid", "paymentamount", "translatedamount", "batchkey", "bankaccountid",
        "undepfundsacct", "refid", "overpaylocid", "overpaydeptid", "datereceived",
        "paymentmethod", "basecurr", "currency", "exchratedate", "exchratetype", "exchrate",
        "cctype", "authcode", "arpaymentitem", "onlinecardpayment", "onlineachpayment"),
    "arpaymentitem": ("invoicekey", "amount"),
    "apply_arpayment": (
        "arpaymentkey", "paymentdate", "batchkey", "memo", "overpaylocid", "overpaydeptid",
        "arpaymentitems"),
    "reverse_arpayment": ("datereversed", "description", "nsfclosedaccount"),
    "reverse_invoice": ("datereversed", "description"),
    "reverse_aradjustment": ("datereversed", "description"),
}
# Elements whose children follow another ORDER entry.
_CHILD_ORDER = {"invoiceitems": "lineitem", "aradjustmentitems": "lineitem",
                "arpaymentitem": "arpaymentitem", "arpaymentitems": "arpaymentitem"}


def ordered(function: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """``fields`` reordered to the XSD order of ``function``; unknown keys are refused."""
    order = ORDER.get(function)
    if order is None:
        return dict(fields)
    unknown = [k for k in fields if k not in order]
    if unknown:
        raise ValueError(f"{function} does not accept {unknown}; allowed: {list(order)}")
    out: dict[str, Any] = {}
    for name in order:
        if name not in fields:
            continue
        value = fields[name]
        child = _CHILD_ORDER.get(name)
        if child == "lineitem" and isinstance(value, Mapping) and "lineitem" in value:
            value = {"lineitem": [ordered("lineitem", li) for li in _as_list(value["lineitem"])]}
        elif child == "lineitem" and isinstance(value, list | tuple):
            value = {"lineitem": [ordered("lineitem", li) for li in value]}
        elif child == "arpaymentitem" and name == "arpaymentitems":
            items = value.get("arpaymentitem", []) if isinstance(value, Mapping) else value
            value = {"arpaymentitem": [ordered("arpaymentitem", i) for i in _as_list(items)]}
        elif child == "arpaymentitem":
            value = [ordered("arpaymentitem", i) for i in _as_list(value)]
        out[name] = value
    return out


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


# -- functions -------------------------------------------------------------------------------
def function(control_id: str) -> etree._Element:
    if not control_id or len(control_id) > MAX_CONTROL_ID:
        raise ValueError("A function control id must be 1-256 characters")
    return etree.Element("function", controlid=control_id)


def _sub(parent: etree._Element, tag: str, text: str | None) -> etree._Element:
    el = etree.SubElement(parent, tag)
    el.text = text
    return el


def get_api_session(control_id: str, entity_id: str | None) -> etree._Element:
    fn = function(control_id)
    el = etree.SubElement(fn, "getAPISession")
    if entity_id:
        _sub(el, "locationid", entity_id)
    return fn


def read_by_query(control_id: str, obj: str, fields: str | Sequence[str], query: str,
                  page_size: int, docparid: str | None = None) -> etree._Element:
    fn = function(control_id)
    el = etree.SubElement(fn, "readByQuery")
    _sub(el, "object", check_object_name(obj))
    _sub(el, "fields", fields_list(fields))
    _sub(el, "query", query)
    _sub(el, "pagesize", str(page_size))
    _sub(el, "returnFormat", "xml")
    if docparid:
        _sub(el, "docparid", docparid)
    return fn


def read_more(control_id: str, result_id: str) -> etree._Element:
    fn = function(control_id)
    el = etree.SubElement(fn, "readMore")
    _sub(el, "resultId", result_id)
    return fn


def query(control_id: str, obj: str, fields: Sequence[str], filter_: Filter | None,
          order_by: Sequence[tuple[str, bool]], page_size: int, company_tz: ZoneInfo, *,
          docparid: str | None = None, offset: int | None = None,
          case_insensitive: bool = False) -> etree._Element:
    """The ``query`` function; ``order_by`` is (field, ascending) pairs."""
    fn = function(control_id)
    el = etree.SubElement(fn, "query")
    select = etree.SubElement(el, "select")
    for f in fields:
        _sub(select, "field", check_field_name(f))
    _sub(el, "object", check_object_name(obj))
    if docparid:
        _sub(el, "docparid", docparid)
    if filter_ is not None:
        etree.SubElement(el, "filter").append(filter_.to_element(company_tz))
    if order_by:
        ob = etree.SubElement(el, "orderby")
        for name, ascending in order_by:
            order = etree.SubElement(ob, "order")
            _sub(order, "field", check_field_name(name))
            etree.SubElement(order, "ascending" if ascending else "descending")
    if case_insensitive:
        options = etree.SubElement(el, "options")
        _sub(options, "caseinsensitive", "true")
    _sub(el, "pagesize", str(page_size))
    if offset:
        _sub(el, "offset", str(offset))
    return fn


def read(control_id: str, obj: str, keys: Sequence[str], fields: str | Sequence[str],
         docparid: str | None = None, *, by_name: bool = False) -> etree._Element:
    fn = function(control_id)
    el = etree.SubElement(fn, "readByName" if by_name else "read")
    _sub(el, "object", check_object_name(obj))
    for key in keys:
        if "," in str(key):
            raise ValueError(f"Key {key!r} contains a comma (it would name several records)")
    _sub(el, "keys", ",".join(str(k) for k in keys))
    _sub(el, "fields", fields_list(fields))
    _sub(el, "returnFormat", "xml")
    if docparid:
        _sub(el, "docparid", docparid)
    return fn


def fields_list(fields: str | Sequence[str]) -> str:
    if isinstance(fields, str):
        names = [f.strip() for f in fields.split(",") if f.strip()]
    else:
        names = list(fields)
    if names == ["*"]:
        return "*"
    return ",".join(check_field_name(n) for n in names)


def generic_write(control_id: str, action: str, obj: str, fields: Mapping[str, Any],
                  company_tz: ZoneInfo) -> etree._Element:
    """Generic ``create`` / ``update``: ``<create><OBJECT>fields…</OBJECT></create>``."""
    fn = function(control_id)
    el = etree.SubElement(fn, action)
    append_fields(etree.SubElement(el, check_object_name(obj)), fields, company_tz,
                  legacy_dates=False)
    return fn


def generic_delete(control_id: str, obj: str, keys: Sequence[str]) -> etree._Element:
    fn = function(control_id)
    el = etree.SubElement(fn, "delete")
    _sub(el, "object", check_object_name(obj))
    for key in keys:
        if "," in str(key):
            raise ValueError(f"Key {key!r} contains a comma (it would name several records)")
    _sub(el, "keys", ",".join(str(k) for k in keys))
    return fn


def legacy_write(control_id: str, name: str, fields: Mapping[str, Any], company_tz: ZoneInfo,
                 *, key: str | None = None) -> etree._Element:
    """A legacy AR function (``create_invoice``, ``reverse_arpayment key=…``, …)."""
    fn = function(control_id)
    el = etree.SubElement(fn, check_object_name(name))
    if key is not None:
        el.set("key", str(key))
    append_fields(el, ordered(name, fields), company_tz, legacy_dates=True)
    return fn


# -- envelope ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Login:
    user_id: str
    company_id: str
    password: str = field(repr=False)
    entity_id: str | None = None


def envelope(*, sender_id: str, sender_password: str, control_id: str,
             functions: Iterable[etree._Element], session_id: str | None = None,
             login: Login | None = None, uniqueid: bool = False,
             transaction: bool = False) -> bytes:
    """The whole ``<request>`` document, UTF-8 bytes."""
    if (session_id is None) == (login is None):
        raise ValueError("Pass exactly one of session_id or login")
    req = etree.Element("request")
    control = etree.SubElement(req, "control")
    _sub(control, "senderid", sender_id)
    _sub(control, "password", sender_password)
    _sub(control, "controlid", control_id)
    _sub(control, "uniqueid", "true" if uniqueid else "false")
    _sub(control, "dtdversion", "3.0")
    _sub(control, "includewhitespace", "false")
    op = etree.SubElement(req, "operation", transaction="true" if transaction else "false")
    auth = etree.SubElement(op, "authentication")
    if session_id is not None:
        _sub(auth, "sessionid", session_id)
    else:
        assert login is not None
        lg = etree.SubElement(auth, "login")
        _sub(lg, "userid", login.user_id)
        _sub(lg, "companyid", login.company_id)
        _sub(lg, "password", login.password)
        if login.entity_id:
            _sub(lg, "locationid", login.entity_id)
    content = etree.SubElement(op, "content")
    for fn in functions:
        content.append(fn)
    return etree.tostring(req, xml_declaration=True, encoding="UTF-8")


_SECRET_ELEMENTS = re.compile(
    rb"(<(password|sessionid)>)(.*?)(</\2>)", re.DOTALL)


def redact_xml(body: bytes) -> str:
    """The request/response text with passwords and session ids replaced, for debug logs."""
    return _SECRET_ELEMENTS.sub(rb"\1***\4", body).decode("utf-8", "replace")

__all__ = [
    "And",
    "Condition",
    "Filter",
    "Or",
    "between",
    "build_query",
    "check_field_name",
    "check_object_name",
    "eq",
    "format_date",
    "format_datetime",
    "format_value",
    "ge",
    "gt",
    "in_",
    "is_not_null",
    "is_null",
    "le",
    "like",
    "local_bounds",
    "lt",
    "modified_window",
    "ne",
    "quote_literal",
]
