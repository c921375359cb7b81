"""The unchanged DAGs on the CeleryExecutor: a real Redis broker, two `airflow celery worker`
processes, the scheduler queuing through Celery. A full pull and push of customers and then
invoices, checked against the sandbox's ground truth, with tasks run by both workers."""

from __future__ import annotations

import time
from decimal import Decimal
from urllib.parse import quote

import pytest
from intacct_sync.push.posting import enable

from include.localenv.airflow_services import AirflowServiceError, AirflowServices
from include.localenv.celery import CeleryCluster
from include.localenv.local_records import Line, LocalRecords
from tests.chaos.conftest import assert_mirrors
from tests.ground_truth import all_records, sandbox_get

DAGS = ("intacct_customers", "intacct_invoices")

pytestmark = [pytest.mark.celery, pytest.mark.slow]


def _one(connection, sql: str, *params):
    with connection, connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _run(cluster: CeleryCluster, dag_id: str) -> tuple[list[str], list[dict]]:
    """Unpause the DAG, trigger a manual run (pull and push) and wait for it and for the run
    unpausing may create; the new run ids and their task instances."""
    airflow = cluster.airflow
    assert airflow is not None and cluster.workers is not None
    before = {r["dag_run_id"] for r in airflow.dag_runs(dag_id)}
    airflow.patch(f"/api/v2/dags/{dag_id}", {"is_paused": False})
    airflow.post(f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": None})
    new = [r["dag_run_id"] for r in airflow.dag_runs(dag_id) if r["dag_run_id"] not in before]
    deadline = time.monotonic() + 600
    while True:
        cluster.workers.check_alive()
        try:
            runs = airflow.wait_for_runs(dag_id, new, timeout=10)
            break
        except AirflowServiceError:
            if time.monotonic() > deadline:
                raise
    airflow.patch(f"/api/v2/dags/{dag_id}", {"is_paused": True})
    tasks = []
    for run_id in new:
        path = f"/api/v2/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances"
        tasks += airflow.get(path)["task_instances"]
    summary = {t["task_id"]: (t["state"], t["hostname"]) for t in tasks}
    states = {r["state"] for r in runs.values()}
    assert states == {"success"}, f"{dag_id}: {summary}\n" + cluster.log_tail()
    return new, tasks


def test_a_pull_and_push_run_on_two_celery_workers(intacct_connection, clean_ar, tmp_path):
    enable(clean_ar)  # the push is on before the local records are entered (its cut-over)
    records = LocalRecords(clean_ar)
    customer = records.customer("Celery Co", account_number="ACC-CELERY")
    invoice = records.document("invoices", customer, "CEL-1001", [Line("42.00")], state="open")

    started = time.monotonic()
    with CeleryCluster(workers=2, log_dir=tmp_path) as cluster:
        airflow = cluster.airflow
        assert airflow is not None and cluster.workers is not None
        for dag_id in DAGS:
            airflow.wait_for_dag(dag_id)
        was_paused = airflow.pause_all_except()  # only the runs this test triggers
        made: list[tuple[str, str]] = []
        try:
            ran_on: set[str] = set()
            for dag_id in DAGS:  # customers first: an invoice needs its customer's key
                run_ids, tasks = _run(cluster, dag_id)
                made += [(dag_id, run_id) for run_id in run_ids]
                ran_on |= {t["hostname"] for t in tasks if t["state"] == "success"}
        finally:
            _clean_up(airflow, made, was_paused)
    print(f"celery: both runs on 2 workers in {time.monotonic() - started:.0f} s")

    # Every task that ran, ran on one of our Celery workers, and both workers took tasks.
    assert ran_on == set(cluster.workers.names), ran_on

    # Pull and push of customers tie out with the sandbox: its records, plus the one pushed.
    truth = sandbox_get(intacct_connection, "summary", object="CUSTOMER")["count"]
    assert _one(clean_ar, "SELECT count(*) FROM ar.customers")[0] == truth
    pushed_id = _one(
        clean_ar, "SELECT intacct_customer_id FROM ar.customers WHERE id = %s", customer
    )[0]
    assert pushed_id in {
        c["CUSTOMERID"] for c in all_records(intacct_connection, object="CUSTOMER")
    }

    # The local invoice was posted, and its key is the sandbox's record of it.
    key = _one(clean_ar, "SELECT ar_recordno FROM ar.invoices WHERE id = %s", invoice)[0]
    assert key is not None
    posted = sandbox_get(intacct_connection, "record", object="ARINVOICE", recordno=key)
    assert posted["RECORDID"] == "CEL-1001"
    assert Decimal(str(posted["TOTALENTERED"])) == Decimal("42.00")
    # The pull of invoices mirrors the sandbox's sales invoices row for row (numbers, states,
    # totals, paid, due, lines): the chaos suite's comparison.
    assert assert_mirrors(intacct_connection, clean_ar, names=("invoices",))["invoices"] > 0


def _clean_up(
    airflow: AirflowServices, made: list[tuple[str, str]], was_paused: dict[str, bool]
) -> None:
    """Remove the runs this test made and restore paused states (the test DB is shared)."""
    try:
        for dag_id, run_id in made:
            airflow.delete(f"/api/v2/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}")
        airflow.restore_paused(was_paused)
    except AirflowServiceError as problem:
        print(f"clean-up: {problem}")
