"""Records Intacct rejects become reconciliation errors with the error numbers and the fix
hint; a person fixes and retries them (or ignores them) through `make errors`."""

from __future__ import annotations

from intacct_sync.db.reconciliation import list_errors, main

from include.localenv.local_records import Application, Line
from tests.ground_truth import sandbox_get, sandbox_post


def _errors(connection, name: str) -> dict[str, dict]:
    rows = list_errors(connection, object_name=name, states=("open", "retrying", "ignored"))
    return {r["record_id"]: r for r in rows}


def _state(connection, error_id: int) -> str:
    with connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT state FROM intacct_sync.reconciliation_errors WHERE id = %s", (error_id,)
        )
        return cursor.fetchone()[0]


def _sql(connection, sql: str, *params) -> None:
    with connection, connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_known_errors_are_recorded_with_hints_and_succeed_when_retried_after_the_fix(
    records, push, writes, clean_ar, intacct_connection, ar_database_dsn, capsys
):
    cli = ["--dsn", ar_database_dsn]
    usd = records.customer("Dollar Inc", account_number="ACC-USD")
    eur = records.customer("Euro GmbH", account_number="ACC-EUR", currency="EUR")
    assert push("customers").posted == 2
    taken = sandbox_get(intacct_connection, "records", object="ARINVOICE", limit=1)
    collision = records.document(
        "invoices", usd, taken["records"][0]["RECORDID"], [Line("10.00")]
    )
    bad_dimension = records.document(
        "invoices", usd, "LOC-DIM", [Line("10.00", dimensions={"intacct_department": "NOPE"})]
    )
    unknown_field = records.document(
        "invoices", usd, "LOC-FIELD", [Line("10.00", dimensions={"intacct_colour": "red"})]
    )
    good = records.document("invoices", usd, "LOC-GOOD", [Line("25.00")])
    euro_invoice = records.document("invoices", eur, "LOC-EUR", [Line("80.00")], currency="EUR")
    counts = push("invoices")
    assert (counts.posted, counts.failed) == (2, 3)  # one bad record never blocks the batch
    errors = _errors(clean_ar, "invoices")
    assert set(errors) == {str(collision), str(bad_dimension), str(unknown_field)}
    assert errors[str(collision)]["error_numbers"][0] == "BL01001973"
    assert "already exists" in errors[str(collision)]["message"]
    assert "numbering collision" in errors[str(collision)]["hint"]
    assert "Invalid Department 'NOPE' specified" in errors[str(bad_dimension)]["message"]
    assert "intacct_* field" in errors[str(bad_dimension)]["hint"]
    assert "line 1: unknown field intacct_colour" in errors[str(unknown_field)]["message"]
    assert "intacct_glaccountno" in errors[str(unknown_field)]["hint"]

    # Payments: a company that wants batch keys, and euros into undeposited funds.
    sandbox_post(intacct_connection, "faults", {"payment_batch_required": True})
    batch = records.payment(usd, "25.00", [Application(good, "25.00")], reference="P-BATCH")
    counts = push("payments")
    assert counts.failed == 1
    batch_error = _errors(clean_ar, "payments")[str(batch)]
    assert "set the A/R payments summary frequency" in batch_error["hint"]
    sandbox_post(intacct_connection, "faults", {"payment_batch_required": False})
    euros = records.payment(eur, "80.00", [Application(euro_invoice, "80.00")], currency="EUR")
    push("payments")  # the batch-key payment goes through now (retried); the euro one fails
    assert _state(clean_ar, batch_error["id"]) == "resolved"
    payment_errors = _errors(clean_ar, "payments")
    assert payment_errors[str(euros)]["error_numbers"][0] == "BL02000051"
    assert "bank account in its currency" in payment_errors[str(euros)]["hint"]

    # `make errors` lists them with their fixes.
    assert main([*cli, "list", "--object", "invoices"]) == 0
    listed = capsys.readouterr().out
    assert f"record {collision}" in listed and "fix: A record with this id" in listed
    assert "3 error(s)" in listed

    # Fix, retry, push: the numbering collision and the euro payment go through.
    _sql(clean_ar, "UPDATE ar.invoices SET number = 'LOC-RENAMED' WHERE id = %s", collision)
    _sql(clean_ar, "UPDATE ar.payments SET bank_account = 'DB-EUR' WHERE id = %s", euros)
    ids = [errors[str(collision)]["id"], payment_errors[str(euros)]["id"]]
    assert main([*cli, "retry", *map(str, ids)]) == 0
    assert [_state(clean_ar, i) for i in ids] == ["retrying", "retrying"]
    # … and the unknown dimension is ignored: it is not sent again.
    ignored = errors[str(bad_dimension)]["id"]
    assert main([*cli, "ignore", str(ignored)]) == 0
    writes()
    assert push("invoices").posted == 1
    assert push("payments").posted == 1
    sent = writes()
    assert [w["payload"].get("invoiceno") for w in sent if w["function"] == "create_invoice"] == [
        "LOC-RENAMED"
    ]
    assert [_state(clean_ar, i) for i in ids] == ["resolved", "resolved"]
    assert _state(clean_ar, ignored) == "ignored"
    # Retrying something that is not open says so.
    assert main([*cli, "retry", str(ids[0])]) == 1
    assert "is not open or ignored" in capsys.readouterr().err
