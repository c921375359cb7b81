"""Intacct Sync page benchmark: the page's API and the page itself in a browser, with 10,000
reconciliation errors and 72 hours of history (issue 19: "page load under 1 s").

Against the project's PostgreSQL (a fresh bench database) and a real api-server: seeds
`intacct_sync.reconciliation_errors` (10,000 rows, every object, direction and state),
`sync_runs` (every object and direction, one run every 10 minutes for 72 h), `sync_state` and
stored tie-outs, then times
- each API call the page makes (status; the first page of errors; a sorted, a searched and
  a far page), median and 95th percentile over --samples requests, with a login token;
- the page in Chromium (when installed): from navigation to the status table, the tie-outs,
  the chart and the first page of errors shown (the UI's shell included), over --loads loads.

    .venv/bin/python bench/bench_ui.py                   # ≈ 1 min
    .venv/bin/python bench/bench_ui.py --errors 50000 --samples 50
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
import urllib.request
from contextlib import closing
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import psycopg2  # noqa: E402
from bench_pull import LOCAL, PostgresServer, airflow_metadata, database  # noqa: E402
from intacct_sync.sync_objects import OBJECTS  # noqa: E402
from psycopg2.extras import Json  # noqa: E402
from results import record  # noqa: E402

HOURS = 72
CALLS = {
    "status": "/api/status",
    "errors, first page": "/api/errors?limit=50",
    "errors, sorted by attempts": "/api/errors?limit=50&sort=attempts&order=asc"
                                  "&state=open&state=retrying&state=ignored&state=resolved",
    "errors, searched": "/api/errors?limit=50&q=timeout",
    "errors, page 121": "/api/errors?limit=50&offset=6000",
    "bundle": "/static/main.js",
}


def seed(dsn: str, errors: int) -> dict[str, int]:
    """Errors, 72 h of runs, state and tie-outs: what a busy, troubled month leaves behind."""
    pairs = [(o.name, d) for o in OBJECTS.values()
             for d, on in (("pull", o.pulled), ("push", o.push)) if on]  # fmt: skip
    with closing(psycopg2.connect(dsn)) as connection, connection, connection.cursor() as cur:
        cur.execute(
            "INSERT INTO intacct_sync.reconciliation_errors (object, direction, record_id,"
            " error_numbers, message, hint, attempts, state, first_seen_at, last_seen_at)"
            " SELECT (%(pairs)s::text[])[1 + i %% %(n)s], (%(dirs)s::text[])[1 + i %% %(n)s],"
            " i::text, ARRAY['BL0' || (1000000 + i %% 37)::text],"
            " CASE WHEN i %% 11 = 0 THEN 'Intacct timeout while posting record ' || i"
            "  ELSE 'Customer of record ' || i || ' is not active in Intacct' END,"
            " 'activate the customer, then Retry', 1 + i %% 9,"
            " (ARRAY['open','open','open','retrying','ignored','resolved'])[1 + i %% 6],"
            " now() - (i %% 4320) * interval '1 minute' - interval '1 day',"
            " now() - (i %% 4320) * interval '1 minute'"
            " FROM generate_series(1, %(errors)s) i",
            {"pairs": [p[0] for p in pairs], "dirs": [p[1] for p in pairs], "n": len(pairs),
             "errors": errors},
        )  # fmt: skip
        cur.execute(
            "INSERT INTO intacct_sync.sync_runs (object, direction, run_id, finished_at, records,"
            " counts) SELECT p.object, p.direction, 'bench__' || t, t, (random() * 500)::int, '{}'"
            " FROM unnest(%s::text[], %s::text[]) AS p(object, direction),"
            " generate_series(now() - interval '72 hours', now(), interval '10 minutes') t",
            ([p[0] for p in pairs], [p[1] for p in pairs]),
        )
        runs = cur.rowcount
        for name, direction in pairs:
            cur.execute(
                "INSERT INTO intacct_sync.sync_state (object, direction, last_success_at,"
                " last_run_id, last_counts) VALUES (%s, %s, now() - interval '12 minutes',"
                " 'bench', %s) ON CONFLICT DO NOTHING",
                (name, direction, Json({"inserted": 40, "updated": 2, "posted": 7})),
            )
        figures = {"count": 2500, "sum": "1250000.00", "paid": "800000.00", "due": "450000.00"}
        entities = [{"entity": e, "intacct": figures, "expected": figures, "postgres": figures,
                     "difference": {"count": 0, "sum": "0.00", "paid": "0.00", "due": "0.00"},
                     "ok": True} for e in ("E100", "E200", "E300")]  # fmt: skip
        for obj in OBJECTS.values():
            if obj.pulled:
                cur.execute("INSERT INTO intacct_sync.tieouts (object, entities) VALUES (%s, %s)",
                            (obj.name, Json(entities)))  # fmt: skip
    return {"errors": errors, "runs": runs}


def api_figures(airflow, samples: int) -> dict[str, dict[str, float]]:
    token = airflow.token()
    out = {}
    for label, path in CALLS.items():
        seconds = []
        for _ in range(samples + 1):  # the first warms the connection and the app
            request = urllib.request.Request(  # noqa: S310 - loopback
                f"{airflow.base_url}/intacct-sync{path}",
                headers={"Authorization": f"Bearer {token}"})  # fmt: skip
            started = time.perf_counter()
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                body = response.read()
            seconds.append(time.perf_counter() - started)
        if label.startswith("errors"):
            assert json.loads(body)["count"] == 50, label
        out[label] = _stats(seconds[1:]) | {"bytes": len(body)}
    return out


def page_figures(airflow, loads: int) -> dict[str, float] | None:
    chromium = os.environ.get("INTACCT_SYNC_CHROMIUM") or shutil.which("chromium")
    if not chromium:
        print("page: no chromium (apt-get install chromium): browser figures skipped")
        return None
    from playwright.sync_api import expect, sync_playwright

    seconds, phases = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True,
                                             args=["--no-sandbox", "--disable-gpu"])  # fmt: skip
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1000})
            page.goto(f"{airflow.base_url}/auth/login", wait_until="networkidle")
            page.fill("input[name=username]", airflow.user)
            page.fill("input[name=password]", airflow.password)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(lambda url: "/auth/login" not in url, timeout=30_000)
            for _ in range(loads + 1):  # the first fills the browser's cache, as for a user
                started = time.perf_counter()
                page.goto(f"{airflow.base_url}/plugin/intacct-sync", wait_until="commit")
                sync = page.locator('[data-testid="intacct-sync-page"]')
                expect(sync.get_by_test_id("errors-table").locator("tr[data-error]")).to_have_count(
                    50, timeout=30_000)  # fmt: skip
                expect(sync.get_by_test_id("tieout").first).to_be_visible()
                expect(sync.locator('rect[data-series="push"]')).to_have_count(HOURS)
                seconds.append(time.perf_counter() - started)
                phases.append(page.evaluate(PHASES))
        finally:
            browser.close()
    breakdown = {k: round(statistics.median(p[k] for p in phases[1:]), 1) for k in phases[0]}
    return _stats(seconds[1:]) | {"phases_ms": breakdown}


# When, after navigation started, the UI's shell had loaded its script, the UI asked for the
# page's bundle, the page's two API answers arrived (Resource Timing) and the page had rendered
# them (its own performance mark), in ms; the wall-clock figure adds Playwright's polling.
PHASES = """() => {
  const entries = performance.getEntriesByType('resource');
  const find = (part) => entries.filter((e) => e.name.includes(part)).pop();
  const end = (part) => Math.round(find(part)?.responseEnd ?? -1);
  const shell = entries.filter((e) => e.name.includes('/static/assets/index-') ||
                                     e.name.includes('/assets/index-')).pop();
  return {
    shell_script_loaded: Math.round(shell?.responseEnd ?? -1),
    bundle_requested: Math.round(find('/intacct-sync/static/main.js')?.startTime ?? -1),
    status_answered: end('/intacct-sync/api/status'),
    errors_answered: end('/intacct-sync/api/errors'),
    page_shown: Math.round(
      performance.getEntriesByName('intacct-sync:shown').pop()?.startTime ?? -1),
  };
}"""


def _stats(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"median_ms": round(statistics.median(ordered) * 1000, 1),
            "p95_ms": round(p95 * 1000, 1), "samples": len(ordered)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=20, help="requests per API call")
    parser.add_argument("--loads", type=int, default=5, help="page loads in the browser")
    args = parser.parse_args()
    from include.localenv.airflow_services import AirflowServices

    pg = PostgresServer(LOCAL / "postgres")
    started_pg = pg.start()
    try:
        with database(pg) as dsn:
            seeded = seed(dsn, args.errors)
            env = airflow_metadata(pg)  # after database(): it copies the AR connection
            with AirflowServices(("api-server",), env=env) as airflow:
                api = api_figures(airflow, args.samples)
                page = page_figures(airflow, args.loads)
    finally:
        if started_pg:
            pg.stop()
    print(f"Intacct Sync page with {seeded['errors']:,} reconciliation errors and {HOURS} h of"
          f" history ({seeded['runs']:,} runs):")  # fmt: skip
    for label, figures in api.items():
        print(f"  API {label:<28} median {figures['median_ms']:>7} ms   p95"
              f" {figures['p95_ms']:>7} ms   {figures['bytes']:>8,} bytes")  # fmt: skip
    if page:
        print(f"  page in Chromium (shell, status, tie-outs, chart, 50 errors): median"
              f" {page['median_ms']} ms, p95 {page['p95_ms']} ms over {page['samples']} loads")
        print("    median ms after navigation: " + ", ".join(
            f"{k.replace('_', ' ')} {v}" for k, v in page["phases_ms"].items()))
    record("ui", errors=seeded["errors"], hours=HOURS, api=api, page=page)


if __name__ == "__main__":
    main()
