"""Build Intacct XML requests: the envelope, every function the hook sends, safe filters.

Everything is built as lxml elements and serialised by lxml, so text is always XML-escaped;
nothing here concatenates XML strings. Filters are built from :class:`Filter` objects that
render to both dialects:

* the ``query`` function's ``<filter>`` element (values are element text), and
* the legacy ``readByQuery`` query string, where string values are single-quoted with ``\\``
  and ``'`` backslash-escaped (protocol §4.5) and field names are validated, so a value such
  as ``O'Brien & <Co>`` can neither break nor extend the query.

Datetimes in filters must be timezone-aware; they are converted to the company's time zone
and written ``MM/DD/YYYY HH:MM:SS`` (Intacct timestamps carry no zone, §4.6).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from lxml import etree

MAX_CONTROL_ID = 256
_FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_OBJECT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LOCAL_FORMAT = "%m/%d/%Y %H:%M:%S"  # Intacct timestamps: company-local, no zone
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


# -- values ------------------------------------------------------------------------------
def check_field_name(name: str) -> str:
    """Field names go into queries unquoted: allow only Intacct identifiers (dotted ok)."""
    if not isinstance(name, str) or not _FIELD_NAME.match(name):
        raise ValueError(f"Invalid Intacct field name: {name!r}")
    return name


def check_object_name(name: str) -> str:
    if not isinstance(name, str) or not _OBJECT_NAME.match(name):
        raise ValueError(f"Invalid Intacct object name: {name!r}")
    return name


def format_datetime(value: datetime, company_tz: ZoneInfo) -> str:
    """An aware datetime as Intacct company-local ``MM/DD/YYYY HH:MM:SS``."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"Datetime {value!r} is naive: pass a timezone-aware datetime so it can be "
            "converted to the company's time zone"
        )
    return value.astimezone(company_tz).strftime(_LOCAL_FORMAT)


def local_bounds(start: datetime | None, end: datetime | None, company_tz: ZoneInfo,
                 ) -> tuple[str | None, str | None]:
    """A WHENMODIFIED window [start, end) (aware) as company-local bounds that hold every
    local time an instant of the window can carry.

    Local time is not monotonic: on a fall-back night it repeats an hour, so the window that
    ends at 09:00 UTC (01:00 PST) holds 01:30 PDT, which a plain conversion of `end` (01:00)
    would leave out. The bounds therefore use the lowest and highest UTC offset the zone has
    inside the window (sampled hourly: offsets change months apart). They are at most the
    DST shift wider than the window, never shorter; a record read twice loads once.
    """
    for bound in (start, end):
        if bound is not None and (bound.tzinfo is None or bound.utcoffset() is None):
            raise ValueError(f"window bound {bound!r} is naive: give a timezone-aware time")
    if start is None or end is None:
        edge = start or end
        offsets = [edge.astimezone(company_tz).utcoffset()] if edge else []
    else:
        offsets, moment = [], start
        while moment < end:
            offsets.append(moment.astimezone(company_tz).utcoffset())
            moment += timedelta(hours=1)
        offsets.append(end.astimezone(company_tz).utcoffset())

    def local(moment: datetime | None, offset: timedelta | None) -> str | None:
        if moment is None or offset is None:
            return None
        return (moment.astimezone(UTC).replace(tzinfo=None) + offset).strftime(_LOCAL_FORMAT)

    return (local(start, min(offsets, default=None)), local(end, max(offsets, default=None)))


def modified_window(start: datetime | None, end: datetime | None, company_tz: ZoneInfo
                    ) -> list[Condition]:
    """``WHENMODIFIED >= … AND < …`` for [start, end) with :func:`local_bounds`."""
    low, high = local_bounds(start, end, company_tz)
    return ([ge("WHENMODIFIED", low)] if low else []) + (
        [lt("WHENMODIFIED", high)] if high else [])


def format_date(value: date) -> str:
    return value.strftime("%m/%d/%Y")


