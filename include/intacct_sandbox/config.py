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


@dataclass
class CompanySpec:
    """One company a sandbox process serves: its credentials and how its data is seeded.

    ``settings`` holds the SandboxServer keyword arguments for this company (``seed``,
    ``scale``, ``timezone``, ``invoices``, ``start_time``, ``frozen_clock``, ``faults``,
    ``latency_ms`` and any SandboxOptions field); absent keys take the server's defaults.
    """

    company_id: str
    user_id: str = USER_ID
    user_password: str = USER_PASSWORD
    # the entities a session may sign in to: a subset of ENTITY_IDS; () = top level only
    entity_ids: tuple[str, ...] = ENTITY_IDS
    settings: dict = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict) -> CompanySpec:
        """A spec from JSON (CLI ``--companies`` file, ``POST /_sandbox/companies``)."""
        data = dict(data)
        company_id = str(data.pop("company_id", "") or "").strip()
        if not company_id or "|" in company_id or "/" in company_id:
            raise ValueError(f"invalid company_id {company_id!r}")
        user_id = str(data.pop("user_id", USER_ID))
        password = str(data.pop("user_password", USER_PASSWORD))
        entities = tuple(str(e) for e in data.pop("entity_ids", ENTITY_IDS))
        unknown = sorted(set(entities) - set(ENTITY_IDS))
        if unknown:  # the seeded data only knows these entities (seed_data.ENTITIES)
            raise ValueError(f"unknown entity ids {unknown}; choose from {list(ENTITY_IDS)}")
        settings = dict(data.pop("settings", {}))
        settings.update(data)  # flat form: {"company_id": "X", "seed": 2, "timezone": ...}
        return cls(company_id, user_id, password, entities, settings)
