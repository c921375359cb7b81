"""Secrets: the sender password, the user password and every session id stay out of task
logs, XCom, rendered template fields, exception texts and HTTP headers / URLs.

Passwords travel in the XML body by protocol; the recorder (a loopback HTTP server in
front of the sandbox) shows that they do, and that they travel nowhere else.
"""

from __future__ import annotations

import json
import logging
import os
import re
import traceback
from pathlib import Path

import pytest
from intacct_sync.intacct import hook as hook_module
from intacct_sync.intacct.errors import (
    IntacctError,
    IntacctSenderCredentialsError,
    IntacctSessionExpiredError,
    IntacctUserCredentialsError,
)
from intacct_sync.intacct.hook import IntacctHook, WriteFunction

from include.localenv.local_records import LocalRecords
from tests.dags.test_pull_dags import _dag
from tests.intacct.conftest import FAST_RETRIES

pytestmark = pytest.mark.security

SESSION_ID = re.compile(rb"<sessionid>([^<]+)</sessionid>")


def _point_at(monkeypatch, conn_id: str, url: str, creds: dict, **overrides: str) -> str:
    """An intacct connection to `url` with the sandbox's credentials (some overridden)."""
    c = {**creds, **overrides}
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({
        "conn_type": "intacct", "host": url, "login": c["sender_id"],
        "password": c["sender_password"],
        "extra": {"company_id": c["company_id"], "user_id": c["user_id"],
                  "user_password": c["user_password"], "company_timezone": "America/Los_Angeles"},
    }))  # fmt: skip
    return conn_id


def _session_ids(gateway) -> set[str]:
    """Session ids as they really went over the wire (requests carry them)."""
    return {m.decode() for r in gateway.requests for m in SESSION_ID.findall(r.body)}


def _leaks(text: str, secrets: list[str]) -> list[str]:
    return [s for s in secrets if s in text]


def _run_texts(dag_id: str, run_id: str) -> tuple[list[str], list[str]]:
    """Every XCom value and every rendered template field of one run, as JSON text."""
    from airflow.models.renderedtifields import RenderedTaskInstanceFields as RTIF
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        xcoms = session.execute(select(XComModel.key, XComModel.value).where(
            XComModel.dag_id == dag_id, XComModel.run_id == run_id)).all()
        rendered = session.scalars(select(RTIF.rendered_fields).where(
            RTIF.dag_id == dag_id, RTIF.run_id == run_id)).all()
    return ([json.dumps([k, v], default=str) for k, v in xcoms],
            [json.dumps(r, default=str) for r in rendered])


def _task_log_files(dag_id: str, run_id: str) -> list[Path]:
    base = Path(os.environ.get("AIRFLOW_HOME", ".")) / "logs"
    return [p for p in base.glob(f"dag_id={dag_id}/run_id={run_id}/**/*") if p.is_file()]


