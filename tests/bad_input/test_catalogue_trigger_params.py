"""Bad-input catalogue, trigger parameters: history runs of the pull DAGs and `make history`.

Each bad parameter set is refused before any Intacct call with a message that says what is
wrong and how to fix it, and leaves the AR database exactly as it was: either the Params
schema refuses it before a run exists, or the run's `plan` task fails on its first try.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.bad_input.conftest import (
    assert_refused_in_plan,
    database_state,
    intacct_calls,
    run_dag,
)
from tests.dags.test_pull_dags import _dag

pytestmark = pytest.mark.bad_input

ROOT = Path(__file__).resolve().parents[2]
COMPANY_TZ = ZoneInfo("America/Los_Angeles")  # the sandbox company's zone: "today" is there


@dataclass(frozen=True)
class Case:
    dag: str  # registry object
    conf: dict
    message: str  # what the run's log says, after "<dag id>: "


RUN_CASES = [
    pytest.param(
        Case("invoices", {"history_from": "2023-01-01", "history_to": "2024-12-31"},
             "the range 2023-01-01 → 2024-12-31 is 731 days; one run covers at most 366 days"
             " — split it into runs of at most one year, or queue them all with `make history`"),
        id="params-range-over-a-year",
    ),
    pytest.param(
        Case("payments", {"history_from": "2024-03-01", "history_to": "2024-02-01"},
             "history_to 2024-02-01 is before history_from 2024-03-01: swap the two dates"),
        id="params-end-before-start",
    ),
    pytest.param(
        Case("credit_notes", {"history_from": "2024-01-01", "history_to": "2999-01-01"},
             "history_to 2999-01-01 is in the future (today is {today}): history ends today at"
             " the latest; the hourly sync covers what happens from now on"),
        id="params-end-in-the-future",
    ),
    pytest.param(
        Case("payments", {"open_items_only": True},
             "intacct_payments has no parameter open_items_only; its Initial data sync"
             " parameters are history_from, history_to, then"),
        id="params-option-the-dag-does-not-have",
    ),
    pytest.param(
        Case("customers",
             {"all_customers": True, "history_from": "2024-01-01", "history_to": "2024-02-01"},
             "all_customers reads every customer: leave history_from and history_to empty"),
        id="params-all-customers-with-dates",
    ),
    pytest.param(
        Case("payments",
             {"history_from": "2024-01-01", "history_to": "2024-01-31", "then": [["2024-02-01"]]},
             "then=[['2024-02-01']] must be a list of [from, to] date pairs (YYYY-MM-DD)"),
        id="params-queued-range-without-its-end",
    ),
]  # fmt: skip


@pytest.mark.parametrize("case", RUN_CASES)
def test_a_bad_history_range_fails_plan_at_once_and_writes_nothing(
    case: Case, intacct_connection, clean_ar, capfd
):
    before, calls = database_state(clean_ar), intacct_calls(intacct_connection)
    today = datetime.now(COMPANY_TZ).date()

    outcome = run_dag(case.dag, capfd, case.conf)

    dag_id = f"intacct_{case.dag}"
    assert_refused_in_plan(outcome, f"{dag_id}: {case.message.format(today=today)}")
    assert intacct_calls(intacct_connection) == calls
    assert database_state(clean_ar) == before


SCHEMA_CASES = [
    pytest.param(
        Case("invoices", {"history_from": "2024-02-30", "history_to": "2024-03-31"},
             "'2024-02-30' is not a 'date'"),
        id="params-malformed-date",
    ),
    pytest.param(
        Case("invoices", {"include_payments": "yes"}, "'yes' is not of type 'boolean'"),
        id="params-option-not-a-boolean",
    ),
]  # fmt: skip


def _run_count(dag_id: str) -> int:
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        return session.query(DagRun).filter(DagRun.dag_id == dag_id).count()


@pytest.mark.parametrize("case", SCHEMA_CASES)
def test_a_malformed_parameter_is_refused_before_a_run_exists(
    case: Case, intacct_connection, clean_ar
):
    """The Params' JSON schema refuses these when the run is created (the Trigger form, REST
    and the CLI alike), so no run, no task and no Intacct call ever happen."""
    from airflow.sdk.exceptions import ParamValidationError

    dag = _dag(case.dag)
    runs, before = _run_count(dag.dag_id), database_state(clean_ar)
    calls = intacct_calls(intacct_connection)

    with pytest.raises(ParamValidationError) as refused:
        dag.test(run_conf=case.conf)

    assert case.message in str(refused.value)
    assert _run_count(dag.dag_id) == runs
    assert intacct_calls(intacct_connection) == calls
    assert database_state(clean_ar) == before


CLI_CASES = [
    pytest.param(
        ["--dag", "intacct_invoices", "--from", "2019-01-01", "--to", "2999-12-31"],
        "history: history_to 2999-12-31 is in the future (today is {today})",
        id="make-history-range-into-the-future",
    ),
    pytest.param(
        ["--dag", "intacct_invoices", "--from", "2019-02-30", "--to", "2021-06-30"],
        "history: history_from='2019-02-30' is not a date; give it as YYYY-MM-DD (e.g. "
        "2023-01-01)",
        id="make-history-malformed-date",
    ),
]


@pytest.mark.parametrize(("argv", "message"), CLI_CASES)
def test_make_history_refuses_with_exit_2_and_queues_nothing(argv: list[str], message: str):
    """The real command line, as `make history ... ARGS=--dry-run` runs it: exit 2, the reason
    on stderr, no run printed (a dry run that would queue prints them on stdout)."""
    today = datetime.now().date()
    done = subprocess.run(
        [sys.executable, "-m", "intacct_sync.history.queue", *argv, "--dry-run"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert (done.returncode, done.stdout) == (2, "")
    assert message.format(today=today) in done.stderr
