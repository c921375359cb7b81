"""IntacctPushOperator writes once per record, even when the task runs again."""

from __future__ import annotations

from intacct_sync.operators.push import IntacctPushOperator

from tests.ground_truth import sandbox_get


def _customer(record_id: str, customer_id: str, name: str) -> dict:
    return {
        "action": "create",
        "object": "CUSTOMER",
        "record_id": record_id,
        "fields": {"CUSTOMERID": customer_id, "NAME": name, "STATUS": "active"},
    }


def test_rerun_creates_each_record_exactly_once(intacct_connection):
    functions = [
        _customer("local-1", "PUSH-0001", "O'Brien & <Co>"),
        _customer("local-2", "PUSH-0002", "Zoë Ltd"),
    ]
    operator = IntacctPushOperator(task_id="push", functions=functions)
    first = operator.execute({})
    again = operator.execute({})
    assert [o["status"] for o in first + again] == ["success"] * 4
    assert [o["already_recorded"] for o in again] == [True, True]
    assert [o["key"] for o in again] == [o["key"] for o in first]
    found = sandbox_get(
        intacct_connection, "records", object="CUSTOMER", query="CUSTOMERID LIKE 'PUSH-%'"
    )
    assert sorted(r["NAME"] for r in found["records"]) == ["O'Brien & <Co>", "Zoë Ltd"]


def test_one_rejected_record_does_not_stop_the_others(intacct_connection):
    existing = sandbox_get(intacct_connection, "records", object="CUSTOMER", limit=1)["records"][0]
    functions = [
        _customer("dup", existing["CUSTOMERID"], "Duplicate"),
        _customer("fresh", "PUSH-0100", "Fresh Customer"),
    ]
    outcomes = IntacctPushOperator(task_id="push", functions=functions).execute({})
    by_record = {o["record_id"]: o for o in outcomes}
    assert by_record["fresh"]["status"] == "success"
    assert by_record["dup"]["status"] == "failure"
    assert "BL34000061" in by_record["dup"]["error"]["errornos"]
