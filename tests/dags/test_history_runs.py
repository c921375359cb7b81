"""Initial data sync runs of the pull DAGs (dag.test) against the sandbox and a real database.

Ground truth is the sandbox's own record dump, filtered here in Python, so a wrong Intacct
filter in the DAG cannot agree with itself.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from tests.dags.test_pull_dags import _dag, _query
from tests.ground_truth import all_records, sandbox_get

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _state(run) -> str:
    return str(getattr(run.state, "value", run.state))


def _day(text: str) -> date:
    """A sandbox date (MM/DD/YYYY, maybe with a time) as a date."""
    month, day, year = text[:10].split("/")
    return date(int(year), int(month), int(day))


def _today(server) -> date:
    return date.fromisoformat(sandbox_get(server, "clock")["iso"][:10])


def _active_customers(server) -> set[str]:
    return {
        c["CUSTOMERID"] for c in all_records(server, object="CUSTOMER") if c["STATUS"] == "active"
    }


def _documents(server, docparid: str, start: date, end: date) -> list[dict]:
    return [
        r
        for r in all_records(server, object="SODOCUMENT", docparid=docparid)
        if start <= _day(r["WHENCREATED"]) <= end
    ]


def _sync_all_customers(clean_ar) -> None:
    """Documents are imported only for active customers: customers come first."""
    run = _dag("customers").test(run_conf={"all_customers": True})
    assert _state(run) == "success"
    assert _query(clean_ar, "SELECT count(*) FROM ar.customers")[0][0] > 0


def test_history_of_invoices_pulls_the_range_and_its_payments(intacct_connection, clean_ar):
    server = intacct_connection
    _sync_all_customers(clean_ar)
    today = _today(server)
    start, end = today.replace(day=1) - timedelta(days=300), today - timedelta(days=10)
    calls = sandbox_get(server, "faults")["calls"]

    run = _dag("invoices").test(
        run_conf={"history_from": start.isoformat(), "history_to": end.isoformat()}
    )

    assert _state(run) == "success"
    active = _active_customers(server)
    expected = _documents(server, "Sales Invoice", start, end)
    loaded = dict(
        _query(
            clean_ar,
            "SELECT intacct_recordno, total FROM ar.invoices WHERE origin = 'intacct'",
        )
    )
    assert expected
    assert loaded == {
        int(r["RECORDNO"]): Decimal(str(r["TRX_TOTAL"]))
        for r in expected
        if r["CUSTVENDID"] in active
    }
    skipped = {
        r[0] for r in _query(clean_ar, "SELECT intacct_recordno FROM intacct_sync.skipped_records")
    }
    assert skipped == {int(r["RECORDNO"]) for r in expected if r["CUSTVENDID"] not in active}
    # include_payments is on by default: the payments received in the range came too.
    payments = {
        int(p["RECORDNO"])
        for p in all_records(server, object="ARPYMT")
        if start <= _day(p["RECEIPTDATE"]) <= end
    }
    assert payments
    assert {r[0] for r in _query(clean_ar, "SELECT intacct_recordno FROM ar.payments")} == payments
    # One month per chunk and object, each done once; the hourly cursor was not touched.
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    chunks = _query(
        clean_ar,
        "SELECT object, count(*), sum(attempts) FROM intacct_sync.history_chunks"
        " WHERE state = 'done' GROUP BY object ORDER BY object",
    )
    assert chunks == [
        ("customers", 1, 1),
        ("invoices", months, months),
        ("payments", months, months),
    ]
    assert _query(
        clean_ar, "SELECT count(*) FROM intacct_sync.sync_state WHERE object = 'invoices'"
    ) == [(0,)]
    assert _query(clean_ar, "SELECT count(*) FROM intacct_sync.raw_records") == [(0,)]
    assert sandbox_get(server, "faults")["calls"] > calls


def test_open_items_only_without_payments(intacct_connection, clean_ar):
    server = intacct_connection
    _sync_all_customers(clean_ar)
    today = _today(server)
    start, end = today - timedelta(days=365), today
    run = _dag("invoices").test(
        run_conf={
            "history_from": start.isoformat(),
            "history_to": end.isoformat(),
            "open_items_only": True,
            "include_payments": False,
        }
    )
    assert _state(run) == "success"
    active = _active_customers(server)
    expected = {
        int(r["RECORDNO"])
        for r in _documents(server, "Sales Invoice", start, end)
        if r["CUSTVENDID"] in active and Decimal(str(r["TRX_TOTALDUE"])) > 0
    }
    assert expected
    rows = _query(clean_ar, "SELECT intacct_recordno, total_due FROM ar.invoices")
    assert {r[0] for r in rows} == expected
    assert all(due > 0 for _, due in rows)
    assert _query(clean_ar, "SELECT count(*) FROM ar.payments") == [(0,)]


def test_history_runs_leave_the_hourly_cursor_alone(intacct_connection, clean_ar):
    server = intacct_connection
    assert _state(_dag("credit_notes").test()) == "success"
    before = _query(clean_ar, "SELECT last_window_end, last_run_id FROM intacct_sync.sync_state")
    today = _today(server)
    run = _dag("credit_notes").test(
        run_conf={
            "history_from": f"{today.year - 1}-01-01",
            "history_to": f"{today.year - 1}-06-30",
        }
    )
    assert _state(run) == "success"
    assert (
        _query(clean_ar, "SELECT last_window_end, last_run_id FROM intacct_sync.sync_state")
        == before
    )


@pytest.mark.parametrize(
    ("conf", "message"),
    [
        (
            {"history_from": "2023-01-01", "history_to": "2024-12-31"},
            "is 731 days; one run covers at most 366 days",
        ),
        (
            {"history_from": "2024-03-01", "history_to": "2024-02-01"},
            "history_to 2024-02-01 is before history_from 2024-03-01",
        ),
        ({"history_from": "2024-03-01"}, "history_to is missing"),
        ({"history_from": "2024-01-01", "history_to": "2999-01-01"}, "is in the future"),
        ({"open_items_only": True}, "open_items_only only applies to an initial data sync"),
        ({"history_form": "2024-01-01"}, "intacct_invoices has no parameter history_form"),
    ],
    ids=["too-long", "reversed", "half", "future", "option-alone", "unknown-key"],
)
def test_bad_ranges_are_refused_before_any_intacct_call(
    intacct_connection, clean_ar, capfd, conf, message
):
    calls = sandbox_get(intacct_connection, "faults")["calls"]
    run = _dag("invoices").test(run_conf=conf)
    assert _state(run) == "failed"
    out = capfd.readouterr()
    assert message in out.out + out.err
    assert sandbox_get(intacct_connection, "faults")["calls"] == calls
    # Refused in `plan`: no try was spent on retries, nothing after it ran.
    assert _query(clean_ar, "SELECT count(*) FROM intacct_sync.history_chunks") == [(0,)]


@pytest.mark.parametrize(
    ("conf", "message"),
    [
        (
            {"history_from": "2023-13-45", "history_to": "2024-01-01"},
            "'2023-13-45' is not a 'date'",
        ),
        ({"include_payments": "yes"}, "'yes' is not of type 'boolean'"),
    ],
    ids=["malformed-date", "not-a-bool"],
)
def test_malformed_parameters_are_refused_before_a_run_exists(
    intacct_connection, clean_ar, conf, message
):
    """Airflow checks the Params' JSON schema when a run is created (the Trigger form, the
    REST API and the CLI alike), so these never become runs."""
    from airflow.sdk.exceptions import ParamValidationError

    with pytest.raises(ParamValidationError, match=message):
        _dag("invoices").test(run_conf=conf)


def test_all_customers_refuses_dates(intacct_connection, clean_ar, capfd):
    run = _dag("customers").test(
        run_conf={"all_customers": True, "history_from": "2024-01-01", "history_to": "2024-02-01"}
    )
    assert _state(run) == "failed"
    assert "all_customers reads every customer" in capfd.readouterr().out


def _invoice_chunks(connection) -> dict[str, tuple[str, int, datetime | None]]:
    rows = _query(
        connection,
        "SELECT label, state, attempts, finished_at FROM intacct_sync.history_chunks"
        " WHERE object = 'invoices'",
    )
    return {label: (state, attempts, finished) for label, state, attempts, finished in rows}


def _fail_orphaned_tasks(dag_id: str, run_id: str) -> None:
    """What the scheduler does when a task's process died: its heartbeat stops and the task
    instance is failed. dag.test() has no scheduler, so the test does it."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState

    with create_session() as session:
        for ti in session.query(TaskInstance).filter_by(dag_id=dag_id, run_id=run_id):
            if ti.state not in (TaskInstanceState.SUCCESS, TaskInstanceState.SKIPPED):
                ti.state = TaskInstanceState.FAILED


