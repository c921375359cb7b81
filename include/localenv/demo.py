"""The main job on the embedded default: start the sandbox, pull everything, tie out, then
push the AR platform's local records and check them in Intacct.

Each DAG runs with `airflow dags test` (the same tasks the scheduler runs, against the
metadata database and the connections from airflow_settings.yaml). First the pull only: every
object's rows in PostgreSQL are tied out — count and amount per entity — against the
sandbox's own ground truth, which shares no code with the sync. Then demo records that
originate locally are created and the DAGs run push only, in dependency order; one posted
invoice is voided and pushed again; every push is checked against the sandbox.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import psycopg2
from intacct_sync.sync_config import PULL_OBJECTS, PUSH_OBJECTS, VARIABLE
from intacct_sync.sync_objects import OBJECTS, push_order

from include.localenv import demo_push, sandbox_api
from include.localenv.airflow_env import PROJECT_ROOT
from include.localenv.postgres import PostgresServer, SetupError
from include.localenv.settings import load as load_settings

SANDBOX_PORT = 18931


def start_sandbox(env: dict[str, str]) -> tuple[subprocess.Popen[str], dict[str, object]]:
    """Start the sandbox as a child process and read its one-line JSON announcement."""
    process = subprocess.Popen(
        [sys.executable, "-m", "include.intacct_sandbox", "--port", str(SANDBOX_PORT)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.wait(10)
        raise SetupError(
            f"the Intacct sandbox exited at start-up (exit {process.returncode}); "
            f"is port {SANDBOX_PORT} free?"
        )
    return process, json.loads(line)


# Per object: (truth amount field, truth state field, AR amount column, AR state column).
TIE_OUT = {
    "customers": (None, "STATUS", "0", "status"),
    "invoices": ("TRX_TOTAL", "STATE", "total", "state"),
    "credit_notes": ("TRX_TOTAL", "STATE", "total", "state"),
    "payments": ("TRX_TOTALENTERED", "STATE", "amount", "state"),
}
# Paid and due of documents are the A/R record's (PRRECORDKEY; credit memos are negative in
# A/R, positive locally); a document without one (a draft) has its own.
AR_RECORD = {"invoices": ("ARINVOICE", 1), "credit_notes": ("ARADJUSTMENT", -1)}
# Per (entity, state): (count, amount, paid, due); paid and due are 0 for customers, payments.
Totals = dict[tuple[str, str], tuple[int, Decimal, Decimal, Decimal]]


def _number(value) -> Decimal:
    return Decimal(str(value or 0))


def expected_totals(base_url: str) -> dict[str, Totals]:
    """Per object and (entity, state): (count, amount, paid, due) the AR tables must hold,
    from the sandbox's ground truth. Documents of customers that are not active are not
    imported."""
    customers = sandbox_api.records(base_url, object="CUSTOMER")
    active = {c["CUSTOMERID"] for c in customers if c["STATUS"] == "active"}
    sources = {
        "customers": customers,
        "invoices": sandbox_api.records(base_url, object="SODOCUMENT", docparid="Sales Invoice"),
        "credit_notes": sandbox_api.records(base_url, object="SODOCUMENT", docparid="Sales Return"),
        "payments": sandbox_api.records(base_url, object="ARPYMT"),
    }
    expected: dict[str, Totals] = {}
    for name, records in sources.items():
        amount, state = TIE_OUT[name][:2]
        balances: dict[int, tuple[Decimal, Decimal]] = {}
        if name in AR_RECORD:
            ar_object, sign = AR_RECORD[name]
            balances = {
                int(r["RECORDNO"]): (sign * _number(r["TRX_TOTALPAID"]),
                                     sign * _number(r["TRX_TOTALDUE"]))
                for r in sandbox_api.records(base_url, object=ar_object)
            }  # fmt: skip
        totals: dict[tuple[str, str], list] = defaultdict(
            lambda: [0, Decimal(0), Decimal(0), Decimal(0)]
        )
        for r in records:
            if OBJECTS[name].skips_inactive_customers and r["CUSTVENDID"] not in active:
                continue
            entry = totals[(r.get("MEGAENTITYID") or "", str(r[state]))]
            entry[0] += 1
            entry[1] += _number(r[amount]) if amount else 0
            if name in AR_RECORD:
                paid, due = balances.get(int(r.get("PRRECORDKEY") or 0)) or (
                    _number(r["TRX_TOTALPAID"]),
                    _number(r["TRX_TOTALDUE"]),
                )
                entry[2] += paid
                entry[3] += due
        expected[name] = {k: (n, s, p, d) for k, (n, s, p, d) in totals.items()}
    return expected


def actual_totals(connection, name: str) -> Totals:
    """The same figures from the AR tables (rows pulled from Intacct, not deleted)."""
    amount, state = TIE_OUT[name][2:]
    paid, due = ("total_paid", "total_due") if name in AR_RECORD else ("0", "0")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT entity, {state}, count(*), coalesce(sum({amount}), 0),"
            f" coalesce(sum({paid}), 0), coalesce(sum({due}), 0)"
            f" FROM {OBJECTS[name].table}"
            " WHERE deleted_at IS NULL AND origin = 'intacct' GROUP BY 1, 2"
        )
        return {
            (e, st): (n, Decimal(s), Decimal(p), Decimal(d))
            for e, st, n, s, p, d in cursor.fetchall()
        }


def with_directions(env: dict[str, str], *, pull: bool, push: bool) -> dict[str, str]:
    """The shipped sync configuration with every pull and push flow on or off (an
    AIRFLOW_VAR_ environment variable wins over the metadata database's variable)."""
    [shipped] = [
        v["variable_value"]
        for v in load_settings()["variables"]
        if v["variable_name"] == VARIABLE
    ]
    config = {
        **json.loads(shipped),
        "pull": dict.fromkeys(PULL_OBJECTS, pull),
        "push": dict.fromkeys(PUSH_OBJECTS, push),
        # The sandbox company is small: the demo's first hourly run reads all of it (no
        # cut-over), and the demo's local records are pushed whenever they were entered.
        "sync_start": "beginning",
    }
    return {**env, f"AIRFLOW_VAR_{VARIABLE.upper()}": json.dumps(config)}


def run_dags(env: dict[str, str], names: list[str]) -> bool:
    ok = True
    for obj in (OBJECTS[n] for n in names):
        started = time.monotonic()
        result = subprocess.run(
            [str(Path(sys.executable).with_name("airflow")), "dags", "test", obj.dag_id],
            env=env,
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
        )
        seconds = time.monotonic() - started
        if result.returncode != 0:  # `airflow dags test` exits non-zero on a failed run
            ok = False
            print(f"run: {obj.dag_id} FAILED ({seconds:.0f} s); its output:")
            print((result.stdout + result.stderr)[-4000:])
        else:
            print(f"run: {obj.dag_id} succeeded ({seconds:.0f} s)")
    return ok


def summary(base_url: str, dsn: str) -> bool:
    expected = expected_totals(base_url)
    ok = True
    print(
        f"\n{'object':<14}{'inserted':>9}{'updated':>9}{'skipped':>9}{'rejected':>9}"
        f"{'rows':>8}{'amount':>17}   tie-out (count, amount, paid, due per entity, state)"
    )
    with psycopg2.connect(dsn) as connection, connection.cursor() as cursor:
        for name in TIE_OUT:
            cursor.execute(
                "SELECT last_counts FROM intacct_sync.sync_state"
                " WHERE object = %s AND direction = 'pull'",
                (name,),
            )
            row = cursor.fetchone()
            counts = row[0] if row else {}
            actual = actual_totals(connection, name)
            matches = actual == expected[name]
            ok &= matches
            rows = sum(v[0] for v in actual.values())
            amount = sum(v[1] for v in actual.values())
            verdict = "ok" if matches else f"MISMATCH: expected {expected[name]}, got {actual}"
            print(
                f"{name:<14}{counts.get('inserted', 0):>9}{counts.get('updated', 0):>9}"
                f"{counts.get('skipped', 0):>9}{counts.get('rejected', 0):>9}{rows:>8}"
                f"{amount:>17,.2f}   {verdict}"
            )
    return ok


def run(env: dict[str, str], pg: PostgresServer) -> int:
    process, info = start_sandbox(env)
    try:
        base_url = str(info["url"]).split("/ia/")[0]
        print(f"run: Intacct sandbox at {info['url']} (company {info['company_id']})")
        print("run: pull, Intacct → Postgres")
        pulled = [o.name for o in OBJECTS.values() if o.pulled]
        dags_ok = run_dags(with_directions(env, pull=True, push=False), pulled)
        tied = summary(base_url, pg.dsn("ar"))
        print(
            "run: every object ties out with the sandbox"
            if dags_ok and tied
            else "run: PULL OR TIE-OUT FAILED"
        )
        print("\nrun: push, Postgres → Intacct (local demo records)")
        push_env = with_directions(env, pull=False, push=True)
        connection = psycopg2.connect(pg.dsn("ar"))
        try:
            demo_push.seed(connection, base_url)
            pushed_ok = run_dags(push_env, push_order())
            demo_push.void(connection)
            print(f"run: {demo_push.VOIDED_INVOICE} voided in the AR platform")
            pushed_ok &= run_dags(push_env, ["invoices"])
            pushed_ok &= demo_push.report(connection, base_url)
        finally:
            connection.close()
        print("run: every push is in Intacct" if pushed_ok else "run: PUSH FAILED")
        return 0 if dags_ok and tied and pushed_ok else 1
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
