"""Initial data sync benchmark: a latency-bound history run against the concurrency floor, and
the peak memory of a one-million-record history run.

1. latency: the sandbox answers every call after `--latency-ms` (1 s) and allows
   `--concurrency` (2) requests at once, like a default Intacct company. A one-year history
   run of the invoices DAG is triggered through Airflow's REST API and executed by a real
   scheduler (LocalExecutor, pool `intacct_api` = concurrency). Its duration is compared
   with the floor, calls ÷ concurrency × latency — what a client that keeps every allowed
   request busy all the time would need. A sequential client needs ≈ concurrency × floor.
2. memory: the same history code path (month chunks: extract then load, as the mapped
   tasks run them) over a one-year range in fresh child processes at 10,000, 100,000 and
   1,000,000 records (headers + lines); the peak RSS must not grow with the records.

    .venv/bin/python bench/bench_history.py                      # both (≈ 15 min)
    .venv/bin/python bench/bench_history.py --only latency --so-invoices 20000
    .venv/bin/python bench/bench_history.py --only memory --sizes 10000 200000
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import time
import urllib.request
from contextlib import closing
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg2  # noqa: E402  (bench_pull puts the project on sys.path)
from bench_pull import ROOT, airflow_metadata, database, peak_rss_mb, sandbox
from results import record

from include.localenv.airflow_env import LOCAL  # noqa: E402
from include.localenv.postgres import PostgresServer  # noqa: E402

COMPANY_TZ = ZoneInfo("America/Los_Angeles")
RECORDS_PER_SO_INVOICE = 3  # a header and, on average, two lines
DAG_ID = "intacct_invoices"


def _year() -> tuple[date, date]:
    today = datetime.now(COMPANY_TZ).date()
    return today - timedelta(days=365), today


def _sandbox_calls(base_url: str) -> int:
    with urllib.request.urlopen(f"{base_url}/_sandbox/faults", timeout=30) as r:  # noqa: S310
        return json.load(r)["calls"]


def _seconds(run: dict, start: str, end: str) -> float:
    return (datetime.fromisoformat(run[end]) - datetime.fromisoformat(run[start])).total_seconds()


# ---------------------------------------------------------------------------- 1. latency
def _wait_idle(airflow, dag_id: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not [r for r in airflow.dag_runs(dag_id) if r["state"] in ("queued", "running")]:
            return
        time.sleep(1)
    raise SystemExit(f"{dag_id} still has active runs after {timeout:.0f} s")


def _one_client_seconds_per_call() -> float:
    """Seconds per call one client alone sees for a month's reads (headers, then lines):
    the latency plus the sandbox's own time to answer, without Airflow or a second stream."""
    from intacct_sync.history.chunks import chunk_filter
    from intacct_sync.intacct.hook import IntacctHook
    from intacct_sync.intacct.xml_request import in_
    from intacct_sync.sync_objects import OBJECTS

    obj, hook = OBJECTS["invoices"], IntacctHook("intacct_default")
    hook.get_session()
    start, _ = _year()
    month = (start.replace(day=1) + timedelta(days=95)).replace(day=1)
    chunk = {"start": month.isoformat(), "end": (month + timedelta(days=27)).isoformat(),
             "open_items_only": False}
    started = time.monotonic()
    headers = hook.read_by_query(obj.intacct_object, list(obj.fields), chunk_filter(obj, chunk),
                                 docparid=obj.docparid)
    keys = [r["RECORDNO"] for r in headers]
    lines = hook.read_by_queries(obj.children.intacct_object, list(obj.children.fields),
                                 (in_("DOCHDRNO", keys[i:i + 500])
                                  for i in range(0, len(keys), 500)))
    for _ in lines:
        pass
    return (time.monotonic() - started) / (headers.pages + lines.pages)


