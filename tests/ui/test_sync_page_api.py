"""The page's API: authentication, status and errors as JSON, protected actions, and a
tie-out whose Intacct figures are the sandbox's own."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.dags.test_pull_dags import _dag
from tests.ground_truth import sandbox_get
from tests.ui.conftest import call

CSRF = {"X-Intacct-Sync": "1"}


@pytest.mark.security
def test_the_api_needs_a_login_and_reports_status_errors_and_a_true_tie_out(
    airflow, failing_customer, intacct_connection, clean_ar
):
    for name in ("customers", "invoices"):
        assert str(_dag(name).test().state) == "success"

    for method, path in (("GET", "/api/status"), ("GET", "/api/errors"), ("GET", "/"),
                         ("POST", "/api/sync-now/customers")):  # fmt: skip
        assert call(airflow, method, path, {}, token=False)[0] == 401, path

    status, body = call(airflow, "GET", "/api/status")
    assert status == 200
    rows = {(o["object"], o["direction"]): o for o in body["objects"]}
    assert set(rows) == {(n, "pull") for n in ("customers", "invoices", "credit_notes",
                                               "payments")} | {
        (n, "push") for n in ("customers", "invoices", "credit_notes", "payments",
                              "convenience_fees")}  # fmt: skip
    customers = rows[("customers", "pull")]
    assert customers["last_success_at"] and customers["lag_seconds"] < 600
    assert customers["records_last_run"] == customers["records_24h"] > 0
    assert rows[("customers", "push")]["open_errors"] == 1
    assert sum(h["pull"] for h in body["per_hour"]) >= customers["records_24h"]

    status, body = call(airflow, "GET", "/api/errors?object=customers")
    [error] = body["errors"]
    assert (error["record_id"], error["state"]) == (str(failing_customer), "open")
    assert "BL03000018" in error["error_numbers"]

    # State changes need the page's header and the same origin.
    assert call(airflow, "POST", "/api/errors/ignore", {"ids": [error["id"]]})[0] == 403
    cross = {**CSRF, "Origin": "https://evil.example"}
    assert call(airflow, "POST", "/api/errors/ignore", {"ids": [error["id"]]},
                headers=cross)[0] == 403  # fmt: skip
    status, body = call(airflow, "POST", "/api/errors/retry", {"ids": [error["id"]]},
                        headers=CSRF)  # fmt: skip
    assert status == 200 and body["retried"] == [error["id"]]
    assert body["triggered"]["customers"]  # a manual run of intacct_customers
    assert call(airflow, "GET", "/api/errors?state=retrying")[1]["count"] == 1
    status, body = call(airflow, "POST", "/api/errors/ignore", {"ids": [error["id"]]},
                        headers=CSRF)  # fmt: skip
    assert (status, body) == (200, {"ignored": [error["id"]]})
    assert call(airflow, "GET", "/api/errors?state=ignored")[1]["errors"][0]["id"] == error["id"]
    assert call(airflow, "POST", "/api/errors/ignore", {"ids": [error["id"]]},
                headers=CSRF)[0] == 409  # fmt: skip

    status, tie = call(airflow, "POST", "/api/tieout/invoices", {}, headers=CSRF)
    assert status == 200, tie
    truth = sandbox_get(intacct_connection, "summary", object="SODOCUMENT",
                        docparid="Sales Invoice")["by_entity"]  # fmt: skip
    assert {e["entity"]: (e["intacct"]["count"], Decimal(e["intacct"]["sum"]))
            for e in tie["entities"]} == {
        entity: (b["count"], Decimal(str(b["TRX_TOTAL"])).quantize(Decimal("0.01")))
        for entity, b in truth.items()
    }  # fmt: skip
    assert tie["ok"], tie  # Postgres holds what it should: the active customers' invoices
    shown = {(o["object"], o["direction"]): o for o in call(airflow, "GET", "/api/status")[1][
        "objects"]}[("invoices", "pull")]["tieout"]  # fmt: skip
    assert shown["ok"] and shown["computed_at"] == tie["computed_at"]
