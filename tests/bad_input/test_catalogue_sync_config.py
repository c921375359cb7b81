"""Bad-input catalogue, sync configuration (the `intacct_sync_config` Airflow variable).

A configuration mistake fails the run's first task before any Intacct call, naming the key
and the fix, and writes nothing. A value only Intacct can judge (a GL account it does not
have) cannot be refused up front: every record it reaches becomes a reconciliation error that
names the account, and nothing is posted half-way.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from intacct_sync.db.reconciliation import list_errors

from include.localenv.local_records import Line
from tests.bad_input.conftest import (
    assert_refused_in_plan,
    database_state,
    intacct_calls,
    run_dag,
)
from tests.ground_truth import sandbox_get

pytestmark = pytest.mark.bad_input


@dataclass(frozen=True)
class Case:
    variable: str  # the variable's JSON text, as an operator would type it
    message: str
    dag: str = "payments"  # pull and push; convenience_fees pushes only


CASES = [
    pytest.param(
        Case('{"sync_start": "yesterday"}',
             "intacct_sync_config: sync_start='yesterday' must be an ISO-8601 time with a zone,"
             ' e.g. 2026-01-01T00:00:00+00:00, or "beginning" (no cut-over)'),
        id="config-sync-start-not-a-time",
    ),
    pytest.param(
        Case('{"batch_size": 500}',
             "intacct_sync_config has no key batch_size; known: alert_after_hours,"
             " convenience_fee_line, convenience_fee_mode, customer_source, dimensions,"
             " invoice_glaccountno, invoice_source, keyset_comparison_hours, lookback_minutes,"
             " overpayment_dimensions, pull, push, sync_start, undeposited_funds_account"),
        id="config-unknown-key",
    ),
    pytest.param(
        Case('{"invoice_source": "ar"}',
             "intacct_sync_config: invoice_source='ar': choose order_entry,"
             " accounts_receivable or both", dag="invoices"),
        id="config-invoice-source-unknown",
    ),
    pytest.param(
        Case('{"pull": {"invoice": false}}',
             "intacct_sync_config: pull has no object invoice; known: customers, invoices,"
             " credit_notes, payments"),
        id="config-unknown-object",
    ),
    pytest.param(
        Case('{"push": {"payments": "no"}}',
             "intacct_sync_config: push.payments='no' must be true or false"),
        id="config-switch-not-a-boolean",
    ),
    pytest.param(
        Case('{"alert_after_hours": 0.5}',
             "intacct_sync_config: alert_after_hours=0.5 is below 1: the hourly pull needs an"
             " hour before it can be behind"),
        id="config-alert-after-less-than-an-hour",
    ),
    pytest.param(
        Case('{"keyset_comparison_hours": 0}',
             "intacct_sync_config: keyset_comparison_hours=0 is below 1: each comparison lists"
             " every key and modification time; once an hour at most"),
        id="config-keyset-comparison-every-0-hours",
    ),
    pytest.param(
        Case("{pull: {payments: false}}",
             "intacct_sync_config is not valid JSON: Expecting property name enclosed in double"
             " quotes: line 1 column 2 (char 1)"),
        id="config-json-syntax-error",
    ),
    pytest.param(
        Case('{"invoice_glaccountno": " "}',
             "intacct_sync_config: invoice_glaccountno=' ' must be a non-empty text",
             dag="convenience_fees"),
        id="config-blank-gl-account",
    ),
    pytest.param(
        Case('{"convenience_fee_mode": "write_off_fee"}',
             "intacct_sync_config: convenience_fee_mode='write_off_fee': choose write_on or"
             " write_off", dag="convenience_fees"),
        id="config-unknown-fee-mode",
    ),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_a_bad_configuration_fails_plan_before_intacct_and_writes_nothing(
    case: Case, intacct_connection, clean_ar, records, monkeypatch, capfd
):
    # Local data the refused run must leave exactly as it is.
    customer = records.customer("Waiting Co", account_number="BAD-CONFIG-1")
    records.payment(customer, "10.00", reference="BAD-CONFIG-P1")
    monkeypatch.setenv("AIRFLOW_VAR_INTACCT_SYNC_CONFIG", case.variable)
    before, calls = database_state(clean_ar), intacct_calls(intacct_connection)

    outcome = run_dag(case.dag, capfd)

    assert_refused_in_plan(outcome, f"intacct_{case.dag}: {case.message}")
    assert intacct_calls(intacct_connection) == calls
    assert database_state(clean_ar) == before


def test_config_gl_account_intacct_does_not_have_becomes_one_error_per_invoice(
    records, push, writes, clean_ar, intacct_connection
):
    """config-gl-account-unknown-to-intacct: the variable is valid, Intacct refuses the
    account on every line that uses the default; lines with their own account still post."""
    customer = records.customer("Ledger Ltd", account_number="BAD-GL-1")
    assert push("customers").posted == 1
    defaulted = records.document("invoices", customer, "BAD-GL-INV-1", [Line("12.00")])
    records.document(
        "invoices", customer, "BAD-GL-INV-2",
        [Line("30.00", dimensions={"intacct_glaccountno": "4000"})],
    )  # fmt: skip
    writes()

    counts = push("invoices", invoice_glaccountno="4999")

    assert (counts.posted, counts.failed, counts.failed_ids) == (1, 1, [str(defaulted)])
    [error] = list_errors(clean_ar, object_name="invoices")
    assert (error["record_id"], error["error_numbers"][0]) == (str(defaulted), "BL01001973")
    assert error["message"].startswith(
        "invoice BAD-GL-INV-1: BL01001973: Invalid GL Account '4999' specified."
    )
    assert "or in the sync configuration's defaults" in error["hint"]
    sent = {w["payload"]["invoiceno"]: w["outcome"] for w in writes("create_invoice")}
    assert sent == {"BAD-GL-INV-1": "failure", "BAD-GL-INV-2": "success"}
    found = sandbox_get(intacct_connection, "records", object="ARINVOICE",
                        query="RECORDID IN ('BAD-GL-INV-1', 'BAD-GL-INV-2')")  # fmt: skip
    assert [r["RECORDID"] for r in found["records"]] == ["BAD-GL-INV-2"]
