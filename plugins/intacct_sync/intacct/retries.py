"""When the hook retries a call: which errors are worth it, and how long to wait first."""

from __future__ import annotations

import tenacity

from intacct_sync.intacct.errors import IntacctError, IntacctSessionExpiredError


class WaitRetryAfter(tenacity.wait.wait_base):
    """Exponential backoff with jitter, but never shorter than a server's Retry-After."""

    def __init__(self, inner: tenacity.wait.wait_base, cap: float) -> None:
        self.inner = inner
        self.cap = cap

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        base = self.inner(retry_state)
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        after = getattr(exc, "retry_after", None) or 0.0
        return min(max(base, after), self.cap)


def is_retryable(exc: BaseException) -> bool:
    # Session expiry is handled by renewal + one replay, not by backoff.
    return (isinstance(exc, IntacctError) and exc.retryable
            and not isinstance(exc, IntacctSessionExpiredError))


def retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
