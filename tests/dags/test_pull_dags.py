"""The pull DAGs, run with dag.test() against the sandbox over HTTP and a real database."""

from __future__ import annotations

from decimal import Decimal

from include.sync_objects import OBJECTS
from tests.ground_truth import sandbox_get

ORDER = ("customers", "invoices", "credit_notes", "payments")


def _dag(name: str):
    from airflow.dag_processing.dagbag import DagBag

    from tests.test_dag_integrity import DAGS_FOLDER

    bag = DagBag(dag_folder=str(DAGS_FOLDER / f"intacct_{name}.py"))
    return bag.dags[OBJECTS[name].dag_id]


def _query(connection, sql: str, *args):
    with connection.cursor() as cursor:
        cursor.execute(sql, args)
        return cursor.fetchall()


def test_every_pull_dag_runs_and_ties_out(intacct_connection, clean_ar):
    for name in ORDER:
        run = _dag(name).test()
        assert str(run.state) in ("success", "DagRunState.SUCCESS"), name
    truth = sandbox_get(intacct_connection, "summary", object="ARPYMT")
    [(count, total)] = _query(clean_ar, "SELECT count(*), sum(amount) FROM ar.payments")
    assert count == truth["count"]
    assert abs(total - Decimal(str(truth["TRX_TOTALENTERED"]))) < Decimal("0.005")
    states = dict(_query(clean_ar, "SELECT object, last_counts FROM intacct_sync.sync_state"))
    assert set(states) == set(ORDER)
    assert (
        states["customers"]["inserted"]
        == sandbox_get(intacct_connection, "summary", object="CUSTOMER")["count"]
    )
    assert _query(clean_ar, "SELECT count(*) FROM intacct_sync.raw_records") == [(0,)]
