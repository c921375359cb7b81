"""Parse Intacct gateway responses safely into plain Python records and typed errors.

Parsing is done with lxml with entity resolution and network access off; a document that
declares a DOCTYPE (the only way to smuggle entities in) is refused. Each response (one
page) is parsed, converted and dropped, so memory is bounded by the page size.

Large text nodes: libxml2 refuses a text node over 10 MB. A customer name or memo that
large is data, not an attack, so a response the strict parser refuses is parsed once more
with ``huge_tree`` — only when the whole response is at most ``MAX_HUGE_RESPONSE_BYTES``
(64 MiB, which bounds any one text node) and it nests no deeper than ``MAX_DEPTH`` (256,
libxml2's own default). A complete response (it ends with ``</response>``) that still cannot
be parsed — a character XML 1.0 forbids (a vertical tab, U+FFFE), a text node past the
bound — is :class:`IntacctUnreadableResponseError`: reading it again gives the same answer,
so it is not retried; the hook reads its records again in smaller pieces instead.

Record shape (what every read returns)
--------------------------------------
A record is a ``dict`` of field name to value, in document order:

* a leaf field is a ``str`` exactly as sent (no trimming), or ``None`` when the element is
  empty (Intacct sends empty elements, not missing ones);
* dotted related fields stay flat: ``{"BILLTO.MAILADDRESS.CITY": "Austin"}``;
* a nested block becomes a nested dict: ``{"SHIPTO": {"PRINTAS": …, "MAILADDRESS": {…}}}``,
  ``{"TERM": {"NAME": "NET 30"}}`` (an empty block such as ``<TERM></TERM>`` is ``None``);
* a collection wrapper whose children are lowercase record elements becomes a list of
  dicts: ``{"SODOCUMENTENTRIES": [{"ITEMDESC": …}, …], "SUBTOTALS": [{…}]}``; known
  wrappers are a list even when empty;
* children repeated inside a record become a list of dicts, and the known repeated blocks
  (legacy ARPAYMENT ``INVOICES`` and ``CREDITS``) are always a list, even with one entry,
  so a single application is never mistaken for a dict.

Values are not converted: amounts stay decimal strings (convert with ``Decimal``), dates
stay as Intacct wrote them; :func:`parse_intacct_datetime` understands every format seen.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from lxml import etree

from intacct_sync.intacct.errors import (
    ErrorDetail,
    IntacctError,
    IntacctResponseError,
    IntacctUnreadableResponseError,
    classify,
)

# Collection wrappers that must be a list even when empty or holding one entry.
LIST_WRAPPERS = frozenset({
    "SODOCUMENTENTRIES", "SUBTOTALS", "ARPYMTDETAILS", "ARINVOICEITEMS",
    "ARADJUSTMENTITEMS", "PODOCUMENTENTRIES", "ENTRIES", "ITEMS",
})
# Blocks that repeat directly inside a record (legacy ARPAYMENT applications).
REPEATED_BLOCKS = frozenset({"INVOICES", "CREDITS"})
_SPECIAL = LIST_WRAPPERS | REPEATED_BLOCKS

_PARSER_OPTIONS = {
    "resolve_entities": False,
    "no_network": True,
    "huge_tree": False,
    "load_dtd": False,
    "dtd_validation": False,
    "remove_comments": True,
    "remove_pis": True,
}


MAX_HUGE_RESPONSE_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 256


def _new_parser(huge: bool = False) -> etree.XMLParser:
    return etree.XMLParser(**{**_PARSER_OPTIONS, "huge_tree": huge})


def _depth(root: etree._Element) -> int:
    depth = deepest = 0
    for event, _ in etree.iterwalk(root, events=("start", "end")):
        depth += 1 if event == "start" else -1
        deepest = max(deepest, depth)
    return deepest


def _parse_huge(body: bytes) -> etree._Element | None:
    """The second chance for a response with a text node over libxml2's 10 MB limit."""
    if len(body) > MAX_HUGE_RESPONSE_BYTES:
        return None
    try:
        root = etree.fromstring(body, _new_parser(huge=True))
    except etree.XMLSyntaxError:
        return None
    return root if root is not None and _depth(root) <= MAX_DEPTH else None


