"""`python -m include.localenv COMMAND`: what the Makefile targets run.

Commands: setup, run, up, down, test, psql, pg-start, pg-stop, redis-start, redis-stop.
Every command is idempotent and stops only what it started itself.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from include.localenv import settings
from include.localenv.airflow_env import (
    ADMIN_USER,
    LOCAL,
    PROJECT_ROOT,
    admin_password,
    airflow_env,
)
from include.localenv.postgres import PostgresServer, SetupError, ensure_chromium, port_is_free
from include.localenv.redis import RedisServer

UI_PORT = 8080
SANDBOX_PORT = 18931
UP_STATE = LOCAL / "up.json"
LOGS = LOCAL / "logs"


def postgres() -> PostgresServer:
    return PostgresServer(LOCAL / "postgres")


def redis() -> RedisServer:
    return RedisServer(LOCAL / "redis")


def airflow_bin() -> str:
    return str(Path(sys.executable).with_name("airflow"))


def migrate(env: dict[str, str]) -> None:
    """`airflow db migrate` is idempotent; it is cheap when the schema is current."""
    result = subprocess.run(
        [airflow_bin(), "db", "migrate"], env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise SetupError(f"airflow db migrate failed:\n{(result.stderr or result.stdout)[-3000:]}")
    print("airflow: metadata database migrated")


def setup(pg: PostgresServer) -> dict[str, str]:
    """Postgres up with its databases, Airflow's DB migrated, settings applied."""
    pg.start()
    pg.ensure_databases()
    env = airflow_env(pg.dsn("airflow"))
    migrate(env)
    settings.apply(env, overrides={"ar_postgres": {"port": pg.port, "host": "127.0.0.1"}})
    return env


def cmd_setup(_: argparse.Namespace) -> int:
    pg = postgres()
    was_running = pg.running_pid() is not None
    setup(pg)
    print(f"setup: done (PostgreSQL on 127.0.0.1:{pg.port}, AIRFLOW_HOME={LOCAL / 'airflow'})")
    if not was_running:
        pg.stop()
    return 0


def cmd_run(_: argparse.Namespace) -> int:
    """The main job on the embedded default: local Postgres + sandbox + Airflow."""
    from include.localenv import demo

    pg = postgres()
    was_running = pg.running_pid() is not None
    try:
        env = setup(pg)
        return demo.run(env, pg)
    finally:
        if not was_running:
            pg.stop()


def cmd_test(args: argparse.Namespace) -> int:
    """Run pytest against real services, starting what is missing and stopping it after."""
    pg = postgres()
    started = pg.start()
    try:
        pg.ensure_databases()
        env = airflow_env(pg.dsn("airflow_test"))
        migrate(env)
        env["INTACCT_SYNC_TEST_PG_ADMIN_DSN"] = pg.dsn("postgres")
        env["INTACCT_SYNC_PG_PORT"] = str(pg.port)
        env["INTACCT_SYNC_CHROMIUM"] = ensure_chromium()
        command = [sys.executable, "-m", "pytest", *args.pytest_args]
        print("test:", " ".join(command[2:]), flush=True)
        return subprocess.run(command, env=env, cwd=PROJECT_ROOT).returncode
    finally:
        if started:
            pg.stop()


