"""The main job on the embedded default: start the sandbox, sync every object, tie out.

Until the sync DAGs exist (issue 5), the "sync" is the IntacctHook reading every object from
the sandbox over HTTP through the `intacct_default` connection of airflow_settings.yaml; each
object's count and amount sum are tied out against the sandbox's own ground truth.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from decimal import Decimal

from include.localenv import settings
from include.localenv.airflow_env import PROJECT_ROOT
from include.localenv.postgres import PostgresServer, SetupError

SANDBOX_PORT = 18931

# (label, Intacct object, docparid, amount field): the four pulled objects of design.md §1.
OBJECTS = (
    ("customers", "CUSTOMER", None, None),
    ("invoices", "SODOCUMENT", "Sales Invoice", "TRX_TOTAL"),
    ("credit_notes", "SODOCUMENT", "Sales Return", "TRX_TOTAL"),
    ("payments", "ARPYMT", None, "TRX_TOTALENTERED"),
)


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


def ground_truth(base_url: str, intacct_object: str, docparid: str | None) -> dict:
    query = {"object": intacct_object, **({"docparid": docparid} if docparid else {})}
    url = f"{base_url}/_sandbox/summary?{urllib.parse.urlencode(query)}"
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - loopback sandbox
        return json.load(response)


def tie_out(base_url: str) -> bool:
    """Read each object through the hook and compare count and amount with the sandbox."""
    from intacct_sync.hooks.intacct import IntacctHook

    hook = IntacctHook("intacct_default")
    ok = True
    print(f"{'object':<14}{'records':>9}{'amount':>18}   tie-out vs sandbox")
    for label, intacct_object, docparid, amount_field in OBJECTS:
        started = time.monotonic()
        fields = ["RECORDNO", *([amount_field] if amount_field else [])]
        count, total = 0, Decimal(0)
        for record in hook.read_by_query(intacct_object, fields, docparid=docparid):
            count += 1
            if amount_field and record.get(amount_field):
                total += Decimal(record[amount_field])
        truth = ground_truth(base_url, intacct_object, docparid)
        expected_total = Decimal(str(truth.get(amount_field, 0))) if amount_field else Decimal(0)
        matches = count == truth["count"] and abs(total - expected_total) < Decimal("0.005")
        ok &= matches
        verdict = "ok" if matches else f"MISMATCH (sandbox: {truth['count']}, {expected_total})"
        print(
            f"{label:<14}{count:>9}{total:>18,.2f}   {verdict}"
            f"  ({time.monotonic() - started:.1f} s)"
        )
    return ok


def run(env: dict[str, str], pg: PostgresServer) -> int:
    process, info = start_sandbox(env)
    try:
        print(f"run: Intacct sandbox at {info['url']} (company {info['company_id']})")
        # Outside a task the Task SDK reads connections from secrets backends, not the
        # metastore: hand the hook the same connection airflow_settings.yaml defines.
        connection = settings.connections_json(settings.load()["connections"])["intacct_default"]
        os.environ.update(env)
        os.environ["AIRFLOW_CONN_INTACCT_DEFAULT"] = json.dumps(connection)
        ok = tie_out(str(info["url"]).split("/ia/")[0])
        print("run: every object ties out with the sandbox" if ok else "run: TIE-OUT FAILED")
        return 0 if ok else 1
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
