"""IntacctHook: the only code in intacct-sync that speaks XML to Sage Intacct.

Reads come back as streaming iterators of plain record dicts (shape documented in
:mod:`intacct_sync.xml_response`); writes go in batches of functions whose results are
mapped back to the records they belong to; failures are typed (:mod:`intacct_sync.errors`).

Usage::

    hook = IntacctHook("intacct_default")
    customers = hook.read_by_query("CUSTOMER", ["RECORDNO", "CUSTOMERID", "NAME"])
    print(customers.totalcount)          # known after the first page, before iterating
    for record in customers: ...

    for inv in hook.query_keyset("ARINVOICE", ["RECORDNO", "WHENMODIFIED", "STATE"],
                                 modified_from=start, modified_to=end): ...

    results = hook.write_batch([WriteFunction("create_invoice", "ARINVOICE", "inv-42",
                                              {...})])
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import ipaddress
import logging
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import requests
import tenacity
from airflow.providers.http.hooks.http import HttpHook
from lxml import etree

from intacct_sync import xml_request as rq
from intacct_sync.errors import (
    ErrorDetail,
    IntacctAlreadyRecordedError,
    IntacctCertificateError,
    IntacctConnectionConfigError,
    IntacctError,
    IntacctGatewayTimeoutError,
    IntacctObjectNotFoundError,
    IntacctPermissionError,
    IntacctRateLimitedError,
    IntacctRecordNotFoundError,
    IntacctResponseError,
    IntacctSenderCredentialsError,
    IntacctSenderNotAuthorizedError,
    IntacctSessionExpiredError,
    IntacctTemporarilyUnavailableError,
    IntacctTooManyOperationsError,
    IntacctTransactionAbortedError,
    IntacctTransientError,
    IntacctUnreachableError,
    IntacctUnreadableResponseError,
    IntacctUnsendableError,
    IntacctUserCredentialsError,
    classify,
    error_for_http_status,
)
from intacct_sync.xml_response import Authentication, Data, Response, Result, parse_response

try:  # Airflow 3 task SDK: masks in the task process and in the supervisor.
    from airflow.sdk.log import mask_secret
except ImportError:  # pragma: no cover - older Airflow
    from airflow.utils.log.secrets_masker import mask_secret  # type: ignore[no-redef]

DEFAULT_ENDPOINT = "https://api.intacct.com/ia/xml/xmlgw.phtml"
POOL_NAME = "intacct_api"
READ_BY_QUERY_MAX_PAGE = 1000
QUERY_MAX_PAGE = 2000
READ_MAX_KEYS = 100
# Keys per read when a page could not be parsed and its records are read again by key: an
# IN list as long as the extract's child reads use, one page per piece.
ISOLATION_PIECE = 500
LEGACY_ACTIONS = frozenset({
    "create_invoice", "create_aradjustment", "create_arpayment", "apply_arpayment",
    "reverse_arpayment", "reverse_invoice", "delete_invoice", "delete_aradjustment",
    "reverse_aradjustment",
})
# Where to find a record again when a uniqueid replay says "already recorded" (§1.4):
# action → (object, {payload field: query field}).
_RECOVERY_LOOKUPS: dict[str, tuple[str, dict[str, str]]] = {
    "create_invoice": ("ARINVOICE", {"invoiceno": "RECORDID", "customerid": "CUSTOMERID"}),
    "create_aradjustment": ("ARADJUSTMENT",
                            {"adjustmentno": "RECORDID", "customerid": "CUSTOMERID"}),
    "create_arpayment": ("ARPYMT", {"refid": "DOCNUMBER", "customerid": "CUSTOMERID"}),
}
# Generic create: the object's business id field.
ID_FIELDS = {
    "CUSTOMER": "CUSTOMERID", "VENDOR": "VENDORID", "PROJECT": "PROJECTID", "CLASS": "CLASSID",
    "LOCATION": "LOCATIONID", "DEPARTMENT": "DEPARTMENTID", "ITEM": "ITEMID",
    "ARINVOICE": "RECORDID", "ARADJUSTMENT": "RECORDID", "CONTACT": "CONTACTNAME",
}

log = logging.getLogger(__name__)


# -- configuration ---------------------------------------------------------------------------
@dataclass(frozen=True)
class IntacctConfig:
    """Everything read from the Airflow connection (validated)."""

    endpoint_url: str
    sender_id: str
    sender_password: str = field(repr=False)
    company_id: str
    user_id: str
    user_password: str = field(repr=False)
    entity_id: str | None
    company_timezone: ZoneInfo
    page_size: int
    max_concurrent_requests: int

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.sender_password, self.user_password)

    @property
    def cache_key(self) -> str:
        """Identity of a session: credentials, entity and endpoint (hashed, never logged)."""
        raw = "\x00".join([self.endpoint_url, self.sender_id, self.sender_password,
                           self.company_id, self.user_id, self.user_password,
                           self.entity_id or ""])
        return hashlib.sha256(raw.encode()).hexdigest()


@dataclass
class IntacctSession:
    """An API session: id, the endpoint it is bound to, and its sliding deadline."""

    session_id: str = field(repr=False)
    endpoint: str
    entity_id: str | None
    expires_at: float | None  # time.monotonic() deadline; None when Intacct did not say

    def expiring(self, margin: float) -> bool:
        return self.expires_at is not None and time.monotonic() + margin >= self.expires_at

    def slide(self, auth: Authentication | None) -> None:
        """Move the deadline forward: every response reports the new sliding timeout."""
        lifetime = auth.session_lifetime if auth else None
        if lifetime is not None:
            self.expires_at = time.monotonic() + lifetime.total_seconds()


_SESSIONS: dict[str, IntacctSession] = {}
_SESSION_LOCKS: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
_SESSIONS_GUARD = threading.Lock()
_SEEN_SESSION_IDS: set[str] = set()  # scrubbed from every error text, even after renewal


class CompanyLimiter:
    """Caps in-flight HTTP requests per company across every thread of this process.

    Counting (not a fixed-size semaphore) so that every caller enforces its own
    connection's limit against the one shared count for the company.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._in_flight: Counter[str] = Counter()
        self.peak: Counter[str] = Counter()

    @contextmanager
    def slot(self, company: str, limit: int, timeout: float | None = None) -> Iterator[None]:
        company = company.lower()
        with self._cond:
            if not self._cond.wait_for(lambda: self._in_flight[company] < limit, timeout):
                raise IntacctTooManyOperationsError(
                    f"No free request slot for company within {timeout} s", level="http")
            self._in_flight[company] += 1
            self.peak[company] = max(self.peak[company], self._in_flight[company])
        try:
            yield
        finally:
            with self._cond:
                self._in_flight[company] -= 1
                self._cond.notify_all()

    def in_flight(self, company: str) -> int:
        with self._cond:
            return self._in_flight[company.lower()]


LIMITER = CompanyLimiter()


# -- reads -------------------------------------------------------------------------------------
def _read_ahead(pages: Iterator[Data]) -> Iterator[Data]:
    """Ask for the next page while the caller works on this one.

    A stream then has its next request in flight while the records of the current page are
    parsed and written (one request at a time, never more: the next is only asked for when
    the previous answer arrived), so a task uses its `intacct_api` slot for Intacct's latency,
    not for our own processing. Errors surface at the page they belong to.
    """
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="intacct-read-ahead")
    try:
        pending = pool.submit(next, pages, None)
        while (data := pending.result()) is not None:
            pending = pool.submit(next, pages, None)
            yield data
    finally:
        # A reader that stops early does not wait for the page asked for ahead.
        pool.shutdown(wait=False, cancel_futures=True)


