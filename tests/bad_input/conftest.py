"""What every bad-input case checks besides its error: that nothing was lost or half-written.

`database_state` fingerprints every table of the AR database (the AR platform's tables and
the sync's bookkeeping), so "before == after" means a refused run wrote nothing anywhere.
`run_dag` runs a DAG the way Airflow does (dag.test) and returns what a person sees: the
run state, each task's state and tries, and the log text; `assert_refused_in_plan` checks a
run failed in its first task, on its first try.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import pytest

from tests.dags.test_pull_dags import _dag
from tests.ground_truth import sandbox_get

# The push fixtures (local records, one push with a given configuration, the sandbox's write
# log) and the scripted-HTTP hook, shared with tests/push and tests/intacct.
from tests.intacct.conftest import make_connection, scripted_hook  # noqa: F401
from tests.push.conftest import hook, push, records, writes  # noqa: F401


def database_state(connection) -> dict[str, str]:
    """table → digest of all its rows, for every table of the ar and intacct_sync schemas."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables"
            " WHERE table_schema IN ('ar', 'intacct_sync') AND table_type = 'BASE TABLE'"
            " ORDER BY 1"
        )
        tables = [r[0] for r in cursor.fetchall()]
        state = {}
        for table in tables:
            cursor.execute(
                f"SELECT count(*) || ':' || md5(coalesce(string_agg(t::text, '|'"
                f" ORDER BY t::text), '')) FROM {table} t"
            )
            state[table] = cursor.fetchone()[0]
    connection.rollback()
    return state


def intacct_calls(server) -> int:
    """Gateway calls the sandbox has answered so far (its own count)."""
    return sandbox_get(server, "faults")["calls"]


@dataclass
class RunOutcome:
    state: str
    tasks: dict[str, tuple[str | None, int]]  # task id → (state, tries)
    log: str


def task_states(dag_id: str, run_id: str) -> dict[str, tuple[str | None, int]]:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        instances = session.query(TaskInstance).filter_by(dag_id=dag_id, run_id=run_id)
        return {
            ti.task_id: (str(getattr(ti.state, "value", ti.state)) if ti.state else None,
                         ti.try_number)
            for ti in instances
        }  # fmt: skip


def run_dag(name: str, capfd, conf: dict | None = None) -> RunOutcome:
    """One run of the object's DAG through Airflow (dag.test), with what a person would read."""
    capfd.readouterr()
    run = _dag(name).test(run_conf=conf)
    out, err = capfd.readouterr()
    state = str(getattr(run.state, "value", run.state))
    return RunOutcome(state, task_states(run.dag_id, run.run_id), out + err)


def assert_refused_in_plan(outcome: RunOutcome, message: str) -> None:
    """Failed in its first task, on the first try (no retries spent), with `message`, and
    nothing after it ran."""
    assert outcome.state == "failed", outcome.tasks
    assert outcome.tasks["plan"] == ("failed", 1), outcome.tasks
    ran = {t for t, (state, _) in outcome.tasks.items() if state in ("success", "running")}
    assert ran == set(), ran
    assert message in outcome.log, outcome.log[-3000:]


@pytest.fixture
def intacct_conn_fields(intacct_connection, monkeypatch):
    """change(**fields) edits the intacct_default connection (None removes an extra field);
    top-level fields are host, login and password."""

    def change(**fields) -> None:
        conn = json.loads(os.environ["AIRFLOW_CONN_INTACCT_DEFAULT"])
        for name, value in fields.items():
            target = conn if name in ("host", "login", "password") else conn["extra"]
            if value is None:
                target.pop(name, None)
            else:
                target[name] = value
        monkeypatch.setenv("AIRFLOW_CONN_INTACCT_DEFAULT", json.dumps(conn))

    return change
