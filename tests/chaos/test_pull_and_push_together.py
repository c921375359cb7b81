"""Pulls and pushes at the same time, against a sandbox failing almost half its calls (issue
17): the hourly pulls keep reading Intacct while the pushes post local customers, invoices,
credit notes and payments into it — some of whose answers are lost after Intacct committed.
A pull that sees a pushed record before its push knows the outcome must link it, not insert
a second row; a replayed push must find it, not post it again.

At the end (faults off, one more hourly cycle): every local record is in Intacct exactly
once and linked to its row, no write was carried out twice, no Intacct record has two local
rows, and what the pulls brought in mirrors the sandbox row for row, balances included."""

from __future__ import annotations

import threading
from contextlib import closing
from zoneinfo import ZoneInfo

import psycopg2
import pytest
from intacct_sync.intacct.errors import IntacctError
from intacct_sync.intacct.hook import IntacctHook
from intacct_sync.pull.extract import IntacctExtractOperator
from intacct_sync.pull.map_and_load import map_and_load
from intacct_sync.push.posting import push_object
from intacct_sync.sync_config import parse
from intacct_sync.sync_objects import OBJECTS, push_order

from include.localenv.local_records import Application, Line, LocalRecords
from tests.chaos.conftest import PULLED, assert_mirrors, faults_off, faults_on
from tests.ground_truth import all_records, sandbox_get

pytestmark = pytest.mark.chaos

LA = ZoneInfo("America/Los_Angeles")  # the test connection's company zone
CUSTOMERS, INVOICES, CREDIT_NOTES, PAYMENTS = 6, 24, 6, 18
PASSES = 6  # hourly push passes while the pulls run beside them
# The payments pull comes round most often: a payment whose answer was lost is in Intacct
# before its push knows it, which is when a pull must link rather than insert.
PULL_TURNS = ("payments", "customers", "payments", "invoices", "payments", "credit_notes")
CONFIG = parse({"sync_start": "beginning"})  # the local records predate the first push


def _pull(connection, name: str, run_id: str) -> None:
    """One pull of `name` as its extract, map and load tasks do it (a full read)."""
    obj = OBJECTS[name]
    IntacctExtractOperator(
        task_id=f"extract_{name}", object_name=name, intacct_object=obj.intacct_object,
        docparid=obj.docparid, fields=list(obj.fields), landing_run_id=run_id,
        children=obj.children.spec() if obj.children else None,
    ).execute({})  # fmt: skip
    map_and_load(connection, obj, run_id, hook=IntacctHook(), company_tz=LA)


def _seed(records: LocalRecords) -> None:
    customers = [records.customer(f"Both Ways {n}", account_number=f"BOTH-C{n}")
                 for n in range(CUSTOMERS)]  # fmt: skip
    invoices = [records.document("invoices", customers[n % CUSTOMERS], f"BOTH-I{n:02d}",
                                 [Line("100.00")]) for n in range(INVOICES)]  # fmt: skip
    notes = [records.document("credit_notes", customers[n], f"BOTH-N{n}", [Line("10.00")])
             for n in range(CREDIT_NOTES)]  # fmt: skip
    for n in range(PAYMENTS):
        applied = [Application(invoices[n], "40.00", notes[n], "10.00") if n < CREDIT_NOTES
                   else Application(invoices[n], "40.00")]  # fmt: skip
        records.payment(customers[n % CUSTOMERS], "40.00", applied, reference=f"BOTH-P{n:02d}")