BIG_YEAR = {"invoices": 170_000, "customers": 2_000, "adjustments": 3_000, "history_days": 365}


@pytest.mark.slow
@pytest.mark.sandbox(**BIG_YEAR)
def test_a_year_of_50k_invoices_killed_mid_way_resumes_only_missing_chunks(
    intacct_connection, clean_ar
):
    server = intacct_connection
    _sync_all_customers(clean_ar)
    today = _today(server)
    start = today - timedelta(days=365)
    conf = {
        "history_from": start.isoformat(),
        "history_to": today.isoformat(),
        "include_payments": False,
    }
    # The same logical date and run_after give the same run id: the second dag.test() is
    # the killed run cleared and run again (dag.test() recreates the run under that id).
    moment = datetime.now(UTC).replace(microsecond=0)
    script = (
        "import json, sys; from datetime import datetime;"
        "from tests.dags.test_pull_dags import _dag;"
        "t = datetime.fromisoformat(sys.argv[1]);"
        "_dag('invoices').test(logical_date=t, run_after=t, run_conf=json.loads(sys.argv[2]))"
    )
    first = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script, moment.isoformat(), json.dumps(conf)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and first.poll() is None:
            if sum(s in ("landed", "done") for s, _, _ in _invoice_chunks(clean_ar).values()) >= 4:
                break
            time.sleep(0.1)
        assert first.poll() is None, "the first attempt ended before it could be killed"
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    before = _invoice_chunks(clean_ar)
    kept = {k: v for k, v in before.items() if v[0] in ("landed", "done")}
    assert 4 <= len(kept) < 13

    _fail_orphaned_tasks("intacct_invoices", f"manual__{moment.isoformat()}")
    run = _dag("invoices").test(logical_date=moment, run_after=moment, run_conf=conf)

    assert _state(run) == "success"
    after = _invoice_chunks(clean_ar)
    assert len(after) == 13 and all(s == "done" for s, _, _ in after.values())  # 13 months
    for label, (state, attempts, finished) in kept.items():
        assert after[label][1] == attempts, f"{label} was read from Intacct again"
        if state == "done":
            assert after[label][2] == finished, f"{label} was loaded again"
    # Tie-out: every Sales Invoice of the year of an active customer, once, with its lines.
    active = _active_customers(server)
    expected = {
        int(r["RECORDNO"]): Decimal(str(r["TRX_TOTAL"]))
        for r in _documents(server, "Sales Invoice", start, today)
        if r["CUSTVENDID"] in active
    }
    assert len(expected) >= 50_000
    loaded = dict(_query(clean_ar, "SELECT intacct_recordno, total FROM ar.invoices"))
    assert loaded == expected
    [(lines, line_total, headers_total)] = _query(
        clean_ar,
        "SELECT count(*), sum(l.amount), (SELECT sum(total) FROM ar.invoices)"
        " FROM ar.invoice_lines l",
    )
    assert line_total == headers_total and lines >= len(expected)


