"""Airflow's own backfill of the hourly invoices DAG, on a real scheduler.

A backfill run re-pulls exactly its data interval widened back by the overlap: the repair of
a past window, whatever the cursor says. After a full sync (the cursor is then past every
hour below), the sandbox's clock is moved into four past UTC hours to edit Order Entry
invoices there — edits no hourly run would read again. `airflow backfill create` over those
hours then runs on real services (api-server, scheduler, dag-processor, LocalExecutor).
"""

from __future__ import annotations

import json
import time
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest

from include.localenv.airflow_services import AirflowServiceError, AirflowServices
from tests.dags.test_pull_dags import _dag, _query
from tests.ground_truth import all_records, sandbox_get, sandbox_post

DAG_ID = "intacct_invoices"
DAG = f"/api/v2/dags/{DAG_ID}"
COMPANY_TZ = ZoneInfo("America/Los_Angeles")  # the sandbox's WHENMODIFIED is company time
EDITS_PER_HOUR = 3
# A queued or running run of this DAG older than this was left by a crashed session.
STALE = timedelta(minutes=10)


def _company_time(moment: datetime) -> str:
    return moment.astimezone(COMPANY_TZ).strftime("%m/%d/%Y %H:%M:%S")


def _sandbox_count(server, start: datetime, end: datetime) -> int:
    """The sandbox's own count of sales invoices with WHENMODIFIED in [start, end)."""
    query = f"WHENMODIFIED >= '{_company_time(start)}' AND WHENMODIFIED < '{_company_time(end)}'"
    return sandbox_get(
        server, "records", object="SODOCUMENT", docparid="Sales Invoice", query=query, limit=1
    )["total"]


def _edit_in_past_hours(server, hours: list[datetime]) -> list[dict]:
    """Edit OE invoices (new WHENMODIFIED, new A/R key) with the sandbox clock in each hour."""
    events: list[dict] = []
    try:
        for k, hour in enumerate(hours):
            moment = hour + timedelta(minutes=15 + 10 * k)
            sandbox_post(server, "clock", {"set": moment.timestamp()})
            events += sandbox_post(
                server, "activity", {"steps": EDITS_PER_HOUR, "actions": ["edit_sales_invoice"]}
            )["events"]
    finally:
        sandbox_post(server, "clock", {"set": time.time()})
    return [e for e in events if "skipped" not in e]


def _overlap(airflow: AirflowServices) -> timedelta:
    try:
        value = airflow.get("/api/v2/variables/intacct_sync_config")["value"]
    except AirflowServiceError as missing:
        if missing.status != 404:
            raise
        return timedelta(minutes=60)
    return timedelta(minutes=int(json.loads(value).get("lookback_minutes", 60)))


def _run_path(run_id: str) -> str:
    return f"{DAG}/dagRuns/{quote(run_id, safe='')}"


def _settle_other_runs(airflow: AirflowServices) -> None:
    """The test DB is shared: once unpaused, a scheduler would take over any queued or
    running run of the DAG. A stale one (left by a crashed session) is marked failed; a fresh
    one (a dag.test in another session) is waited for, never touched."""
    deadline = time.monotonic() + 120
    while True:
        now = datetime.now(UTC)
        active = [r for r in airflow.dag_runs(DAG_ID) if r["state"] in ("queued", "running")]
        fresh = []
        for run in active:
            since = datetime.fromisoformat(
                run["start_date"] or run["queued_at"] or run["run_after"]
            )
            if now - since > STALE:
                airflow.patch(_run_path(run["dag_run_id"]), {"state": "failed"})
            else:
                fresh.append(run["dag_run_id"])
        if not fresh:
            return
        if time.monotonic() > deadline:
            pytest.fail(
                f"runs of {DAG_ID} are active in the Airflow test database: {fresh}. A "
                "scheduler would take them over: run this test when no other test session "
                f"is running, or mark them failed (they count as stale after {STALE})."
            )
        time.sleep(2)


def _cancel_open_backfills(airflow: AirflowServices) -> None:
    """Only one open backfill per DAG is allowed; one left open would refuse ours."""
    for backfill in airflow.get(f"/api/v2/backfills?dag_id={DAG_ID}&limit=100")["backfills"]:
        if backfill["completed_at"] is None:
            with suppress(AirflowServiceError):  # 409: completed meanwhile
                airflow.put(f"/api/v2/backfills/{backfill['id']}/cancel")


def _clean_up(
    airflow: AirflowServices, before: set[str] | None, was_paused: dict[str, bool]
) -> None:
    """Best effort, never masking the test's own failure: stop scheduling, then remove the
    runs this test created (backfill and scheduled ones only: a manual run that appeared
    meanwhile belongs to someone else) so a later session can backfill the same hours."""

    def attempt(call, *args) -> None:
        try:
            call(*args)
        except AirflowServiceError as problem:
            print(f"clean-up: {problem}")

    attempt(airflow.patch, DAG, {"is_paused": True})
    airflow.stop_component("scheduler")
    if before is not None:
        attempt(_cancel_open_backfills, airflow)
        for run in airflow.dag_runs(DAG_ID):
            if run["dag_run_id"] in before or run["run_type"] not in ("backfill", "scheduled"):
                continue
            path = _run_path(run["dag_run_id"])
            if run["state"] in ("queued", "running"):  # a running run cannot be deleted
                attempt(airflow.patch, path, {"state": "failed"})
            attempt(airflow.delete, path)
    attempt(airflow.restore_paused, was_paused)