@dataclass(frozen=True)
class UnreadableRecord:
    """A record Intacct holds but cannot send as readable XML (a character XML 1.0 forbids,
    a text node past the bound): what an isolating read skips so the rest goes on."""

    object: str
    key: str
    error: str


class RecordStream(Iterator[dict[str, Any]]):
    """Records of one read, fetched a page ahead (at most two pages are held in memory).

    ``totalcount`` is the number of records the read matches, as Intacct reported on the
    first page (the first page is fetched on access if needed), for progress reporting;
    None for a stream of several reads. ``pages`` counts what was fetched so far.
    """

    def __init__(self, pages: Iterator[Data], *, single_read: bool = True,
                 read_ahead: bool = True) -> None:
        self._pages = _read_ahead(pages) if read_ahead else pages
        self._single_read = single_read
        self._buffer: Iterator[dict[str, Any]] = iter(())
        self._totalcount: int | None = None
        self._started = False
        self._done = False
        self.pages = 0
        self.records_read = 0
        #: Records skipped by an isolating read (``isolate=True``), filled while iterating.
        self.unreadable: list[UnreadableRecord] = []

    def _next_page(self) -> bool:
        try:
            data = next(self._pages)
        except StopIteration:
            self._done = True
            return False
        if not self._started:
            self._started = True
            if self._single_read:
                self._totalcount = data.totalcount if data.totalcount is not None else (
                    len(data.records) if not data.numremaining else None)
        self.pages += 1
        self._buffer = iter(data.records)
        return True

    @property
    def totalcount(self) -> int | None:
        if not self._started and not self._done:
            self._next_page()
        return self._totalcount

    def __iter__(self) -> RecordStream:
        return self

    def __next__(self) -> dict[str, Any]:
        while True:
            record = next(self._buffer, None)
            if record is not None:
                self.records_read += 1
                return record
            if self._done or not self._next_page():
                raise StopIteration


# -- writes -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class WriteFunction:
    """One write of one record: the function, its payload and its deterministic control id.

    :param action: ``create``, ``update``, ``delete`` or a legacy AR function name
        (``create_invoice``, ``create_aradjustment``, ``create_arpayment``,
        ``apply_arpayment``, ``reverse_arpayment``, ``reverse_invoice``, ``delete_invoice``,
        ``delete_aradjustment``, ``reverse_aradjustment``).
    :param object: the Intacct object (``CUSTOMER``, ``ARINVOICE``, …); required for the
        generic functions, used to recover keys for legacy ones.
    :param record_id: the identity of the local record this write belongs to.
    :param fields: the payload, element name → value (nested mappings, lists, dates ok).
    :param key: the Intacct key for ``delete`` and key-attributed legacy functions.
    :param control_id: derived from action, object and record id if empty (plus a payload
        digest for updates), so a replay after a timeout is refused by Intacct itself.
    :param lookup: query fields that find the created record again, used when a replay
        reports "already recorded"; defaults come from the object's id field.
    :param version: the local record's version (e.g. its ``updated_at``), part of the
        control id: pass it for updates, so changing a record back to earlier values is
        still sent instead of being refused as a replay of the first update.
    """

    action: str
    object: str | None
    record_id: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    key: str | None = None
    control_id: str = ""
    lookup: Mapping[str, Any] | None = None
    version: str | None = None

    def __post_init__(self) -> None:
        if self.action not in ("create", "update", "delete") and \
                self.action not in LEGACY_ACTIONS:
            raise ValueError(f"Unsupported write action {self.action!r}")
        if self.action in ("create", "update", "delete") and not self.object:
            raise ValueError(f"{self.action} needs an object")
        if self.action == "delete" and not self.key:
            raise ValueError("delete needs a key")
        if not self.control_id:
            content = self.fields if self.action == "update" else None
            object.__setattr__(self, "control_id", rq.derive_control_id(
                self.action, self.object, str(self.record_id), content=content,
                version=self.version))

    def to_element(self, company_tz: ZoneInfo) -> etree._Element:
        if self.action in ("create", "update"):
            return rq.generic_write(self.control_id, self.action, str(self.object),
                                    self.fields, company_tz)
        if self.action == "delete":
            return rq.generic_delete(self.control_id, str(self.object), [str(self.key)])
        return rq.legacy_write(self.control_id, self.action, self.fields, company_tz,
                               key=self.key)

    def recovery_lookup(self) -> tuple[str, dict[str, Any]] | None:
        """(object, {query field: value}) to find the record this write created."""
        if self.lookup:
            return str(self.object), dict(self.lookup)
        if self.action in _RECOVERY_LOOKUPS:
            obj, mapping = _RECOVERY_LOOKUPS[self.action]
            values = {q: self.fields[p] for p, q in mapping.items() if self.fields.get(p)}
            # The first mapping entry is the document's own number: required.
            first = next(iter(mapping.values()))
            return (obj, values) if first in values else None
        if self.action == "create" and self.object:
            id_field = ID_FIELDS.get(self.object.upper())
            if id_field and self.fields.get(id_field):
                return self.object, {id_field: self.fields[id_field]}
        return None


@dataclass
class WriteResult:
    """The outcome of one :class:`WriteFunction`, mapped back by its control id."""

    function: WriteFunction
    status: str  # success | failure | aborted
    key: str | None = None
    records: list[dict[str, Any]] = field(default_factory=list)
    error: IntacctError | None = None
    already_recorded: bool = False

    @property
    def ok(self) -> bool:
        return self.status == "success"

    @property
    def record_id(self) -> str:
        return self.function.record_id

    @property
    def control_id(self) -> str:
        return self.function.control_id

    def raise_for_error(self) -> None:
        if self.error is not None:
            raise self.error

    def to_dict(self) -> dict[str, Any]:
        """Small, secret-free summary for XCom."""
        return {"record_id": self.record_id, "control_id": self.control_id,
                "action": self.function.action, "status": self.status, "key": self.key,
                "already_recorded": self.already_recorded,
                "error": self.error.to_dict() if self.error else None}


class _WaitRetryAfter(tenacity.wait.wait_base):
    """Exponential backoff with jitter, but never shorter than a server's Retry-After."""

    def __init__(self, inner: tenacity.wait.wait_base, cap: float) -> None:
        self.inner = inner
        self.cap = cap

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        base = self.inner(retry_state)
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        after = getattr(exc, "retry_after", None) or 0.0
        return min(max(base, after), self.cap)


def _is_retryable(exc: BaseException) -> bool:
    # Session expiry is handled by renewal + one replay, not by backoff.
    return (isinstance(exc, IntacctError) and exc.retryable
            and not isinstance(exc, IntacctSessionExpiredError))


