"""Pull benchmark: Order Entry invoices with lines, end to end, next to a baseline and a floor.

In one run, against the sandbox (a separate process) and the project's PostgreSQL:
- floor:     the extract alone — Intacct pages fetched and COPYed into the landing table;
- pull:      extract + map (pandas) + load (upsert) — what the invoices DAG does;
- naive:     the same records fetched, then inserted row by row (one INSERT per header and
             per line), as a simple script would;
and in child processes, peak RSS of the pull at two sizes (10k and 100k invoices): it must
not grow with N.

    .venv/bin/python bench/bench_pull.py                 # 100k and 10k invoices (≈ 3 min)
    .venv/bin/python bench/bench_pull.py --invoices 20000 --small 5000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import uuid
from contextlib import closing, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "plugins")]
os.environ.setdefault("AIRFLOW_HOME", str(ROOT / ".local" / "bench-airflow"))

import psycopg2  # noqa: E402
from intacct_sync.db import schema  # noqa: E402
from results import record  # noqa: E402

from include.localenv.airflow_env import LOCAL  # noqa: E402
from include.localenv.postgres import PostgresServer  # noqa: E402

# About a third of the sandbox's A/R invoices come from Order Entry ("Sales Invoice").
AR_PER_SO_INVOICE = 3


@contextmanager
def sandbox(so_invoices: int, *options: str):
    """A sandbox process with about `so_invoices` Order Entry invoices; `options` are more
    of its command-line flags (latency, history days, …)."""
    command = [sys.executable, "-m", "include.intacct_sandbox", "--port", "0", "--seed", "7",
               "--invoices", str(so_invoices * AR_PER_SO_INVOICE), *options]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        info = json.loads(process.stdout.readline())
        os.environ["AIRFLOW_CONN_INTACCT_DEFAULT"] = json.dumps({
            "conn_type": "intacct", "host": info["url"], "login": info["sender_id"],
            "password": info["sender_password"],
            "extra": {"company_id": info["company_id"], "user_id": info["user_id"],
                      "user_password": info["user_password"],
                      "company_timezone": "America/Los_Angeles"},
        })
        yield info
    finally:
        process.terminate()
        process.wait(10)


@contextmanager
def database(pg: PostgresServer):
    name = f"bench_{uuid.uuid4().hex[:8]}"
    pg.psql("postgres", f'CREATE DATABASE "{name}"')
    dsn = pg.dsn(name)
    os.environ["AIRFLOW_CONN_AR_POSTGRES"] = json.dumps({
        "conn_type": "postgres", "host": "127.0.0.1", "port": pg.port, "login": "intacct_sync",
        "password": "intacct_sync", "schema": name,
    })
    with closing(psycopg2.connect(dsn)) as connection:
        schema.migrate(connection)
    try:
        yield dsn
    finally:
        pg.psql("postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def airflow_metadata(pg: PostgresServer) -> dict[str, str]:
    """The environment of Airflow services on the benchmarks' own metadata database."""
    from include.localenv.__main__ import migrate
    from include.localenv.airflow_env import airflow_env

    metadata = "airflow_bench"
    if metadata not in pg.psql("postgres", "SELECT datname FROM pg_database").split():
        pg.psql("postgres", f'CREATE DATABASE "{metadata}"')
    env = airflow_env(pg.dsn(metadata))
    migrate(env)
    return env


def extract(name: str, run_id: str) -> dict:
    from intacct_sync.pull.extract import IntacctExtractOperator
    from intacct_sync.sync_objects import OBJECTS

    obj = OBJECTS[name]
    return IntacctExtractOperator(
        task_id=f"extract_{name}", object_name=name, intacct_object=obj.intacct_object,
        docparid=obj.docparid, fields=list(obj.fields), landing_run_id=run_id,
        children=obj.children.spec() if obj.children else None,
    ).execute({})


def pull(dsn: str, name: str, run_id: str) -> tuple[dict, dict]:
    from intacct_sync.intacct.hook import IntacctHook
    from intacct_sync.pull.map_and_load import map_and_load
    from intacct_sync.sync_objects import OBJECTS

    extracted = extract(name, run_id)
    with closing(psycopg2.connect(dsn)) as connection:
        counts = map_and_load(
            connection, OBJECTS[name], run_id, company_tz=IntacctHook().company_timezone
        )
    return extracted, counts.as_dict()


