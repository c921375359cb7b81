"""The sync configuration (Airflow variable `intacct_sync_config`), validated in one place.

Which flows run, the pull overlap and the push defaults are configuration, changed without
code (design.md §2). A mistake there is refused with a message that names the key and the
fix, before any call to Intacct; a missing variable means the defaults below.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from intacct_sync.sync_objects import CUSTOMER_SOURCES, INVOICE_SOURCES

VARIABLE = "intacct_sync_config"
PULL_OBJECTS = ("customers", "invoices", "credit_notes", "payments")
PUSH_OBJECTS = ("customers", "invoices", "credit_notes", "payments", "convenience_fees")
DIMENSION_KEYS = ("locationid", "departmentid")
FEE_LINE_KEYS = ("glaccountno", *DIMENSION_KEYS, "projectid", "classid")
FEE_MODES = ("write_on", "write_off")
# Where local customers come from in Intacct (CUSTOMER_SOURCES): CUSTOMER records (one local
# customer each), or the bill-to contacts of CUSTOMER records (several local customers for one
# Intacct customer; identity (intacct_customer_id, intacct_contact_name), migration 0018).
# Both directions support both; what each pull reads is sync_objects.sourced.
# An hour of overlap is what keeps a late-committing batch (and a DST fall-back hour) in view.
MIN_LOOKBACK_MINUTES = 60
# sync_start "beginning": no cut-over (stored as the earliest time there is).
BEGINNING = datetime(1, 1, 1, tzinfo=UTC)


class SyncConfigError(ValueError):
    """The configuration cannot be used; the message says which key and how to fix it."""


@dataclass(frozen=True)
class SyncConfig:
    pull: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(PULL_OBJECTS, True))
    push: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(PUSH_OBJECTS, True))
    lookback_minutes: int = MIN_LOOKBACK_MINUTES
    keyset_comparison_hours: float = 24.0
    dimensions: dict[str, str] = field(default_factory=dict)
    convenience_fee_mode: str = "write_on"
    convenience_fee_line: dict[str, str] = field(default_factory=dict)
    overpayment_dimensions: dict[str, str] = field(default_factory=dict)
    # Pushed invoice and credit-note lines without an intacct_glaccountno of their own.
    invoice_glaccountno: str = "4000"
    # Where pushed payments without a bank account of their own are deposited.
    undeposited_funds_account: str = "1050"
    # Alert (intacct_sync/monitoring/notifiers.py) when a pull's last success is older than this.
    alert_after_hours: float = 3.0
    # The cut-over per object: the ongoing sync (hourly pull, push) starts here; older data is
    # the initial data sync's job. Unset: the moment the object's sync is first enabled
    # (recorded in intacct_sync.sync_state). "beginning" (BEGINNING): no cut-over — the first
    # hourly run reads the whole company and every local record is pushed (a small company,
    # the demo).
    sync_start: dict[str, datetime] = field(default_factory=dict)
    customer_source: str = "customer"
    # Where invoices / credit notes come from (intacct_sync/sync_objects.py INVOICE_SOURCES, reads).
    invoice_source: str = "order_entry"


def _where(key: str) -> str:
    return f"{VARIABLE}: {key}"


def _mapping(
    key: str, value: object, known: tuple[str, ...], noun: str, kind: type, expected: str
) -> Mapping:
    """An object whose keys are among `known` and whose values are all of `kind`."""
    if not isinstance(value, Mapping):
        raise SyncConfigError(f"{_where(key)} must be an object with keys {', '.join(known)}")
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise SyncConfigError(
            f"{_where(key)} has no {noun} {', '.join(unknown)}; known: {', '.join(known)}"
        )
    for name, item in value.items():
        if not isinstance(item, kind):
            raise SyncConfigError(f"{_where(f'{key}.{name}')}={item!r} must be {expected}")
    return value


def _flags(key: str, value: object, known: tuple[str, ...]) -> dict[str, bool]:
    """Per-object on/off switches; an object not named stays on."""
    given = _mapping(key, value, known, "object", bool, "true or false")
    return {name: bool(given.get(name, True)) for name in known}


def _texts(key: str, value: object, known: tuple[str, ...]) -> dict[str, str]:
    """Named texts; an empty text means unset."""
    given = _mapping(key, value, known, "key", str, "text")
    return {name: text for name, text in given.items() if text}


def _text(key: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise SyncConfigError(f"{_where(key)}={value!r} must be a non-empty text")
    return value.strip()


def _number(key: str, value: object, minimum: float, why: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SyncConfigError(f"{_where(key)}={value!r} must be a number")
    if value < minimum:
        raise SyncConfigError(f"{_where(key)}={value!r} is below {minimum:g}: {why}")
    return value


def _moments(key: str, value: object, known: tuple[str, ...]) -> dict[str, datetime]:
    """One aware ISO-8601 time (or "beginning") for every object, or one per object."""
    given = dict.fromkeys(known, value) if isinstance(value, str) else _mapping(
        key, value, known, "object", str, "an ISO-8601 time with a zone")
    moments = {}
    for name, text in given.items():
        try:
            moment = BEGINNING if text == "beginning" else datetime.fromisoformat(text)
        except ValueError:
            moment = None
        if moment is None or moment.utcoffset() is None:
            where = key if isinstance(value, str) else f"{key}.{name}"
            raise SyncConfigError(
                f"{_where(where)}={text!r} must be an ISO-8601 time with a zone, "
                'e.g. 2026-01-01T00:00:00+00:00, or "beginning" (no cut-over)'
            )
        moments[name] = moment
    return moments


def _customer_source(value: object) -> str:
    """One of CUSTOMER_SOURCES; anything else is refused, naming the allowed values."""
    if not isinstance(value, str) or value not in CUSTOMER_SOURCES:
        raise SyncConfigError(
            f"{_where('customer_source')}={value!r}: choose {' or '.join(CUSTOMER_SOURCES)}"
        )
    return value


def _invoice_source(value: object) -> str:
    """order_entry (default), accounts_receivable or both: see sync_objects.INVOICE_SOURCES."""
    if not isinstance(value, str) or value not in INVOICE_SOURCES:
        choices = f"{', '.join(INVOICE_SOURCES[:-1])} or {INVOICE_SOURCES[-1]}"
        raise SyncConfigError(f"{_where('invoice_source')}={value!r}: choose {choices}")
    return value


def parse(value: object) -> SyncConfig:
    """A SyncConfig from the variable's JSON (text or already decoded); None = defaults."""
    if value in (None, ""):
        return SyncConfig()
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as error:
            raise SyncConfigError(f"{VARIABLE} is not valid JSON: {error}") from None
    if not isinstance(value, Mapping):
        raise SyncConfigError(f"{VARIABLE} must be a JSON object")
    known = {f for f in SyncConfig.__dataclass_fields__}
    unknown = sorted(set(value) - known)
    if unknown:
        raise SyncConfigError(
            f"{VARIABLE} has no key {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    mode = value.get("convenience_fee_mode", "write_on")
    if mode not in FEE_MODES:
        raise SyncConfigError(
            f"{_where('convenience_fee_mode')}={mode!r}: choose {' or '.join(FEE_MODES)}"
        )
    return SyncConfig(
        pull=_flags("pull", value.get("pull", {}), PULL_OBJECTS),
        push=_flags("push", value.get("push", {}), PUSH_OBJECTS),
        lookback_minutes=int(
            _number(
                "lookback_minutes",
                value.get("lookback_minutes", MIN_LOOKBACK_MINUTES),
                MIN_LOOKBACK_MINUTES,
                "late-committing batches and the DST fall-back hour need an hour of overlap",
            )
        ),
        keyset_comparison_hours=float(
            _number(
                "keyset_comparison_hours",
                value.get("keyset_comparison_hours", 24),
                1,
                "each comparison lists every key and modification time; once an hour at most",
            )
        ),
        dimensions=_texts("dimensions", value.get("dimensions", {}), DIMENSION_KEYS),
        convenience_fee_mode=mode,
        convenience_fee_line=_texts(
            "convenience_fee_line", value.get("convenience_fee_line", {}), FEE_LINE_KEYS
        ),
        overpayment_dimensions=_texts(
            "overpayment_dimensions", value.get("overpayment_dimensions", {}), DIMENSION_KEYS
        ),
        invoice_glaccountno=_text(
            "invoice_glaccountno", value.get("invoice_glaccountno", SyncConfig.invoice_glaccountno)
        ),
        undeposited_funds_account=_text(
            "undeposited_funds_account",
            value.get("undeposited_funds_account", SyncConfig.undeposited_funds_account),
        ),
        alert_after_hours=float(
            _number(
                "alert_after_hours",
                value.get("alert_after_hours", SyncConfig.alert_after_hours),
                1,
                "the hourly pull needs an hour before it can be behind",
            )
        ),
        sync_start=_moments("sync_start", value.get("sync_start", {}), PUSH_OBJECTS),
        customer_source=_customer_source(value.get("customer_source", "customer")),
        invoice_source=_invoice_source(value.get("invoice_source", SyncConfig.invoice_source)),
    )


def load() -> SyncConfig:
    """The validated configuration from Airflow (inside a task: reads the variable)."""
    from airflow.sdk import Variable

    return parse(Variable.get(VARIABLE, default=None))
