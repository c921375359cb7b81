"""Push benchmark: local invoices (and their customers) posted to the sandbox, batched as the
push does it (50 functions per request) next to one request per record, at a realistic
gateway latency; then the same push with 10 % dropped answers and 10 % 524s.

    .venv/bin/python bench/bench_push.py                      # 1,000 invoices, 300 ms latency
    .venv/bin/python bench/bench_push.py --invoices 200 --latency-ms 100

Prints per variant: records posted, seconds, records/s and gateway calls.
"""

from __future__ import annotations

import argparse
import sys
import time
from contextlib import closing
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_pull import ROOT, database, sandbox  # noqa: E402

sys.path[:0] = [str(ROOT), str(ROOT / "plugins")]
import psycopg2  # noqa: E402

from include.localenv import sandbox_api  # noqa: E402
from include.localenv.airflow_env import LOCAL  # noqa: E402
from include.localenv.local_records import Line, LocalRecords  # noqa: E402
from include.localenv.postgres import PostgresServer  # noqa: E402
from include.push import push_object  # noqa: E402
from include.sync_config import parse  # noqa: E402

CUSTOMERS = 50


def variant(pg: PostgresServer, base_url: str, label: str, invoices: int, per_request: int,
            tag: str) -> None:  # fmt: skip
    from intacct_sync.hooks.intacct import IntacctHook, reset_sessions

    with database(pg) as dsn, closing(psycopg2.connect(dsn)) as connection:
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--invoices", type=int, default=1000)
    parser.add_argument("--latency-ms", type=int, default=300)
    args = parser.parse_args()
    pg = PostgresServer(LOCAL / "postgres")
    pg.start()
    pg.ensure_databases()
    with sandbox(10, "--latency-ms", str(args.latency_ms)) as info:
        base_url = str(info["url"]).split("/ia/")[0]
        print(f"push of {CUSTOMERS} customers + {args.invoices} invoices (2 lines each), "
              f"gateway latency {args.latency_ms} ms")  # fmt: skip
        print(f"{'variant':<34}{'posted':>8}{'seconds':>10}{'records/s':>12}{'calls':>8}")
        variant(pg, base_url, "push (50 functions per request)", args.invoices, 50, "A")
        variant(pg, base_url, "one request per record", args.invoices, 1, "B")
        sandbox_api.post(base_url, "faults", {"drop_response": {"probability": 0.1},
                           "http_524": {"probability": 0.1}})  # fmt: skip
        variant(pg, base_url, "push, 10 % dropped + 10 % 524", args.invoices, 50, "C")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