def naive(dsn: str) -> int:
    """Fetch headers and lines with the same hook, insert one row at a time."""
    from intacct_sync.intacct.hook import IntacctHook
    from intacct_sync.intacct.xml_request import in_
    from intacct_sync.sync_objects import OBJECTS

    obj = OBJECTS["invoices"]
    hook = IntacctHook("intacct_default")
    headers = list(hook.read_by_query(obj.intacct_object, list(obj.fields), docparid=obj.docparid))
    keys = [h["RECORDNO"] for h in headers]
    lines = []
    for start in range(0, len(keys), 500):
        lines += hook.read_by_query(obj.children.intacct_object, list(obj.children.fields),
                                    in_("DOCHDRNO", keys[start:start + 500]))
    with closing(psycopg2.connect(dsn)) as connection, connection.cursor() as cursor:
        cursor.execute("CREATE TABLE naive_invoices (LIKE ar.invoices INCLUDING DEFAULTS)")
        cursor.execute("CREATE TABLE naive_lines (invoice_recordno bigint, line_no int,"
                       " amount numeric(18,2), description text)")
        for h in headers:
            cursor.execute(
                "INSERT INTO naive_invoices (intacct_recordno, number, state, currency, entity,"
                " total) VALUES (%s, %s, %s, %s, %s, %s)",
                (h["RECORDNO"], h["DOCNO"], h["STATE"], h["CURRENCY"], h["MEGAENTITYID"] or "",
                 h["TRX_TOTAL"] or 0),
            )
        for line in lines:
            cursor.execute(
                "INSERT INTO naive_lines VALUES (%s, %s, %s, %s)",
                (line["DOCHDRNO"], line["LINE_NO"], line["TRX_VALUE"] or 0, line["ITEMDESC"]),
            )
        connection.commit()
    return len(headers)


def timed(label: str, work):
    started = time.perf_counter()
    result = work()
    return label, time.perf_counter() - started, result


def child(so_invoices: int) -> None:
    """Pull `so_invoices` invoices (customers first) and print peak RSS as JSON."""
    pg = PostgresServer(LOCAL / "postgres")
    with sandbox(so_invoices), database(pg) as dsn:
        pull(dsn, "customers", "mem-c")
        extracted, counts = pull(dsn, "invoices", "mem-i")
    print(json.dumps({"invoices": extracted["records"], "lines": extracted["children"],
                      "peak_rss_mb": peak_rss_mb()}))


def peak_rss_mb() -> float:
    """This process's own peak RSS. Not ru_maxrss: Linux carries that across exec, so a
    child would report its parent's high-water mark from before the fork."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def compare(pg: PostgresServer, invoices: int) -> None:
    """Pull, floor and naive on the same sandbox company, printed side by side."""
    with sandbox(invoices), database(pg) as dsn:
        pull(dsn, "customers", "bench-c")  # the active-customer rule needs them
        label, seconds, (extracted, counts) = timed(
            "pull (extract + map + load)", lambda: pull(dsn, "invoices", "bench-pull"))
        n = extracted["records"]
        rows = [(label, seconds, n),
                timed("floor (fetch + COPY only)",
                      lambda: extract("invoices", "bench-floor")["records"]),
                timed("naive (fetch + row-by-row INSERT)", lambda: naive(dsn))]
    floor = rows[1][1]
    record("pull", invoices=n, lines=extracted["children"],
           seconds={label.split()[0]: round(seconds, 2) for label, seconds, _ in rows})
    print(f"\nOrder Entry invoices: {n:,} with {extracted['children']:,} lines "
          f"(loaded {counts['inserted']:,}, skipped {counts['skipped']:,} of inactive customers)")
    print(f"{'path':<36}{'seconds':>9}{'invoices/s':>12}{'× floor time':>14}")
    for label, seconds, count in rows:
        print(f"{label:<36}{seconds:>9.1f}{count / seconds:>12,.0f}{seconds / floor:>14.2f}")


def memory(sizes: tuple[int, ...]) -> None:
    """Peak RSS of a whole pull in a fresh child process per size."""
    results = []
    for size in sizes:
        out = subprocess.run([sys.executable, __file__, "--child", str(size)],
                             capture_output=True, text=True, cwd=ROOT, check=True).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
    print("\npeak RSS of a whole pull (fresh child process each):")
    for m in results:
        print(f"  {m['invoices']:>8,} invoices, {m['lines']:>8,} lines: {m['peak_rss_mb']:.0f} MB")
    ratio = results[-1]["peak_rss_mb"] / results[0]["peak_rss_mb"]
    times = results[-1]["invoices"] / results[0]["invoices"]
    print(f"  ratio {ratio:.2f} for {times:.0f}× the records")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=100_000, help="Order Entry invoices")
    parser.add_argument("--small", type=int, default=10_000, help="the memory comparison size")
    parser.add_argument("--memory-only", action="store_true", help="only the peak RSS figures")
    parser.add_argument("--compare-only", action="store_true",
                        help="no peak RSS figures (bench_history measures them up to 1M records)")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    pg = PostgresServer(LOCAL / "postgres")
    started_pg = pg.start()
    try:
        if not args.memory_only:
            compare(pg, args.invoices)
        if not args.compare_only:
            memory((args.small, args.invoices))
    finally:
        if started_pg:
            pg.stop()


if __name__ == "__main__":
    main()
