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
