"""A load task SIGKILLed half way, and PostgreSQL restarted under a running load: the retry
(same run id, as Airflow retries a task) completes the load, and PostgreSQL then mirrors the
sandbox row for row — nothing lost, nothing twice."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

import psycopg2
import pytest
from intacct_sync.db import schema

from include.localenv.postgres import PostgresServer
from tests.chaos.conftest import assert_mirrors, run_until_success, truth_rows

pytestmark = pytest.mark.chaos
ROOT = Path(__file__).resolve().parents[2]


def _start(step: str, name: str, run_id: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "plugins")])}
    return subprocess.Popen([sys.executable, "-m", "tests.chaos.task_process", step, name, run_id],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)  # fmt: skip


def _run(step: str, name: str, run_id: str) -> None:
    process = _start(step, name, run_id)
    output, _ = process.communicate(timeout=300)
    assert process.returncode == 0, f"{step} {name} failed:\n{output[-3000:]}"


def _count(dsn: str, table: str) -> int:
    with closing(psycopg2.connect(dsn)) as connection, connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - a constant
        return cursor.fetchone()[0]


def _once_some_rows_load(process: subprocess.Popen[str], dsn: str, table: str) -> None:
    """Return as soon as the load has committed its first batches (it is still running)."""
    deadline = time.monotonic() + 120
    while _count(dsn, table) == 0:
        assert process.poll() is None, "the load ended before the test could interrupt it"
        assert time.monotonic() < deadline, "the load committed nothing within 120 s"
        time.sleep(0.002)


def _leftovers(dsn: str, run_id: str) -> tuple[int, int]:
    with closing(psycopg2.connect(dsn)) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT (SELECT count(*) FROM intacct_sync.raw_records WHERE run_id = %s),"
                       " (SELECT count(*) FROM intacct_sync.staged_batches WHERE run_id = %s)",
                       (run_id, run_id))  # fmt: skip
        return cursor.fetchone()


def test_a_load_killed_half_way_is_completed_by_its_retry(intacct_connection, clean_ar,
                                                          ar_database_dsn):  # fmt: skip
    server = intacct_connection
    run_until_success("customers")
    expected = len(truth_rows(server, ["invoices"])["invoices"])
    _run("extract", "invoices", "chaos-kill")
    _run("map", "invoices", "chaos-kill")

    load = _start("load", "invoices", "chaos-kill")
    _once_some_rows_load(load, ar_database_dsn, "ar.invoices")
    os.kill(load.pid, signal.SIGKILL)
    load.communicate(timeout=30)
    assert load.returncode == -signal.SIGKILL
    at_kill = _count(ar_database_dsn, "ar.invoices")
    assert 0 < at_kill < expected, f"killed at {at_kill} of {expected}: not half way"

    _run("load", "invoices", "chaos-kill")  # Airflow's retry of the load task
    compared = assert_mirrors(server, clean_ar, ["customers", "invoices"])
    assert compared["invoices"] == expected
    assert _leftovers(ar_database_dsn, "chaos-kill") == (0, 0)
    print(f"killed with {at_kill} of {expected} invoices loaded; the retry loaded the rest")


@pytest.fixture
def own_postgres(monkeypatch):
    """A PostgreSQL server of this test's own (restarting the suite's would cut every other
    fixture's connection), with a migrated AR database as the `ar_postgres` connection."""
    root = Path(tempfile.mkdtemp(prefix="intacct-chaos-pg-"))
    server = PostgresServer(root)
    monkeypatch.setenv("PG_PORT", "25432")  # preferred; the next free port if taken
    server.start()
    try:
        server.psql("postgres", 'CREATE DATABASE "ar_chaos"')
        dsn = server.dsn("ar_chaos")
        with closing(psycopg2.connect(dsn)) as connection:
            schema.migrate(connection)
        monkeypatch.setenv("AIRFLOW_CONN_AR_POSTGRES", json.dumps({
            "conn_type": "postgres", "host": "127.0.0.1", "port": server.port,
            "login": "intacct_sync", "password": "intacct_sync", "schema": "ar_chaos"}))
        yield server, dsn
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def test_postgres_restarted_under_a_load_loses_nothing(intacct_connection, own_postgres):
    server = intacct_connection
    postgres, dsn = own_postgres
    expected = len(truth_rows(server, ["invoices"])["invoices"])
    for step in ("extract", "map", "load"):
        _run(step, "customers", "chaos-restart")
    _run("extract", "invoices", "chaos-restart")
    _run("map", "invoices", "chaos-restart")

    load = _start("load", "invoices", "chaos-restart")
    _once_some_rows_load(load, dsn, "ar.invoices")
    postgres.stop()  # fast shutdown: every session is cut, open transactions roll back
    output, _ = load.communicate(timeout=60)
    postgres.start()
    assert load.returncode != 0, "the load did not notice PostgreSQL going away"
    assert "terminating connection due to administrator command" in output or (
        "server closed the connection unexpectedly" in output), output[-2000:]
    at_restart = _count(dsn, "ar.invoices")
    assert 0 < at_restart < expected, f"restarted at {at_restart} of {expected}: not half way"

    _run("load", "invoices", "chaos-restart")  # the retry
    with closing(psycopg2.connect(dsn)) as connection:
        compared = assert_mirrors(server, connection, ["customers", "invoices"])
    assert compared["invoices"] == expected
    assert _leftovers(dsn, "chaos-restart") == (0, 0)
    print(f"restarted with {at_restart} of {expected} invoices loaded; the retry loaded the rest")
