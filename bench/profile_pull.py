"""Where the pull's map and load spend their time: cProfile of map_and_load after a real
extract, against a sandbox process and the project's PostgreSQL (what bench_pull.py times).

    .venv/bin/python bench/profile_pull.py [--invoices 10000] [--top 40]

Prints the extract's and map_and_load's seconds, then the profile's top lines by cumulative
and by own time. Issue 21 started from this: frames turned into dicts cell by cell and a
per-parent groupby lambda were a quarter of map_and_load.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from contextlib import closing
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_pull  # noqa: E402
import psycopg2  # noqa: E402

from include.localenv.airflow_env import LOCAL  # noqa: E402
from include.localenv.postgres import PostgresServer  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=10_000, help="Order Entry invoices")
    parser.add_argument("--top", type=int, default=40, help="profile lines to print")
    args = parser.parse_args()
    pg = PostgresServer(LOCAL / "postgres")
    started = pg.start()
    try:
        with bench_pull.sandbox(args.invoices), bench_pull.database(pg) as dsn:
            from intacct_sync.intacct.hook import IntacctHook
            from intacct_sync.pull.map_and_load import map_and_load
            from intacct_sync.sync_objects import OBJECTS

            bench_pull.pull(dsn, "customers", "profile-c")  # the active-customer rule
            began = time.perf_counter()
            extracted = bench_pull.extract("invoices", "profile-i")
            extract_s = time.perf_counter() - began
            profile = cProfile.Profile()
            with closing(psycopg2.connect(dsn)) as connection:
                began = time.perf_counter()
                profile.enable()
                counts = map_and_load(connection, OBJECTS["invoices"], "profile-i",
                                      company_tz=IntacctHook().company_timezone)  # fmt: skip
                profile.disable()
                map_load_s = time.perf_counter() - began
    finally:
        if started:
            pg.stop()
    print(f"extract {extract_s:.1f} s, map_and_load {map_load_s:.1f} s "
          f"({map_load_s / extract_s:.2f} of the extract) for {extracted['records']:,} "
          f"invoices and {extracted['children']:,} lines: {counts.as_dict()}")  # fmt: skip
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats(order).print_stats(args.top)
        print(out.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
