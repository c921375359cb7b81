"""Self-healing benchmark: what the daily comparison costs next to a plain hourly run.

Against a sandbox process and the project's PostgreSQL, with the invoices object loaded:
- incremental: one hourly window (extract + map + load + AUDITHISTORY deletes), few changes;
- comparison:  the self-healing comparison (intacct_sync/pull/healing.py) with nothing to heal —
               the listing of every RECORDNO and WHENMODIFIED, compared with the local rows;
- comparison, 1 % lost: the same after 1 % of the local rows were lost, which it reads again
               by key and loads.
Calls are counted by the sandbox itself (GET /_sandbox/faults "calls"); figures are also
scaled to 100,000 records.

    .venv/bin/python bench/bench_healing.py --invoices 100000
    .venv/bin/python bench/bench_healing.py --invoices 10000     # ≈ 1 min
"""

from __future__ import annotations

import argparse
import sys
import time
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import psycopg2  # noqa: E402
from bench_pull import LOCAL, PostgresServer, database, pull, sandbox  # noqa: E402
from results import record  # noqa: E402

from include.localenv import sandbox_api  # noqa: E402


def _calls(base_url: str) -> int:
    return int(sandbox_api.get(base_url, "faults")["calls"])


def _measured(base_url: str, work) -> dict:
    calls, started = _calls(base_url), time.perf_counter()
    result = work()
    return {"calls": _calls(base_url) - calls,
            "seconds": round(time.perf_counter() - started, 2), "result": result}  # fmt: skip


def incremental(dsn: str) -> dict:
    """One hourly run of the invoices object: its window, then load and deletes."""
    from intacct_sync.intacct.hook import IntacctHook
    from intacct_sync.pull.deletes import apply_deletes
    from intacct_sync.pull.extract import IntacctExtractOperator
    from intacct_sync.pull.map_and_load import map_and_load
    from intacct_sync.sync_objects import OBJECTS

    obj = OBJECTS["invoices"]
    end = datetime.now().astimezone()
    start = end - timedelta(hours=1)
    extracted = IntacctExtractOperator(
        task_id="extract", object_name=obj.name, intacct_object=obj.intacct_object,
        docparid=obj.docparid, fields=list(obj.fields), window_start=start.isoformat(),
        window_end=end.isoformat(), landing_run_id="bench-hourly",
        children=obj.children.spec(),
    ).execute({})  # fmt: skip
    with closing(psycopg2.connect(dsn)) as connection:
        loaded = map_and_load(
            connection, obj, "bench-hourly", company_tz=IntacctHook().company_timezone
        ).as_dict()
        deleted = apply_deletes(IntacctHook(), connection, obj, start, end)
    return {"records": extracted["records"], **loaded, **deleted}


def comparison(dsn: str, run_id: str) -> dict:
    from intacct_sync.intacct.hook import IntacctHook
    from intacct_sync.pull.healing import compare_and_land
    from intacct_sync.pull.map_and_load import map_and_load
    from intacct_sync.sync_objects import OBJECTS

    obj = OBJECTS["invoices"]
    with closing(psycopg2.connect(dsn)) as connection:
        healed = compare_and_land(IntacctHook(), connection, obj, run_id)
        loaded = map_and_load(
            connection, obj, run_id, company_tz=IntacctHook().company_timezone
        ).as_dict()
    return {**healed, **loaded}


def lose_one_percent(dsn: str) -> int:
    with closing(psycopg2.connect(dsn)) as connection, connection, connection.cursor() as cur:
        cur.execute("DELETE FROM ar.invoices WHERE id % 100 = 0")
        return cur.rowcount


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=100_000, help="Order Entry invoices")
    args = parser.parse_args()
    pg = PostgresServer(LOCAL / "postgres")
    started_pg = pg.start()
    try:
        with sandbox(args.invoices) as info, database(pg) as dsn:
            base = info["url"].split("/ia/")[0]
            pull(dsn, "customers", "bench-c")
            pull(dsn, "invoices", "bench-i")
            with closing(psycopg2.connect(dsn)) as connection, connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM ar.invoices")
                [records] = cursor.fetchone()
            rows = {"incremental": _measured(base, lambda: incremental(dsn)),
                    "comparison": _measured(base, lambda: comparison(dsn, "bench-heal-0"))}
            lost = lose_one_percent(dsn)
            rows["comparison, 1 % lost"] = _measured(base, lambda: comparison(dsn, "bench-heal-1"))
    finally:
        if started_pg:
            pg.stop()
    scale = 100_000 / max(records, 1)
    figures = {label: {"calls": r["calls"], "seconds": r["seconds"],
                       "calls_per_100k": round(r["calls"] * scale),
                       "seconds_per_100k": round(r["seconds"] * scale, 1)}
               for label, r in rows.items()}  # fmt: skip
    record("healing", records=records, lost=lost, runs=figures)
    print(f"\ninvoices loaded: {records:,}; lost before the last comparison: {lost:,} "
          f"(read again: {rows['comparison, 1 % lost']['result']['reread']:,})")
    print(f"{'run':<24}{'calls':>8}{'seconds':>9}{'calls/100k':>12}{'s/100k':>9}")
    for label, f in figures.items():
        print(f"{label:<24}{f['calls']:>8}{f['seconds']:>9.1f}{f['calls_per_100k']:>12}"
              f"{f['seconds_per_100k']:>9.1f}")


if __name__ == "__main__":
    main()