def latency(pg: PostgresServer, so_invoices: int, latency_ms: int, concurrency: int) -> None:
    from include.localenv.airflow_services import AirflowServices

    options = ("--history-days", "365", "--customers", "500", "--latency-ms", str(latency_ms),
               "--max-concurrent", str(concurrency))
    with sandbox(so_invoices, *options) as info, database(pg) as dsn:
        base_url = info["url"].split("/ia/")[0]
        env = airflow_metadata(pg)  # after both: it copies their connections
        start, end = _year()
        with closing(psycopg2.connect(dsn)) as connection, connection, connection.cursor() as c:
            # The hourly run the scheduler starts on unpause reads only its last hour, and
            # the customers (the active-customer rule needs them) are loaded beforehand.
            c.execute("INSERT INTO intacct_sync.sync_state (object, direction, last_window_end)"
                      " VALUES ('invoices', 'pull', now())")
        per_call = _one_client_seconds_per_call()
        with AirflowServices(env=env, parallelism=4) as airflow:
            airflow.cli("pools", "set", "intacct_api", str(concurrency), "Intacct requests")
            airflow.wait_for_dag(DAG_ID)
            airflow.wait_for_dag("intacct_customers")
            previous = airflow.pause_all_except(DAG_ID, "intacct_customers")
            try:
                for dag_id in (DAG_ID, "intacct_customers"):
                    airflow.patch(f"/api/v2/dags/{dag_id}", {"is_paused": False})
                customers = airflow.post("/api/v2/dags/intacct_customers/dagRuns",
                                         {"logical_date": None, "conf": {"all_customers": True}})
                airflow.wait_for_runs("intacct_customers", [customers["dag_run_id"]], 600)
                _wait_idle(airflow, DAG_ID)  # the unpause's hourly run is not measured
                calls = _sandbox_calls(base_url)
                run = airflow.post(f"/api/v2/dags/{DAG_ID}/dagRuns", {
                    "logical_date": None,
                    "conf": {"history_from": start.isoformat(), "history_to": end.isoformat(),
                             "include_payments": False},
                })
                done = airflow.wait_for_runs(DAG_ID, [run["dag_run_id"]], 3600)
                calls = _sandbox_calls(base_url) - calls
                run = done[run["dag_run_id"]]
                summary = airflow.xcom(DAG_ID, run["dag_run_id"], "history_done")
            finally:
                airflow.restore_paused(previous)
    if run["state"] != "success":
        raise SystemExit(f"the history run ended {run['state']}; see the task logs")
    seconds = _seconds(run, "start_date", "end_date")
    floor = calls / concurrency * latency_ms / 1000
    invoices = summary["invoices"]
    record("history_latency", latency_ms=latency_ms, concurrency=concurrency, calls=calls,
           floor_s=round(floor, 1), run_s=round(seconds, 1), invoices=invoices["extracted"],
           one_client_s_per_call=round(per_call, 3))
    print(f"\nlatency-bound history run: {latency_ms} ms per call, {concurrency} concurrent")
    print(f"  {invoices['chunks']} month chunks, {invoices['extracted']:,} invoices "
          f"({invoices['inserted']:,} loaded, {invoices['skipped']:,} skipped)")
    print(f"  Intacct calls during the run:      {calls:>8,}")
    print(f"  floor (calls / {concurrency} × latency):      {floor:>8.1f} s")
    print(f"  history run (start → end):         {seconds:>8.1f} s")
    print(f"  ratio run / floor:                 {seconds / floor:>8.2f}  (target ≤ 1.20)")
    print(f"  a sequential client would need ≈   {calls * latency_ms / 1000:>8.1f} s")
    answered = calls / concurrency * per_call
    print(f"  one client alone sees {per_call:.2f} s per call (latency + the sandbox's own time "
          f"to answer);\n  against calls / {concurrency} × that ({answered:.1f} s) "
          f"the run takes {seconds / answered:.2f}×")


# ---------------------------------------------------------------------------- 2. memory
def memory_child(so_invoices: int) -> None:
    """One history run over a year, chunk by chunk as the tasks run them; prints JSON."""
    from intacct_sync.history.chunks import extract_chunk, load_chunk, plan_chunks
    from intacct_sync.history.ranges import HistoryRequest
    from intacct_sync.intacct.hook import IntacctHook
    from intacct_sync.sync_objects import OBJECTS

    pg = PostgresServer(LOCAL / "postgres")
    log = logging.getLogger("bench_history")
    started = time.monotonic()
    records = 0
    with sandbox(so_invoices, "--history-days", "365"), database(pg) as dsn:
        hook = IntacctHook("intacct_default")
        with closing(psycopg2.connect(dsn)) as connection:
            customers = plan_chunks(
                OBJECTS["customers"], HistoryRequest(None, None, {"all_customers": True}))
            start, end = _year()
            invoices = plan_chunks(
                OBJECTS["invoices"], HistoryRequest(start, end, {"include_payments": False}))
            for chunk in customers + invoices:
                extracted = extract_chunk(hook, connection, "bench-memory", chunk, log)
                load_chunk(connection, "bench-memory", chunk, log, hook=hook)
                if chunk["object"] == "invoices":
                    records += extracted["records"] + extracted["children"]
    print(json.dumps({"records": records, "seconds": round(time.monotonic() - started, 1),
                      "peak_rss_mb": peak_rss_mb()}))


def memory(sizes: tuple[int, ...]) -> None:
    results = []
    for size in sizes:
        so_invoices = max(1, size // RECORDS_PER_SO_INVOICE)
        out = subprocess.run([sys.executable, __file__, "--child", str(so_invoices)],
                             capture_output=True, text=True, cwd=ROOT, check=True).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
    record("memory", runs=results)
    print("\npeak RSS of a one-year history run (fresh child process each):")
    for m in results:
        print(f"  {m['records']:>10,} records (headers + lines): {m['peak_rss_mb']:.0f} MB "
              f"in {m['seconds']:.0f} s ({m['records'] / m['seconds']:,.0f} records/s)")
    # Below ~65,000 records a year a month is less than one 5,000-header batch, so the
    # smallest run never fills a batch: flat means the last two sizes agree.
    ratio = results[-1]["peak_rss_mb"] / results[-2]["peak_rss_mb"]
    times = results[-1]["records"] / results[-2]["records"]
    print(f"  ratio {ratio:.2f} for {times:.0f}× the records (the two largest runs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("latency", "memory"))
    parser.add_argument("--so-invoices", type=int, default=60_000,
                        help="Order Entry invoices in the year, latency run (default 60,000)")
    parser.add_argument("--latency-ms", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000],
                        help="records (headers + lines) of each memory run")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.child:
        memory_child(args.child)
        return
    pg = PostgresServer(LOCAL / "postgres")
    was_running = pg.running_pid() is not None
    pg.start()
    print(f"machine: {os.cpu_count()} cores; sandbox and PostgreSQL on this machine")
    try:
        if args.only in (None, "latency"):
            latency(pg, args.so_invoices, args.latency_ms, args.concurrency)
        if args.only in (None, "memory"):
            memory(tuple(args.sizes))
    finally:
        if not was_running:
            pg.stop()


if __name__ == "__main__":
    main()