def format_value(value: Any, company_tz: ZoneInfo) -> str:
    """Scalar → the text Intacct expects in filters and generic create/update."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return format_datetime(value, company_tz)
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("NaN/infinite numbers cannot be sent to Intacct")
        return format(Decimal(repr(value)), "f")
    if isinstance(value, str):
        if _CONTROL_CHARS.search(value):
            raise ValueError("Control characters are not allowed in Intacct values")
        return value
    raise TypeError(f"Unsupported value type for Intacct: {type(value).__name__}")


def quote_literal(value: Any, company_tz: ZoneInfo) -> str:
    """A readByQuery literal: numbers bare, everything else single-quoted and escaped."""
    if isinstance(value, bool):
        # readByQuery compares booleans by their stored codes (protocol §4.5).
        return "'T'" if value else "'F'"
    if isinstance(value, int | float | Decimal):
        return format_value(value, company_tz)
    text = format_value(value, company_tz)
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


# -- filters -------------------------------------------------------------------------------
_OPS = {
    # name: (query element, legacy operator)
    "eq": ("equalto", "="),
    "ne": ("notequalto", "!="),
    "lt": ("lessthan", "<"),
    "le": ("lessthanorequalto", "<="),
    "gt": ("greaterthan", ">"),
    "ge": ("greaterthanorequalto", ">="),
    "like": ("like", "like"),
    "notlike": ("notlike", "not like"),
    "in": ("in", "IN"),
    "notin": ("notin", "NOT IN"),
    "isnull": ("isnull", "IS NULL"),
    "isnotnull": ("isnotnull", "IS NOT NULL"),
    "between": ("between", None),
}


class Filter:
    """A filter that renders to the ``query`` element or the readByQuery string."""

    def to_element(self, company_tz: ZoneInfo) -> etree._Element:
        raise NotImplementedError

    def to_query(self, company_tz: ZoneInfo) -> str:
        raise NotImplementedError

    def __and__(self, other: Filter) -> Filter:
        return And(self, other)

    def __or__(self, other: Filter) -> Filter:
        return Or(self, other)


@dataclass(frozen=True)
class Condition(Filter):
    """``field <op> value(s)``; build with the helpers :func:`eq`, :func:`ge`, … below."""

    op: str
    field: str
    values: tuple[Any, ...] = ()

    def __post_init__(self) -> None:
        if self.op not in _OPS:
            raise ValueError(f"Unknown filter operator {self.op!r}")
        check_field_name(self.field)
        needed = {"isnull": 0, "isnotnull": 0, "between": 2}.get(self.op)
        if needed is not None and len(self.values) != needed:
            raise ValueError(f"{self.op} takes {needed} values")
        if self.op in ("in", "notin") and not self.values:
            raise ValueError(f"{self.op} needs at least one value")
        if needed is None and self.op not in ("in", "notin") and len(self.values) != 1:
            raise ValueError(f"{self.op} takes exactly one value")

    def to_element(self, company_tz: ZoneInfo) -> etree._Element:
        el = etree.Element(_OPS[self.op][0])
        etree.SubElement(el, "field").text = self.field
        for v in self.values:
            etree.SubElement(el, "value").text = format_value(v, company_tz)
        return el

    def to_query(self, company_tz: ZoneInfo) -> str:
        if self.op == "between":
            lo, hi = (quote_literal(v, company_tz) for v in self.values)
            return f"({self.field} >= {lo} AND {self.field} <= {hi})"
        op = _OPS[self.op][1]
        if self.op in ("isnull", "isnotnull"):
            return f"{self.field} {op}"
        if self.op in ("in", "notin"):
            items = ",".join(quote_literal(v, company_tz) for v in self.values)
            return f"{self.field} {op} ({items})"
        return f"{self.field} {op} {quote_literal(self.values[0], company_tz)}"


class _Combinator(Filter):
    element_name = ""
    keyword = ""

    def __init__(self, *filters: Filter) -> None:
        flat: list[Filter] = []
        for f in filters:
            if f is None:
                continue
            if not isinstance(f, Filter):
                raise TypeError(f"Not a Filter: {f!r}")
            flat.extend(f.filters if type(f) is type(self) else [f])  # type: ignore[attr-defined]
        if not flat:
            raise ValueError(f"{type(self).__name__} needs at least one filter")
        self.filters = tuple(flat)

    def to_element(self, company_tz: ZoneInfo) -> etree._Element:
        if len(self.filters) == 1:  # and/or need two children in the query function
            return self.filters[0].to_element(company_tz)
        el = etree.Element(self.element_name)
        for f in self.filters:
            el.append(f.to_element(company_tz))
        return el

    def to_query(self, company_tz: ZoneInfo) -> str:
        if len(self.filters) == 1:
            return self.filters[0].to_query(company_tz)
        return "(" + f" {self.keyword} ".join(f.to_query(company_tz) for f in self.filters) + ")"

    def __repr__(self) -> str:
        return f"{type(self).__name__}{self.filters!r}"


class And(_Combinator):
    element_name = "and"
    keyword = "AND"


class Or(_Combinator):
    element_name = "or"
    keyword = "OR"


def eq(field: str, value: Any) -> Condition:
    return Condition("eq", field, (value,))


def ne(field: str, value: Any) -> Condition:
    return Condition("ne", field, (value,))


def lt(field: str, value: Any) -> Condition:
    return Condition("lt", field, (value,))


def le(field: str, value: Any) -> Condition:
    return Condition("le", field, (value,))


def gt(field: str, value: Any) -> Condition:
    return Condition("gt", field, (value,))


def ge(field: str, value: Any) -> Condition:
    return Condition("ge", field, (value,))


def like(field: str, pattern: str) -> Condition:
    return Condition("like", field, (pattern,))


def in_(field: str, values: Iterable[Any]) -> Condition:
    return Condition("in", field, tuple(values))


def between(field: str, low: Any, high: Any) -> Condition:
    return Condition("between", field, (low, high))


def is_null(field: str) -> Condition:
    return Condition("isnull", field)


def is_not_null(field: str) -> Condition:
    return Condition("isnotnull", field)


def build_query(filter_: Filter | None, company_tz: ZoneInfo) -> str:
    """The safe readByQuery query string for ``filter_`` (empty string for no filter)."""
    return "" if filter_ is None else filter_.to_query(company_tz)


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
