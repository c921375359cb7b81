"""IntacctHook: the only code in intacct-sync that speaks XML to Sage Intacct.

Over 500 lines because one request's whole path — session, limiter slot, HTTP, retry, replay
after a session expiry, typed failure — is read top to bottom here; its parts live beside it.

Reads come back as streaming iterators of plain record dicts (shape documented in
:mod:`intacct_sync.intacct.xml_response`); writes go in batches of functions whose results are
mapped back to the records they belong to; failures are typed (:mod:`intacct_sync.intacct.errors`).

This module is the transport (HTTP, retries, sessions, one request at a time); the hook
composes the parts in their own modules: :mod:`.connection` (what a connection must hold),
:mod:`.sessions` (session cache, per-company request limiter), :mod:`.reads` (paging
streams) and :mod:`.writes` (write batches).

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
import logging
import threading
from collections import Counter
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import requests
import tenacity
from airflow.providers.http.hooks.http import HttpHook
from lxml import etree

from intacct_sync.intacct import POOL_NAME
from intacct_sync.intacct import xml_request as rq
from intacct_sync.intacct.connection import DEFAULT_ENDPOINT, IntacctConfig, load_config
from intacct_sync.intacct.errors import (
    ErrorDetail,
    IntacctCertificateError,
    IntacctConnectionConfigError,
    IntacctError,
    IntacctGatewayTimeoutError,
    IntacctObjectNotFoundError,
    IntacctPermissionError,
    IntacctRateLimitedError,
    IntacctResponseError,
    IntacctSenderCredentialsError,
    IntacctSenderNotAuthorizedError,
    IntacctSessionExpiredError,
    IntacctTemporarilyUnavailableError,
    IntacctUnreachableError,
    IntacctUserCredentialsError,
    classify,
    error_for_http_status,
)
from intacct_sync.intacct.reads import ReadsMixin, RecordStream, UnreadableRecord
from intacct_sync.intacct.retries import WaitRetryAfter, is_retryable, retry_after_seconds
from intacct_sync.intacct.sessions import (
    LIMITER,
    SEEN_SESSION_IDS,
    SESSION_LOCKS,
    SESSIONS,
    SESSIONS_GUARD,
    CompanyLimiter,
    IntacctSession,
    reset_sessions,
)
from intacct_sync.intacct.writes import WriteFunction, WriteResult, WritesMixin
from intacct_sync.intacct.xml_response import Response, Result, parse_response

try:  # Airflow 3 task SDK: masks in the task process and in the supervisor.
    from airflow.sdk.log import mask_secret
except ImportError:  # pragma: no cover - older Airflow
    from airflow.utils.log.secrets_masker import mask_secret  # type: ignore[no-redef]



# -- the hook -----------------------------------------------------------------------------------
class IntacctHook(ReadsMixin, WritesMixin, HttpHook):
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
        config = load_config(self.intacct_conn_id, self.get_connection(self.intacct_conn_id))
        for secret in config.secrets:
            mask_secret(secret)
        self.base_url = config.endpoint_url
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
        return [s for s in cfg.secrets if s] + sorted(SEEN_SESSION_IDS, key=len, reverse=True)

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
        retry_after = retry_after_seconds(http.headers.get("Retry-After"))
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
            retry=tenacity.retry_if_exception(is_retryable),
            wait=WaitRetryAfter(
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
        with SESSIONS_GUARD:
            lock = SESSION_LOCKS[key]
        with lock:
            session = SESSIONS.get(key)
            if session is not None and not session.expiring(self.session_refresh_margin):
                return session
            session = self.retrying()(self._open_session)
            SESSIONS[key] = session
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
        SEEN_SESSION_IDS.add(session_id)
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
        with SESSIONS_GUARD:
            if SESSIONS.get(key) is session:
                del SESSIONS[key]

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



def _copy(el: etree._Element) -> etree._Element:
    # Elements can have one parent only; replays and retries need fresh copies.
    return copy.deepcopy(el)


__all__ = [
    "DEFAULT_ENDPOINT", "LIMITER", "POOL_NAME", "CompanyLimiter", "IntacctConfig",
    "IntacctHook",
    "IntacctSession", "RecordStream", "UnreadableRecord", "WriteFunction", "WriteResult",
    "reset_sessions",
]