class _DoctypeProbe:
    """Parser target that only notes whether a document declares a DOCTYPE."""

    declared = False

    def doctype(self, *_: object) -> None:
        self.declared = True

    def close(self) -> bool:
        return self.declared


def _refused_doctype() -> IntacctResponseError:
    return IntacctResponseError(
        "Refused a response containing a DOCTYPE or entity declaration (never expanded)",
        level="http", retryable=False)


def _declares_doctype(body: bytes) -> bool:
    """Whether a body that failed to parse declared a DOCTYPE first (in any encoding)."""
    probe = _DoctypeProbe()
    with suppress(etree.XMLSyntaxError):
        etree.fromstring(body, etree.XMLParser(target=probe, **_PARSER_OPTIONS))
    return probe.declared


def parse_xml(body: bytes | str) -> etree._Element:
    """Parse one XML document, refusing DOCTYPEs/entities and anything not XML."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    head = body[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in head:
        raise _refused_doctype()
    try:
        root = etree.fromstring(body, _new_parser())
    except etree.XMLSyntaxError as exc:
        # A DTD later than the first 4 KiB (a long comment before it) can make the parser
        # give up (entity amplification): still a refusal, not a garbled body to retry.
        if _declares_doctype(body):
            raise _refused_doctype() from None
        root = _parse_huge(body)
        if root is None:
            message = f"Response is not well-formed XML: {exc}"
            if len(body) > MAX_HUGE_RESPONSE_BYTES:
                message += f" (a response of {len(body):,} bytes; the bound is " \
                           f"{MAX_HUGE_RESPONSE_BYTES:,})"
            # Complete but unreadable: the same read gives the same answer (not truncated).
            complete = body.rstrip().endswith(b"</response>")
            kind = IntacctUnreadableResponseError if complete else IntacctResponseError
            raise kind(message, level="http") from None
    if root is None:
        raise IntacctResponseError("Empty response body", level="http")
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise _refused_doctype()
    return root


# -- records ---------------------------------------------------------------------------
def _leaf(el: etree._Element) -> str | None:
    text = el.text
    return text if text else None


def element_to_value(el: etree._Element) -> object:
    """Convert a field element: leaf → str/None; block → dict; collection → list of dicts."""
    if len(el) == 0:
        if el.tag in LIST_WRAPPERS or el.tag in REPEATED_BLOCKS:
            return [] if el.tag in LIST_WRAPPERS else None
        return _leaf(el)
    first_tag = el[0].tag
    if el.tag in LIST_WRAPPERS or (isinstance(first_tag, str) and first_tag.islower()):
        return [element_to_record(child) for child in el if isinstance(child.tag, str)]
    return element_to_record(el)


def element_to_record(el: etree._Element) -> dict[str, object]:
    """Convert one record element to the record dict documented in the module docstring."""
    record: dict[str, object] = {}
    repeated: set[str] | None = None
    for child in el:
        tag = child.tag
        # Fast path (almost every field): a plain leaf. The parser drops comments and
        # processing instructions, and DOCTYPEs (hence entities) are refused, so every
        # child is an element.
        if tag not in _SPECIAL and not len(child):
            value: object = child.text or None
        elif tag in REPEATED_BLOCKS:
            block = element_to_value(child)
            existing = record.get(tag)
            if not isinstance(existing, list):
                existing = record[tag] = []
            if block is not None:
                existing.append(block)
            continue
        else:
            value = element_to_value(child)
        if tag in record:
            # An element repeated inside the record: keep every occurrence, as a list.
            if repeated is None:
                repeated = set()
            if tag in repeated:
                record[tag].append(value)  # type: ignore[union-attr]
            else:
                record[tag] = [record[tag], value]
                repeated.add(tag)
        else:
            record[tag] = value
    return record


# -- response model ------------------------------------------------------------------------
@dataclass
class Data:
    """The ``<data>`` element of a result: paging attributes plus the records."""

    listtype: str | None
    count: int | None
    totalcount: int | None
    numremaining: int | None
    resultid: str | None
    offset: int | None
    records: list[dict[str, object]]


@dataclass
class Result:
    """One ``<result>``: one function's outcome."""

    status: str
    function: str
    control_id: str
    key: str | None = None
    data: Data | None = None
    api: dict[str, str | None] | None = None  # getAPISession's data/api block
    errors: list[ErrorDetail] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "success"

    @property
    def records(self) -> list[dict[str, object]]:
        return self.data.records if self.data else []

    def error(self, http_status: int | None = None) -> IntacctError | None:
        """The typed error for a failed or aborted result, else ``None``."""
        if self.status == "success":
            return None
        errors = self.errors or [ErrorDetail(
            self.status or "no status",
            f"{self.function or 'the function'} answered {self.status or 'no status'} without "
            "an error message")]
        return classify(errors, level="result", control_id=self.control_id,
                        function=self.function, status=self.status, http_status=http_status)

    def raise_for_error(self) -> None:
        err = self.error()
        if err is not None:
            raise err