def _one(connection, sql: str) -> list[tuple]:
    with connection, connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def test_pulls_and_pushes_at_the_same_time_under_faults_end_equal_and_write_once(
    intacct_connection, clean_ar, ar_database_dsn, quick_retries
):
    server = intacct_connection
    _seed(LocalRecords(clean_ar))
    faults_on(server)
    stop, pulls = threading.Event(), {"runs": 0, "interrupted": 0}

    def hourly_pulls() -> None:
        with closing(psycopg2.connect(ar_database_dsn)) as connection:
            while not stop.is_set():
                for name in PULL_TURNS:
                    pulls["runs"] += 1
                    try:
                        _pull(connection, name, f"pull-{pulls['runs']}")
                    except IntacctError:  # retries exhausted: the next run goes on
                        pulls["interrupted"] += 1

    puller = threading.Thread(target=hourly_pulls, daemon=True)
    puller.start()
    hook, interrupted = IntacctHook(functions_per_request=5), 0
    try:
        for _ in range(PASSES):
            for name in push_order():
                try:
                    push_object(hook, clean_ar, name, CONFIG)
                except IntacctError:
                    interrupted += 1
    finally:
        stop.set()
        puller.join(timeout=300)
    fired = faults_off(server)

    # The next hourly cycle, without faults: a push pass, then a pull of every object.
    for name in push_order():
        push_object(hook, clean_ar, name, CONFIG)
    for name in PULLED:
        _pull(clean_ar, name, f"settle-{name}")

    log = sandbox_get(server, "writes")["writes"]
    succeeded = [w["controlid"] for w in log if w["outcome"] == "success"]
    assert len(succeeded) == len(set(succeeded)), "a write was carried out twice"
    in_intacct = {
        "CUSTOMER": all_records(server, object="CUSTOMER", query="CUSTOMERID LIKE 'BOTH-C%'"),
        "ARINVOICE": all_records(server, object="ARINVOICE", query="RECORDID LIKE 'BOTH-I%'"),
        "ARADJUSTMENT": all_records(server, object="ARADJUSTMENT",
                                    query="RECORDID LIKE 'BOTH-N%'"),
        "ARPYMT": all_records(server, object="ARPYMT", query="DOCNUMBER LIKE 'BOTH-P%'"),
    }  # fmt: skip
    assert {k: len(v) for k, v in in_intacct.items()} == {
        "CUSTOMER": CUSTOMERS, "ARINVOICE": INVOICES, "ARADJUSTMENT": CREDIT_NOTES,
        "ARPYMT": PAYMENTS}  # fmt: skip
    # Each local record linked to its Intacct record (documents through their A/R record),
    # and no Intacct record with two local rows.
    for table, key, pushed in (
        ("customers", "intacct_recordno", CUSTOMERS),
        ("invoices", "ar_recordno", INVOICES),
        ("credit_notes", "ar_recordno", CREDIT_NOTES),
        ("payments", "intacct_recordno", PAYMENTS),
    ):
        linked = f"SELECT count(*) FROM ar.{table} WHERE origin = 'local' AND {key} IS NOT NULL"
        errors = "SELECT object, record_id, message FROM intacct_sync.reconciliation_errors"
        assert _one(clean_ar, linked + " AND deleted_at IS NULL") == [(pushed,)], (
            table, _one(clean_ar, errors))  # fmt: skip
        twice = (
            f"SELECT {key} FROM ar.{table} WHERE deleted_at IS NULL AND {key} IS NOT NULL"
            " GROUP BY 1 HAVING count(*) > 1"
        )
        assert _one(clean_ar, twice) == [], f"{table}: an Intacct record has two local rows"
    paid = {int(p["RECORDNO"]): p["TRX_TOTALENTERED"] for p in in_intacct["ARPYMT"]}
    local = dict(_one(clean_ar, "SELECT intacct_recordno, amount FROM ar.payments"
                      " WHERE origin = 'local'"))  # fmt: skip
    assert {k: float(v) for k, v in local.items()} == {k: float(v) for k, v in paid.items()}
    # What the pulls brought in (the company's own records) mirrors the sandbox.
    assert_mirrors(server, clean_ar, ("invoices", "credit_notes"))
    assert (
        _one(
            clean_ar,
            "SELECT object, record_id, message FROM"
            " intacct_sync.reconciliation_errors WHERE state = 'open'",
        )
        == []
    )
    assert pulls["runs"] > len(PULLED), "the pulls did not run beside the pushes"
    assert all(fired.values()), f"a fault never fired: {fired}"
    print(
        f"pull runs {pulls['runs']} ({pulls['interrupted']} interrupted), interrupted "
        f"pushes {interrupted}; writes received {len(log)}, carried out {len(succeeded)}"
    )