def test_queued_ranges_run_one_after_another(intacct_connection, clean_ar):
    """`then` holds the rest of a long history: each run queues the next when it is done,
    so a five-year history is one active run, never five (max_active_runs)."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    run = _dag("payments").test(
        run_conf={
            "history_from": "2025-01-01",
            "history_to": "2025-01-31",
            "then": [["2025-02-01", "2025-02-28"], ["2025-03-01", "2025-03-31"]],
        }
    )
    assert _state(run) == "success"
    with create_session() as session:
        queued = [
            r.conf
            for r in session.query(DagRun).filter(
                DagRun.dag_id == "intacct_payments", DagRun.start_date.is_(None)
            )
            if (r.conf or {}).get("history_from") == "2025-02-01"
        ]
        for r in session.query(DagRun).filter(
            DagRun.dag_id == "intacct_payments", DagRun.start_date.is_(None)
        ):
            session.delete(r)  # a scheduler in a later test must not run it
    assert queued == [
        {
            "history_from": "2025-02-01",
            "history_to": "2025-02-28",
            "then": [["2025-03-01", "2025-03-31"]],
        }
    ]


def test_history_documents_carry_their_ar_balance_not_the_stale_order_entry_one(
    intacct_connection, clean_ar
):
    """A payment made in Intacct changes the A/R invoice, not the Order Entry document: an
    initial data sync of invoices (without payments) still loads today's paid and due."""
    from intacct_sync.intacct.hook import IntacctHook

    server = intacct_connection
    _sync_all_customers(clean_ar)
    today = _today(server)
    start = today - timedelta(days=365)
    active = _active_customers(server)
    [invoice] = [
        r
        for r in _documents(server, "Sales Invoice", start, today)
        if r["CUSTVENDID"] in active and r["CURRENCY"] == "USD" and r.get("PRRECORDKEY")
        and not Decimal(str(r["TRX_TOTALPAID"] or 0)) and Decimal(str(r["TRX_TOTALDUE"])) > 0
    ][:1]  # fmt: skip
    due = Decimal(str(invoice["TRX_TOTALDUE"]))
    amount = (due / 2).quantize(Decimal("0.01"))
    paid = IntacctHook().create_arpayment(
        "history-balance-1",
        {
            "customerid": invoice["CUSTVENDID"],
            "paymentamount": amount,
            "bankaccountid": "BOA-OPER",
            "datereceived": today,
            "paymentmethod": "Cash",
            "currency": "USD",
            "arpaymentitem": [{"invoicekey": str(invoice["PRRECORDKEY"]), "amount": amount}],
        },
    )
    assert paid.ok
    run = _dag("invoices").test(
        run_conf={
            "history_from": start.isoformat(),
            "history_to": today.isoformat(),
            "include_payments": False,
        }
    )
    assert _state(run) == "success"

    def money(value) -> Decimal:
        return Decimal(str(value or 0)).quantize(Decimal("0.01"))

    truth = {
        int(r["RECORDNO"]): (money(r["TRX_TOTALPAID"]), money(r["TRX_TOTALDUE"]))
        for r in all_records(server, object="ARINVOICE")
    }
    local = {
        key: (paid_, due_)
        for key, paid_, due_ in _query(
            clean_ar,
            "SELECT ar_recordno, total_paid, total_due FROM ar.invoices"
            " WHERE ar_recordno IS NOT NULL",
        )
    }
    assert local[int(invoice["PRRECORDKEY"])] == (amount, due - amount)
    assert local == {key: truth[key] for key in local}