@dataclass
class Authentication:
    status: str
    userid: str | None = None
    companyid: str | None = None
    locationid: str | None = None
    sessiontimestamp: datetime | None = None
    sessiontimeout: datetime | None = None

    @property
    def session_lifetime(self) -> timedelta | None:
        """Time until the sliding timeout, measured on the server's own clock."""
        if self.sessiontimestamp and self.sessiontimeout:
            return self.sessiontimeout - self.sessiontimestamp
        return None


@dataclass
class Response:
    """A parsed ``<response>``; call :meth:`raise_for_status` before reading results."""

    control_status: str
    control_id: str | None
    uniqueid: str | None
    control_errors: list[ErrorDetail] = field(default_factory=list)
    authentication: Authentication | None = None
    auth_errors: list[ErrorDetail] = field(default_factory=list)
    results: list[Result] = field(default_factory=list)
    http_status: int | None = None
    acknowledged: bool = False  # asynchronous (policyid) acknowledgement

    def raise_for_status(self) -> None:
        """Raise the typed error for a control- or authentication-level failure."""
        if self.control_status != "success":
            errors = self.control_errors or [ErrorDetail("control failure")]
            raise classify(errors, level="control", control_id=self.control_id,
                           http_status=self.http_status)
        if self.authentication is not None and self.authentication.status != "success":
            errors = self.auth_errors or [ErrorDetail("authentication failure")]
            raise classify(errors, level="authentication", control_id=self.control_id,
                           http_status=self.http_status)
        if self.authentication is None and not self.acknowledged:
            raise IntacctResponseError("Response has no operation", level="control")

    def result_for(self, control_id: str) -> list[Result]:
        """All results with this function control id (several can share one, F16)."""
        return [r for r in self.results if r.control_id == control_id]


def _text(el: etree._Element | None, tag: str) -> str | None:
    if el is None:
        return None
    child = el.find(tag)
    if child is None:
        return None
    return (child.text or "").strip() or None


