"""The pull DAGs, run with dag.test() against the sandbox over HTTP and a real database."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from intacct_sync.sync_objects import OBJECTS

from tests.conftest import sync_config_json
from tests.ground_truth import all_records, sandbox_get

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
    pulls = "SELECT object, last_counts FROM intacct_sync.sync_state WHERE direction = 'pull'"
    states = dict(_query(clean_ar, pulls))
    assert set(states) == set(ORDER)
    assert (
        states["customers"]["inserted"]
        == sandbox_get(intacct_connection, "summary", object="CUSTOMER")["count"]
    )
    assert _query(clean_ar, "SELECT count(*) FROM intacct_sync.raw_records") == [(0,)]
    assert _last_asset_extra("x-intacct://pull/customers")["inserted"] == len(
        all_records(intacct_connection, object="CUSTOMER")
    )


def _last_asset_extra(uri: str) -> dict:
    """The extra of the newest event of an asset, from Airflow's metadata database."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        asset_id = select(AssetModel.id).where(AssetModel.uri == uri).scalar_subquery()
        return session.scalars(
            select(AssetEvent.extra)
            .where(AssetEvent.asset_id == asset_id)
            .order_by(AssetEvent.id.desc())
            .limit(1)
        ).one()


def test_changes_between_runs_are_reflected_with_nothing_missed(intacct_connection, clean_ar):
    from intacct_sync.intacct.hook import IntacctHook, WriteFunction

    from include.localenv.demo import actual_totals, expected_totals
    from tests.ground_truth import sandbox_post

    server = intacct_connection
    for name in ORDER:
        _dag(name).test()
    hook = IntacctHook("intacct_default")

    # An inactive customer with invoices becomes active: its skipped invoices must arrive.
    invoices = all_records(server, object="SODOCUMENT", docparid="Sales Invoice")
    waiting = [
        r
        for (r,) in _query(
            clean_ar,
            "SELECT customer_key FROM intacct_sync.skipped_records WHERE object = 'invoices'",
        )
    ]
    customer = next(c for c in all_records(server, object="CUSTOMER") if c["CUSTOMERID"] in waiting)
    [activated] = hook.write_batch(
        [
            WriteFunction(
                "update",
                "CUSTOMER",
                "test-activate",
                {"RECORDNO": str(customer["RECORDNO"]), "STATUS": "active"},
                version="1",
            )
        ]
    )
    assert activated.ok
    # A new customer that is then deleted in Intacct (AUDITHISTORY records it).
    [created] = hook.write_batch(
        [
            WriteFunction(
                "create", "CUSTOMER", "test-gone", {"CUSTOMERID": "T-GONE", "NAME": "Gone & Co"}
            )
        ]
    )
    # Payments, reversals, edited OE invoices (new A/R keys), credit memos, new customers.
    events = sandbox_post(
        server,
        "activity",
        {
            "steps": 30,
            "actions": [
                "pay_invoice",
                "reverse_payment",
                "edit_sales_invoice",
                "create_customer",
                "create_credit_memo",
            ],
        },
    )["events"]
    assert len([e for e in events if "skipped" not in e]) > 10
    # WHENMODIFIED has one-second resolution and a window ends before the second it is
    # computed in; writes in that same second belong to the next run (the overlap). Let the
    # second of the writes pass so this run must see them all.
    time.sleep(1.1)
    for name in ORDER:
        assert str(_dag(name).test().state) == "success", name
    [deleted] = hook.write_batch(
        [WriteFunction("delete", "CUSTOMER", "test-gone", key=created.key)]
    )
    assert deleted.ok
    time.sleep(1.1)
    _dag("customers").test()

    expected = expected_totals(server.base_url)
    for name in ORDER:
        assert actual_totals(clean_ar, name) == expected[name], name
    assert (
        _query(
            clean_ar,
            "SELECT count(*) FROM ar.invoices WHERE intacct_customer_id = %s",
            customer["CUSTOMERID"],
        )[0][0]
        == len([i for i in invoices if i["CUSTVENDID"] == customer["CUSTOMERID"]])
        > 0
    )
    assert _query(
        clean_ar,
        "SELECT deleted_at IS NOT NULL FROM ar.customers WHERE intacct_customer_id = 'T-GONE'",
    ) == [(True,)]
    # Edited OE invoices got new A/R invoices: the local invoice follows PRRECORDKEY.
    relinked = {
        e["recordno"]: e["new_arinvoice"] for e in events if e.get("action") == "edit_sales_invoice"
    }
    assert relinked
    local = {
        recordno: _query(
            clean_ar, "SELECT ar_recordno FROM ar.invoices WHERE intacct_recordno = %s", recordno
        )
        for recordno in relinked
    }
    # Every imported one follows its new key (those of inactive customers are not imported).
    assert all(local[r] in ([(k,)], []) for r, k in relinked.items())
    assert any(local[r] == [(k,)] for r, k in relinked.items())
    states = dict(_query(clean_ar, "SELECT state, count(*) FROM ar.payments GROUP BY 1"))
    truth = sandbox_get(server, "summary", object="ARPYMT")["by_state"]
    assert states == {s: v["count"] for s, v in truth.items()}


