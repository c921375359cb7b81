"""Switchable faults: what a flaky gateway does to a client (protocol §1.1, §7).

Each named fault has a schedule: ``next`` (the next N gateway calls), ``every`` (every Nth call)
or ``probability`` (seeded, so runs repeat). Set them at start (``--fault NAME:every=5``) or at
run time (``POST /_sandbox/faults``).
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass

FAULT_NAMES = (
    "http_401",            # 401 + XMLGW_JPP0002 body (F10)
    "http_400",            # 400 + GW-0011 "Invalid Request" body
    "http_429",            # 429 + GW-0010 rate limit body
    "http_502",            # 502 Bad Gateway (HTML)
    "http_503",            # 503 Service Unavailable (HTML)
    "http_524",            # the request IS processed, then 524 (CDN timeout, do not retry)
    "drop_response",       # the request IS processed, then the connection closes unanswered
    "html_error",          # 200 with a Cloudflare HTML error page (cf-error-details)
    "truncated_xml",       # the request IS processed, the XML answer is cut short
    "offline",             # control failure "The Service is Temporarily Off-line"
    "too_many_operations",  # control failure "too many operations running" (200024)
    "invalid_session",     # the session used by the call is invalidated first
)
PRE_PROCESSING = ("http_401", "http_400", "http_429", "http_502", "http_503", "html_error",
                  "offline", "too_many_operations")


@dataclass
class Schedule:
    next: int = 0
    every: int = 0
    probability: float = 0.0
    fired: int = 0


class Faults:
    def __init__(self, seed: int = 1) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self.schedules: dict[str, Schedule] = {}
        self.latency_ms = 0.0
        self.latency_jitter_ms = 0.0
        self.session_invalidate_every = 0
        # Objects the web services user may not read (a missing permission, e.g. AUDITHISTORY
        # without "custom reports: view"): reads answer "You do not have permission …".
        self.denied_objects: frozenset[str] = frozenset()
        self.calls = 0
        self.authenticated_calls = 0

    def set(self, name: str, next: int = 0, every: int = 0, probability: float = 0.0) -> None:
        if name not in FAULT_NAMES:
            raise ValueError(f"unknown fault {name!r}; known: {', '.join(FAULT_NAMES)}")
        with self._lock:
            if not (next or every or probability):
                self.schedules.pop(name, None)
            else:
                self.schedules[name] = Schedule(int(next), int(every), float(probability))

    def configure(self, body: dict) -> None:
        """Apply a JSON body: ``{"http_503": {"next": 2}, "latency_ms": 50, "clear": true}``."""
        if body.get("clear"):
            self.clear()
        for key, value in body.items():
            if key in ("clear", "max_concurrent", "concurrency_wait_seconds",
                       "resultid_ttl_seconds", "expire_resultids", "payment_batch_required"):
                continue
            if key == "latency_ms":
                self.latency_ms = float(value)
            elif key == "latency_jitter_ms":
                self.latency_jitter_ms = float(value)
            elif key == "session_invalidate_every":
                self.session_invalidate_every = int(value)
            elif key == "deny_objects":
                self.denied_objects = frozenset(str(v).upper() for v in value or ())
            elif isinstance(value, dict):
                self.set(key, **{k: v for k, v in value.items() if k in ("next", "every",
                                                                         "probability")})
            elif value in (None, False, 0):
                self.set(key)
            else:
                raise ValueError(f"fault {key!r} needs a schedule object")

    def parse_cli(self, spec: str) -> None:
        """``NAME:next=2``, ``NAME:every=10``, ``NAME:probability=0.05``."""
        name, _, rest = spec.partition(":")
        kwargs: dict[str, float] = {}
        for part in filter(None, rest.split(",")):
            k, _, v = part.partition("=")
            kwargs[k.strip()] = float(v)
        if not kwargs:
            kwargs = {"next": 1}
        self.set(name.strip(), **kwargs)  # type: ignore[arg-type]

    def clear(self) -> None:
        with self._lock:
            self.schedules.clear()
            self.latency_ms = self.latency_jitter_ms = 0.0
            self.session_invalidate_every = 0
            self.denied_objects = frozenset()

    def _fires(self, name: str, call_no: int) -> bool:
        s = self.schedules.get(name)
        if s is None:
            return False
        hit = False
        if s.next > 0:
            s.next -= 1
            hit = True
        elif (s.every and call_no % s.every == 0
              or s.probability and self._rng.random() < s.probability):
            hit = True
        if hit:
            s.fired += 1
            if not (s.next or s.every or s.probability):
                self.schedules.pop(name, None)
        return hit

    def draw(self) -> tuple[int, list[str]]:
        """Count one gateway call; return its number and the faults that fire on it."""
        with self._lock:
            self.calls += 1
            fired = [n for n in FAULT_NAMES if self._fires(n, self.calls)]
            return self.calls, fired

    def session_should_expire(self) -> bool:
        with self._lock:
            self.authenticated_calls += 1
            n = self.session_invalidate_every
            return bool(n) and self.authenticated_calls % n == 0

    def latency_seconds(self) -> float:
        with self._lock:
            jitter = self._rng.uniform(0, self.latency_jitter_ms) if self.latency_jitter_ms else 0
            return (self.latency_ms + jitter) / 1000.0

    def to_json(self) -> dict:
        with self._lock:
            return {
                "schedules": {k: asdict(v) for k, v in self.schedules.items()},
                "latency_ms": self.latency_ms, "latency_jitter_ms": self.latency_jitter_ms,
                "session_invalidate_every": self.session_invalidate_every,
                "deny_objects": sorted(self.denied_objects),
                "calls": self.calls, "known": list(FAULT_NAMES),
            }


CLOUDFLARE_PAGE = """<!DOCTYPE html>
<html lang="en-US"><head><title>{title} | api.intacct.com | Cloudflare</title></head>
<body><div id="cf-wrapper"><div id="cf-error-details" class="cf-error-details-wrapper">
<h1>{title}</h1><span class="cf-error-code">{code}</span>
<p>The web server reported an error. Ray ID: 7d2f0c1e9a8b{code}</p></div></div></body></html>
"""