def _int(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        return None


def _errors(container: etree._Element | None) -> list[ErrorDetail]:
    if container is None:
        return []
    out = []
    for err in container.iterfind("error"):
        out.append(ErrorDetail(
            errorno=_text(err, "errorno") or "",
            description=_text(err, "description") or "",
            description2=_text(err, "description2") or "",
            correction=_text(err, "correction") or "",
        ))
    return out


def _iso(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _parse_data(el: etree._Element) -> tuple[Data | None, dict[str, str | None] | None]:
    api = el.find("api")
    if api is not None and len(el) == 1 and "listtype" not in el.attrib:
        return None, {c.tag: (c.text or None) for c in api if isinstance(c.tag, str)}
    attrs = el.attrib
    records = [element_to_record(rec) for rec in el if isinstance(rec.tag, str)]
    return Data(
        listtype=attrs.get("listtype"),
        count=_int(attrs.get("count")),
        totalcount=_int(attrs.get("totalcount")),
        numremaining=_int(attrs.get("numremaining")),
        resultid=attrs.get("resultId") or attrs.get("resultid") or None,
        offset=_int(attrs.get("offset")),
        records=records,
    ), None


def _parse_result(el: etree._Element) -> Result:
    data_el = el.find("data")
    data, api = _parse_data(data_el) if data_el is not None else (None, None)
    key_el = el.find("key")
    return Result(
        status=(_text(el, "status") or "").lower(),
        function=_text(el, "function") or "",
        control_id=_text(el, "controlid") or "",
        key=(key_el.text or "").strip() or None if key_el is not None else None,
        data=data,
        api=api,
        errors=_errors(el.find("errormessage")),
    )


def parse_response(body: bytes | str, *, http_status: int | None = None) -> Response:
    """Parse a gateway response document (any of the three failure levels, or success)."""
    root = parse_xml(body)
    if root.tag != "response":
        raise IntacctResponseError(f"Expected <response>, got <{root.tag}>", level="http")
    control = root.find("control")
    if control is None:
        raise IntacctResponseError("Response has no <control>", level="http")
    response = Response(
        control_status=(_text(control, "status") or "").lower(),
        control_id=_text(control, "controlid"),
        uniqueid=_text(control, "uniqueid"),
        control_errors=_errors(root.find("errormessage")),
        http_status=http_status,
        acknowledged=root.find("acknowledgement") is not None,
    )
    operation = root.find("operation")
    if operation is not None:
        auth = operation.find("authentication")
        if auth is not None:
            response.authentication = Authentication(
                status=(_text(auth, "status") or "").lower(),
                userid=_text(auth, "userid"),
                companyid=_text(auth, "companyid"),
                locationid=_text(auth, "locationid"),
                sessiontimestamp=_iso(_text(auth, "sessiontimestamp")),
                sessiontimeout=_iso(_text(auth, "sessiontimeout")),
            )
        response.auth_errors = _errors(operation.find("errormessage"))
        response.results = [_parse_result(r) for r in operation.iterfind("result")]
    return response


def iter_records(body: bytes) -> Iterator[dict[str, object]]:
    """Records of every result in a response, for tools that only want the rows."""
    for result in parse_response(body).results:
        yield from result.records


# -- values --------------------------------------------------------------------------------
_US_DATETIME = re.compile(r"^(\d{2})/(\d{2})/(\d{4})(?: (\d{2}):(\d{2}):(\d{2}))?$")


def parse_intacct_datetime(value: str | None, company_tz: str | ZoneInfo = "UTC"
                           ) -> datetime | date | None:
    """Parse any date/time format Intacct emits (protocol §4.6).

    ``MM/DD/YYYY`` and ``YYYY-MM-DD`` are dates; ``MM/DD/YYYY HH:MM:SS`` is a company-local
    timestamp and is returned aware in ``company_tz``; ISO-8601 with ``Z`` or an offset is
    returned aware as sent.
    """
    if not value:
        return None
    value = value.strip()
    tz = company_tz if isinstance(company_tz, ZoneInfo) else ZoneInfo(company_tz)
    m = _US_DATETIME.match(value)
    if m:
        month, day, year = int(m[1]), int(m[2]), int(m[3])
        if m[4] is None:
            return date(year, month, day)
        return datetime(year, month, day, int(m[4]), int(m[5]), int(m[6]), tzinfo=tz)
    if len(value) == 10 and value[4] == "-":
        return date.fromisoformat(value)
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)