# -- the hook -----------------------------------------------------------------------------------
class IntacctHook(HttpHook):
    """Talk to the Sage Intacct XML gateway (sessions, paging, typed errors, retries, writes).

    Connection fields read (connection type ``intacct``, "Sage Intacct"):

    * ``host`` – endpoint URL, default ``https://api.intacct.com/ia/xml/xmlgw.phtml``;
    * ``login`` – Web Services sender id; ``password`` – sender password (masked);
    * extra ``company_id`` – Intacct company id (required);
    * extra ``user_id`` / ``user_password`` – the web services user (password masked);
    * extra ``entity_id`` – entity (location id) for multi-entity companies, optional;
    * extra ``company_timezone`` – IANA zone of the company's WHENMODIFIED timestamps
      (required: a run without it refuses to start);
    * extra ``page_size`` – records per page, default 1000 (readByQuery max 1000,
      query max 2000);
    * extra ``max_concurrent_requests`` – requests in flight per company, default 2.

    Unlike ``HttpHook``, no extra ever becomes an HTTP header and no credential is sent as
    HTTP basic auth: credentials travel only in the XML body over HTTPS, and passwords and
    session ids are registered with Airflow's secrets masker and scrubbed from errors.

    :param intacct_conn_id: the Airflow connection id.
    :param retry_attempts: attempts per request for transient failures (incl. the first).
    :param retry_initial_wait: first backoff in seconds (exponential, with jitter).
    :param retry_max_wait: longest single backoff in seconds.
    :param retry_max_time: give up once this many seconds have passed in retries.
    :param timeout: read timeout per HTTP request in seconds (Intacct SDKs use 300).
    :param connect_timeout: TCP connect timeout in seconds.
    :param session_refresh_margin: renew the session this many seconds before it expires.
    :param functions_per_request: write functions sent in one request.
    """

    conn_name_attr = "intacct_conn_id"
    default_conn_name = "intacct_default"
    conn_type = "intacct"
    hook_name = "Sage Intacct"
    default_host = DEFAULT_ENDPOINT
    default_headers = {
        "Content-Type": "application/xml; charset=utf-8",
        "Accept": "application/xml, text/xml",
        "Accept-Encoding": "gzip, deflate",
        "User-Agent": "intacct-sync-airflow-hook/0.1",
    }
    pool_name = POOL_NAME

    def __init__(
        self,
        intacct_conn_id: str = default_conn_name,
        *,
        retry_attempts: int = 6,
        retry_initial_wait: float = 1.0,
        retry_max_wait: float = 60.0,
        retry_max_time: float = 600.0,
        timeout: float = 300.0,
        connect_timeout: float = 30.0,
        session_refresh_margin: float = 60.0,
        functions_per_request: int = 50,
        slot_timeout: float | None = 900.0,
    ) -> None:
        super().__init__(method="POST", http_conn_id=intacct_conn_id)
        self.intacct_conn_id = intacct_conn_id
        self.retry_attempts = retry_attempts
        self.retry_initial_wait = retry_initial_wait
        self.retry_max_wait = retry_max_wait
        self.retry_max_time = retry_max_time
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.session_refresh_margin = session_refresh_margin
        self.functions_per_request = functions_per_request
        self.slot_timeout = slot_timeout
        self._config: IntacctConfig | None = None
        self._local = threading.local()
        self._stats_lock = threading.Lock()
        #: Requests sent, by first function name (``getAPISession``, ``readByQuery``, …).
        self.api_calls: Counter[str] = Counter()

    # -- configuration -----------------------------------------------------------------------
    @property
    def config(self) -> IntacctConfig:
        if self._config is None:
            try:
                self._config = self._load_config()
            except ValueError as refused:
                # Typed, so a run refuses a connection mistake at once instead of retrying it.
                raise IntacctConnectionConfigError(str(refused)) from None
        return self._config

    def _load_config(self) -> IntacctConfig:
        conn = self.get_connection(self.intacct_conn_id)
        raw_extra = conn.extra_dejson or {}
        # Older forms stored custom fields as ``extra__intacct__<name>``; accept both.
        extra = {k.removeprefix("extra__intacct__"): v for k, v in raw_extra.items()}

        def need(value: Any, what: str) -> str:
            if value in (None, ""):
                raise ValueError(f"Intacct connection {self.intacct_conn_id!r}: {what} is missing")
            return str(value)

        host = (conn.host or "").strip() or DEFAULT_ENDPOINT
        if "://" not in host:
            host = f"https://{host}"
        parsed = urlparse(host)
        if conn.port and not parsed.port:
            host = parsed._replace(netloc=f"{parsed.netloc}:{conn.port}").geturl()
        if not urlparse(host).path:
            host = host.rstrip("/") + "/ia/xml/xmlgw.phtml"
        if urlparse(host).scheme not in ("http", "https") or not urlparse(host).hostname or any(
                c.isspace() for c in host):
            raise ValueError(
                f"Intacct connection {self.intacct_conn_id!r}: endpoint URL {conn.host!r} is not "
                f"a URL; give it as {DEFAULT_ENDPOINT}")
        _check_tls(self.intacct_conn_id, host, extra)

        tz_name = extra.get("company_timezone")
        if not tz_name:
            # WHENMODIFIED carries no zone and Intacct's API does not say which one it is
            # (protocol §4.6: "no associated timezones"); a guess (UTC) shifts every window
            # by hours and each run still "succeeds" while changes are lost.
            raise ValueError(
                f"Intacct connection {self.intacct_conn_id!r}: company_timezone is missing; set "
                "this extra field to the company's IANA time zone, e.g. America/New_York "
                "(WHENMODIFIED carries no zone)")
        try:
            tz = ZoneInfo(str(tz_name))
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"Intacct connection {self.intacct_conn_id!r}: company_timezone {tz_name!r} is "
                "not an IANA time zone; give the company's zone, e.g. America/New_York") from None

        def whole(name: str, default: int, allowed: range, meaning: str) -> int:
            # An explicit 0 is a mistake to report, not a reason to use the default.
            value = extra.get(name)
            if value in (None, ""):
                return default
            text = str(value).strip()
            if not text.isdigit() or int(text) not in allowed:
                raise ValueError(
                    f"Intacct connection {self.intacct_conn_id!r}: {name}={value!r} must be "
                    f"{meaning}")
            return int(text)

        page_size = whole("page_size", READ_BY_QUERY_MAX_PAGE, range(1, QUERY_MAX_PAGE + 1),
                          "a whole number from 1 to 2000 (records per read call)")
        max_conc = whole("max_concurrent_requests", 2, range(1, 2**31),
                         "a whole number of at least 1 (requests in flight at once; "
                         "Intacct's standard allowance is 2)")
        config = IntacctConfig(
            endpoint_url=host,
            sender_id=need(conn.login, "sender id (login)"),
            sender_password=need(conn.password, "sender password (password)"),
            company_id=need(extra.get("company_id"), "company_id"),
            user_id=need(extra.get("user_id"), "user_id"),
            user_password=need(extra.get("user_password"), "user_password"),
            entity_id=str(extra["entity_id"]) if extra.get("entity_id") else None,
            company_timezone=tz,
            page_size=page_size,
            max_concurrent_requests=max_conc,
        )
        for secret in config.secrets:
            mask_secret(secret)
        self.base_url = host
        self._base_url_initialized = True
        return config

    def for_entity(self, entity_id: str | None) -> IntacctHook:
        """This hook for the records of entity `entity_id` (its own entity-scoped session,
        as Intacct scopes every read and write to the session's entity); empty or the
        connection's own entity gives this hook itself. The copy shares the connection,
        retries and the company's request allowance."""
        if not entity_id or entity_id == self.config.entity_id:
            return self
        scoped = copy.copy(self)
        scoped._config = dataclasses.replace(self.config, entity_id=entity_id)
        return scoped

    @property
    def company_timezone(self) -> ZoneInfo:
        return self.config.company_timezone

    def _scrub(self, text: str) -> str:
        for secret in self._known_secrets():
            text = text.replace(secret, "***")
        return text

    def _known_secrets(self) -> list[str]:
        cfg = self.config
        return [s for s in cfg.secrets if s] + sorted(_SEEN_SESSION_IDS, key=len, reverse=True)

    # -- HTTP ---------------------------------------------------------------------------------
    def get_conn(self, headers: dict[Any, Any] | None = None,
                 extra_options: dict[str, Any] | None = None) -> requests.Session:
        """A requests session with no auth and no connection extras as headers.

        ``HttpHook.get_conn`` would send ``login``/``password`` as basic auth and every extra
        (``user_password``!) as an HTTP header; Intacct credentials belong in the XML body.
        """
        self.config  # sets base_url  # noqa: B018
        session = requests.Session()
        session.auth = None
        session.headers.update(self.default_headers)
        if headers:
            session.headers.update(headers)
        return self._configure_session_from_mount_adapters(session)

    def _http(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = self.get_conn()
        return session

    def _count(self, name: str) -> None:
        with self._stats_lock:
            self.api_calls[name] += 1

    def _post(self, url: str, body: bytes, *, function_name: str,
              replay_safe: bool) -> Response:
        """Send one request under the company's concurrency cap; classify HTTP outcomes."""
        cfg = self.config
        session = self._http()
        if self.log.isEnabledFor(logging.DEBUG):
            self.log.debug("Intacct request to %s: %s", url, self._scrub(rq.redact_xml(body)))
        prepped = session.prepare_request(requests.Request("POST", url, data=body))
        with LIMITER.slot(cfg.company_id, cfg.max_concurrent_requests, self.slot_timeout):
            self._count(function_name)
            try:
                http = self.run_and_check(session, prepped, {
                    "check_response": False, "allow_redirects": False,
                    "timeout": (self.connect_timeout, self.timeout)})
            except requests.exceptions.SSLError as exc:
                raise IntacctCertificateError(
                    f"TLS certificate verification failed for {url}", level="http",
                    errors=[ErrorDetail("certificate verify failed", str(exc)[:300])],
                ) from None
            except requests.ConnectTimeout as exc:
                raise IntacctUnreachableError(
                    f"Timed out connecting to {url}", level="http",
                    errors=[ErrorDetail("connect timeout", type(exc).__name__)]) from None
            except requests.Timeout:
                # Sent, no answer: Intacct may have applied it, like a 524.
                raise IntacctGatewayTimeoutError(
                    f"No response from {url} within {self.timeout} s", level="http",
                    errors=[ErrorDetail("read timeout")], retryable=replay_safe) from None
            except requests.ConnectionError as exc:
                reason = str(exc)
                never_sent = any(s in reason for s in (
                    "NewConnectionError", "Connection refused", "Name or service not known",
                    "Failed to resolve", "nodename nor servname"))
                raise IntacctUnreachableError(
                    f"Could not reach {url}: {type(exc).__name__}", level="http",
                    errors=[ErrorDetail("connection error", reason[:300])],
                    retryable=never_sent or replay_safe) from None
        if self.log.isEnabledFor(logging.DEBUG):
            self.log.debug("Intacct response HTTP %s: %s", http.status_code,
                           self._scrub(rq.redact_xml(http.content[:20000])))
        return self._interpret(http, replay_safe=replay_safe)

    def _interpret(self, http: requests.Response, *, replay_safe: bool) -> Response:
        status = http.status_code
        body = http.content
        retry_after = _retry_after(http.headers.get("Retry-After"))
        head = body[:4096].lower()
        is_html = (b"<html" in head or b"<!doctype html" in head or b"cf-error-details" in body
                   or "text/html" in http.headers.get("Content-Type", ""))
        if is_html or not body.strip():
            hint = "HTML error page" if is_html else "empty body"
            if status < 400:  # a CDN/maintenance page served as 200
                return self._raise(IntacctTemporarilyUnavailableError(
                    f"Intacct answered HTTP {status} with an {hint}", level="http",
                    http_status=status, errors=[ErrorDetail(f"HTTP {status}", hint)]))
            return self._raise(error_for_http_status(
                status, body_hint=hint, replay_safe=replay_safe, retry_after=retry_after))
        try:
            parsed = parse_response(body, http_status=status)
        except IntacctResponseError as exc:
            if status >= 400:
                return self._raise(error_for_http_status(
                    status, body_hint="unreadable body", replay_safe=replay_safe,
                    retry_after=retry_after))
            exc.http_status = status
            return self._raise(exc)
        if status >= 400:
            errors = parsed.control_errors or parsed.auth_errors
            if status >= 500 or not errors:
                err = error_for_http_status(status, replay_safe=replay_safe,
                                            retry_after=retry_after)
                err.errors = list(errors) or err.errors
                return self._raise(err)
            err = classify(errors, level="http", control_id=parsed.control_id,
                           http_status=status)
            err.retry_after = retry_after
            return self._raise(err)
        return parsed

    def _raise(self, err: IntacctError) -> Any:
        raise err.scrub(self._known_secrets())

    # -- retries --------------------------------------------------------------------------------
    def retrying(self, attempts: int | None = None) -> tenacity.Retrying:
        """The declared retry policy: transient classes only, exponential backoff + jitter,
        bounded attempts and total time, Retry-After honoured."""
        return tenacity.Retrying(
            retry=tenacity.retry_if_exception(_is_retryable),
            wait=_WaitRetryAfter(
                tenacity.wait_exponential_jitter(initial=self.retry_initial_wait,
                                                 max=self.retry_max_wait,
                                                 jitter=self.retry_initial_wait),
                cap=self.retry_max_wait),
            stop=(tenacity.stop_after_attempt(attempts or self.retry_attempts)
                  | tenacity.stop_after_delay(self.retry_max_time)),
            before_sleep=self._log_retry,
            reraise=True,
        )

    def _log_retry(self, state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        self.log.warning("Intacct call failed (%s: %s); retry %d in %.1f s",
                         type(exc).__name__, exc, state.attempt_number,
                         state.next_action.sleep if state.next_action else 0.0)

    # -- sessions ------------------------------------------------------------------------------
    def get_session(self) -> IntacctSession:
        """The cached API session for these credentials/entity, opened or renewed if needed.

        One ``getAPISession`` per credentials+entity per process; afterwards every request
        goes to the endpoint Intacct returned, with the session id. The sliding timeout
        reported by each response keeps it alive; it is renewed shortly before it ends.
        """
        cfg = self.config
        key = cfg.cache_key
        with _SESSIONS_GUARD:
            lock = _SESSION_LOCKS[key]
        with lock:
            session = _SESSIONS.get(key)
            if session is not None and not session.expiring(self.session_refresh_margin):
                return session
            session = self.retrying()(self._open_session)
            _SESSIONS[key] = session
            return session

    def _open_session(self) -> IntacctSession:
        cfg = self.config
        control_id = rq.new_control_id()
        body = rq.envelope(
            sender_id=cfg.sender_id, sender_password=cfg.sender_password,
            control_id=control_id,
            functions=[rq.get_api_session(control_id, cfg.entity_id)],
            login=rq.Login(cfg.user_id, cfg.company_id, cfg.user_password, cfg.entity_id))
        resp = self._post(cfg.endpoint_url, body, function_name="getAPISession",
                          replay_safe=True)
        try:
            resp.raise_for_status()
        except IntacctError as exc:
            self._raise(exc)
        result = resp.results[0] if resp.results else None
        if result is None or not result.ok or not result.api:
            err = result.error() if result is not None else None
            self._raise(err or IntacctResponseError("getAPISession returned no session"))
        api = result.api  # type: ignore[union-attr]
        session_id = api.get("sessionid") or ""
        if not session_id:
            self._raise(IntacctResponseError("getAPISession returned an empty sessionid"))
        mask_secret(session_id)
        _SEEN_SESSION_IDS.add(session_id)
        endpoint = self._checked_endpoint(api.get("endpoint") or cfg.endpoint_url)
        session = IntacctSession(session_id=session_id, endpoint=endpoint,
                                 entity_id=api.get("locationid") or cfg.entity_id,
                                 expires_at=None)
        session.slide(resp.authentication)
        self.log.info("Opened Intacct API session for company %s%s at %s", cfg.company_id,
                      f" entity {cfg.entity_id}" if cfg.entity_id else "", endpoint)
        return session

    def _checked_endpoint(self, endpoint: str) -> str:
        """Only send session ids to HTTPS, or to the very origin the connection names."""
        configured = urlparse(self.config.endpoint_url)
        returned = urlparse(endpoint.strip())
        same_origin = (returned.scheme, returned.netloc) == (configured.scheme,
                                                            configured.netloc)
        if returned.scheme == "https" or same_origin:
            return endpoint.strip()
        self._raise(IntacctResponseError(
            f"Refusing session endpoint {endpoint!r}: not HTTPS", retryable=False))
        return ""  # unreachable

    def _drop_session(self, session: IntacctSession) -> None:
        key = self.config.cache_key
        with _SESSIONS_GUARD:
            if _SESSIONS.get(key) is session:
                del _SESSIONS[key]

    def _send(self, functions: Sequence[etree._Element], *, uniqueid: bool = False,
              transaction: bool = False) -> Response:
        """One request on the session; on "Invalid session" renew and replay exactly once."""
        cfg = self.config
        name = functions[0][0].tag if functions and len(functions[0]) else "request"
        for replay in (False, True):
            session = self.get_session()
            body = rq.envelope(
                sender_id=cfg.sender_id, sender_password=cfg.sender_password,
                control_id=rq.new_control_id(), functions=[_copy(f) for f in functions],
                session_id=session.session_id, uniqueid=uniqueid, transaction=transaction)
            # Reads are always safe to replay; writes are because they carry uniqueid=true.
            resp = self._post(session.endpoint, body, function_name=name, replay_safe=True)
            try:
                resp.raise_for_status()
            except IntacctSessionExpiredError as exc:
                self._drop_session(session)
                if replay:
                    self._raise(exc)
                self.log.info("Intacct session expired; opening a new one and replaying once")
                continue
            except IntacctError as exc:
                self._raise(exc)
            session.slide(resp.authentication)
            return resp
        raise AssertionError("unreachable")  # pragma: no cover

    def _call_single(self, fn: etree._Element) -> Result:
        """Send one read function with retries; return its successful result or raise."""
        control_id = fn.get("controlid")

        def attempt() -> Result:
            resp = self._send([fn])
            # A result that names another function answers another request: never read it
            # as this one's (an empty page would mark a window synced with nothing in it).
            results = resp.result_for(control_id) or [
                r for r in resp.results if not r.control_id]
            if not results:
                others = sorted({r.control_id for r in resp.results if r.control_id})
                self._raise(IntacctResponseError(
                    f"No result for function {control_id}"
                    + (f" (the answer is for {', '.join(others)})" if others else "")))
            result = results[0]
            err = result.error()
            if err is not None:
                self._raise(err)
            return result

        return self.retrying()(attempt)

    # -- reads -------------------------------------------------------------------------------
    def _page_size(self, page_size: int | None, maximum: int) -> int:
        size = page_size or self.config.page_size
        return max(1, min(int(size), maximum))

    def read_by_query(self, object: str, fields: str | Sequence[str] = "*",  # noqa: A002
                      query: str | rq.Filter = "", *, docparid: str | None = None,
                      page_size: int | None = None, read_ahead: bool = True,
                      isolate: bool = False) -> RecordStream:
        """Stream ``readByQuery`` + ``readMore(resultId)`` until ``numremaining`` is 0.

        ``query`` is a :class:`~intacct_sync.xml_request.Filter` (values escaped, datetimes
        converted to the company zone) or a raw query string you built safely yourself.
        Pages are one consistent snapshot (resultId); order is Intacct's, not sorted.
        ``read_ahead=False`` for a read that may stop after its first page (no extra call).
        ``isolate=True`` (``fields`` must include RECORDNO): a page that cannot be parsed
        does not end the read; its records are read again by key, in halving pieces, and
        each record that alone cannot be read is in ``stream.unreadable`` (:meth:`_isolate`).
        """
        size = self._page_size(page_size, READ_BY_QUERY_MAX_PAGE)
        text = query if isinstance(query, str) else rq.build_query(query, self.company_timezone)
        unreadable: list[UnreadableRecord] = []
        stream = RecordStream(
            self._read_by_query_pages(object, fields, text, docparid, size,
                                      unreadable if isolate else None),
            read_ahead=read_ahead)
        stream.unreadable = unreadable
        return stream

    def read_by_queries(self, object: str, fields: str | Sequence[str],  # noqa: A002
                        queries: Iterable[str | rq.Filter], *, docparid: str | None = None,
                        page_size: int | None = None, isolate: bool = False) -> RecordStream:
        """Several ``readByQuery`` reads as one stream, e.g. the lines of 500 headers at a
        time: the next read is asked for as soon as the previous one's last page arrived.
        ``isolate`` as in :meth:`read_by_query`."""
        size = self._page_size(page_size, READ_BY_QUERY_MAX_PAGE)
        unreadable: list[UnreadableRecord] = []

        def pages() -> Iterator[Data]:
            for query in queries:
                text = (query if isinstance(query, str)
                        else rq.build_query(query, self.company_timezone))
                yield from self._read_by_query_pages(object, fields, text, docparid, size,
                                                     unreadable if isolate else None)

        stream = RecordStream(pages(), single_read=False)
        stream.unreadable = unreadable
        return stream

    def _read_by_query_pages(self, obj: str, fields: str | Sequence[str], query: str,
                             docparid: str | None, size: int,
                             unreadable: list[UnreadableRecord] | None = None
                             ) -> Iterator[Data]:
        """The snapshot's pages; with `unreadable` (an isolating read) a page that cannot be
        parsed hands over to :meth:`_isolate` for the records not delivered yet."""
        delivered: set[str] = set()
        try:
            for data in self._snapshot_pages(obj, fields, query, docparid, size):
                if unreadable is not None:
                    delivered.update(str(r.get("RECORDNO")) for r in data.records)
                yield data
        except IntacctUnreadableResponseError as exc:
            if unreadable is None:
                raise
            self.log.warning("%s: a page cannot be parsed (%s); reading its records again by "
                             "key to find the one that causes it", obj, exc.message)
            yield from self._isolate(obj, fields, query, docparid, size, delivered, unreadable)

    def _isolate(self, obj: str, fields: str | Sequence[str], query: str,
                 docparid: str | None, size: int, delivered: set[str],
                 unreadable: list[UnreadableRecord]) -> Iterator[Data]:
        """Read what a failed snapshot had not delivered, by key, down to the bad records.

        The read's keys are listed (RECORDNO alone always parses; one call per 1,000), then
        the keys not delivered yet are read in pieces of up to ISOLATION_PIECE, one page
        each; a piece that cannot be parsed is halved, down to single records. A single
        record that still cannot be parsed goes to `unreadable`, every other one is read.
        Cost for one bad record: the listing, the pieces, and about log2(500) ≈ 9 halvings.
        """
        listed = [str(r["RECORDNO"])
                  for data in self._snapshot_pages(obj, ["RECORDNO"], query, docparid,
                                                   READ_BY_QUERY_MAX_PAGE)
                  for r in data.records if r.get("RECORDNO")]
        remaining = [k for k in dict.fromkeys(listed) if k not in delivered]
        piece = max(1, min(size, ISOLATION_PIECE))
        pending = [remaining[i:i + piece] for i in range(0, len(remaining), piece)]
        while pending:
            keys = pending.pop(0)
            text = rq.build_query(rq.in_("RECORDNO", keys), self.company_timezone)
            try:
                pages = list(self._snapshot_pages(obj, fields, text, docparid, len(keys)))
            except IntacctUnreadableResponseError as exc:
                if len(keys) > 1:
                    half = len(keys) // 2
                    pending[:0] = [keys[:half], keys[half:]]
                    continue
                self.log.warning("%s %s cannot be read from Intacct: %s", obj, keys[0],
                                 exc.message)
                unreadable.append(UnreadableRecord(obj, keys[0], exc.message))
                continue
            for data in pages:
                delivered.update(str(r.get("RECORDNO")) for r in data.records)
                yield data

    def _snapshot_pages(self, obj: str, fields: str | Sequence[str], query: str,
                        docparid: str | None, size: int) -> Iterator[Data]:
        first = self._call_single(rq.read_by_query(
            rq.new_control_id(), obj, fields, query, size, docparid))
        data = first.data or _empty()
        total, delivered = data.totalcount, len(data.records)
        yield data
        while (data.numremaining or 0) > 0:
            if not data.resultid:
                self._raise(IntacctResponseError(
                    f"{obj}: {data.numremaining} records remain but no resultId was given",
                    retryable=False))
            result = self._call_single(rq.read_more(rq.new_control_id(), str(data.resultid)))
            data = result.data or _empty()
            if not data.records and (data.numremaining or 0) > 0:
                self._raise(IntacctResponseError(
                    f"{obj}: readMore returned no records with {data.numremaining} remaining",
                    retryable=False))
            delivered += len(data.records)
            # readMore moves Intacct's cursor: if a reply was lost and the call retried, the
            # retry answers with the *next* page. Intacct's own count exposes the gap.
            if total is not None and data.numremaining is not None and (
                    total - data.numremaining != delivered):
                self._raise(IntacctResponseError(
                    f"{obj}: readMore pages skipped or repeated records (received {delivered}, "
                    f"Intacct reports {total - data.numremaining} delivered); read again",
                    retryable=False))
            yield data

    def query_keyset(self, object: str, fields: Sequence[str], *,  # noqa: A002
                     modified_from: datetime | None = None,
                     modified_to: datetime | None = None,
                     extra_filter: rq.Filter | None = None, docparid: str | None = None,
                     page_size: int | None = None,
                     include_unmodified: bool | None = None) -> RecordStream:
        """Stream the ``query`` function with keyset paging on (WHENMODIFIED, RECORDNO).

        The window is ``modified_from <= WHENMODIFIED < modified_to`` (aware datetimes,
        converted to the company zone). Each page is a fresh query continuing strictly after
        the last (WHENMODIFIED, RECORDNO) seen, so records changing underneath can neither
        shift a page (no duplicates of a version, no misses as with offsets): a record
        modified while reading reappears later with its new WHENMODIFIED if that is still
        inside the window. ``RECORDNO`` and ``WHENMODIFIED`` are added to ``fields``.

        Old records can have an empty WHENMODIFIED; no window matches them. With
        ``include_unmodified`` (default: when there is no ``modified_from``, i.e. a full
        read) they are read first, keyset on RECORDNO. ``totalcount`` covers both parts.
        """
        for bound in (modified_from, modified_to):
            if bound is not None and (bound.tzinfo is None or bound.utcoffset() is None):
                raise ValueError("modified_from/modified_to must be timezone-aware datetimes")
        names = list(dict.fromkeys([*fields, "RECORDNO", "WHENMODIFIED"]))
        size = self._page_size(page_size, QUERY_MAX_PAGE)
        window: list[rq.Filter] = list(
            rq.modified_window(modified_from, modified_to, self.company_timezone))
        if extra_filter is not None:
            window.append(extra_filter)
        if include_unmodified is None:
            include_unmodified = modified_from is None
        if not include_unmodified:
            return RecordStream(self._keyset_pages(object, names, window, docparid, size))
        # Two disjoint parts: empty WHENMODIFIED (keyset on RECORDNO), then the rest.
        main = self._keyset_pages(object, names, [rq.is_not_null("WHENMODIFIED"), *window],
                                  docparid, size)
        nulls_only = [rq.is_null("WHENMODIFIED")] + (
            [extra_filter] if extra_filter is not None else [])
        unmodified = self._keyset_pages(object, names, nulls_only, docparid, size,
                                        by_whenmodified=False)
        return RecordStream(_both_parts(unmodified, main))

    def _keyset_pages(self, obj: str, fields: list[str], window: list[rq.Filter],
                      docparid: str | None, size: int, *,
                      by_whenmodified: bool = True) -> Iterator[Data]:
        tz = self.company_timezone
        cursor: tuple[str, int] | None = None
        cursor_sort: tuple[datetime, int] | None = None
        order = [("WHENMODIFIED", True), ("RECORDNO", True)] if by_whenmodified else [
            ("RECORDNO", True)]
        first = True
        while True:
            conditions = list(window)
            if cursor is not None:
                wm, recordno = cursor
                conditions.append(rq.Or(
                    rq.gt("WHENMODIFIED", wm),
                    rq.And(rq.eq("WHENMODIFIED", wm), rq.gt("RECORDNO", recordno)))
                    if by_whenmodified else rq.gt("RECORDNO", recordno))
            filter_ = rq.And(*conditions) if conditions else None
            result = self._call_single(rq.query(
                rq.new_control_id(), obj, fields, filter_, order, size, tz, docparid=docparid))
            data = result.data or _empty()
            if not first:
                data.totalcount = None  # later pages count what remains, not the window
            first = False
            yield data
            if not data.records:
                return
            last = data.records[-1]
            wm_text, rn_text = last.get("WHENMODIFIED"), last.get("RECORDNO")
            if not isinstance(rn_text, str) or (by_whenmodified and not isinstance(wm_text, str)):
                self._raise(IntacctResponseError(
                    f"{obj}: query records lack WHENMODIFIED/RECORDNO", retryable=False))
            new_sort = (_sortable(str(wm_text)) if by_whenmodified else datetime.min,
                        int(str(rn_text)))
            if cursor_sort is not None and new_sort <= cursor_sort:
                self._raise(IntacctResponseError(
                    f"{obj}: keyset cursor did not advance (order by not honoured)",
                    retryable=False))
            cursor, cursor_sort = (str(wm_text), int(str(rn_text))), new_sort
            if data.numremaining == 0 or (
                    data.numremaining is None and len(data.records) < size):
                return

    def read(self, object: str, keys: Iterable[str | int],  # noqa: A002
             fields: str | Sequence[str] = "*", docparid: str | None = None) -> list[dict]:
        """``read`` by RECORDNO, 100 keys per call; unknown keys are silently absent."""
        return self._read_keys(object, keys, fields, docparid, by_name=False)

    def read_by_name(self, object: str, names: Iterable[str],  # noqa: A002
                     fields: str | Sequence[str] = "*", docparid: str | None = None
                     ) -> list[dict]:
        """``readByName`` by the object's id field (e.g. CUSTOMERID), 100 per call."""
        return self._read_keys(object, names, fields, docparid, by_name=True)

    def _read_keys(self, obj: str, keys: Iterable[str | int], fields: str | Sequence[str],
                   docparid: str | None, *, by_name: bool) -> list[dict]:
        keys = [str(k) for k in keys]
        for k in keys:
            if "," in k:
                raise ValueError(f"Key {k!r} contains a comma")
        out: list[dict] = []
        for i in range(0, len(keys), READ_MAX_KEYS):
            chunk = keys[i:i + READ_MAX_KEYS]
            result = self._call_single(rq.read(rq.new_control_id(), obj, chunk, fields,
                                               docparid, by_name=by_name))
            out.extend(result.records)
        return out

    # -- writes ------------------------------------------------------------------------------
    def write_batch(self, functions: Sequence[WriteFunction], *,
                    transaction: bool = False) -> list[WriteResult]:
        """Send writes, many functions per request, ``uniqueid=true``; results in input order.

        Function-level failures come back as ``WriteResult.error`` (one bad record never
        fails the others); function-level transient errors are re-sent (only those
        functions) under the retry policy. A replay Intacct reports as "already recorded
        with the control id" is a success; its key is looked up. Envelope-level failures
        (credentials, exhausted retries) raise.
        """
        ids = [f.control_id for f in functions]
        dupes = {c for c in ids if ids.count(c) > 1}
        if dupes:
            raise ValueError(f"Duplicate function control ids in one batch: {sorted(dupes)}")
        by_id: dict[str, WriteResult] = {}
        size = len(functions) if transaction else max(1, self.functions_per_request)
        for i in range(0, len(functions), size):
            by_id.update(self._write_chunk(functions[i:i + size], transaction))
        results = [by_id[f.control_id] for f in functions]
        self._recover_keys(results)
        return results

    def _write_chunk(self, chunk: Sequence[WriteFunction],
                     transaction: bool) -> dict[str, WriteResult]:
        tz = self.company_timezone
        elements: dict[str, etree._Element] = {}
        done: dict[str, WriteResult] = {}
        for f in chunk:
            try:
                elements[f.control_id] = f.to_element(tz)
            except ValueError as unsendable:  # e.g. a control character XML cannot carry
                if transaction:  # all or nothing: nothing is sent
                    raise
                done[f.control_id] = WriteResult(f, "failure", error=IntacctUnsendableError(
                    str(unsendable), control_id=f.control_id))
        pending = {f.control_id: f for f in chunk if f.control_id in elements}
        if not pending:
            return done
        provisional: dict[str, WriteResult] = {}
        try:
            for attempt in self.retrying():
                with attempt:
                    fns = list(pending.values())
                    resp = self._send([elements[f.control_id] for f in fns], uniqueid=True,
                                      transaction=transaction)
                    transient: IntacctError | None = None
                    for f in fns:
                        results = resp.result_for(f.control_id)
                        if not results:
                            done[f.control_id] = WriteResult(f, "failure", error=(
                                IntacctResponseError(
                                    f"Intacct's answer has no result for control id "
                                    f"{f.control_id}; the next push sends it again under the "
                                    "same control id (if it was applied, Intacct refuses the "
                                    "replay)", control_id=f.control_id, retryable=False)))
                            del pending[f.control_id]
                            continue
                        wr = self._write_result(f, results[0])
                        if isinstance(wr.error, IntacctTransientError) and not transaction:
                            provisional[f.control_id] = wr
                            transient = transient or wr.error
                        else:
                            done[f.control_id] = wr
                            provisional.pop(f.control_id, None)
                            del pending[f.control_id]
                    if transient is not None and pending:
                        raise transient
        except IntacctTransientError:
            if any(cid not in provisional for cid in pending):
                raise
        done.update({cid: provisional[cid] for cid in pending if cid in provisional})
        if transaction and any(r.already_recorded for r in done.values()):
            # A transaction commits all or nothing: if one function of a replayed
            # transaction was already recorded, the whole transaction committed before and
            # the "aborted" siblings (XL03000009 only) are replays too.
            for cid, r in list(done.items()):
                if isinstance(r.error, IntacctTransactionAbortedError) and set(
                        r.error.errornos) == {"XL03000009"}:
                    done[cid] = self._already_recorded(r.function)
        return done

    def _write_result(self, f: WriteFunction, result: Result) -> WriteResult:
        if result.ok:
            records = result.records
            key = result.key
            if key is None and records:
                recordno = records[0].get("RECORDNO")
                key = recordno if isinstance(recordno, str) else None
            if key is None and f.action in ("update", "delete"):
                key = f.key or _str_or_none(f.fields.get("RECORDNO"))
            return WriteResult(f, "success", key=key, records=records)
        err = result.error()
        assert err is not None
        err.scrub(self._known_secrets())
        if isinstance(err, IntacctAlreadyRecordedError):
            return self._already_recorded(f)
        return WriteResult(f, result.status or "failure", error=err)

    def _already_recorded(self, f: WriteFunction) -> WriteResult:
        """A replay Intacct refused as done: a success. Its key is known (updates, deletes,
        keyed functions) or looked up afterwards, with its batch (:meth:`_recover_keys`)."""
        key = None
        if f.action in ("update", "delete") or (f.key and f.action != "apply_arpayment"):
            key = f.key or _str_or_none(f.fields.get("RECORDNO"))
        self.log.info("Write %s was already recorded by Intacct (replay)", f.control_id)
        return WriteResult(f, "success", key=key, already_recorded=True)

    def _recover_keys(self, results: Iterable[WriteResult]) -> None:
        """Find the keys of replayed creates again: one query per object and lookup shape
        for up to 100 writes, not one per write (a dropped answer replays a whole request).
        A write whose record can no longer be found (deleted in Intacct since) fails."""
        groups: dict[tuple[str, tuple[str, ...]], list[tuple[WriteResult, dict]]] = {}
        for r in results:
            lookup = r.function.recovery_lookup() if r.already_recorded and not r.key else None
            if lookup:
                groups.setdefault((lookup[0], tuple(lookup[1])), []).append((r, lookup[1]))
        for (obj, names), items in groups.items():
            for i in range(0, len(items), READ_MAX_KEYS):
                part = items[i:i + READ_MAX_KEYS]
                filter_ = rq.And(*(rq.in_(n, sorted({str(v[n]) for _, v in part}))
                                   for n in names))
                try:
                    found = list(self.read_by_query(obj, ["RECORDNO", *names], filter_))
                except IntacctError as exc:
                    self.log.warning("Could not look up the keys of %d replayed writes: %s",
                                     len(part), exc)
                    continue
                for r, values in part:
                    same = [x for x in found
                            if all(str(x.get(n)) == str(values[n]) for n in names)]
                    if len(same) == 1:
                        r.key = _str_or_none(same[0].get("RECORDNO"))
                    elif not same:
                        r.status, r.error = "failure", IntacctRecordNotFoundError(
                            f"{r.control_id} was already recorded by Intacct, but the record it "
                            "created no longer exists (deleted in Intacct?); resend with a new "
                            "control id", control_id=r.control_id, retryable=False)
                    else:
                        self.log.warning("Lookup of %s in %s found %d records", r.control_id,
                                         obj, len(same))

    def _write_one(self, f: WriteFunction) -> WriteResult:
        return self.write_batch([f])[0]

    def create(self, object: str, record_id: str, fields: Mapping[str, Any], *,  # noqa: A002
               lookup: Mapping[str, Any] | None = None) -> WriteResult:
        """Generic ``create``; ``key`` is the new RECORDNO."""
        return self._write_one(WriteFunction("create", object, record_id, fields,
                                             lookup=lookup))

    def update(self, object: str, record_id: str, fields: Mapping[str, Any]  # noqa: A002
               ) -> WriteResult:
        """Generic ``update`` (identify the record with RECORDNO or its id field)."""
        return self._write_one(WriteFunction("update", object, record_id, fields))

    def delete(self, object: str, key: str, record_id: str | None = None  # noqa: A002
               ) -> WriteResult:
        return self._write_one(WriteFunction("delete", object, record_id or key, key=key))

    def create_invoice(self, record_id: str, fields: Mapping[str, Any]) -> WriteResult:
        """Legacy ``create_invoice``; ``key`` is the ARINVOICE RECORDNO."""
        return self._write_one(WriteFunction("create_invoice", "ARINVOICE", record_id, fields))

    def create_aradjustment(self, record_id: str, fields: Mapping[str, Any]) -> WriteResult:
        """Legacy ``create_aradjustment`` (negative amounts make a credit memo)."""
        return self._write_one(WriteFunction("create_aradjustment", "ARADJUSTMENT", record_id,
                                             fields))

    def create_arpayment(self, record_id: str, fields: Mapping[str, Any]) -> WriteResult:
        return self._write_one(WriteFunction("create_arpayment", "ARPYMT", record_id, fields))

    def apply_arpayment(self, record_id: str, fields: Mapping[str, Any]) -> WriteResult:
        """Legacy ``apply_arpayment`` (apply a credit memo/advance to an invoice)."""
        return self._write_one(WriteFunction("apply_arpayment", "ARPYMT", record_id, fields))

    def reverse_arpayment(self, key: str, datereversed: date, *, record_id: str | None = None,
                          description: str | None = None) -> WriteResult:
        return self._write_one(WriteFunction(
            "reverse_arpayment", "ARPYMT", record_id or key,
            {"datereversed": datereversed, "description": description}, key=key))

    def reverse_invoice(self, key: str, datereversed: date, *, record_id: str | None = None,
                        description: str | None = None) -> WriteResult:
        """Void a posted invoice by reversing it (a reversal record is added)."""
        return self._write_one(WriteFunction(
            "reverse_invoice", "ARINVOICE", record_id or key,
            {"datereversed": datereversed, "description": description}, key=key))

    def delete_invoice(self, key: str, record_id: str | None = None) -> WriteResult:
        return self._write_one(WriteFunction("delete_invoice", "ARINVOICE", record_id or key,
                                             key=key))

    def delete_aradjustment(self, key: str, record_id: str | None = None) -> WriteResult:
        return self._write_one(WriteFunction("delete_aradjustment", "ARADJUSTMENT",
                                             record_id or key, key=key))

    # -- connection test ---------------------------------------------------------------------
    def test_connection(self) -> tuple[bool, str]:
        """Open a session and read one record; explain each failure in plain words."""
        try:
            cfg = self.config
        except ValueError as exc:
            return False, str(exc)
        saved = self.retry_attempts
        self.retry_attempts = min(saved, 2)
        try:
            self.get_session()
            stream = self.read_by_query("CUSTOMER", ["RECORDNO"], page_size=1,
                                        read_ahead=False)
            total = stream.totalcount
        except IntacctSenderCredentialsError:
            return False, ("Intacct refused the Web Services sender id or sender password "
                           "(Login / Password fields). Check both; they are case-sensitive.")
        except IntacctSenderNotAuthorizedError:
            return False, (f"Sender id {cfg.sender_id!r} is not authorized for company "
                           f"{cfg.company_id!r}. In Intacct go to Company > Setup > Company > "
                           "Security > Web Services authorizations and add it.")
        except IntacctUserCredentialsError:
            return False, ("Intacct refused the sign-in: check the company id, the web "
                           "services user id and its password (and the entity id, if set).")
        except (IntacctPermissionError, IntacctObjectNotFoundError):
            return False, ("Signed in, but the web services user may not read customers: give "
                           "it Accounts Receivable permissions (see the README).")
        except IntacctCertificateError:
            return False, (f"The TLS certificate of {cfg.endpoint_url} failed verification: "
                           "check the URL; verification cannot be turned off.")
        except IntacctUnreachableError:
            return False, (f"Could not reach the endpoint URL {cfg.endpoint_url}: check the "
                           "URL and that this machine can reach it.")
        except IntacctRateLimitedError:
            return False, "Intacct is rate limiting this client right now; try again later."
        except IntacctError as exc:
            return False, f"Intacct error: {exc}"
        finally:
            self.retry_attempts = saved
        entity = f", entity {cfg.entity_id}" if cfg.entity_id else ""
        return True, (f"Connected to Intacct company {cfg.company_id}{entity}: session opened "
                      f"and {total if total is not None else 'some'} customers readable.")


# -- helpers -------------------------------------------------------------------------------------
def _check_tls(conn_id: str, endpoint: str, extra: Mapping[str, Any]) -> None:
    """HTTPS for every endpoint but loopback (the sandbox), certificates always verified.

    Credentials travel in the body, so plain http leaves the machine only over loopback.
    HttpHook would honour ``verify``/``verify_ssl`` extras; this hook never does, and
    refuses them rather than ignore them silently.
    """
    host = urlparse(endpoint).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if urlparse(endpoint).scheme != "https" and not loopback:
        raise ValueError(
            f"Intacct connection {conn_id!r}: endpoint {endpoint} is not HTTPS; plain http "
            "is allowed only on loopback (127.0.0.1, localhost, ::1)")
    for name in ("verify", "verify_ssl"):
        if name in extra and str(extra[name]).lower() != "true":
            raise ValueError(
                f"Intacct connection {conn_id!r}: extra {name}={extra[name]!r} is refused: "
                "TLS certificates are always verified (system CAs or REQUESTS_CA_BUNDLE) and "
                "verification cannot be turned off; remove the extra")


def _empty() -> Data:
    return Data(None, 0, 0, 0, None, None, [])


def _both_parts(first: Iterator[Data], second: Iterator[Data]) -> Iterator[Data]:
    """Pages of ``first`` then ``second``; the first page's totalcount is the sum of both.

    Both first pages are fetched up front so progress is known before iterating, without
    an extra counting call.
    """
    head_a, head_b = next(first, None), next(second, None)
    total = sum(d.totalcount or 0 for d in (head_a, head_b) if d is not None)
    leading = True
    for head, rest in ((head_a, first), (head_b, second)):
        if head is None:
            continue
        head.totalcount = total if leading else None
        leading = False
        yield head
        yield from rest


def _copy(el: etree._Element) -> etree._Element:
    # Elements can have one parent only; replays and retries need fresh copies.
    from copy import deepcopy
    return deepcopy(el)


def _str_or_none(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _sortable(whenmodified: str) -> datetime:
    try:
        return datetime.strptime(whenmodified, "%m/%d/%Y %H:%M:%S")
    except ValueError:
        return datetime.fromisoformat(whenmodified.replace("Z", "+00:00")).replace(tzinfo=None)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def reset_sessions() -> None:
    """Forget every cached session (tests, credential rotation)."""
    with _SESSIONS_GUARD:
        _SESSIONS.clear()


__all__ = [
    "DEFAULT_ENDPOINT", "LIMITER", "POOL_NAME", "IntacctConfig", "IntacctHook",
    "IntacctSession", "RecordStream", "UnreadableRecord", "WriteFunction", "WriteResult",
    "reset_sessions",
]