def _ar_keys(connection, recordnos: list[int]) -> dict[int, int]:
    return dict(
        _query(
            connection,
            "SELECT intacct_recordno, ar_recordno FROM ar.invoices"
            " WHERE intacct_recordno = ANY(%s)",
            recordnos,
        )
    )


@pytest.mark.slow
def test_a_backfill_repulls_each_interval_plus_the_overlap(intacct_connection, clean_ar):
    server = intacct_connection
    for name in ("customers", "invoices"):
        assert str(_dag(name).test().state) in ("success", "DagRunState.SUCCESS"), name
    floor = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    # The latest hourly run (created on unpause) reads from floor - 2h: keep clear of it.
    hours = [floor - timedelta(hours=h) for h in (6, 5, 4, 3)]
    edits = _edit_in_past_hours(server, hours)
    assert edits, "no sales invoice could be edited"
    active = {
        c["CUSTOMERID"] for c in all_records(server, object="CUSTOMER") if c["STATUS"] == "active"
    }
    edited = {e["recordno"] for e in edits}
    truth = {
        r["RECORDNO"]: r
        for r in all_records(server, object="SODOCUMENT", docparid="Sales Invoice")
        if r["RECORDNO"] in edited
    }
    imported = {rn: r["PRRECORDKEY"] for rn, r in truth.items() if r["CUSTVENDID"] in active}
    assert imported, "every edited invoice belongs to an inactive customer"
    before_backfill = _ar_keys(clean_ar, list(imported))
    assert all(before_backfill.get(rn) != key for rn, key in imported.items())

    with AirflowServices(("api-server", "dag-processor")) as airflow:
        airflow.wait_for_dag(DAG_ID)
        # Nothing but this DAG's runs may execute; every DAG is paused until the backfill
        # is ready (the test DB is shared and has the pull DAGs unpaused).
        was_paused = airflow.pause_all_except()
        before: set[str] | None = None
        try:
            _settle_other_runs(airflow)
            _cancel_open_backfills(airflow)
            for run in airflow.dag_runs(DAG_ID):  # left at these hours by an earlier session
                if run["logical_date"] and datetime.fromisoformat(run["logical_date"]) in hours:
                    airflow.delete(_run_path(run["dag_run_id"]))
            before = {r["dag_run_id"] for r in airflow.dag_runs(DAG_ID)}
            started = time.monotonic()
            airflow.cli(
                *["backfill", "create", "--dag-id", DAG_ID],
                *["--from-date", hours[0].isoformat(), "--to-date", hours[-1].isoformat()],
            )
            runs = sorted(
                (
                    r
                    for r in airflow.dag_runs(DAG_ID)
                    if r["dag_run_id"] not in before and r["run_type"] == "backfill"
                ),
                key=lambda r: r["logical_date"],
            )
            assert [
                (r["run_type"], r["state"], datetime.fromisoformat(r["data_interval_start"]))
                for r in runs
            ] == [("backfill", "queued", h) for h in hours]
            # Backfill runs of a paused DAG stay queued; unpaused, the scheduler also creates
            # the latest hourly run beside them (backfills have their own max_active_runs).
            airflow.start_component("scheduler")
            airflow.patch(DAG, {"is_paused": False})
            finished = airflow.wait_for_runs(DAG_ID, [r["dag_run_id"] for r in runs], 600)
            print(f"backfill of {len(runs)} runs: {time.monotonic() - started:.0f} s")
            assert {r["state"] for r in finished.values()} == {"success"}, airflow.log_dir
            scheduled = [
                r
                for r in airflow.dag_runs(DAG_ID)
                if r["dag_run_id"] not in before and r["run_type"] == "scheduled"
            ]
            # Beside them at most the latest hourly runs (none when an earlier session in this
            # shared database already ran the latest hour; 2 when an hour boundary passed).
            assert len(scheduled) <= 2, [
                (r["run_type"], r["state"], r["logical_date"])
                for r in airflow.dag_runs(DAG_ID)
                if r["dag_run_id"] not in before
            ]

            overlap = _overlap(airflow)
            total = 0
            for run in runs:
                start = datetime.fromisoformat(run["data_interval_start"])
                end = datetime.fromisoformat(run["data_interval_end"])
                extracted = airflow.xcom(DAG_ID, run["dag_run_id"], "extract")
                window = (
                    datetime.fromisoformat(extracted["window_start"]),
                    datetime.fromisoformat(extracted["window_end"]),
                )
                assert window == (start - overlap, end), run["dag_run_id"]
                assert extracted["records"] == _sandbox_count(server, *window), window
                total += extracted["records"]
            # Every edit lies in one of the hours, so at least one window read it.
            assert total >= len(truth) > 0
        finally:
            _clean_up(airflow, before, was_paused)

    # The edits arrived: each imported invoice now follows its new A/R invoice, once.
    assert _ar_keys(clean_ar, list(imported)) == imported
    assert _query(
        clean_ar, "SELECT count(*) - count(DISTINCT intacct_recordno) FROM ar.invoices"
    ) == [(0,)]
