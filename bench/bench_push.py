"""Push benchmark: throughput and ready-to-posted latency.

1. throughput: local invoices (and their customers) posted to the sandbox at a realistic
   gateway latency, batched as the push does it (50 functions per request), next to one
   request per record (fewer invoices: it is slow, and records/s does not depend on N), and
   the batched push again with 10 % dropped answers and 10 % 524s.
2. latency: real Airflow (api-server, scheduler, dag-processor, triggerer); invoices become
   ready one after another and each is timed from its commit until Intacct's key is on the
   local row — NOTIFY → asset watcher → asset-triggered run → push. The floor is the push
   of one invoice called directly, measured in the same run.

    .venv/bin/python bench/bench_push.py                      # both (≈ 4 min)
    .venv/bin/python bench/bench_push.py --only throughput --invoices 200 --latency-ms 100
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from contextlib import closing
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_pull import ROOT, airflow_metadata, database, sandbox  # noqa: E402
from results import record  # noqa: E402

sys.path[:0] = [str(ROOT), str(ROOT / "plugins")]
import psycopg2  # noqa: E402
from intacct_sync.push.posting import enable, push_object  # noqa: E402
from intacct_sync.sync_config import parse  # noqa: E402

from include.localenv import sandbox_api  # noqa: E402
from include.localenv.airflow_env import LOCAL  # noqa: E402
from include.localenv.local_records import Line, LocalRecords  # noqa: E402
from include.localenv.postgres import PostgresServer  # noqa: E402

CUSTOMERS = 50
DAG_ID = "intacct_invoices"


# ---------------------------------------------------------------------------- 1. throughput
def variant(pg: PostgresServer, label: str, invoices: int, per_request: int, tag: str) -> dict:
    from intacct_sync.intacct.hook import IntacctHook, reset_sessions

    with database(pg) as dsn, closing(psycopg2.connect(dsn)) as connection:
        enable(connection)  # the push is on before the records are entered (cut-over)
        records = LocalRecords(connection)
        customers = [
            records.customer(f"Bench {tag} {n}", account_number=f"B{tag}-C{n:04d}")
            for n in range(CUSTOMERS)
        ]
        for n in range(invoices):
            records.document("invoices", customers[n % CUSTOMERS], f"B{tag}-I{n:06d}",
                             [Line("100.00"), Line("20.00")])  # fmt: skip
        reset_sessions()
        hook = IntacctHook(functions_per_request=per_request, retry_initial_wait=0.2)
        config = parse(None)
        started = time.perf_counter()
        posted = sum(push_object(hook, connection, n, config).posted
                     for n in ("customers", "invoices"))  # fmt: skip
        seconds = time.perf_counter() - started
        calls = sum(hook.api_calls.values())
        print(f"{label:<34}{posted:>8}{seconds:>10.1f}{posted / seconds:>12.1f}{calls:>8}")
        return {"label": label, "posted": posted, "seconds": round(seconds, 2), "calls": calls}


def throughput(pg: PostgresServer, invoices: int, naive_invoices: int, latency_ms: int) -> None:
    with sandbox(10, "--latency-ms", str(latency_ms)) as info:
        base_url = str(info["url"]).split("/ia/")[0]
        print(f"push of {CUSTOMERS} customers + invoices (2 lines each), "
              f"gateway latency {latency_ms} ms")  # fmt: skip
        print(f"{'variant':<34}{'posted':>8}{'seconds':>10}{'records/s':>12}{'calls':>8}")
        rows = [variant(pg, "push (50 functions per request)", invoices, 50, "A"),
                variant(pg, "one request per record", naive_invoices, 1, "B")]
        sandbox_api.post(base_url, "faults", {"drop_response": {"probability": 0.1},
                           "http_524": {"probability": 0.1}})  # fmt: skip
        rows.append(variant(pg, "push, 10 % dropped + 10 % 524", invoices, 50, "C"))
    record("push_throughput", latency_ms=latency_ms, variants=rows)


# ---------------------------------------------------------------------------- 2. latency
def _one(connection, sql: str, *params):
    with connection, connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _wait_for(check, what: str, timeout: float, airflow=None) -> float:
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            tail = airflow.log_tail("triggerer") + airflow.log_tail("scheduler") if airflow else ""
            raise SystemExit(f"{what}: not within {timeout:.0f} s\n{tail}")
        time.sleep(0.1)
    return time.monotonic() - started


def latency(pg: PostgresServer, samples: int, latency_ms: int) -> None:
    from intacct_sync.intacct.hook import IntacctHook

    from include.localenv.airflow_services import AirflowServices

    with sandbox(10, "--latency-ms", str(latency_ms)), database(pg) as dsn, \
            closing(psycopg2.connect(dsn)) as connection:  # fmt: skip
        env = airflow_metadata(pg)  # after both: it copies their connections
        enable(connection)  # the push is on before the records are entered (cut-over)
        records = LocalRecords(connection)
        customer = records.customer("Latency Co", account_number="LAT-1")
        hook, config = IntacctHook(), parse(None)
        push_object(hook, connection, "customers", config)
        # The floor: the same push (one invoice) called directly, no Airflow in between.
        floors = []
        for n in range(3):
            records.document("invoices", customer, f"LAT-F{n}", [Line("10.00")])
            started = time.perf_counter()
            assert push_object(hook, connection, "invoices", config).posted == 1
            floors.append(time.perf_counter() - started)
        drafts = [records.document("invoices", customer, f"LAT-{n}", [Line("10.00")],
                                   state="draft") for n in range(samples)]  # fmt: skip
        components = ("api-server", "scheduler", "dag-processor", "triggerer")
        with AirflowServices(components, env=env, parallelism=4) as airflow:
            airflow.wait_for_dag(DAG_ID)
            previous = airflow.pause_all_except(DAG_ID)
            try:
                airflow.patch(f"/api/v2/dags/{DAG_ID}", {"is_paused": False})
                _wait_for(lambda: _one(connection, "SELECT count(*) FROM pg_stat_activity WHERE"
                                       " application_name = 'intacct-sync-listen'")[0],
                          "the asset watcher's LISTEN", 180, airflow)  # fmt: skip
                _wait_for(lambda: not [r for r in airflow.dag_runs(DAG_ID)
                                       if r["state"] in ("queued", "running")],
                          "the run unpausing started", 300, airflow)  # fmt: skip
                seconds = []
                for draft in drafts:
                    records.set_state("invoices", draft, "open")
                    seconds.append(_wait_for(lambda d=draft: _one(
                        connection, "SELECT ar_recordno FROM ar.invoices WHERE id = %s", d)[0],
                        "posted", 120, airflow))  # fmt: skip
                    print(f"  ready → posted in {seconds[-1]:.1f} s")
                    time.sleep(2)  # the run that posted it finishes; the next is a fresh event
            finally:
                airflow.patch(f"/api/v2/dags/{DAG_ID}", {"is_paused": True})
                airflow.restore_paused(previous)
    floor = statistics.median(floors)
    median = statistics.median(seconds)
    print(f"ready-to-posted latency over {samples} invoices, gateway latency {latency_ms} ms:")
    print(f"  median {median:.1f} s, max {max(seconds):.1f} s; direct push of one invoice "
          f"{floor:.2f} s → median {median / floor:.1f}× the floor (promise: 60 s)")
    record("push_latency", latency_ms=latency_ms, samples=[round(s, 2) for s in seconds],
           floor_s=round(floor, 3))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("throughput", "latency"))
    parser.add_argument("--invoices", type=int, default=1000)
    parser.add_argument("--naive-invoices", type=int, default=200,
                        help="invoices of the one-request-per-record variant")
    parser.add_argument("--latency-ms", type=int, default=300)
    parser.add_argument("--samples", type=int, default=8, help="invoices timed ready → posted")
    args = parser.parse_args()
    pg = PostgresServer(LOCAL / "postgres")
    started_pg = pg.start()
    pg.ensure_databases()
    try:
        if args.only in (None, "throughput"):
            throughput(pg, args.invoices, args.naive_invoices, args.latency_ms)
        if args.only in (None, "latency"):
            latency(pg, args.samples, args.latency_ms)
    finally:
        if started_pg:
            pg.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
