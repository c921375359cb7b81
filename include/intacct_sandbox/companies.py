"""Several companies in one sandbox process: each has its own Sandbox (data, clock, sessions,
faults, write log), built lazily on first use so dozens of configured companies stay cheap.

The shared gateway path picks the company from the request itself (the login ``companyid``,
or the company that issued the ``sessionid``); ``/companies/<id>/…`` pins one company, so a
session or login of another company is refused there exactly as Intacct refuses it.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from . import config
from .config import CompanySpec, SandboxOptions
from .ground_truth import GroundTruth
from .sandbox import Sandbox, resolve_scale

COMPANY_PREFIX = "/companies/"
_OPTION_NAMES = {f for f in SandboxOptions.__dataclass_fields__ if f != "extra"}
_COMPANY_RE = re.compile(rb"<companyid>\s*([^<|]*?)\s*(?:\|[^<]*)?</companyid>")
_SESSION_RE = re.compile(rb"<sessionid>\s*([^<]*?)\s*</sessionid>")


def build_sandbox(settings: dict[str, Any], company: CompanySpec | None = None) -> Sandbox:
    """A Sandbox from SandboxServer-style keyword arguments (see SandboxServer)."""
    kwargs = dict(settings)
    spec = resolve_scale(kwargs.pop("scale", "small"), kwargs.pop("invoices", None),
                         kwargs.pop("customers", None), kwargs.pop("adjustments", None),
                         kwargs.pop("history_days", None))
    options = SandboxOptions(**{k: kwargs.pop(k) for k in list(kwargs) if k in _OPTION_NAMES})
    latency = kwargs.pop("latency_ms", 0.0)
    jitter = kwargs.pop("latency_jitter_ms", 0.0)
    invalidate_every = kwargs.pop("session_invalidate_every", 0)
    sandbox = Sandbox(kwargs.pop("seed", 1), spec, kwargs.pop("timezone", config.DEFAULT_TIMEZONE),
                      kwargs.pop("start_time", None), kwargs.pop("frozen_clock", False), options,
                      kwargs.pop("faults", None), kwargs.pop("quiet", True), company)
    if kwargs:
        raise TypeError(f"unknown sandbox options: {', '.join(kwargs)}")
    sandbox.faults.latency_ms = float(latency)
    sandbox.faults.latency_jitter_ms = float(jitter)
    sandbox.faults.session_invalidate_every = int(invalidate_every)
    return sandbox


def company_credentials(url: str, company: CompanySpec) -> dict:
    """What a client needs to sign in to one company (the start-up JSON line's shape)."""
    return {"url": url, "sender_id": config.SENDER_ID,
            "sender_password": config.SENDER_PASSWORD, "company_id": company.company_id,
            "user_id": company.user_id, "user_password": company.user_password,
            "entity_ids": list(company.entity_ids)}


class _Company:
    def __init__(self, spec: CompanySpec, sandbox: Sandbox | None = None) -> None:
        self.spec = spec
        self.sandbox = sandbox
        self.ground_truth = GroundTruth(sandbox) if sandbox is not None else None


class Companies:
    """The companies of one process, keyed by company id; the first one is the default."""

    def __init__(self, default: Sandbox, defaults: dict[str, Any]) -> None:
        self.default_id = default.company_id
        self.defaults = {k: v for k, v in defaults.items() if k != "faults"}
        self.base_url = ""
        self._lock = threading.Lock()
        self._companies: dict[str, _Company] = {default.company_id: _Company(default.company,
                                                                             default)}

    # ------------------------------------------------------------------ configuration
    def add(self, spec: CompanySpec) -> dict:
        """Register a company; its data is seeded on its first request (lazy)."""
        settings = {**self.defaults, **spec.settings}
        resolve_scale(settings.get("scale", "small"))  # fail now on a bad scale, not later
        with self._lock:
            if spec.company_id in self._companies:
                raise ValueError(f"company {spec.company_id!r} already exists")
            spec.settings = settings
            self._companies[spec.company_id] = _Company(spec)
        return self.describe(spec.company_id)

    def ids(self) -> list[str]:
        with self._lock:
            return list(self._companies)

    def url_of(self, company_id: str) -> str:
        if company_id == self.default_id:
            return self.base_url + config.GATEWAY_PATH
        return f"{self.base_url}{COMPANY_PREFIX}{company_id}{config.GATEWAY_PATH}"

    def describe(self, company_id: str) -> dict:
        c = self._companies[company_id]
        return {**company_credentials(self.url_of(company_id), c.spec),
                "control_url": (self.base_url if company_id == self.default_id else
                                f"{self.base_url}{COMPANY_PREFIX}{company_id}") + "/_sandbox",
                "seeded": c.sandbox is not None}

    # ------------------------------------------------------------------ lookup
    def get(self, company_id: str) -> _Company | None:
        """The company, seeding it now if this is its first use; None if unknown."""
        with self._lock:
            c = self._companies.get(company_id)
            if c is None or c.sandbox is not None:
                return c
            sandbox = build_sandbox(c.spec.settings, c.spec)
            sandbox.gateway_url = self.url_of(company_id)
            c.sandbox = sandbox
            c.ground_truth = GroundTruth(sandbox)
            return c

    def default(self) -> _Company:
        return self._companies[self.default_id]

    def for_request(self, body: bytes) -> _Company:
        """The company a gateway request on the shared path addresses.

        A login names it (``companyid``, piped entity ignored); a session belongs to the
        company that issued it. Anything else (unknown company, unknown session, unparsable
        XML) goes to the default company, which answers with Intacct's error for it.
        """
        head = body[:8192]
        match = _COMPANY_RE.search(head)
        if match:
            found = self.get(match.group(1).decode("utf-8", "replace"))
            return found or self.default()
        match = _SESSION_RE.search(head)
        if match:
            sid = match.group(1).decode("utf-8", "replace")
            with self._lock:
                seeded = [c for c in self._companies.values() if c.sandbox is not None]
            for c in seeded:
                if sid in c.sandbox.authenticator.sessions:
                    return c
        return self.default()
