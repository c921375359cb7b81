"""A person in a browser: log in to Airflow, open Browse → Intacct Sync, see each object's last
sync, retry one error and ignore another, and see their states change. Playwright drives
Debian's chromium headless (`make test` installs it); the screenshot is kept in
tests/artifacts/."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from include.localenv.local_records import LocalRecords
from include.push import push_object
from include.sync_config import parse
from tests.dags.test_pull_dags import _dag
from tests.ui.conftest import _hook

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.mark.slow
def test_a_person_sees_the_sync_and_retries_and_ignores_errors(airflow, clean_ar):
    from playwright.sync_api import expect, sync_playwright

    assert str(_dag("customers").test().state) == "success"
    records = LocalRecords(clean_ar)
    records.customer("Retry Me Ltd", account_number="UI-R", email="bad-1")
    records.customer("Ignore Me Ltd", account_number="UI-I", email="bad-2")
    assert push_object(_hook(), clean_ar, "customers", parse(None)).failed == 2

    chromium = os.environ.get("INTACCT_SYNC_CHROMIUM") or shutil.which("chromium")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"],
        )  # fmt: skip
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{airflow.base_url}/auth/login", wait_until="networkidle")
            page.fill("input[name=username]", airflow.user)
            page.fill("input[name=password]", airflow.password)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(lambda url: "/auth/login" not in url, timeout=30_000)

            page.goto(f"{airflow.base_url}/plugin/intacct-sync", wait_until="networkidle")
            sync = page.frame_locator("iframe")
            pulled = sync.locator('tr[data-object="customers"][data-direction="pull"]')
            expect(pulled.locator("td.last-sync")).not_to_contain_text("never", timeout=30_000)
            expect(sync.locator('tr[data-object="customers"][data-direction="push"] td').nth(7))\
                .to_have_text("2")  # fmt: skip

            retry_row = sync.locator("#errors tr", has=sync.locator("td", has_text="bad-1"))
            retry_row.get_by_role("button", name="Retry").click()
            expect(retry_row.locator("td.state")).to_have_text("retrying", timeout=15_000)
            ignore_row = sync.locator("#errors tr", has=sync.locator("td", has_text="bad-2"))
            ignore_row.get_by_role("button", name="Ignore").click()
            expect(ignore_row).to_have_count(0, timeout=15_000)  # open and retrying only

            page.goto(f"{airflow.base_url}/intacct-sync/?state=ignored", wait_until="load")
            shown = page.locator("#errors tr", has=page.locator("td", has_text="bad-2"))
            expect(shown.locator("td.state")).to_have_text("ignored")
            page.goto(f"{airflow.base_url}/plugin/intacct-sync", wait_until="networkidle")
            expect(page.frame_locator("iframe").locator("#status")).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "intacct-sync-page.png"), full_page=True)
        finally:
            browser.close()
    assert (ARTIFACTS / "intacct-sync-page.png").stat().st_size > 10_000
