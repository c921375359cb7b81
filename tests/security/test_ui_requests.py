"""The Intacct Sync page refuses forged logins and every cross-site way of changing
something, on every route that changes something, and a refusal changes nothing.

(tests/ui/test_sync_page_api.py covers no login → 401 and one cross-site POST; this adds a
forged token — refused by Airflow's own JWT check with 403 — each POST route, an opaque
`null` origin, a look-alike host and a form-encoded post.)
"""

from __future__ import annotations

import pytest

from tests.ui.conftest import call

pytestmark = pytest.mark.security

POSTS = ["/api/errors/retry", "/api/errors/ignore", "/api/sync-now/customers",
         "/api/tieout/customers"]  # fmt: skip
FORGED = ("eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIiwiZXhwIjo0MTAyNDQ0ODAwfQ."
          "c2lnbmVkLWJ5LXNvbWVvbmUtZWxzZQ")  # fmt: skip


def test_forged_tokens_and_cross_site_posts_are_refused_and_change_nothing(
    airflow, failing_customer, clean_ar
):
    runs_before = {r["dag_run_id"] for r in airflow.dag_runs("intacct_customers")}
    status, body = call(airflow, "GET", "/api/errors?object=customers")
    [error] = body["errors"]
    ids = {"ids": [error["id"]]}

    forged = {"Authorization": f"Bearer {FORGED}"}
    for method, path in (("GET", "/api/status"), ("GET", "/"), *(("POST", p) for p in POSTS)):
        headers = {**forged, "X-Intacct-Sync": "1"}
        answer = call(airflow, method, path, ids, token=False, headers=headers)
        assert answer == (403, {"detail": "Invalid JWT token"}), path  # Airflow's own check

    host = airflow.base_url.split("://", 1)[1]
    refusals = [
        ({}, "missing header X-Intacct-Sync: 1"),
        ({"Content-Type": "application/x-www-form-urlencoded"}, "missing header X-Intacct-Sync: 1"),
        ({"X-Intacct-Sync": "1", "Origin": "https://evil.example"},
         "cross-site request from https://evil.example refused"),
        ({"X-Intacct-Sync": "1", "Origin": "null"}, "cross-site request from null refused"),
        ({"X-Intacct-Sync": "1", "Origin": f"http://{host}.evil.example"},
         f"cross-site request from http://{host}.evil.example refused"),
    ]  # fmt: skip
    for path in POSTS:
        for headers, detail in refusals:
            assert call(airflow, "POST", path, ids, headers=headers) == (403, {"detail": detail})

    # Nothing happened: the error is still open, no run was triggered, no tie-out stored.
    assert call(airflow, "GET", "/api/errors?object=customers")[1]["errors"][0]["state"] == "open"
    assert {r["dag_run_id"] for r in airflow.dag_runs("intacct_customers")} == runs_before
    with clean_ar.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM intacct_sync.tieouts")
        assert cursor.fetchone()[0] == 0
    clean_ar.rollback()
    # … and the same request from the page itself is accepted (the refusals were the headers).
    same_site = {"X-Intacct-Sync": "1", "Origin": airflow.base_url}
    assert call(airflow, "POST", "/api/errors/ignore", ids, headers=same_site) == (
        200, {"ignored": [error["id"]]})  # fmt: skip
