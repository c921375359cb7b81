"""A person in a browser: log in to Airflow, open Browse → Intacct Sync (a React app plugin
rendered inside the Airflow shell, not an iframe), read each object's last sync as a relative
time with the exact time in the UI's time zone on hover, the tie-out figures per entity and
the chart of both series; retry one error and ignore another; open the per-DAG tab. Both
colour modes. Playwright drives Debian's chromium headless (`make test` installs it);
screenshots are kept in tests/artifacts/."""

from __future__ import annotations

import os
import re
import shutil
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pytest
from intacct_sync.push.posting import push_object
from intacct_sync.sync_config import parse

from include.localenv.local_records import LocalRecords
from tests.dags.test_pull_dags import _dag
from tests.ui.conftest import _hook, call

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
PAGE = '[data-testid="intacct-sync-page"]'
ZONE = "America/New_York"  # not the machine's: proves the page follows the UI's setting
CSRF = {"X-Intacct-Sync": "1"}

pytestmark = pytest.mark.slow


@contextmanager
def browser_page(airflow, theme: str = "light"):
    """A logged-in page of the Airflow UI in `theme`, with the UI's time zone set to ZONE."""
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("INTACCT_SYNC_CHROMIUM") or shutil.which("chromium")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"],
        )  # fmt: skip
        try:
            context = browser.new_context(viewport={"width": 1500, "height": 1000},
                                          color_scheme=theme)  # fmt: skip
            # What the UI's own theme toggle and time-zone menu store (next-themes, "timezone").
            context.add_init_script(
                f"localStorage.setItem('theme', '{theme}');"
                f"localStorage.setItem('timezone', JSON.stringify('{ZONE}'));"
            )
            page = context.new_page()
            failures: list[str] = []
            page.on("pageerror", lambda error: failures.append(str(error)))
            page.goto(f"{airflow.base_url}/auth/login", wait_until="networkidle")
            page.fill("input[name=username]", airflow.user)
            page.fill("input[name=password]", airflow.password)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(lambda url: "/auth/login" not in url, timeout=30_000)
            yield page
            assert not failures, failures  # no uncaught error in the page's script
        finally:
            browser.close()


def _lightness(css: str) -> float:
    """0 (black) … 1 (white) of a computed CSS colour: oklch(L …) or rgb(r, g, b)."""
    numbers = [float(n) for n in re.findall(r"[\d.]+", css)]
    return numbers[0] if css.startswith("oklch") else sum(numbers[:3]) / 3 / 255


def _screenshot(page, name: str) -> None:
    """The whole page: the shell scrolls inside, so the window grows to the page's height."""
    height = page.locator(PAGE).evaluate("e => e.scrollHeight")
    page.set_viewport_size({"width": 1500, "height": max(1000, height + 200)})
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 20_000


def test_the_page_renders_in_the_airflow_shell_in_both_themes_with_figures(
    airflow, intacct_connection, clean_ar
):
    from playwright.sync_api import expect

    for name in ("customers", "invoices"):
        assert str(_dag(name).test().state) == "success"
    status, tie = call(airflow, "POST", "/api/tieout/invoices", {}, headers=CSRF)
    assert status == 200 and tie["ok"]
    api = call(airflow, "GET", "/api/status")[1]
    hours = api["per_hour"]
    busy = max(range(len(hours)), key=lambda i: hours[i]["pull"])
    assert hours[busy]["pull"] > 0

    colours = {}
    for theme in ("light", "dark"):
        with browser_page(airflow, theme) as page:
            page.goto(f"{airflow.base_url}/plugin/intacct-sync", wait_until="networkidle")
            sync = page.locator(PAGE)
            expect(sync).to_be_visible(timeout=30_000)
            assert page.locator("iframe").count() == 0  # the page itself, not a frame
            # … inside the Airflow shell: its nav, and its time-zone button showing ZONE's offset
            expect(page.get_by_role("link", name="Dags")).to_be_visible()
            expect(page.get_by_role("button", name="Browse")).to_be_visible()
            expect(page.get_by_role("button", name=re.compile(r"^-0[45]:00$"))).to_be_visible()
            assert ("dark" in (page.locator("html").get_attribute("class") or "")) == (
                theme == "dark")  # fmt: skip
            # The page's own text and tables take the theme's colours (Chakra's tokens).
            heading = sync.get_by_role("heading", name="Intacct Sync")
            expect(heading).to_be_visible()
            colours[theme] = heading.evaluate("e => getComputedStyle(e).color")

            # Last success, relative; the exact time in the UI's zone on hover.
            pulled = sync.locator('tr[data-object="customers"][data-direction="pull"]')
            when = pulled.get_by_test_id("last-success").get_by_test_id("relative-time")
            # (seconds from 45 s: the runs before end with their tie-out, on a busy machine)
            expect(when).to_have_text(re.compile(r"^(just now|\d+ s ago|\d+ min ago)$"))
            when.hover()
            exact = page.get_by_test_id("exact-time")
            expect(exact).to_be_visible()
            expect(exact).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d E[SD]T$"))
            expect(pulled.get_by_test_id("lag")).to_have_attribute("data-level", "ok")
            never = sync.locator('tr[data-object="payments"][data-direction="pull"]')
            expect(never.get_by_test_id("lag")).to_have_attribute("data-level", "behind")
            expect(pulled.get_by_test_id("records-24h")).not_to_have_text("0")

            # Tie-out figures per entity: the API's own numbers, each figure and difference.
            invoices = sync.locator('[data-testid="tieout"][data-object="invoices"]')
            expect(invoices.get_by_test_id("tieout-verdict")).to_have_text("agrees")
            for entity in tie["entities"]:
                for figure, label in (("count", "Count"), ("sum", "Total"), ("paid", "Paid"),
                                      ("due", "Due")):  # fmt: skip
                    row = invoices.locator(f'tr[data-entity="{entity["entity"] or "(none)"}"]'
                                           f'[data-figure="{figure}"]')  # fmt: skip
                    cells = row.locator("td")
                    expect(cells.filter(has_text=label)).to_have_count(1)
                    value = entity["expected"][figure]
                    shown = (f"{int(value):,}" if figure == "count"
                             else f"{Decimal(value):,.2f}")  # fmt: skip
                    expect(cells.nth(-3)).to_have_text(shown)  # expected
                    expect(cells.nth(-2)).to_have_text(shown)  # held locally
                    expect(cells.nth(-1)).to_have_text("0")

            # The chart: both series on every hour, axes, a tooltip with the hour's figures.
            chart = sync.get_by_test_id("hourly-chart")
            expect(chart.locator('rect[data-series="pull"]')).to_have_count(len(hours))
            expect(chart.locator('rect[data-series="push"]')).to_have_count(len(hours))
            expect(chart.get_by_test_id("y-axis").locator("text").first).to_have_text("0")
            assert chart.get_by_test_id("x-axis").locator("text").count() >= 12
            expect(chart.get_by_test_id("legend")).to_have_count(2)
            chart.get_by_test_id("hour-band").nth(busy).hover()
            expect(chart.get_by_test_id("chart-tooltip")).to_contain_text(
                f"pulled {hours[busy]['pull']:,}")  # fmt: skip
            expect(chart.get_by_test_id("chart-tooltip")).to_contain_text(
                f"pushed {hours[busy]['push']:,}")  # fmt: skip
            page.mouse.move(0, 0)
            _screenshot(page, f"intacct-sync-page-{theme}.png")
    # Light: dark text; dark: light text.
    assert _lightness(colours["light"]) < 0.5 < _lightness(colours["dark"]), colours


