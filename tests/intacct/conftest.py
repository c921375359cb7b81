"""Fixtures for the IntacctHook tests: connections from env vars, fixture files, fake HTTP."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
import requests
from intacct_sync.intacct import hook as hook_module
from intacct_sync.intacct.hook import IntacctHook
from requests.adapters import BaseAdapter

from tests.fixtures import INTACCT_FIXTURES as FIXTURES

FAST_RETRIES = {
    "retry_attempts": 4,
    "retry_initial_wait": 0.01,
    "retry_max_wait": 0.05,
    "retry_max_time": 10.0,
    "timeout": 10.0,
    "connect_timeout": 2.0,
}


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture(autouse=True)
def _airflow_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    if "AIRFLOW_HOME" not in os.environ:
        monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path_factory.mktemp("airflow_home")))
    hook_module.reset_sessions()
    yield
    hook_module.reset_sessions()


@pytest.fixture
def make_connection(monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """Factory: define an ``intacct`` connection via AIRFLOW_CONN_<ID> (no database)."""

    def make(
        conn_id: str = "intacct_test",
        *,
        url: str = "https://intacct.invalid/ia/xml/xmlgw.phtml",
        sender_id: str = "sender_x",
        sender_password: str = "sender-pass-secret",  # noqa: S107
        company_id: str = "COMPANY",
        user_id: str = "ws_user",
        user_password: str = "user-pass-secret",  # noqa: S107
        entity_id: str | None = None,
        company_timezone: str | None = "America/Los_Angeles",
        page_size: int | None = None,
        max_concurrent_requests: int | None = None,
    ) -> str:
        extra: dict[str, object] = {
            "company_id": company_id,
            "user_id": user_id,
            "user_password": user_password,
        }
        for k, v in (
            ("entity_id", entity_id),
            ("company_timezone", company_timezone),
            ("page_size", page_size),
            ("max_concurrent_requests", max_concurrent_requests),
        ):
            if v is not None:
                extra[k] = v
        monkeypatch.setenv(
            f"AIRFLOW_CONN_{conn_id.upper()}",
            json.dumps(
                {
                    "conn_type": "intacct",
                    "host": url,
                    "login": sender_id,
                    "password": sender_password,
                    "extra": extra,
                }
            ),
        )
        return conn_id

    return make


@dataclass
class Scripted:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "text/xml"})
    exc: Exception | None = None


def answering(request_body: bytes | str | None, answer: bytes) -> bytes:
    """Scripts write results with the placeholder control id "x"; a one-function request
    gets them under its own function's control id, as Intacct echoes it."""
    body = request_body.encode() if isinstance(request_body, str) else request_body or b""
    ids = re.findall(rb'<function controlid="([^"]+)"', body)
    if len(ids) != 1 or not isinstance(answer, bytes):
        return answer
    return answer.replace(b"<controlid>x</controlid>", b"<controlid>" + ids[0] + b"</controlid>")


class ScriptedAdapter(BaseAdapter):
    """Answers requests from a script; records every request body."""

    def __init__(self, script: list[Scripted]) -> None:
        super().__init__()
        self.script = list(script)
        self.requests: list[requests.PreparedRequest] = []

    def send(self, request, **kwargs):  # type: ignore[override]
        self.requests.append(request)
        item = self.script.pop(0)
        if item.exc is not None:
            raise item.exc
        resp = requests.Response()
        resp.status_code = item.status
        resp._content = answering(request.body, item.body)
        resp.headers.update(item.headers)
        resp.url = request.url
        resp.request = request
        return resp

    def close(self) -> None:
        pass


@pytest.fixture
def scripted_hook(make_connection) -> Iterator[Callable[..., tuple[IntacctHook, ScriptedAdapter]]]:
    """A hook whose HTTP layer answers from a script (for HTTP-level classification)."""

    def make(script: list[Scripted], **hook_kwargs) -> tuple[IntacctHook, ScriptedAdapter]:
        conn_id = make_connection()
        hook = IntacctHook(conn_id, **{**FAST_RETRIES, **hook_kwargs})
        adapter = ScriptedAdapter(script)
        plain_session = hook.get_conn

        def scripted_session(*args, **kwargs):
            # Every thread's HTTP session answers from the script (reads fetch a page
            # ahead in a worker thread, which opens its own session).
            session = plain_session(*args, **kwargs)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            return session

        hook.get_conn = scripted_session
        return hook, adapter

    yield make
