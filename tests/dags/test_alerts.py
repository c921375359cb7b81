"""Alerts: a failed sync and a sync that fell behind are posted to the alerts webhook (the
`intacct_sync_alerts` connection), here a real HTTP server that records what it receives."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import sync_config_json
from tests.dags.test_pull_dags import _dag


@pytest.fixture
def webhook(monkeypatch):
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - stdlib name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args) -> None:  # keep pytest output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/hooks/intacct"
    monkeypatch.setenv(
        "AIRFLOW_CONN_INTACCT_SYNC_ALERTS", json.dumps({"conn_type": "http", "host": url})
    )
    yield received
    server.shutdown()


def test_a_failed_sync_is_posted_to_the_webhook(webhook, intacct_connection, clean_ar,
                                                 monkeypatch):  # fmt: skip
    monkeypatch.setenv("AIRFLOW_VAR_INTACCT_SYNC_CONFIG", sync_config_json(lookback_minutes=15))
    assert str(_dag("payments").test().state) in ("failed", "DagRunState.FAILED")
    [alert] = webhook
    assert (alert["kind"], alert["dag_id"], alert["task_id"]) == ("failed", "intacct_payments",
                                                                  "plan")  # fmt: skip
    assert "lookback_minutes=15 is below 60" in alert["text"]


def test_a_pull_that_fell_behind_is_posted_and_the_run_goes_on(webhook, intacct_connection,
                                                                clean_ar):  # fmt: skip
    with clean_ar, clean_ar.cursor() as cursor:
        cursor.execute(
            "INSERT INTO intacct_sync.sync_state (object, direction, last_success_at,"
            " last_window_end) VALUES ('customers', 'pull', now() - interval '5 hours',"
            " now() - interval '5 hours')"
        )
    assert str(_dag("customers").test().state) in ("success", "DagRunState.SUCCESS")
    [alert] = webhook
    assert (alert["kind"], alert["dag_id"]) == ("behind", "intacct_customers")
    assert "customers pull is 5.0 h behind" in alert["text"]
    assert str(_dag("customers").test().state) in ("success", "DagRunState.SUCCESS")
    assert len(webhook) == 1  # caught up: no second alert


def test_a_typo_in_the_trigger_form_fails_the_run_without_an_alert(
    webhook, intacct_connection, clean_ar
):
    """Issue 19: the person who typed a two-year range is looking at the run; paging the
    on-call for it is noise. The run still fails in plan, with the readable message."""
    run = _dag("invoices").test(
        run_conf={"history_from": "2024-01-01", "history_to": "2025-12-31"}
    )
    assert str(run.state) in ("failed", "DagRunState.FAILED")
    assert webhook == []
