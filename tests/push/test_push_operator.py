"""IntacctPushOperator: the DAGs' push step, writing once per record however often it runs."""

from __future__ import annotations

from collections import defaultdict
from types import SimpleNamespace

from airflow.sdk import Asset
from intacct_sync.push.operator import IntacctPushOperator

from include.localenv.local_records import LocalRecords
from tests.ground_truth import sandbox_get


def _context() -> dict:
    return {"run_id": "manual__test", "outlet_events": defaultdict(SimpleNamespace)}


def test_rerun_creates_each_record_exactly_once_and_reports_on_the_asset(
    intacct_connection, clean_ar
):
    records = LocalRecords(clean_ar)
    records.customer("O'Brien & <Co>", account_number="PUSH-0001")
    records.customer("Zoë Ltd", account_number="PUSH-0002")
    asset = Asset("x-intacct://push/customers")
    operator = IntacctPushOperator(task_id="push", object_name="customers", outlets=[asset])
    context = _context()
    first = operator.execute(context)
    again = operator.execute(_context())
    assert (first["posted"], again["posted"]) == (2, 0)
    assert context["outlet_events"][asset].extra == first
    found = sandbox_get(
        intacct_connection, "records", object="CUSTOMER", query="CUSTOMERID LIKE 'PUSH-%'"
    )
    assert sorted(r["NAME"] for r in found["records"]) == ["O'Brien & <Co>", "Zoë Ltd"]
    with clean_ar, clean_ar.cursor() as cursor:
        cursor.execute(
            "SELECT last_counts FROM intacct_sync.sync_state"
            " WHERE object = 'customers' AND direction = 'push'"
        )
        assert cursor.fetchone()[0] == again


def test_one_rejected_record_does_not_stop_the_others(intacct_connection, clean_ar):
    records = LocalRecords(clean_ar)
    records.customer("Fresh Customer", account_number="PUSH-0100")
    bad = records.customer("Bad Mail Ltd", account_number="PUSH-0101", email="not-an-email")
    counts = IntacctPushOperator(task_id="push", object_name="customers").execute(_context())
    assert (counts["posted"], counts["failed"]) == (1, 1)
    with clean_ar, clean_ar.cursor() as cursor:
        cursor.execute(
            "SELECT record_id, error_numbers[1], message FROM intacct_sync.reconciliation_errors"
            " WHERE object = 'customers' AND direction = 'push'"
        )
        [(record_id, errorno, message)] = cursor.fetchall()
    assert (record_id, errorno) == (str(bad), "BL03000018")
    assert "not-an-email" in message
