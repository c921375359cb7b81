"""The page's API: authentication, status and errors as JSON, protected actions, and a
tie-out whose Intacct figures are the sandbox's own."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.dags.test_pull_dags import _dag
from tests.ground_truth import sandbox_get, sandbox_post
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


def test_the_tie_out_shows_paid_and_due_per_entity_and_reports_a_corrupted_balance(
    airflow, intacct_connection, clean_ar
):
    for name in ("customers", "invoices"):
        assert str(_dag(name).test().state) == "success"
    status, tie = call(airflow, "POST", "/api/tieout/invoices", {}, headers=CSRF)
    assert status == 200 and tie["ok"], tie
    entities = {e["entity"]: e for e in tie["entities"]}
    assert len(entities) >= 2  # the sandbox has several entities: one must stay untouched
    for e in entities.values():  # every figure present on every side, and no difference
        for side in ("intacct", "expected", "postgres"):
            assert {"count", "sum", "paid", "due"} <= e[side].keys()
            assert None not in e[side].values()
        assert e["difference"] == {"count": 0, "sum": "0.00", "paid": "0.00", "due": "0.00"}
    with clean_ar.cursor() as cursor:  # the AR database's own view agrees with the figures
        cursor.execute("SELECT entity, count(*), sum(total), sum(total_paid), sum(total_due)"
                       " FROM ar.invoices WHERE intacct_recordno IS NOT NULL AND deleted_at IS NULL"
                       " GROUP BY entity")  # fmt: skip
        held = {e: (n, str(t), str(p), str(d)) for e, n, t, p, d in cursor.fetchall()}
    assert held == {e: tuple(v["postgres"][k] for k in ("count", "sum", "paid", "due"))
                    for e, v in entities.items() if v["postgres"]["count"]}  # fmt: skip
    assert any(Decimal(e["expected"]["due"]) > 0 for e in entities.values())

    # Someone edits a local invoice's balance by hand: the tie-out names the entity and the sum.
    with clean_ar, clean_ar.cursor() as cursor:
        cursor.execute(
            "UPDATE ar.invoices SET total_due = total_due + 12.34 WHERE id = (SELECT min(id)"
            " FROM ar.invoices WHERE intacct_recordno IS NOT NULL) RETURNING entity"
        )
        [corrupted] = cursor.fetchone()
    status, tie = call(airflow, "POST", "/api/tieout/invoices", {}, headers=CSRF)
    assert status == 200 and not tie["ok"]
    after = {e["entity"]: e for e in tie["entities"]}
    assert after[corrupted]["difference"] == {"count": 0, "sum": "0.00", "paid": "0.00",
                                              "due": "12.34"}  # fmt: skip
    assert Decimal(after[corrupted]["postgres"]["due"]) - Decimal(
        after[corrupted]["expected"]["due"]) == Decimal("12.34")
    assert not after[corrupted]["ok"]
    assert all(e["ok"] for name, e in after.items() if name != corrupted)
    shown = {(o["object"], o["direction"]): o for o in call(airflow, "GET", "/api/status")[1][
        "objects"]}[("invoices", "pull")]["tieout"]  # fmt: skip
    assert not shown["ok"] and shown["entities"] == tie["entities"]


def test_errors_are_filtered_sorted_and_paged_in_the_database(airflow, clean_ar):
    with clean_ar, clean_ar.cursor() as cursor:
        cursor.execute(
            "INSERT INTO intacct_sync.reconciliation_errors (object, direction, record_id,"
            " error_numbers, message, attempts, state, last_seen_at)"
            " SELECT CASE WHEN i % 2 = 0 THEN 'invoices' ELSE 'customers' END, 'push', i::text,"
            " ARRAY[CASE WHEN i % 3 = 0 THEN 'BL01001973' ELSE 'BL03000018' END],"
            " 'failure ' || i, i % 7 + 1, CASE WHEN i % 5 = 0 THEN 'ignored' ELSE 'open' END,"
            " now() - i * interval '1 minute' FROM generate_series(1, 120) i"
        )
    status, page = call(airflow, "GET", "/api/errors?object=invoices&limit=10&offset=20")
    assert status == 200
    assert page["total"] == 48 and page["count"] == 10 and page["offset"] == 20  # 60 − 12 ignored
    assert page["by_state"] == {"open": 48, "retrying": 0, "ignored": 12, "resolved": 0}
    assert [int(e["record_id"]) for e in page["errors"]] == [
        i for i in range(2, 121, 2) if i % 5][20:30]  # newest first
    status, page = call(airflow, "GET", "/api/errors?sort=attempts&order=asc&limit=1000"
                                        "&state=open&state=ignored&errorno=BL01001973")
    assert page["total"] == 40 and [e["attempts"] for e in page["errors"]] == sorted(
        e["attempts"] for e in page["errors"])
    assert {e["error_numbers"][0] for e in page["errors"]} == {"BL01001973"}
    assert call(airflow, "GET", "/api/errors?q=failure%2011")[1]["total"] == 9  # 11, 111–119 open
    assert call(airflow, "GET", "/api/errors?offset=5000")[1] | {"by_state": None} == {
        "errors": [], "count": 0, "total": 96, "offset": 5000, "limit": 500, "by_state": None}
    assert call(airflow, "GET", "/api/errors?sort=message;drop")[0] == 422
    assert call(airflow, "GET", "/api/errors?state=gone")[0] == 422


def test_every_successful_run_stores_a_tie_out_and_the_next_run_shows_a_new_difference(
    airflow, intacct_connection, clean_ar
):
    runs = {name: _dag(name).test() for name in ("customers", "invoices")}
    assert {n: str(r.state) for n, r in runs.items()} == {"customers": "success",
                                                           "invoices": "success"}  # fmt: skip
    shown = _tieouts(airflow)
    for name, run in runs.items():  # computed by the run itself: nobody pressed a button
        assert shown[name]["run_id"] == run.run_id, shown[name]
        assert shown[name]["ok"] and shown[name]["invoice_source"] == "order_entry"
        assert shown[name]["entities"] and shown[name]["computed_at"]
    assert shown["payments"] is None  # never ran: nothing stored, so nothing made up

    # Intacct's balance of one held invoice changes (a payment entered there, no payments
    # run yet); its Order Entry document does not, so the next invoices run loads nothing.
    with clean_ar.cursor() as cursor:
        cursor.execute(
            "SELECT entity, ar_recordno, total_due FROM ar.invoices WHERE ar_recordno IS NOT"
            " NULL AND total_due > 20 AND intacct_whenmodified < (SELECT max("
            "intacct_whenmodified) FROM ar.invoices) - interval '1 day' ORDER BY id LIMIT 1"
        )
        entity, ar_recordno, due = cursor.fetchone()
    sandbox_post(intacct_connection, "edit", {"object": "ARINVOICE", "recordno": ar_recordno,
                                              "set": {"TRX_TOTALDUE": str(due - 12)}})  # fmt: skip
    second = _dag("invoices").test()
    assert str(second.state) == "success"
    tie = _tieouts(airflow)["invoices"]
    assert tie["run_id"] == second.run_id and tie["computed_at"] > shown["invoices"]["computed_at"]
    assert not tie["ok"]
    by_entity = {e["entity"]: e for e in tie["entities"]}
    assert by_entity[entity]["difference"] == {"count": 0, "sum": "0.00", "paid": "0.00",
                                               "due": "12.00"}  # fmt: skip
    assert all(e["ok"] for name, e in by_entity.items() if name != entity)


def _tieouts(airflow) -> dict[str, dict | None]:
    """The stored tie-out of each pulled object, as the page's status API returns it."""
    status, body = call(airflow, "GET", "/api/status")
    assert status == 200
    return {o["object"]: o["tieout"] for o in body["objects"] if o["direction"] == "pull"}