def test_a_poisoned_record_goes_to_reconciliation_errors_and_the_rest_load(
    intacct_connection, clean_ar
):
    from datetime import date

    from intacct_sync.intacct.hook import IntacctHook

    poisoned = IntacctHook("intacct_default").create_arpayment(
        "poison-1",
        {
            "customerid": "C-00001",
            "paymentamount": "12345678901234567.89",
            "bankaccountid": "BOA-OPER",
            "datereceived": date(2026, 11, 20),
            "paymentmethod": "Cash",
            "currency": "USD",
        },
    )
    assert poisoned.ok
    for name in ("customers", "payments"):
        assert str(_dag(name).test().state) == "success", name

    [error] = _query(
        clean_ar,
        "SELECT record_id, message, hint, state FROM intacct_sync.reconciliation_errors"
        " WHERE object = 'payments' AND direction = 'pull'",
    )
    assert error[0] == poisoned.key
    assert "numeric field overflow" in error[1] and error[2] and error[3] == "open"
    truth = sandbox_get(intacct_connection, "summary", object="ARPYMT")["count"]
    assert _query(clean_ar, "SELECT count(*) FROM ar.payments") == [(truth - 1,)]


# Long enough that the batch can never commit on its own during the test: the test commits
# it by moving the sandbox clock, so no timing race decides the outcome.
LATE_LAG = 3600


@pytest.mark.sandbox(late_commit_lag_seconds=LATE_LAG)
def test_late_committed_payments_arrive_with_the_next_run(intacct_connection, clean_ar):
    from tests.ground_truth import sandbox_post

    server = intacct_connection
    for name in ("customers", "payments"):
        _dag(name).test()
    # A long import starts: its payments carry WHENMODIFIED = now but stay invisible until
    # it commits — after the next run has read past that time.
    [event] = sandbox_post(server, "activity", {"steps": 1, "actions": ["late_commit_batch"]})[
        "events"
    ]
    assert event["action"] == "late_commit_batch"
    time.sleep(1.1)  # the batch's second is over: this run's window covers it
    _dag("payments").test()
    [(before,)] = _query(clean_ar, "SELECT count(*) FROM ar.payments")
    # The import commits (the sandbox clock jumps past the commit time; its records keep
    # their old WHENMODIFIED, which the last run's window already passed).
    sandbox_post(server, "clock", {"advance_seconds": LATE_LAG + 1})
    assert sandbox_get(server, "clock")["pending_late_batches"] == []
    _dag("payments").test()
    truth = sandbox_get(server, "summary", object="ARPYMT")["count"]
    assert _query(clean_ar, "SELECT count(*) FROM ar.payments") == [(truth,)]
    assert truth > before


