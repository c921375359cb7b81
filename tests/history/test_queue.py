"""`make history`: long ranges become consecutive calendar-year runs, chained, queued over REST.

Bad input exits 2 before any HTTP call (the --api port below is closed: a call would exit 1).
One test queues runs on a real api-server and reads them back.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from intacct_sync.history.queue import main, plan_runs

TODAY = date(2026, 11, 21)
NOWHERE = ["--api", "http://127.0.0.1:1", "--password", "unused"]
THREE_RUNS = [
    ("2019-01-01", "2019-12-31", 365),
    ("2020-01-01", "2020-12-31", 366),
    ("2021-01-01", "2021-06-30", 181),
]


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([*argv, *NOWHERE], today=TODAY)
    out, err = capsys.readouterr()
    return code, out, err


def test_a_long_range_becomes_consecutive_runs_of_at_most_a_year():
    now = datetime(2026, 11, 21, 9, 30, 5, tzinfo=UTC)
    runs = plan_runs(
        "intacct_invoices", "2019-01-01", "2021-06-30", open_items_only=True, today=TODAY, now=now
    )
    assert [(str(r.start), str(r.end), r.days) for r in runs] == THREE_RUNS
    assert [r.run_id for r in runs] == [
        f"history__{a}__{b}__20261121T093005Z" for a, b, _ in THREE_RUNS
    ]
    assert runs[0].conf == {
        "history_from": "2019-01-01",
        "history_to": "2019-12-31",
        "open_items_only": True,
        "include_payments": True,
    }
    assert runs[2].note == "initial data sync 2021-01-01 → 2021-06-30 (3 of 3)"
    one = plan_runs("intacct_payments", "2024-01-01", "2024-12-31", today=TODAY, now=now)
    assert [(r.conf, r.days) for r in one] == [
        ({"history_from": "2024-01-01", "history_to": "2024-12-31"}, 366)
    ]
    [customers] = plan_runs(
        "intacct_customers", None, None, all_customers=True, today=TODAY, now=now
    )
    assert (customers.conf, customers.run_id) == (
        {"all_customers": True},
        "history__all-customers__20261121T093005Z",
    )
    [dated] = plan_runs("intacct_customers", "2026-01-01", "2026-06-30", today=TODAY, now=now)
    assert dated.conf == {
        "history_from": "2026-01-01",
        "history_to": "2026-06-30",
        "all_customers": False,
    }


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--dag", "intacct_invoices", "--from", "2021-06-30", "--to", "2019-01-01"],
            "history_to 2019-01-01 is before history_from 2021-06-30: swap the two dates",
        ),
        (
            ["--dag", "intacct_invoices", "--from", "2019-01-01", "--to", "2026-12-01"],
            "history_to 2026-12-01 is in the future (today is 2026-11-21)",
        ),
        (
            ["--dag", "intacct_invoices", "--from", "2019-02-30", "--to", "2021-06-30"],
            "history_from='2019-02-30' is not a date; give it as YYYY-MM-DD",
        ),
        (
            ["--dag", "intacct_invoices", "--from", "2019-01-01", "--to", "2021-13-01"],
            "history_to='2021-13-01' is not a date",
        ),
        (["--dag", "intacct_invoices", "--from", "2019-01-01"], "history_to is missing"),
        (["--dag", "intacct_invoices"], "give --from and --to (YYYY-MM-DD)"),
        (
            ["--dag", "intacct_payments", "--from", "2019-01-01", "--to", "2019-12-31",
             "--open-items-only"],
            "intacct_payments does not take --open-items-only; its flags: none",
        ),
        (
            ["--dag", "intacct_customers", "--from", "2019-01-01", "--to", "2019-12-31",
             "--no-payments"],
            "intacct_customers does not take --no-payments; its flags: --all-customers",
        ),
        (
            ["--dag", "intacct_credit_notes", "--all-customers"],
            "intacct_credit_notes does not take --all-customers; its flags: "
            "--open-items-only, --no-payments",
        ),
        (
            ["--dag", "intacct_customers", "--all-customers", "--from", "2019-01-01"],
            "--all-customers reads every customer: leave out --from and --to",
        ),
        (
            ["--dag", "intacct_invoice", "--from", "2019-01-01", "--to", "2019-12-31"],
            "intacct_invoice is not a pull DAG; choose one of intacct_customers, "
            "intacct_invoices, intacct_credit_notes, intacct_payments",
        ),
    ],
    ids=[
        "end-before-start", "future", "malformed-from", "malformed-to", "half-given",
        "no-dates", "flag-not-for-payments", "flag-not-for-customers",
        "all-customers-not-for-credit-notes", "all-customers-with-dates", "unknown-dag",
    ],
)  # fmt: skip
def test_bad_input_exits_2_with_the_reason_before_any_http_call(capsys, argv, message):
    code, out, err = _run(capsys, *argv)
    assert code == 2
    assert message in err
    assert out == ""


def test_a_dry_run_prints_the_runs_and_calls_nothing(capsys):
    code, out, _ = _run(
        capsys,
        *["--dag", "intacct_credit_notes", "--from", "2019-01-01", "--to", "2021-06-30"],
        *["--no-payments", "--dry-run"],
    )
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 4
    assert "2020-01-01 → 2020-12-31  366 days" in lines[1]
    assert '"include_payments": false' in lines[0] and '"then": [["2020-01-01"' in lines[0]
    assert lines[-1] == "dry run: 3 run(s) of intacct_credit_notes, nothing sent to Airflow"


def test_without_a_password_it_says_where_it_looked(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE", str(tmp_path / "x"))
    code = main(
        ["--dag", "intacct_payments", "--from", "2024-01-01", "--to", "2024-02-01"], today=TODAY
    )
    assert code == 2
    assert f"no password for 'admin' in {tmp_path / 'x'}" in capsys.readouterr().err


@pytest.fixture(scope="module")
def api_server():
    """A real api-server (and the dag-processor that serializes the DAGs); no scheduler, so
    nothing queued here can run."""
    from include.localenv.airflow_services import AirflowServices

    with AirflowServices(("api-server", "dag-processor")) as airflow:
        yield airflow


def test_runs_are_queued_through_the_rest_api_and_stay_queued_while_paused(capsys, api_server):
    airflow = api_server
    dag = "/api/v2/dags/intacct_invoices"
    was_paused = airflow.wait_for_dag("intacct_invoices")["is_paused"]
    airflow.patch(dag, {"is_paused": True})

    def ours() -> list[dict]:
        """History runs that were not there before (dag.test runs may come and go)."""
        return [
            r
            for r in airflow.dag_runs("intacct_invoices")
            if r["dag_run_id"].startswith("history__") and r["dag_run_id"] not in before
        ]

    before: set[str] = set()
    before = {r["dag_run_id"] for r in ours()}
    # `--password=…`: a generated password may start with "-", which argparse would take for
    # an option when given as a separate word.
    login = ["--api", airflow.base_url, "--user", airflow.user, f"--password={airflow.password}"]
    try:
        code = main(
            ["--dag", "intacct_invoices", "--from", "2019-01-01", "--to", "2021-06-30", *login]
        )
        out, err = capsys.readouterr()
        assert code == 0, err
        # One queued run; the other years follow it one after another (conf `then`), so the
        # queue never holds the DAG's max_active_runs against the hourly runs.
        [run] = ours()
        assert (run["conf"], run["state"], run["run_type"], run["logical_date"]) == (
            {
                "history_from": "2019-01-01",
                "history_to": "2019-12-31",
                "open_items_only": False,
                "include_payments": True,
                "then": [[a, b] for a, b, _ in THREE_RUNS[1:]],
            },
            "queued",
            "manual",
            None,
        )
        assert run["dag_run_id"].startswith("history__2019-01-01__2019-12-31__")
        assert (
            run["note"]
            == "initial data sync 2019-01-01 → 2019-12-31 (1 of 3); then 2 more, one after another"
        )
        assert f"queued {run['dag_run_id']}  2019-01-01 → 2019-12-31  365 days" in out
        for a, b, days in THREE_RUNS[1:]:
            assert f"  then {a} → {b}  {days} days" in out
        assert "history: 3 run(s) of intacct_invoices (2019-01-01 → 2021-06-30, 912 days)" in out
        assert "WARNING: intacct_invoices is paused: the run stays queued" in out
        assert "airflow dags unpause intacct_invoices" in out

        # Airflow's own refusal is shown with its status, exit 1.
        code = main(
            ["--dag", "intacct_invoices", "--from", "2019-01-01", "--to", "2019-03-31",
             *login[:-1], "--password=wrong-password"]
        )  # fmt: skip
        assert code == 1
        assert "with HTTP 401" in capsys.readouterr().err
    finally:
        for run in ours():
            airflow.delete(f"{dag}/dagRuns/{run['dag_run_id']}")
        airflow.patch(dag, {"is_paused": was_paused})
