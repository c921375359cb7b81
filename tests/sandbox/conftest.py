"""Sandbox fixtures: each test gets its own freshly seeded sandbox on a free port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from include.intacct_sandbox import SandboxServer


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    """A small company (1,500 invoices); start-up takes milliseconds, so one per test."""
    with SandboxServer(seed=1, scale="small", port=0) as server:
        yield server


@pytest.fixture
def tiny_sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(seed=1, scale="tiny", port=0) as server:
        yield server


@pytest.fixture
def session_id(sandbox: SandboxServer) -> str:
    from .intacct_client import envelope, fn, post

    answer = post(sandbox.url, envelope(fn("<getAPISession/>")))
    return answer.xml.findtext("operation/result/data/api/sessionid")


# 2026-01-15 12:00 UTC: winter in both hemispheres' northern zones, so offsets are fixed.
COMPANIES_START = 1768478400.0
BERLIN = {"company_id": "ACME-BERLIN", "user_id": "ws_acme", "user_password": "acme-secret",
          "entity_ids": [], "settings": {"seed": 7, "scale": "tiny", "timezone": "Europe/Berlin",
                                         "start_time": COMPANIES_START, "frozen_clock": True}}
GLOBEX = {"company_id": "GLOBEX-ME", "entity_ids": ["E100", "E200"],
          "settings": {"seed": 3, "scale": "tiny", "start_time": COMPANIES_START,
                       "frozen_clock": True}}


@pytest.fixture
def companies_sandbox() -> Iterator[SandboxServer]:
    """Three companies in one process: the default (Los Angeles, entities E100–E300), a
    single-entity Berlin company and a second multi-entity company
    allowed only two of the entities."""
    with SandboxServer(seed=1, scale="tiny", port=0, start_time=COMPANIES_START,
                       frozen_clock=True, companies=[BERLIN, GLOBEX]) as server:
        yield server
