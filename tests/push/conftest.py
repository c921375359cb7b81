"""Push tests: local records in real PostgreSQL, pushed over HTTP to the sandbox, checked
against the sandbox's own write log and records."""

from __future__ import annotations

import pytest
from intacct_sync.intacct.hook import IntacctHook
from intacct_sync.push.posting import PushCounts, enable, push_object
from intacct_sync.sync_config import parse

from include.localenv.local_records import LocalRecords
from tests.ground_truth import sandbox_get


@pytest.fixture
def hook(intacct_connection) -> IntacctHook:
    return IntacctHook(retry_initial_wait=0.01, retry_max_wait=0.05)


@pytest.fixture(autouse=True)
def push_enabled(request) -> None:
    """The push of every object was enabled (its cut-over recorded) before the test enters
    its records, as in production: records entered afterwards are posted (a configured
    sync_start still wins: the cut-over tests give one)."""
    if "clean_ar" not in request.fixturenames:
        return
    enable(request.getfixturevalue("clean_ar"))


@pytest.fixture
def records(clean_ar) -> LocalRecords:
    """Local records entered after the push was enabled (shared with tests/bad_input)."""
    enable(clean_ar)
    return LocalRecords(clean_ar)


@pytest.fixture
def push(hook, clean_ar):
    """push("invoices", dimensions={...}) runs one push with that sync configuration."""

    def run(name: str, **config) -> PushCounts:
        return push_object(hook, clean_ar, name, parse(config or None))

    return run


@pytest.fixture
def writes(intacct_connection):
    """The sandbox's write log since the last call: writes("create_invoice") → entries."""
    seen = {"seq": 0}

    def new(function: str | None = None) -> list[dict]:
        entries = sandbox_get(intacct_connection, "writes", since=seen["seq"])["writes"]
        if entries:
            seen["seq"] = entries[-1]["seq"]
        return [e for e in entries if function is None or e["function"] == function]

    new()  # start from now
    return new


@pytest.fixture
def intacct_customer(intacct_connection) -> dict:
    """An active USD customer of the seeded company (Intacct-origin)."""
    found = sandbox_get(
        intacct_connection,
        "records",
        object="CUSTOMER",
        query="STATUS = 'T' AND CURRENCY = 'USD'",
        limit=1,
    )
    return found["records"][0]
