"""Safe Intacct filters and values: one Filter tree, rendered to both query dialects.

Filters are built from :class:`Filter` objects that render to both dialects:

* the ``query`` function's ``<filter>`` element (values are element text), and
* the legacy ``readByQuery`` query string, where string values are single-quoted with ``\\``
  and ``'`` backslash-escaped (protocol §4.5) and field names are validated, so a value such
  as ``O'Brien & <Co>`` can neither break nor extend the query.

Datetimes in filters must be timezone-aware; they are converted to the company's time zone
and written ``MM/DD/YYYY HH:MM:SS`` (Intacct timestamps carry no zone, §4.6).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from lxml import etree

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
