"""What no WHENMODIFIED window shows still arrives (issue 15): a commit visible hours late,
a customer re-created with the same id, a retried pull error. Each test runs the DAGs with
dag.test() against the sandbox over HTTP and the real database, and ends with PostgreSQL
equal to the sandbox's own records."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from tests.conftest import sync_config_json
from tests.dags.test_pull_dags import _dag, _query
from tests.ground_truth import all_records, sandbox_get, sandbox_post

# The push is not under test here; a local customer must not be sent to Intacct meanwhile.
PULL_ONLY = sync_config_json(push={"customers": False, "payments": False})


def _ran(name: str) -> None:
    run = _dag(name).test()
    assert str(run.state) in ("success", "DagRunState.SUCCESS"), name


def _customers_equal_sandbox(server, connection) -> None:
    truth = {
        c["RECORDNO"]: (c["CUSTOMERID"], c["NAME"], c["STATUS"])
        for c in all_records(server, object="CUSTOMER")
    }
    local = {
        r[0]: (r[1], r[2], r[3])
        for r in _query(
            connection,
            "SELECT intacct_recordno, intacct_customer_id, name, status FROM ar.customers"
            " WHERE deleted_at IS NULL AND intacct_recordno IS NOT NULL",
        )
    }
    assert local == truth


def _payments(connection) -> dict[int, Decimal]:
    return dict(
        _query(
            connection,
            "SELECT intacct_recordno, amount FROM ar.payments WHERE deleted_at IS NULL",
        )
    )


def _payments_truth(server) -> dict[int, Decimal]:
    return {
        p["RECORDNO"]: Decimal(str(p["TRX_TOTALENTERED"]))
        for p in all_records(server, object="ARPYMT")
    }


def _comparison_due(connection, name: str) -> None:
    """A day passes for the comparison: its last run was 25 hours ago."""
    with connection, connection.cursor() as cursor:
        cursor.execute(
            "UPDATE intacct_sync.sync_state SET last_keyset_at = now() - interval '25 hours'"
            " WHERE object = %s AND direction = 'pull'",
            (name,),
        )


TWO_HOURS = 7200


@pytest.mark.sandbox(late_commit_lag_seconds=TWO_HOURS)
def test_a_commit_visible_two_hours_late_arrives_through_the_comparison(
    intacct_connection, clean_ar
):
    server = intacct_connection
    for name in ("customers", "payments", "payments"):  # full read, then the first comparison
        _ran(name)
    # Three hours ago a long import started; it commits two hours later, an hour ago —
    # long before the hourly windows (an hour of overlap) could see its WHENMODIFIED.
    sandbox_post(server, "clock", {"advance_seconds": -3 * 3600})
    [event] = sandbox_post(server, "activity", {"steps": 1, "actions": ["late_commit_batch"]})[
        "events"
    ]
    assert event["action"] == "late_commit_batch"
    committed = sandbox_post(server, "clock", {"advance_seconds": 3 * 3600})["committed"]
    late = set(committed[0]["payments"])
    assert late and sandbox_get(server, "clock")["pending_late_batches"] == []

    _ran("payments")
    assert not late & set(_payments(clean_ar))  # no window shows them: the bug without healing

    _comparison_due(clean_ar, "payments")
    _ran("payments")
    assert _payments(clean_ar) == _payments_truth(server)
    [(counts,)] = _query(
        clean_ar,
        "SELECT last_counts FROM intacct_sync.sync_state"
        " WHERE object = 'payments' AND direction = 'pull'",
    )
    assert counts["healed"]["comparison"] == "done"
    assert counts["healed"]["missing"] == len(late)
    # Their applications came with them (children are read for what is read again).
    [(applied,)] = _query(
        clean_ar,
        "SELECT count(*) FROM ar.payment_applications a JOIN ar.payments p ON p.id = a.payment_id"
        " WHERE p.intacct_recordno = ANY(%s)",
        sorted(late),
    )
    assert applied >= len(late)


def test_a_stale_row_is_read_again_by_the_comparison(intacct_connection, clean_ar):
    server = intacct_connection
    for name in ("customers", "customers"):
        _ran(name)
    victim = sandbox_get(server, "records", object="CUSTOMER", limit=1)["records"][0]
    # A load lost somewhere: the local row holds an older version than Intacct.
    with clean_ar, clean_ar.cursor() as cursor:
        cursor.execute(
            "UPDATE ar.customers SET name = 'stale', row_hash = 'stale',"
            " intacct_whenmodified = intacct_whenmodified - interval '1 day'"
            " WHERE intacct_recordno = %s",
            (victim["RECORDNO"],),
        )
    _comparison_due(clean_ar, "customers")
    _ran("customers")
    _customers_equal_sandbox(server, clean_ar)


def test_a_customer_deleted_and_recreated_with_the_same_id_loads_and_documents_relink(
    intacct_connection, clean_ar, monkeypatch
):
    from intacct_sync.intacct.hook import IntacctHook, WriteFunction

    monkeypatch.setenv("AIRFLOW_VAR_INTACCT_SYNC_CONFIG", PULL_ONLY)
    server = intacct_connection
    for name in ("customers", "invoices"):
        _ran(name)
    [(customer_id, old_id, old_recordno)] = _query(
        clean_ar,
        "SELECT c.intacct_customer_id, c.id, c.intacct_recordno FROM ar.customers c"
        " WHERE EXISTS (SELECT 1 FROM ar.invoices i WHERE i.customer_id = c.id)"
        " ORDER BY c.id LIMIT 1",
    )
    old = sandbox_get(server, "record", object="CUSTOMER", recordno=old_recordno)
    hook = IntacctHook("intacct_default")
    [deleted] = hook.write_batch(
        [WriteFunction("delete", "CUSTOMER", "recreate-del", key=str(old_recordno))]
    )
    assert deleted.ok
    [created] = hook.write_batch(
        [
            WriteFunction(
                "create",
                "CUSTOMER",
                "recreate-new",
                {
                    "CUSTOMERID": customer_id,
                    "NAME": f"{old['NAME']} (re-created)",
                    "CURRENCY": old["CURRENCY"],
                },  # fmt: skip
            )
        ]
    )
    assert created.ok and created.key != str(old_recordno)
    time.sleep(1.1)  # leave the second of the writes (one-second WHENMODIFIED)

    _ran("customers")
    _ran("invoices")
    [(new_id, deleted_at)] = _query(
        clean_ar,
        "SELECT id, deleted_at FROM ar.customers WHERE intacct_recordno = %s",
        int(created.key),
    )
    assert deleted_at is None and new_id != old_id
    assert _query(
        clean_ar, "SELECT deleted_at IS NOT NULL FROM ar.customers WHERE id = %s", old_id
    ) == [(True,)]
    truth = {
        d["RECORDNO"]
        for d in all_records(server, object="SODOCUMENT", docparid="Sales Invoice")
        if d["CUSTVENDID"] == customer_id
    }
    documents = dict(
        _query(
            clean_ar,
            "SELECT intacct_recordno, customer_id FROM ar.invoices WHERE intacct_customer_id = %s",
            customer_id,
        )
    )
    assert documents and set(documents) <= truth
    assert set(documents.values()) == {new_id}
    assert _query(
        clean_ar,
        "SELECT count(*) FROM intacct_sync.reconciliation_errors"
        " WHERE object = 'customers' AND state <> 'resolved'",
    ) == [(0,)]
    _customers_equal_sandbox(server, clean_ar)


def test_a_retried_pull_error_is_read_again_and_resolved(intacct_connection, clean_ar, monkeypatch):
    from intacct_sync.db.reconciliation import retry

    monkeypatch.setenv("AIRFLOW_VAR_INTACCT_SYNC_CONFIG", PULL_ONLY)
    server = intacct_connection
    victim = sandbox_get(server, "records", object="CUSTOMER", limit=1)["records"][0]
    # A local customer holds the Intacct customer's id while linked to another record: the
    # database refuses the Intacct customer (one live row per CUSTOMERID).
    with clean_ar, clean_ar.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ar.customers (origin, intacct_recordno, intacct_customer_id, name)"
            " VALUES ('local', 999999, %s, 'Local twin') RETURNING id",
            (victim["CUSTOMERID"],),
        )
        [twin] = cursor.fetchone()
    for name in ("customers", "customers"):
        _ran(name)
    [(error_id, state)] = _query(
        clean_ar,
        "SELECT id, state FROM intacct_sync.reconciliation_errors"
        " WHERE object = 'customers' AND direction = 'pull' AND record_id = %s",
        str(victim["RECORDNO"]),
    )
    assert state == "open"
    # Someone fixes the local twin: without a retry the record stays missing ...
    with clean_ar, clean_ar.cursor() as cursor:
        cursor.execute(
            "UPDATE ar.customers SET intacct_customer_id = 'LOCAL-TWIN' WHERE id = %s", (twin,)
        )
    _ran("customers")
    assert not _query(
        clean_ar, "SELECT 1 FROM ar.customers WHERE intacct_recordno = %s", victim["RECORDNO"]
    )
    # ... and "retry" reads it again by key in the next run, which resolves the error.
    assert retry(clean_ar, error_id) == "customers"
    _ran("customers")
    assert _query(
        clean_ar, "SELECT state FROM intacct_sync.reconciliation_errors WHERE id = %s", error_id
    ) == [("resolved",)]
    with clean_ar, clean_ar.cursor() as cursor:
        cursor.execute("DELETE FROM ar.customers WHERE id = %s", (twin,))
    _customers_equal_sandbox(server, clean_ar)


TEN_MB = 10 * 1024 * 1024


@pytest.mark.parametrize(
    ("bad", "repeat", "said"),
    [
        pytest.param("Vertical\x0btab", 1, "cannot be read from Intacct", id="vertical-tab"),
        pytest.param("Not a character \ufffe", 1, "cannot be read from Intacct", id="U+FFFE"),
        # Parsed (large text nodes are accepted), refused by the AR database's name index.
        pytest.param("x", TEN_MB + 1, "index row", id="10-MB-name"),
    ],
)
def test_one_bad_record_is_an_error_and_the_rest_of_the_window_loads(
    intacct_connection, clean_ar, monkeypatch, bad, repeat, said
):
    monkeypatch.setenv("AIRFLOW_VAR_INTACCT_SYNC_CONFIG", PULL_ONLY)
    server = intacct_connection
    for name in ("customers", "customers"):
        _ran(name)
    [(cursor_before,)] = _query(
        clean_ar,
        "SELECT last_window_end FROM intacct_sync.sync_state"
        " WHERE object = 'customers' AND direction = 'pull'",
    )
    first, *good = sandbox_get(server, "records", object="CUSTOMER", limit=5)["records"]
    for n, customer in enumerate(good):  # good changes before and after the bad one
        sandbox_post(
            server,
            "edit",
            {"object": "CUSTOMER", "recordno": customer["RECORDNO"], "set": {"NAME": f"Good {n}"}},
        )
    sandbox_post(
        server,
        "edit",
        {"object": "CUSTOMER", "recordno": first["RECORDNO"], "set": {"NAME": bad},
         "repeat": repeat},
    )  # fmt: skip
    time.sleep(1.1)
    _ran("customers")

    errors = _query(
        clean_ar,
        "SELECT object, record_id, message, hint, state FROM intacct_sync.reconciliation_errors",
    )
    assert [e[:2] for e in errors] == [("customers", str(first["RECORDNO"]))]
    assert said in errors[0][2] and errors[0][3] and errors[0][4] == "open"
    [(cursor_after,)] = _query(
        clean_ar,
        "SELECT last_window_end FROM intacct_sync.sync_state"
        " WHERE object = 'customers' AND direction = 'pull'",
    )
    assert cursor_after > cursor_before
    # Everything else equals the sandbox; the bad record keeps the version loaded before.
    truth = {
        c["RECORDNO"]: (c["CUSTOMERID"], c["NAME"], c["STATUS"])
        for c in all_records(server, object="CUSTOMER")
    }
    local = {
        r[0]: (r[1], r[2], r[3])
        for r in _query(
            clean_ar,
            "SELECT intacct_recordno, intacct_customer_id, name, status FROM ar.customers"
            " WHERE deleted_at IS NULL",
        )
    }
    assert local.pop(first["RECORDNO"]) == (first["CUSTOMERID"], first["NAME"], first["STATUS"])
    del truth[first["RECORDNO"]]
    assert local == truth
    assert {truth[c["RECORDNO"]][1] for c in good} == {f"Good {n}" for n in range(len(good))}


def test_an_unreadable_line_holds_its_document_back_and_the_rest_loads(
    intacct_connection, clean_ar, monkeypatch
):
    monkeypatch.setenv("AIRFLOW_VAR_INTACCT_SYNC_CONFIG", PULL_ONLY)
    server = intacct_connection
    for name in ("customers", "invoices", "invoices"):
        _ran(name)
    loaded = [
        r[0]
        for r in _query(
            clean_ar,
            "SELECT i.intacct_recordno FROM ar.invoices i"
            " WHERE EXISTS (SELECT 1 FROM ar.invoice_lines l WHERE l.invoice_id = i.id)"
            " ORDER BY 1 LIMIT 2",
        )
    ]
    bad, good = (sandbox_get(server, "record", object="SODOCUMENT", recordno=r) for r in loaded)
    line = bad["_children"][0]["RECORDNO"]
    edit = {"object": "SODOCUMENTENTRY", "recordno": line, "set": {"ITEMDESC": "tab\x0bhere"}}
    sandbox_post(server, "edit", edit)
    for document in (bad, good):  # both headers change, so the window reads both
        sandbox_post(
            server,
            "edit",
            {"object": "SODOCUMENT", "recordno": document["RECORDNO"],
             "set": {"MESSAGE": "changed"}},
        )  # fmt: skip
    time.sleep(1.1)
    _ran("invoices")

    errors = _query(
        clean_ar,
        "SELECT object, record_id, message FROM intacct_sync.reconciliation_errors",
    )
    assert [e[:2] for e in errors] == [("invoices", str(bad["RECORDNO"]))]
    assert f"SODOCUMENTENTRY {line}" in errors[0][2]
    memos = dict(
        _query(
            clean_ar,
            "SELECT intacct_recordno, memo FROM ar.invoices WHERE intacct_recordno = ANY(%s)",
            loaded,
        )
    )
    assert memos[good["RECORDNO"]] == "changed"  # the rest loads
    assert memos[bad["RECORDNO"]] != "changed"  # held back whole, not loaded without a line
    [(lines,)] = _query(
        clean_ar,
        "SELECT count(*) FROM ar.invoice_lines l JOIN ar.invoices i ON i.id = l.invoice_id"
        " WHERE i.intacct_recordno = %s",
        bad["RECORDNO"],
    )
    assert lines == len(bad["_children"])
