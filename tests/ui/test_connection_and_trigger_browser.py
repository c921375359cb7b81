"""A person in a browser, on the two places the README sends them before the first sync:
Admin → Connections → edit a Sage Intacct connection → **Test** (success against the sandbox,
and the problem named when the user password is wrong), and a DAG's Trigger form refusing an
initial data sync of two years with the plan's own one-line message before a run exists
(intacct_sync/ui/request_checks.py). Screenshots are kept in tests/artifacts/."""

from __future__ import annotations

import json
from contextlib import suppress

import pytest

from include.localenv.airflow_services import AirflowServiceError
from tests.ui.test_sync_page_browser import browser_page

pytestmark = pytest.mark.slow

TWO_YEARS = ("2023-01-01", "2024-12-31")


CONN_ID = "intacct_ui_test"


@pytest.fixture
def stored_connection(airflow, intacct_connection):
    """A Sage Intacct connection with the sandbox's credentials in the metadata database (the
    Connections list shows only those; `intacct_default` of the tests is an env variable)."""
    creds = intacct_connection.credentials
    airflow.post("/api/v2/connections", {
        "connection_id": CONN_ID, "conn_type": "intacct", "host": creds["url"],
        "login": creds["sender_id"], "password": creds["sender_password"],
        "extra": json.dumps(_extra(intacct_connection))})  # fmt: skip
    yield CONN_ID
    with suppress(AirflowServiceError):
        airflow.delete(f"/api/v2/connections/{CONN_ID}")


def test_the_connection_test_button_connects_and_names_a_wrong_password(
    airflow, intacct_connection, stored_connection
):
    """README step 6: press Test on the connection (Admin → Connections), then with a
    mistyped user password."""
    from playwright.sync_api import expect

    with browser_page(airflow) as page:
        for title, words, shot in (
            ("Test Connection Successful", "Connected to Intacct company SANDBOX-AR",
             "intacct-connection-test-ok.png"),
            ("Test Connection Failed",
             "Intacct refused the sign-in: check the company id, the web services user id and"
             " its password", "intacct-connection-test-wrong-password.png"),
        ):  # fmt: skip
            if title.endswith("Failed"):  # a person mistypes the user's password
                _set_user_password(airflow, intacct_connection, "not-the-password")
            page.goto(f"{airflow.base_url}/connections", wait_until="networkidle")
            row = page.get_by_role("row").filter(has_text=stored_connection)
            expect(row).to_have_count(1, timeout=30_000)
            row.get_by_role("button", name="Test Connection").click()
            toast = page.get_by_role("status").filter(has_text=title)
            expect(toast).to_be_visible(timeout=30_000)
            expect(toast).to_contain_text(words)
            page.screenshot(path=str(_artifact(shot)))


def _set_user_password(airflow, sandbox, password: str) -> None:
    """The stored connection with another user password (what Save in its form does)."""
    airflow.patch(f"/api/v2/connections/{CONN_ID}", {
        "connection_id": CONN_ID, "conn_type": "intacct",
        "extra": json.dumps(_extra(sandbox) | {"user_password": password})})  # fmt: skip


def _extra(sandbox) -> dict[str, str]:
    creds = sandbox.credentials
    return {"company_id": creds["company_id"], "user_id": creds["user_id"],
            "user_password": creds["user_password"], "company_timezone": "America/Los_Angeles"}


def test_a_two_year_initial_sync_is_refused_in_the_trigger_form(airflow, clean_ar):
    from playwright.sync_api import expect

    airflow.wait_for_dag("intacct_invoices")
    before = {r["dag_run_id"] for r in airflow.dag_runs("intacct_invoices")}
    with browser_page(airflow) as page:
        page.goto(f"{airflow.base_url}/dags/intacct_invoices", wait_until="networkidle")
        page.get_by_test_id("trigger-dag-button").click(no_wait_after=True)
        dialog = page.get_by_role("dialog")
        expect(dialog).to_be_visible()
        dialog.get_by_role("button", name="Initial data sync").click()  # the form's section
        # The form's date fields (type=date) are named after their Params.
        dialog.locator("input[name=element_history_from]").fill(TWO_YEARS[0])
        dialog.locator("input[name=element_history_to]").fill(TWO_YEARS[1])
        dialog.get_by_role("button", name="Trigger").click(no_wait_after=True)
        expect(dialog).to_contain_text(
            "intacct_invoices: the range 2023-01-01 → 2024-12-31 is 731 days; one run covers"
            " at most 366 days — split it into runs of at most one year", timeout=30_000)
        page.screenshot(path=str(_artifact("intacct-trigger-two-years-refused.png")))
    assert {r["dag_run_id"] for r in airflow.dag_runs("intacct_invoices")} == before  # no run


def _artifact(name: str):
    from tests.ui.test_sync_page_browser import ARTIFACTS

    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name
