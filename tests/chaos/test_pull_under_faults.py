"""Every pull DAG against a sandbox that fails almost half its calls in every way the gateway
can fail, expires read cursors (resultIds) under the reads, and keeps working (invoices,
payments, reversals, edits, a late-committing import) between and during the runs: at the
end PostgreSQL holds exactly the sandbox's records, row for row."""

from __future__ import annotations

import json
import os
import threading
import time

import pytest

from tests.chaos.conftest import PULLED, assert_mirrors, faults_off, faults_on, run_until_success
from tests.ground_truth import sandbox_get, sandbox_post

pytestmark = [pytest.mark.chaos, pytest.mark.slow]

LATE_LAG = 3600  # the import commits only when the test moves the sandbox clock past it
ACTIONS = ["create_invoice", "pay_invoice", "reverse_payment", "edit_sales_invoice",
           "create_credit_memo", "edit_customer", "create_customer"]  # fmt: skip


def _company_at_work(server, stop: threading.Event, seen: dict[str, int]) -> None:
    """Activity while the syncs read, and every open read cursor expired every 2 s."""
    while not stop.wait(0.25):
        seen["events"] += len(sandbox_post(server, "activity", {"steps": 3, "actions": ACTIONS})[
            "events"])  # fmt: skip
        if time.monotonic() - seen["expired_at"] > 2:
            seen["expired"] += sandbox_post(server, "resultids/expire", {})["expired"]
            seen["expired_at"] = time.monotonic()


@pytest.mark.sandbox(late_commit_lag_seconds=LATE_LAG)
@pytest.mark.usefixtures("quick_retries")
def test_pulls_under_faults_and_activity_end_equal_to_intacct(intacct_connection, clean_ar,
                                                              monkeypatch):  # fmt: skip
    server = intacct_connection
    # Pages of 200 records: readMore calls for the faults and expiries to land on.
    connection = json.loads(os.environ["AIRFLOW_CONN_INTACCT_DEFAULT"])
    connection["extra"]["page_size"] = 200
    monkeypatch.setenv("AIRFLOW_CONN_INTACCT_DEFAULT", json.dumps(connection))
    faults_on(server)
    failed_runs = {name: run_until_success(name) for name in PULLED}  # the initial full pull

    [late] = sandbox_post(server, "activity", {"steps": 1, "actions": ["late_commit_batch"]})[
        "events"
    ]
    assert late["action"] == "late_commit_batch"
    stop, seen = threading.Event(), {"events": 0, "expired": 0, "expired_at": 0.0}
    worker = threading.Thread(target=_company_at_work, args=(server, stop, seen), daemon=True)
    worker.start()
    try:
        for _ in range(2):
            for name in PULLED:
                failed_runs[name] += run_until_success(name)
    finally:
        stop.set()
        worker.join(30)
    # The import commits (clock past its commit time); its rows keep their old WHENMODIFIED.
    sandbox_post(server, "clock", {"advance_seconds": LATE_LAG + 1})
    assert sandbox_get(server, "clock")["pending_late_batches"] == []
    time.sleep(1.1)  # the last activity's second is over: the next windows cover it
    for name in PULLED:
        failed_runs[name] += run_until_success(name)
    fired = faults_off(server)

    compared = assert_mirrors(server, clean_ar)
    assert all(compared.values()), compared
    assert all(fired.values()), f"a fault never fired: {fired}"
    assert seen["events"] > 0 and seen["expired"] > 0, seen
    del seen["expired_at"]
    print(f"rows compared {compared}; failed runs before a success {failed_runs}; "
          f"faults fired {fired}; activity {seen}; calls {sandbox_get(server, 'faults')['calls']}")
