"""The Airflow connection of a Sage Intacct company, validated into an IntacctConfig.

Kept apart from the hook so what a connection must hold (and the TLS policy) reads in one place."""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ENDPOINT = "https://api.intacct.com/ia/xml/xmlgw.phtml"
READ_BY_QUERY_MAX_PAGE = 1000
QUERY_MAX_PAGE = 2000


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


def check_tls(conn_id: str, endpoint: str, extra: Mapping[str, Any]) -> None:
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


def load_config(conn_id: str, conn: Any) -> IntacctConfig:
    """Validate an Airflow connection into an IntacctConfig; ValueError names the field."""
    raw_extra = conn.extra_dejson or {}
    # Older forms stored custom fields as ``extra__intacct__<name>``; accept both.
    extra = {k.removeprefix("extra__intacct__"): v for k, v in raw_extra.items()}

    def need(value: Any, what: str) -> str:
        if value in (None, ""):
            raise ValueError(f"Intacct connection {conn_id!r}: {what} is missing")
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
            f"Intacct connection {conn_id!r}: endpoint URL {conn.host!r} is not "
            f"a URL; give it as {DEFAULT_ENDPOINT}")
    check_tls(conn_id, host, extra)

    tz_name = extra.get("company_timezone")
    if not tz_name:
        # WHENMODIFIED carries no zone and Intacct's API does not say which one it is
        # (protocol §4.6: "no associated timezones"); a guess (UTC) shifts every window
        # by hours and each run still "succeeds" while changes are lost.
        raise ValueError(
            f"Intacct connection {conn_id!r}: company_timezone is missing; set "
            "this extra field to the company's IANA time zone, e.g. America/New_York "
            "(WHENMODIFIED carries no zone)")
    try:
        tz = ZoneInfo(str(tz_name))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"Intacct connection {conn_id!r}: company_timezone {tz_name!r} is "
            "not an IANA time zone; give the company's zone, e.g. America/New_York") from None

    def whole(name: str, default: int, allowed: range, meaning: str) -> int:
        # An explicit 0 is a mistake to report, not a reason to use the default.
        value = extra.get(name)
        if value in (None, ""):
            return default
        text = str(value).strip()
        if not text.isdigit() or int(text) not in allowed:
            raise ValueError(
                f"Intacct connection {conn_id!r}: {name}={value!r} must be "
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
    return config
