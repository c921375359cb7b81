"""Near real time on real services (api-server, scheduler, dag-processor, triggerer): a local
invoice that becomes ready is in Intacct within 60 seconds, through an asset-triggered run
of intacct_invoices (NOTIFY → asset watcher → push), not the hourly schedule."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from intacct_sync.intacct.hook import IntacctHook
from intacct_sync.push.posting import enable, push_object
from intacct_sync.sync_config import parse

from include.localenv.airflow_services import AirflowServiceError, AirflowServices
from include.localenv.local_records import Line, LocalRecords
from tests.ground_truth import sandbox_get

DAG_ID = "intacct_invoices"
DEADLINE = 60.0  # seconds, the promise


def _one(connection, sql: str, *params):
    with connection, connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _listening(connection) -> bool:
    """The triggerer's watcher has its LISTEN connection open on this database."""
    return bool(
        _one(
            connection,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND application_name = 'intacct-sync-listen'",
        )[0]
    )


@pytest.mark.slow
def test_a_newly_ready_invoice_is_posted_within_a_minute(intacct_connection, clean_ar):
    enable(clean_ar)  # the push is on before the records are entered (its cut-over)
    records = LocalRecords(clean_ar)
    customer = records.customer("Realtime Co", account_number="ACC-RT")
    assert push_object(IntacctHook(), clean_ar, "customers", parse(None)).posted == 1
    draft = records.document("invoices", customer, "RT-1001", [Line("42.00")], state="draft")

    components = ("api-server", "scheduler", "dag-processor", "triggerer")
    with AirflowServices(components) as airflow:
        airflow.wait_for_dag(DAG_ID)
        was_paused = airflow.pause_all_except(DAG_ID)
        before = {r["dag_run_id"] for r in airflow.dag_runs(DAG_ID)}
        try:
            airflow.patch(f"/api/v2/dags/{DAG_ID}", {"is_paused": False})
            deadline = time.monotonic() + 120
            while not _listening(clean_ar):  # the watcher starts once the DAG is unpaused
                if time.monotonic() > deadline:
                    pytest.fail("no asset watcher listens:\n" + airflow.log_tail("triggerer"))
                time.sleep(1)
            # Let the run created by unpausing (the latest hour) finish first, so what
            # posts the invoice below can only be the event-driven run.
            _wait_for_new_runs(airflow, before)
            before = {r["dag_run_id"] for r in airflow.dag_runs(DAG_ID)}

            ready_at = time.monotonic()
            records.set_state("invoices", draft, "open")
            key = None
            while key is None and time.monotonic() - ready_at < DEADLINE:
                time.sleep(0.5)
                key = _one(clean_ar, "SELECT ar_recordno FROM ar.invoices WHERE id = %s", draft)[0]
            elapsed = time.monotonic() - ready_at
            assert key is not None, (
                f"not posted within {DEADLINE:.0f} s; scheduler log:\n"
                + airflow.log_tail("scheduler")
            )
            print(f"posted {elapsed:.1f} s after it became ready")
            invoice = sandbox_get(intacct_connection, "record", object="ARINVOICE", recordno=key)
            assert invoice["RECORDID"] == "RT-1001"
            new_runs = [r for r in airflow.dag_runs(DAG_ID) if r["dag_run_id"] not in before]
            assert {r["run_type"] for r in new_runs} == {"asset_triggered"}
            # An event-driven run only pushes: the pull path is skipped.
            ids = [r["dag_run_id"] for r in new_runs]
            airflow.wait_for_runs(DAG_ID, ids, timeout=180)
            for run_id in ids:
                path = f"/api/v2/dags/{DAG_ID}/dagRuns/{quote(run_id, safe='')}/taskInstances"
                states = {t["task_id"]: t["state"] for t in airflow.get(path)["task_instances"]}
                assert (states["push"], states["window"]) == ("success", "skipped"), states
        finally:
            _clean_up(airflow, before, was_paused)


def _wait_for_new_runs(airflow: AirflowServices, before: set[str]) -> None:
    """The hourly run unpausing creates (if any) finishes before the invoice becomes ready."""
    appear_by = time.monotonic() + 20
    while time.monotonic() < appear_by:
        new = [r["dag_run_id"] for r in airflow.dag_runs(DAG_ID) if r["dag_run_id"] not in before]
        if new:
            airflow.wait_for_runs(DAG_ID, new, timeout=300)
            return
        time.sleep(1)


def _clean_up(airflow: AirflowServices, before: set[str], was_paused: dict[str, bool]) -> None:
    """Pause the DAG again and remove the runs this test made (the test DB is shared)."""
    try:
        airflow.patch(f"/api/v2/dags/{DAG_ID}", {"is_paused": True})
        for run in airflow.dag_runs(DAG_ID):
            if run["dag_run_id"] in before:
                continue
            path = f"/api/v2/dags/{DAG_ID}/dagRuns/{quote(run['dag_run_id'], safe='')}"
            if run["state"] in ("queued", "running"):
                airflow.patch(path, {"state": "failed"})
            airflow.delete(path)
        airflow.restore_paused(was_paused)
    except AirflowServiceError as problem:
        print(f"clean-up: {problem} ({datetime.now(UTC):%H:%M:%S})")
