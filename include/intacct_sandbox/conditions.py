"""Filter conditions shared by ``readByQuery`` query strings and ``query`` filters.

Both front ends parse into the same small tree; it is compiled into closures over flat record
dicts. Literals are coerced to the type of the record value they meet (dates are local
wall-clock time, amounts are decimals, text is case-sensitive unless ``caseinsensitive``).
Intacct compares NULL like SQL: a comparison with an empty value is false.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from .formatting import Stamp, TimeZoneFormatter, UtcStamp, parse_date_literal


class QueryError(Exception):
    """Bad query syntax, unknown field or uncomparable literal (DL02000001)."""


@dataclass
class Compare:
    field: str
    op: str  # = != < > <= >=
    value: str


@dataclass
class Like:
    field: str
    pattern: str
    negate: bool = False


@dataclass
class InList:
    field: str
    values: list[str]
    negate: bool = False


@dataclass
class IsNull:
    field: str
    negate: bool = False


@dataclass
class Between:
    field: str
    low: str
    high: str


@dataclass
class And:
    children: list[Node]


@dataclass
class Or:
    children: list[Node]


@dataclass
class Not:
    child: Node


Node = Compare | Like | InList | IsNull | Between | And | Or | Not
Predicate = Callable[[dict], bool]

# Enum fields are stored with display values; readByQuery strings use the stored codes
# (STATUS = 'T', STATE = 'A', ACCESSMODE = 'C'), query filters the display values. Both match.
CODE_ALIASES: dict[str, dict[str, dict[str, str]]] = {
    "*": {
        "STATUS": {"active": "T", "inactive": "F"},
        "ACCESSMODE": {"Create": "C", "Delete": "D", "Modify": "M", "Access": "A",
                       "Workflow": "W", "Activity": "T", "User Action": "U"},
        "STATE": {"Draft": "D", "Posted": "A", "Partially Paid": "P", "Paid": "C",
                  "Reversed": "R", "Reversal": "V", "Selected": "S"},
    },
    "SODOCUMENT": {
        "STATE": {"Submitted": "S", "Approved": "A", "Partially Approved": "X", "Declined": "R",
                  "Draft": "I", "Pending": "O", "Closed": "D", "In Progress": "G",
                  "Converted": "C", "Partially Converted": "P"},
    },
    "ARPYMT": {"STATE": {"Draft": "D", "Complete": "C", "Voided": "V"}},
}


def fields_in(node: Node) -> list[str]:
    if isinstance(node, (And, Or)):
        return [f for c in node.children for f in fields_in(c)]
    if isinstance(node, Not):
        return fields_in(node.child)
    return [node.field]


class _Literal:
    """A literal coerced lazily, once per value type it is compared with."""

    __slots__ = ("text", "tz", "_cache")

    def __init__(self, text: str, tz: TimeZoneFormatter) -> None:
        self.text = text
        self.tz = tz
        self._cache: dict[type, object] = {}

    def for_value(self, value: object) -> object:
        kind = type(value)
        try:
            return self._cache[kind]
        except KeyError:
            coerced = self._coerce(value)
            self._cache[kind] = coerced
            return coerced

    def _coerce(self, value: object) -> object:
        text = self.text
        if isinstance(value, bool):
            return text.strip().lower() in ("true", "t", "1", "yes")
        if isinstance(value, (Stamp, UtcStamp)):
            parsed = parse_date_literal(text)
            if parsed is None:
                raise QueryError(f"Unable to parse Query value: {text}")
            if not isinstance(parsed, dt.datetime):
                parsed = dt.datetime(parsed.year, parsed.month, parsed.day)
            if isinstance(value, UtcStamp):
                return int(parsed.replace(tzinfo=dt.UTC).timestamp())
            return self.tz.to_epoch(parsed)
        if isinstance(value, (int, Decimal)):
            try:
                return Decimal(text.strip())
            except InvalidOperation:
                raise QueryError(f"Unable to parse Query value: {text}") from None
        if isinstance(value, dt.date):
            parsed = parse_date_literal(text)
            if parsed is None:
                raise QueryError(f"Unable to parse Query value: {text}")
            return parsed.date() if isinstance(parsed, dt.datetime) else parsed
        return text


_OPS: dict[str, Callable[[object, object], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,  # type: ignore[operator]
    ">": lambda a, b: a > b,  # type: ignore[operator]
    "<=": lambda a, b: a <= b,  # type: ignore[operator]
    ">=": lambda a, b: a >= b,  # type: ignore[operator]
}


def like_regex(pattern: str, case_insensitive: bool) -> re.Pattern[str]:
    parts = []
    for ch in pattern:
        parts.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
    flags = re.DOTALL | (re.IGNORECASE if case_insensitive else 0)
    return re.compile("".join(parts) + r"\Z", flags)


class ConditionCompiler:
    """Compiles a condition tree for one object into a predicate over record dicts."""

    def __init__(self, object_name: str, tz: TimeZoneFormatter, case_insensitive: bool = False,
                 known_field: Callable[[str], bool] | None = None) -> None:
        self.object_name = object_name
        self.tz = tz
        self.ci = case_insensitive
        self.known_field = known_field
        self.aliases = {**CODE_ALIASES["*"], **CODE_ALIASES.get(object_name, {})}

    def compile(self, node: Node | None) -> Predicate:
        if node is None:
            return lambda rec: True
        if self.known_field is not None:
            for name in fields_in(node):
                if not self.known_field(name):
                    raise QueryError(f"Unknown field {name}")
        return self._compile(node)

    def _text(self, value: object) -> object:
        return value.lower() if self.ci and isinstance(value, str) else value

    def _matches_eq(self, field: str, lit: _Literal) -> Predicate:
        alias = self.aliases.get(field)
        ci = self.ci

        def pred(rec: dict) -> bool:
            value = rec.get(field)
            if value is None or value == "":
                return False
            target = lit.for_value(value)
            if isinstance(value, str):
                if ci:
                    value, target = value.lower(), str(target).lower()
                if value == target:
                    return True
                if alias is not None:
                    code = alias.get(rec.get(field))  # type: ignore[arg-type]
                    return code is not None and (code.lower() if ci else code) == target
                return False
            return value == target

        return pred

    def _compile(self, node: Node) -> Predicate:  # noqa: C901 - one branch per node type
        if isinstance(node, And):
            parts = [self._compile(c) for c in node.children]
            return lambda rec: all(p(rec) for p in parts)
        if isinstance(node, Or):
            parts = [self._compile(c) for c in node.children]
            return lambda rec: any(p(rec) for p in parts)
        if isinstance(node, Not):
            inner = self._compile(node.child)
            return lambda rec: not inner(rec)
        field = node.field.upper()
        if isinstance(node, IsNull):
            negate = node.negate
            return lambda rec: (rec.get(field) in (None, "")) != negate
        if isinstance(node, Like):
            regex = like_regex(node.pattern, self.ci)
            negate = node.negate

            def like(rec: dict) -> bool:
                value = rec.get(field)
                if value is None or value == "":
                    return False
                text = value if isinstance(value, str) else self.tz.format_value(value)
                return bool(regex.match(text)) != negate

            return like
        if isinstance(node, InList):
            literals = [_Literal(v, self.tz) for v in node.values]
            eqs = [self._matches_eq(field, lit) for lit in literals]
            negate = node.negate
            # Numbers, dates: one set lookup instead of one comparison per listed value (a
            # child query lists 500 parent keys). Text keeps the case and alias rules.
            by_type: dict[type, frozenset] = {}

            def in_list(rec: dict) -> bool:
                value = rec.get(field)
                if value is None or value == "":
                    return False
                if isinstance(value, str):
                    return any(e(rec) for e in eqs) != negate
                targets = by_type.get(type(value))
                if targets is None:
                    targets = by_type[type(value)] = frozenset(
                        lit.for_value(value) for lit in literals
                    )
                return (value in targets) != negate

            return in_list
        if isinstance(node, Between):
            low = self._compile(Compare(field, ">=", node.low))
            high = self._compile(Compare(field, "<=", node.high))
            return lambda rec: low(rec) and high(rec)
        lit = _Literal(node.value, self.tz)
        if node.op == "=":
            return self._matches_eq(field, lit)
        if node.op == "!=":
            eq = self._matches_eq(field, lit)
            return lambda rec: rec.get(field) not in (None, "") and not eq(rec)
        op = _OPS[node.op]
        ci = self.ci

        def compare(rec: dict) -> bool:
            value = rec.get(field)
            if value is None or value == "":
                return False
            target = lit.for_value(value)
            if ci and isinstance(value, str):
                return op(value.lower(), str(target).lower())
            try:
                return op(value, target)
            except TypeError:
                return False

        return compare


@dataclass
class RangeHint:
    """Bounds on WHENMODIFIED or RECORDNO taken from top-level AND terms, for bisection."""

    low: int | None = None
    high: int | None = None  # inclusive
    members: frozenset[int] | None = None  # RECORDNO IN (...): only these can match


# Fields whose bounds narrow a scan: RECORDNO and WHENMODIFIED always, the creation and
# transaction dates where a segment declares them sorted (Segment.sorted_fields).
RANGE_HINT_FIELDS = ("WHENMODIFIED", "RECORDNO", "WHENCREATED", "RECEIPTDATE")


def range_hints(node: Node | None, tz: TimeZoneFormatter) -> dict[str, RangeHint]:
    """Collect bounds (RANGE_HINT_FIELDS; dates as epochs) every matching record satisfies."""
    hints: dict[str, RangeHint] = {}
    if node is None:
        return hints
    terms = node.children if isinstance(node, And) else [node]
    for term in terms:
        if isinstance(term, Or):
            # An OR bounds a field only as loosely as its loosest branch (e.g. the keyset
            # cursor "WM > w OR (WM = w AND RECORDNO > r)" still implies WM >= w).
            for name, hint in _or_hints(term, tz).items():
                _narrow(hints.setdefault(name, RangeHint()), hint.low, hint.high)
            continue
        if isinstance(term, InList):
            _in_list_hint(term, hints)
            continue
        if isinstance(term, Between):
            term_list = [Compare(term.field, ">=", term.low), Compare(term.field, "<=", term.high)]
        elif isinstance(term, Compare):
            term_list = [term]
        else:
            continue
        for cmp in term_list:
            name = cmp.field.upper()
            if name not in RANGE_HINT_FIELDS or cmp.op in ("!=",):
                continue
            try:
                if name == "RECORDNO":
                    bound = int(Decimal(cmp.value))
                    exact = Decimal(cmp.value) == bound
                else:
                    parsed = parse_date_literal(cmp.value)
                    if parsed is None:
                        continue
                    if not isinstance(parsed, dt.datetime):
                        parsed = dt.datetime(parsed.year, parsed.month, parsed.day)
                    bound = tz.to_epoch(parsed)
                    exact = True
            except (InvalidOperation, ValueError):
                continue
            hint = hints.setdefault(name, RangeHint())
            # loose bounds are fine: the full predicate still runs on every candidate
            low = high = None
            if cmp.op in (">", ">=", "="):
                low = bound if (cmp.op != ">" or not exact) else bound + 1
            if cmp.op in ("<", "<=", "="):
                high = bound if (cmp.op != "<" or not exact) else bound - 1
            _narrow(hint, low, high)
    return hints


def _in_list_hint(term: InList, hints: dict[str, RangeHint]) -> None:
    """RECORDNO IN (...) of whole numbers: a lookup of those keys, not a scan of the range
    (the balance refresh reads 500 A/R records by key at a time)."""
    if term.negate or term.field.upper() != "RECORDNO" or not term.values:
        return
    try:
        numbers = [Decimal(v) for v in term.values]
    except InvalidOperation:
        return
    if any(n != int(n) for n in numbers):
        return
    members = frozenset(int(n) for n in numbers)
    hint = hints.setdefault("RECORDNO", RangeHint())
    _narrow(hint, min(members), max(members))
    hint.members = members if hint.members is None else hint.members & members


def _narrow(hint: RangeHint, low: int | None, high: int | None) -> None:
    if low is not None:
        hint.low = low if hint.low is None else max(hint.low, low)
    if high is not None:
        hint.high = high if hint.high is None else min(hint.high, high)


def _or_hints(node: Or, tz: TimeZoneFormatter) -> dict[str, RangeHint]:
    """Bounds every branch of an OR implies: the loosest of the branches' bounds."""
    branches = [range_hints(child, tz) for child in node.children]
    result: dict[str, RangeHint] = {}
    for name in set.intersection(*(set(b) for b in branches)) if branches else set():
        lows = [b[name].low for b in branches]
        highs = [b[name].high for b in branches]
        result[name] = RangeHint(
            low=min(lows) if None not in lows else None,
            high=max(highs) if None not in highs else None,
        )
    return result
