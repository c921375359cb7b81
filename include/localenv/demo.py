"""The main job on the embedded default: start the sandbox, run every sync DAG, summarise.

Grows with the project: until the sync DAGs exist it checks the sandbox answers over HTTP.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from include.localenv.airflow_env import PROJECT_ROOT
from include.localenv.postgres import PostgresServer, SetupError

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
        raise SetupError(f"the Intacct sandbox exited at start-up (exit {process.returncode})")
    return process, json.loads(line)


def run(env: dict[str, str], pg: PostgresServer) -> int:
    if not (PROJECT_ROOT / "include" / "intacct_sandbox").exists():
        print("run: the Intacct sandbox is not built yet; set-up is complete.")
        return 0
    process, info = start_sandbox(env)
    try:
        print(f"run: Intacct sandbox at {info['url']} (company {info['company_id']})")
        dag_files = sorted(Path(PROJECT_ROOT / "dags").glob("intacct_*.py"))
        if not dag_files:
            print("run: no sync DAGs yet; set-up and sandbox are working.")
        return 0
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        time.sleep(0)