def test_a_real_pull_and_push_run_keeps_secrets_out_of_logs_xcom_fields_and_headers(
    intacct_connection, clean_ar, recorder, monkeypatch, caplog, capfd
):
    sandbox = intacct_connection
    creds = sandbox.credentials
    gateway = recorder(upstream=sandbox.url)
    _point_at(monkeypatch, "intacct_default", gateway.url, creds)
    hook_module.reset_sessions()
    # A local customer Intacct rejects: the run's push task makes a failed write.
    LocalRecords(clean_ar).customer("Bad Mail Ltd", account_number="SEC-MAIL", email="nope")

    # The hook logs to a stdlib logger at DEBUG (request and response bodies included), so
    # what it writes is seen here before any Airflow masking could hide a leak.
    debug_log = logging.getLogger("intacct_sync.security_test")
    monkeypatch.setattr(IntacctHook, "log", property(lambda self: debug_log))
    with caplog.at_level(logging.DEBUG, logger=debug_log.name):
        run = _dag("customers").test()
    out, err = capfd.readouterr()
    assert str(run.state) in ("success", "DagRunState.SUCCESS")

    sessions = _session_ids(gateway)
    secrets = [creds["sender_password"], creds["user_password"], *sessions]
    assert sessions, "no session id went over the wire: the recorder saw no real traffic"

    # Task logs (what dag.test() printed and logged, and any task log file it wrote).
    logs = caplog.text + out + err
    logs += "".join(p.read_text(errors="replace") for p in _task_log_files(run.dag_id,
                                                                             run.run_id))
    assert "Opened Intacct API session" in logs  # the hook's own log lines were captured
    assert "Intacct request to" in logs  # … including the debug lines that show bodies
    assert _leaks(logs, secrets) == []

    # XCom values and rendered template fields of that run, from the metadata database.
    xcoms, rendered = _run_texts(run.dag_id, run.run_id)
    assert any('"push"' in x or "failed" in x for x in xcoms), xcoms  # the push reported
    assert rendered, "no rendered template fields were stored for the run"
    assert _leaks("".join(xcoms), secrets) == [] and _leaks("".join(rendered), secrets) == []

    # The failed write's reconciliation error (what the UI shows) holds no secret either.
    with clean_ar.cursor() as cursor:
        cursor.execute("SELECT message, hint FROM intacct_sync.reconciliation_errors")
        errors = json.dumps(cursor.fetchall())
    clean_ar.rollback()
    assert "nope" in errors and _leaks(errors, secrets) == []

    # HTTP: passwords in the XML body only; no header, path or query carries a secret.
    assert any(creds["user_password"].encode() in r.body for r in gateway.requests)
    for request in gateway.requests:
        on_the_side = request.path + json.dumps(request.headers)
        assert _leaks(on_the_side, secrets + [creds["sender_id"], creds["user_id"]]) == []
        assert not {"authorization", "cookie"} & {h.lower() for h in request.headers}


def _exception_text(error: BaseException) -> str:
    info = error.to_dict() if isinstance(error, IntacctError) else {}
    return ("".join(traceback.format_exception(error)) + str(error) + repr(error)
            + json.dumps(info, default=str))  # fmt: skip


@pytest.mark.parametrize(("override", "error_class"), [
    ({"user_password": "wrong-user-password-1"}, IntacctUserCredentialsError),
    ({"sender_password": "wrong-sender-password-1"}, IntacctSenderCredentialsError),
], ids=["user-password", "sender-password"])  # fmt: skip
def test_auth_failures_name_no_password_right_or_wrong(
    intacct_connection, recorder, monkeypatch, override, error_class
):
    creds = intacct_connection.credentials
    gateway = recorder(upstream=intacct_connection.url)
    hook = IntacctHook(_point_at(monkeypatch, "intacct_wrong", gateway.url, creds, **override),
                       **FAST_RETRIES)  # fmt: skip
    with pytest.raises(error_class) as info:
        hook.get_session()
    assert [r.path for r in gateway.requests] == ["/ia/xml/xmlgw.phtml"]  # really sent, once
    text = _exception_text(info.value)
    secrets = [creds["sender_password"], creds["user_password"], *override.values()]
    assert _leaks(text, secrets) == []


def test_a_failed_write_and_a_lost_session_name_no_secret(intacct_connection, recorder,
                                                          monkeypatch):
    creds = intacct_connection.credentials
    gateway = recorder(upstream=intacct_connection.url)
    hook = IntacctHook(_point_at(monkeypatch, "intacct_sec", gateway.url, creds), **FAST_RETRIES)
    [result] = hook.write_batch([WriteFunction(
        "create", "CUSTOMER", "sec-bad-mail",
        {"CUSTOMERID": "SEC-BAD", "NAME": "Bad Mail", "DISPLAYCONTACT": {"EMAIL1": "nope"}})])
    assert not result.ok
    with pytest.raises(IntacctError) as write_error:
        result.raise_for_error()
    assert write_error.value.errorno == "BL03000018"

    # Every call now finds its session invalidated: renewed once, then the error is raised.
    from tests.ground_truth import sandbox_post

    sandbox_post(intacct_connection, "faults", {"session_invalidate_every": 1})
    with pytest.raises(IntacctSessionExpiredError) as lost:
        list(hook.read_by_query("CUSTOMER", ["RECORDNO"]))
    sessions = _session_ids(gateway)
    assert len(sessions) >= 2  # the first session and its replacement
    secrets = [creds["sender_password"], creds["user_password"], *sessions]
    text = (_exception_text(write_error.value) + _exception_text(lost.value)
            + json.dumps(result.to_dict()))  # fmt: skip
    assert "nope" in text and _leaks(text, secrets) == []