def _spawn(name: str, command: list[str], env: dict[str, str]) -> int:
    LOGS.mkdir(parents=True, exist_ok=True)
    log = open(LOGS / f"{name}.log", "ab")  # noqa: SIM115 - handed to the child process
    process = subprocess.Popen(
        command,
        env=env,
        cwd=PROJECT_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    return process.pid


def _wait_http(url: str, seconds: float, pid: int, name: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            raise SetupError(
                f"{name} exited during start-up; see {LOGS / (name + '.log')}"
            ) from None
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - loopback URL built here
                return
        except OSError:
            time.sleep(1)
    raise SetupError(f"{name} did not answer on {url} within {seconds:.0f} s; see {LOGS}")


def cmd_up(_: argparse.Namespace) -> int:
    """A long-running Airflow (standalone) plus the sandbox, on the same set-up as `run`."""
    if UP_STATE.exists():
        print(f"up: already running (state in {UP_STATE}); `make down` first.")
        return 1
    for port, what in ((UI_PORT, "the Airflow UI"), (SANDBOX_PORT, "the Intacct sandbox")):
        if not port_is_free(port):
            raise SetupError(f"Port {port} is taken by another process; {what} needs it.")
    pg = postgres()
    started_pg = pg.running_pid() is None
    env = setup(pg)
    state: dict[str, object] = {"started_postgres": started_pg, "pids": {}}
    pids: dict[str, int] = state["pids"]  # type: ignore[assignment]
    try:
        if (PROJECT_ROOT / "include" / "intacct_sandbox").exists():
            pids["sandbox"] = _spawn(
                "sandbox",
                [sys.executable, "-m", "include.intacct_sandbox", "--port", str(SANDBOX_PORT)],
                env,
            )
        env_ui = {**env, "AIRFLOW__API__PORT": str(UI_PORT)}
        pids["airflow"] = _spawn("airflow", [airflow_bin(), "standalone"], env_ui)
        UP_STATE.write_text(json.dumps(state))
        _wait_http(
            f"http://127.0.0.1:{UI_PORT}/api/v2/monitor/health", 240, pids["airflow"], "airflow"
        )
    except BaseException:
        cmd_down(argparse.Namespace())
        raise
    print(
        f"up: Airflow UI on http://localhost:{UI_PORT}  "
        f"user: {ADMIN_USER}  password: {admin_password()}"
    )
    print(f"up: logs in {LOGS}; stop with `make down`")
    return 0


def _stop_group(pid: int) -> None:
    """Stop a process group we started (SIGTERM, then SIGKILL after 30 s)."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.3)
    os.killpg(pid, signal.SIGKILL)


def cmd_down(_: argparse.Namespace) -> int:
    if not UP_STATE.exists():
        print("down: nothing started by `make up` is running")
        return 0
    state = json.loads(UP_STATE.read_text())
    for name, pid in state.get("pids", {}).items():
        _stop_group(pid)
        print(f"down: stopped {name} (pid {pid})")
    if state.get("started_postgres"):
        postgres().stop()
        print("down: stopped PostgreSQL")
    UP_STATE.unlink()
    return 0


def cmd_psql(_: argparse.Namespace) -> int:
    pg = postgres()
    pg.start()
    os.execvp("psql", ["psql", pg.dsn("ar")])  # noqa: S606
    return 0


def cmd_airflow(args: argparse.Namespace) -> int:
    """Any Airflow CLI command against this checkout's metadata DB, not Airflow's SQLite default."""
    pg = postgres()
    pg.start()
    os.execvpe(airflow_bin(), [airflow_bin(), *args.airflow_args], airflow_env(pg.dsn("airflow")))  # noqa: S606
    return 0


def cmd_errors(args: argparse.Namespace) -> int:
    """`make errors`: the product's reconciliation CLI, pointed at this checkout's AR database."""
    pg = postgres()
    pg.start()
    command = [sys.executable, "-m", "intacct_sync.db.reconciliation", "--dsn", pg.dsn("ar")]
    os.execv(sys.executable, [*command, *args.errors_args])  # noqa: S606
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m include.localenv", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("setup", help="PostgreSQL, databases, Airflow migration, settings")
    sub.add_parser("run", help="set up, then run a complete sync against the sandbox")
    sub.add_parser("up", help="long-running Airflow (UI on :8080) + sandbox")
    sub.add_parser("down", help="stop what `up` started")
    sub.add_parser("test", help="run the test suite against real services (args go to pytest)")
    sub.add_parser("psql", help="psql into the AR database")
    sub.add_parser("airflow", help="any Airflow CLI command against the local instance")
    sub.add_parser("errors", help="list, retry or ignore reconciliation errors (local AR DB)")
    sub.add_parser("pg-start", help="start the project's PostgreSQL")
    sub.add_parser("pg-stop", help="stop the project's PostgreSQL (by its pid)")
    sub.add_parser("redis-start", help="start the project's Redis (the Celery broker)")
    sub.add_parser("redis-stop", help="stop the project's Redis (by its pid)")
    argv = sys.argv[1:] if argv is None else argv
    # Everything after `test` belongs to pytest (`make test PYTEST_ARGS="-q -k hook"`);
    # argparse would take options starting with "-" as its own.
    if argv[:1] == ["test"]:
        args = argparse.Namespace(command="test", pytest_args=argv[1:])
    elif argv[:1] == ["airflow"]:
        args = argparse.Namespace(command="airflow", airflow_args=argv[1:])
    elif argv[:1] == ["errors"]:
        args = argparse.Namespace(command="errors", errors_args=argv[1:])
    else:
        args = parser.parse_args(argv)
    handlers = {
        "setup": cmd_setup,
        "run": cmd_run,
        "up": cmd_up,
        "down": cmd_down,
        "test": cmd_test,
        "psql": cmd_psql,
        "airflow": cmd_airflow,
        "errors": cmd_errors,
        "pg-start": lambda _: (postgres().start(), postgres().ensure_databases(), 0)[-1],
        "pg-stop": lambda _: (postgres().stop(), 0)[-1],
        "redis-start": lambda _: (redis().ensure_running(), print(redis().url), 0)[-1],
        "redis-stop": lambda _: (redis().stop(), 0)[-1],
    }
    try:
        return handlers[args.command](args)
    except SetupError as problem:
        print(f"\nset-up problem: {problem}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
