"""API sessions (cached per credentials and entity) and the per-company request limiter.

Process-wide state shared by every hook instance: one getAPISession per company and entity,
and one count of requests in flight per company, whatever the thread."""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from intacct_sync.intacct.errors import (
    IntacctTooManyOperationsError,
)
from intacct_sync.intacct.xml_response import Authentication


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


SESSIONS: dict[str, IntacctSession] = {}
SESSION_LOCKS: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
SESSIONS_GUARD = threading.Lock()
SEEN_SESSION_IDS: set[str] = set()  # scrubbed from every error text, even after renewal


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


def reset_sessions() -> None:
    """Forget every cached session (tests, credential rotation)."""
    with SESSIONS_GUARD:
        SESSIONS.clear()
