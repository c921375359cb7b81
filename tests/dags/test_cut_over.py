"""The cut-over (issue 15 item 2): the ongoing pull starts at `sync_start` — by default the
moment the pull is first enabled — and never reads before it; older data is the initial data
sync's job. Each test runs the customers DAG with dag.test() against the sandbox over HTTP
and the real database, and compares with the sandbox's own records."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.dags.test_pull_dags import _dag, _query
from tests.dags.test_pull_healing import _comparison_due, _ran
from tests.ground_truth import all_records, sandbox_get, sandbox_post

LA = ZoneInfo("America/Los_Angeles")
FORMAT = "%m/%d/%Y %H:%M:%S"


def _config(monkeypatch, **keys) -> None:
    """The product's configuration (no "beginning" as the other tests use), push off."""
    monkeypatch.setenv(
        "AIRFLOW_VAR_INTACCT_SYNC_CONFIG", json.dumps({"push": {"customers": False}, **keys})
    )


def _local_customers(connection) -> set[int]:
    rows = _query(
        connection,
        "SELECT intacct_recordno FROM ar.customers"
        " WHERE deleted_at IS NULL AND intacct_recordno IS NOT NULL",
    )
    return {r[0] for r in rows}


def _sync_start(connection) -> datetime | None:
    rows = _query(
        connection,
        "SELECT sync_start FROM intacct_sync.sync_state"
        " WHERE object = 'customers' AND direction = 'pull'",
    )
    return rows[0][0] if rows else None


def test_the_first_run_of_a_new_install_reads_only_from_the_cut_over(
    intacct_connection, clean_ar, monkeypatch
):
    """No sync_start configured: the cut-over is the first run. That run loads none of the
    company's history (not in its window, nor through the comparison, which runs on it); an
    edit after the cut-over arrives with the next run, and only that record."""
    _config(monkeypatch)
    server = intacct_connection
    before = datetime.now(UTC)
    _ran("customers")
    cut_over = _sync_start(clean_ar)
    assert cut_over is not None and before <= cut_over <= datetime.now(UTC)
    assert _local_customers(clean_ar) == set()
    assert sandbox_get(server, "summary", object="CUSTOMER")["count"] > 100  # all history

    time.sleep(1.1)  # WHENMODIFIED has whole seconds: the edit is clearly after the cut-over
    edited = sorted(c["RECORDNO"] for c in all_records(server, object="CUSTOMER"))[5]
    sandbox_post(server, "edit", {"object": "CUSTOMER", "recordno": edited, "set": {"NAME": "N"}})
    _comparison_due(clean_ar, "customers")
    _ran("customers")
    assert _local_customers(clean_ar) == {edited}
    assert _sync_start(clean_ar) == cut_over  # recorded once, kept
    [(name,)] = _query(
        clean_ar, "SELECT name FROM ar.customers WHERE intacct_recordno = %s", edited
    )
    assert name == "N"


def test_a_configured_sync_start_is_where_the_first_run_starts(
    intacct_connection, clean_ar, monkeypatch
):
    """sync_start in the middle of the company's history: the first run loads exactly the
    customers modified since then, as the sandbox's own records say."""
    modified = sorted(
        datetime.strptime(c["WHENMODIFIED"], FORMAT)
        for c in all_records(intacct_connection, object="CUSTOMER")
        if c.get("WHENMODIFIED")
    )
    start = modified[len(modified) // 2].replace(tzinfo=LA).astimezone(UTC)
    _config(monkeypatch, sync_start={"customers": start.isoformat()})
    _ran("customers")
    since = start.astimezone(LA).replace(tzinfo=None)
    expected = {
        c["RECORDNO"]
        for c in all_records(intacct_connection, object="CUSTOMER")
        if c.get("WHENMODIFIED") and datetime.strptime(c["WHENMODIFIED"], FORMAT) >= since
    }
    total = sandbox_get(intacct_connection, "summary", object="CUSTOMER")["count"]
    assert 0 < len(expected) < total
    assert _local_customers(clean_ar) == expected
    assert _sync_start(clean_ar) == start


def test_a_cut_over_still_to_come_reads_nothing(intacct_connection, clean_ar, monkeypatch):
    """sync_start tomorrow: the run skips (no error), calls Intacct for nothing it would
    read, and leaves no cursor."""
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    _config(monkeypatch, sync_start=tomorrow.isoformat())
    calls = sandbox_get(intacct_connection, "faults")["calls"]
    run = _dag("customers").test()
    assert str(run.state) in ("success", "DagRunState.SUCCESS")
    assert sandbox_get(intacct_connection, "faults")["calls"] == calls
    assert _local_customers(clean_ar) == set()
    assert _query(
        clean_ar,
        "SELECT last_window_end FROM intacct_sync.sync_state WHERE object = 'customers'"
        " AND direction = 'pull'",
    ) == [(None,)]