def test_without_audithistory_permission_deletes_come_from_the_key_set(
    intacct_connection, clean_ar
):
    from intacct_sync.intacct.hook import IntacctHook, WriteFunction

    from tests.ground_truth import sandbox_post

    server = intacct_connection
    assert str(_dag("customers").test().state) == "success"
    victim = sandbox_get(server, "records", object="CUSTOMER", limit=1)["records"][0]
    hook = IntacctHook("intacct_default")
    [deleted] = hook.write_batch(
        [WriteFunction("delete", "CUSTOMER", "victim", key=str(victim["RECORDNO"]))]
    )
    assert deleted.ok
    sandbox_post(server, "faults", {"deny_objects": ["AUDITHISTORY"]})
    time.sleep(1.1)  # leave the second of the delete (one-second WHENMODIFIED resolution)
    assert str(_dag("customers").test().state) == "success"
    [(counts,)] = _query(
        clean_ar,
        "SELECT last_counts FROM intacct_sync.sync_state"
        " WHERE object = 'customers' AND direction = 'pull'",
    )
    assert (counts["deleted"], counts["delete_method"]) == (1, "key-set")
    # Listing every key is expensive: the next run within the interval does not repeat it.
    assert str(_dag("customers").test().state) == "success"
    [(counts,)] = _query(
        clean_ar,
        "SELECT last_counts FROM intacct_sync.sync_state"
        " WHERE object = 'customers' AND direction = 'pull'",
    )
    assert counts["delete_method"] == "key-set-not-due"
    assert _query(
        clean_ar,
        "SELECT deleted_at IS NOT NULL FROM ar.customers WHERE intacct_recordno = %s",
        victim["RECORDNO"],
    ) == [(True,)]


def test_a_key_set_missing_many_rows_deletes_nothing(intacct_connection, clean_ar):
    from intacct_sync.intacct.hook import IntacctHook, WriteFunction

    from tests.ground_truth import sandbox_post

    server = intacct_connection
    assert str(_dag("customers").test().state) == "success"
    victims = sandbox_get(server, "records", object="CUSTOMER", limit=40)["records"]
    results = IntacctHook("intacct_default").write_batch(
        [
            WriteFunction("delete", "CUSTOMER", f"mass-{v['RECORDNO']}", key=str(v["RECORDNO"]))
            for v in victims
        ]
    )
    assert all(r.ok for r in results)
    sandbox_post(server, "faults", {"deny_objects": ["AUDITHISTORY"]})
    time.sleep(1.1)
    assert "failed" in str(_dag("customers").test().state)  # refused, loudly
    assert _query(clean_ar, "SELECT count(*) FROM ar.customers WHERE deleted_at IS NOT NULL") == [
        (0,)
    ]


def test_a_pull_turned_off_in_the_configuration_calls_nothing(
    intacct_connection, clean_ar, monkeypatch
):
    monkeypatch.setenv(
        "AIRFLOW_VAR_INTACCT_SYNC_CONFIG", sync_config_json(pull={"payments": False})
    )
    calls = sandbox_get(intacct_connection, "faults")["calls"]
    run = _dag("payments").test()
    assert str(run.state) in (
        "success",
        "DagRunState.SUCCESS",
    )  # skipped, not failed: turning a flow off is no error
    assert sandbox_get(intacct_connection, "faults")["calls"] == calls
    pulls = "SELECT count(*) FROM intacct_sync.sync_state WHERE direction = 'pull'"
    assert _query(clean_ar, pulls) == [(0,)]


def test_a_bad_configuration_fails_the_run_before_intacct(
    intacct_connection, clean_ar, monkeypatch, capfd
):
    monkeypatch.setenv("AIRFLOW_VAR_INTACCT_SYNC_CONFIG", sync_config_json(lookback_minutes=15))
    calls = sandbox_get(intacct_connection, "faults")["calls"]
    run = _dag("payments").test()
    assert str(run.state) in ("failed", "DagRunState.FAILED")
    assert "lookback_minutes=15 is below 60" in "".join(capfd.readouterr())
    assert sandbox_get(intacct_connection, "faults")["calls"] == calls
