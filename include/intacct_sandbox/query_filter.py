"""Parser for the newer ``query`` function (DEV:/web-services/queries/)."""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from .conditions import And, Between, Compare, InList, IsNull, Like, Node, Not, Or, QueryError

_COMPARISONS = {
    "equalto": "=", "notequalto": "!=", "lessthan": "<", "lessthanorequalto": "<=",
    "greaterthan": ">", "greaterthanorequalto": ">=",
}
AGGREGATES = ("count", "sum", "avg", "min", "max")
MAX_PAGESIZE = 2000


@dataclass
class QuerySpec:
    object_name: str
    select: list[tuple[str | None, str]]  # (aggregate or None, FIELD)
    condition: Node | None
    order: list[tuple[str, bool]] = field(default_factory=list)  # (FIELD, descending)
    case_insensitive: bool = False
    pagesize: int = 100
    offset: int = 0
    docparid: str | None = None


def _text(el: etree._Element | None) -> str:
    return (el.text or "").strip() if el is not None else ""


def _field_and_values(el: etree._Element) -> tuple[str, list[str]]:
    name = _text(el.find("field")).upper()
    if not name:
        raise QueryError(f"{el.tag} needs a field")
    values = [(v.text or "") for v in el.findall("value")]
    return name, values


def parse_filter(el: etree._Element) -> Node:
    tag = el.tag
    if tag in ("and", "or"):
        kids = [parse_filter(c) for c in el if isinstance(c.tag, str)]
        if len(kids) < 2:
            raise QueryError(f"{tag} needs at least two conditions")
        return And(kids) if tag == "and" else Or(kids)
    if tag == "not":
        kids = [c for c in el if isinstance(c.tag, str)]
        return Not(parse_filter(kids[0]))
    name, values = _field_and_values(el)
    if tag in _COMPARISONS:
        if len(values) != 1:
            raise QueryError(f"{tag} needs one value")
        return Compare(name, _COMPARISONS[tag], values[0])
    if tag in ("isnull", "isnotnull"):
        return IsNull(name, negate=tag == "isnotnull")
    if tag == "between":
        if len(values) != 2:
            raise QueryError("between needs two values")
        return Between(name, values[0], values[1])
    if tag in ("in", "notin"):
        if not values:
            raise QueryError(f"{tag} needs values")
        return InList(name, values, negate=tag == "notin")
    if tag in ("like", "notlike"):
        if len(values) != 1:
            raise QueryError(f"{tag} needs one value")
        return Like(name, values[0], negate=tag == "notlike")
    raise QueryError(f"Unknown filter operator {tag}")


def parse_query(el: etree._Element) -> QuerySpec:
    object_name = _text(el.find("object"))
    select_el = el.find("select")
    if not object_name or select_el is None:
        raise QueryError("query needs object and select")
    select: list[tuple[str | None, str]] = []
    for child in select_el:
        if not isinstance(child.tag, str):
            continue
        name = _text(child).upper()
        if child.tag == "field":
            if name == "*":
                raise QueryError("Returning all fields is not supported")
            select.append((None, name))
        elif child.tag in AGGREGATES:
            select.append((child.tag, name))
        else:
            raise QueryError(f"Unknown select element {child.tag}")
    if not select:
        raise QueryError("select needs at least one field")
    condition = None
    filter_el = el.find("filter")
    if filter_el is not None:
        kids = [c for c in filter_el if isinstance(c.tag, str)]
        if len(kids) != 1:
            raise QueryError("filter takes exactly one top-level operator")
        condition = parse_filter(kids[0])
    order = []
    orderby = el.find("orderby")
    if orderby is not None:
        for order_el in orderby.findall("order"):
            order.append((_text(order_el.find("field")).upper(),
                          order_el.find("descending") is not None))
    options = el.find("options")
    ci = options is not None and _text(options.find("caseinsensitive")).lower() == "true"
    pagesize = int(_text(el.find("pagesize")) or 100)
    offset = int(_text(el.find("offset")) or 0)
    if not 1 <= pagesize <= MAX_PAGESIZE or offset < 0:
        raise QueryError("pagesize must be between 1 and 2000 and offset at least 0")
    docparid = _text(el.find("docparid")) or None
    return QuerySpec(object_name, select, condition, order, ci, pagesize, offset, docparid)