def test_a_person_retries_one_error_and_ignores_others_from_the_page(airflow, clean_ar):
    from playwright.sync_api import expect

    assert str(_dag("customers").test().state) == "success"
    records = LocalRecords(clean_ar)
    records.customer("Retry Me Ltd", account_number="UI-R", email="bad-1")
    ignored = [records.customer(f"Ignore Me {i} Ltd", account_number=f"UI-I{i}",
                                email=f"bad-i{i}") for i in (1, 2)]  # fmt: skip
    assert push_object(_hook(), clean_ar, "customers", parse(None)).failed == 3

    with browser_page(airflow) as page:
        page.goto(f"{airflow.base_url}/plugin/intacct-sync", wait_until="networkidle")
        sync = page.locator(PAGE)
        pushed = sync.locator('tr[data-object="customers"][data-direction="push"]')
        expect(pushed.get_by_test_id("open-errors")).to_have_text("3", timeout=30_000)
        errors = sync.get_by_test_id("errors-table")
        expect(errors.locator("tr[data-error]")).to_have_count(3)

        # One by its own button: it becomes retrying, and its DAG was triggered.
        retry_row = errors.locator("tr[data-error]", has_text="bad-1")
        retry_row.get_by_role("button", name="Retry").click()
        expect(sync.get_by_test_id("message")).to_contain_text("triggered customers")
        expect(retry_row.get_by_test_id("error-state")).to_have_text("retrying")

        # Two at once: select both, Ignore selected; they leave the open / retrying view.
        for record in ignored:
            errors.locator(f'tr[data-record="{record}"]').get_by_test_id("select-error").click()
        expect(sync.get_by_test_id("selected-count")).to_have_text("2 selected")
        sync.get_by_test_id("ignore-selected").click()
        expect(sync.get_by_test_id("message")).to_contain_text("2 error(s) ignored")
        expect(errors.locator("tr[data-error]")).to_have_count(1)

        # Filter on state: the ignored ones are there, as ignored.
        sync.locator('[data-state-filter="ignored"]').click()
        sync.locator('[data-state-filter="open"]').click()
        sync.locator('[data-state-filter="retrying"]').click()
        expect(errors.locator("tr[data-error]")).to_have_count(2)
        expect(errors.get_by_test_id("error-state")).to_have_text(["ignored", "ignored"])
        _screenshot(page, "intacct-sync-errors.png")
    states = {e["record_id"]: e["state"] for e in call(
        airflow, "GET", "/api/errors?state=open&state=retrying&state=ignored")[1]["errors"]}
    assert sorted(states.values()) == ["ignored", "ignored", "retrying"]


def test_each_intacct_dag_has_a_tab_with_its_own_objects(airflow, clean_ar):
    from playwright.sync_api import expect

    assert str(_dag("customers").test().state) == "success"
    with browser_page(airflow) as page:
        page.goto(f"{airflow.base_url}/dags/intacct_customers", wait_until="networkidle")
        page.get_by_role("tab", name="Intacct Sync").or_(
            page.get_by_role("link", name="Intacct Sync").last).first.click()
        page.wait_for_url(re.compile(r"/dags/intacct_customers/plugin/intacct-sync-dag"))
        sync = page.locator(PAGE)
        expect(sync).to_have_attribute("data-dag", "intacct_customers", timeout=30_000)
        rows = sync.get_by_test_id("status-table").locator("tbody tr")
        expect(rows).to_have_count(2)  # customers, both ways; no other object
        expect(sync.locator('tr[data-object="customers"][data-direction="pull"]')
               .get_by_test_id("relative-time")).to_have_text(re.compile("ago|just now"))
        expect(sync.get_by_test_id("filter-object")).to_have_value("customers")
        _screenshot(page, "intacct-sync-dag-tab.png")
