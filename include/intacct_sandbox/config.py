"""Fixed sandbox credentials and the options a sandbox starts with."""

from __future__ import annotations

from dataclasses import dataclass, field

SENDER_ID = "intacct_sync_sandbox"
SENDER_PASSWORD = "sandbox-sender-secret"  # noqa: S105 - documented sandbox credential
COMPANY_ID = "SANDBOX-AR"
USER_ID = "ws_sync"
USER_PASSWORD = "sandbox-user-secret"  # noqa: S105 - documented sandbox credential
ENTITY_IDS = ("E100", "E200", "E300")
# A valid Web Services sender that the company has *not* authorised (F09).
UNAUTHORIZED_SENDER_ID = "intacct_sync_unauthorized"
DEFAULT_PORT = 18931
DEFAULT_TIMEZONE = "America/Los_Angeles"
GATEWAY_PATH = "/ia/xml/xmlgw.phtml"


@dataclass
class SandboxOptions:
    """Behaviour knobs that are not faults (faults live in faults.py)."""

    session_duration_seconds: int = 6 * 3600
    resultid_ttl_seconds: int = 15 * 60
    resultid_max: int = 200
    max_concurrent: int = 2
    concurrency_wait_seconds: float = 2.0
    payment_batch_required: bool = False
    late_commit_lag_seconds: int = 8 * 60
    history_end: float | None = None  # epoch; default: clock start minus 5 minutes
    extra: dict = field(default_factory=dict)
