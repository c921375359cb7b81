"""Real Airflow 3 services as subprocesses, for tests and benchmarks that need a scheduler.

`dag.test()` runs tasks in-process and never touches the scheduler, the REST API or the
executor; backfills, queued runs, pools and Params validation only exist there. This starts
`airflow api-server` (free loopback port), `scheduler`, `dag-processor` and optionally
`triggerer`, each in its own session with a log file, on the caller's environment
(AIRFLOW_HOME, metadata DB, `AIRFLOW_CONN_*`), and stops exactly those processes — every
process of their sessions, by pid — also when the test fails.

    with AirflowServices() as airflow:
        airflow.wait_for_dag("intacct_invoices")
        airflow.post("/api/v2/dags/intacct_invoices/dagRuns", {"logical_date": None})
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from intacct_sync.history.queue import Airflow, AirflowError

from include.localenv import settings
from include.localenv.airflow_env import PROJECT_ROOT

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
FINISHED = frozenset({"success", "failed"})
# The health endpoint's key for each component it reports on (the api-server is the endpoint).
HEALTH_KEYS = {"scheduler": "scheduler", "dag-processor": "dag_processor", "triggerer": "triggerer"}


class AirflowServiceError(RuntimeError):
    """A service did not start, or the REST API answered an error (status and detail)."""

    def __init__(self, message: str, status: int | None = None, detail: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _session_members(sid: int) -> list[int]:
    """Pids whose session is `sid` (Linux /proc): the task runners Airflow puts in their own
    process groups stay in our session, so this finds them where killpg would not."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Fields after "(comm)": state ppid pgrp session ...
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 3 and int(fields[3]) == sid:
            members.append(int(entry.name))
    return members


def _terminate(processes: list[subprocess.Popen[bytes]], grace: float = 20) -> None:
    """SIGTERM each session's group, then whatever is left of the sessions, then SIGKILL."""
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(max(0.1, deadline - time.monotonic()))
    for process in processes:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            left = _session_members(process.pid)
            if not left:
                break
            for pid in left:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            until = time.monotonic() + 5
            while _session_members(process.pid) and time.monotonic() < until:
                process.poll()
                time.sleep(0.2)
        if process.poll() is None:
            process.kill()
            process.wait(5)


class AirflowServices:
    """Start Airflow components on the current environment; a context manager.

    :param components: which of COMPONENTS to run (the api-server is always started first).
    :param env: base environment (default os.environ, read at start so fixtures'
        `monkeypatch.setenv` of connections reaches the subprocesses).
    :param parallelism: LocalExecutor slots (modest: tests run on small machines).
    :param log_dir: where `<component>.log` go (default a new temporary folder).
    """

    def __init__(
        self,
        components: Iterable[str] = ("api-server", "scheduler", "dag-processor"),
        *,
        env: Mapping[str, str] | None = None,
        parallelism: int = 2,
        log_dir: Path | None = None,
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        self.components = ["api-server", *(c for c in components if c != "api-server")]
        unknown = set(self.components) - set(COMPONENTS)
        if unknown:
            raise ValueError(f"unknown Airflow components {sorted(unknown)}; known: {COMPONENTS}")
        self._base_env = env
        self.parallelism = parallelism
        self.log_dir = log_dir
        self.extra_env = dict(extra_env or {})
        self.port = 0
        self.user = "admin"
        self.password = ""
        self.env: dict[str, str] = {}
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.started_at: datetime | None = None
        self._api: Airflow | None = None
        self._own_log_dir = log_dir is None

    # ------------------------------------------------------------------ life cycle
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ if self._base_env is None else self._base_env)
        if not env.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"):
            raise AirflowServiceError(
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN is not set: run under `make test` (or pass "
                "env=airflow_env(dsn)) so the services use the project's metadata database"
            )
        assert self.log_dir is not None
        passwords = self.log_dir / "passwords.json"
        passwords.write_text(json.dumps({self.user: self.password}))
        passwords.chmod(0o600)
        bin_dir = str(Path(sys.executable).parent)
        env.update(
            {
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(self.port),
                "AIRFLOW__API__WORKERS": "1",
                "AIRFLOW__API__BASE_URL": self.base_url,
                # LocalExecutor workers report task state to this api-server, not :8080.
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.base_url}/execution/",
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                "AIRFLOW__CORE__PARALLELISM": str(self.parallelism),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                # A DAG the processor sees for the first time must not start running by itself.
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
                # Our own users file, so tests never depend on .local/airflow/passwords.json.
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{self.user}:admin",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
                # Fixed ports would collide with `make up` or a second test session.
                "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
                "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
                "PATH": os.pathsep.join((bin_dir, env.get("PATH", ""))),
                **self.extra_env,
            }
        )
        return env

    def start(self, timeout: float = 180) -> AirflowServices:
        """Start every component and wait until the health endpoint reports them healthy."""
        if self.processes:
            raise AirflowServiceError("already started")
        self.log_dir = self.log_dir or Path(tempfile.mkdtemp(prefix="airflow-services-"))
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.password = secrets.token_hex(16)  # never starts with '-' (a CLI option)
        self.env = self._environment()
        self.started_at = datetime.now().astimezone()
        try:
            # Tasks in a pool that does not exist are never scheduled: the project's pools
            # (airflow_settings.yaml) must be in this metadata database, fresh or not.
            settings.apply(self.env, sections=("pools",))
            for name in self.components:
                self._spawn(name)
            self.wait_healthy(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def start_component(self, name: str, timeout: float = 120) -> None:
        """Add a component later, e.g. the scheduler once the test has set the stage (paused
        DAGs, stale runs settled) so it never acts on a half-prepared database."""
        if name not in COMPONENTS or name in self.processes or not self.processes:
            raise AirflowServiceError(
                f"cannot start {name!r} now (running: {list(self.processes)})"
            )
        self._spawn(name)
        self.wait_healthy(timeout)

    def stop_component(self, name: str) -> None:
        process = self.processes.pop(name, None)
        if process is not None:
            _terminate([process])

    def _spawn(self, name: str) -> None:
        command = [str(Path(sys.executable).with_name("airflow")), name]
        assert self.log_dir is not None
        with open(self.log_dir / f"{name}.log", "ab") as log:
            self.processes[name] = subprocess.Popen(
                command,
                env=self.env,
                cwd=PROJECT_ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def log_tail(self, name: str, chars: int = 3000) -> str:
        assert self.log_dir is not None
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def _check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise AirflowServiceError(
                    f"airflow {name} exited with {process.returncode} "
                    f"(log {self.log_dir}/{name}.log):\n{self.log_tail(name)}"
                )

    def wait_healthy(self, timeout: float = 180) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        health: dict[str, Any] = {}
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                health = self.request("GET", "/api/v2/monitor/health", auth=False)
            except (OSError, AirflowServiceError):
                time.sleep(0.5)
                continue
            wanted = [HEALTH_KEYS[c] for c in self.processes if c in HEALTH_KEYS]
            if all((health.get(k) or {}).get("status") == "healthy" for k in wanted):
                return health
            time.sleep(0.5)
        raise AirflowServiceError(f"Airflow services not healthy after {timeout:.0f} s: {health}")

    def stop(self) -> None:
        """Stop every component (each whole session, by pid); safe to call twice."""
        _terminate(list(reversed(self.processes.values())))
        self.processes.clear()
        self._api = None

    def __enter__(self) -> AirflowServices:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        # Logs of a clean run are noise; after a failure they are what you read.
        if exc_type is None and self._own_log_dir and self.log_dir is not None:
            shutil.rmtree(self.log_dir, ignore_errors=True)

    # ------------------------------------------------------------------ REST API
    def token(self) -> str:
        """A JWT for the admin (SimpleAuthManager: POST /auth/token)."""
        return self._client().token()

    def _client(self) -> Airflow:
        if self._api is None:
            self._api = Airflow(self.base_url, self.user, self.password)
        return self._api

    def request(
        self, method: str, path: str, body: Any = None, *, auth: bool = True, timeout: float = 60
    ) -> Any:
        """JSON in, JSON out; an HTTP error raises AirflowServiceError with status and detail."""
        try:
            return self._client().call(method, path, body, auth=auth, timeout=timeout)
        except AirflowError as error:
            raise AirflowServiceError(str(error), error.status, error.detail) from None

    def get(self, path: str) -> Any:
        return self.request("GET", path)

    def post(self, path: str, body: Any = None) -> Any:
        return self.request("POST", path, {} if body is None else body)

    def patch(self, path: str, body: Any) -> Any:
        return self.request("PATCH", path, body)

    def put(self, path: str, body: Any = None) -> Any:
        return self.request("PUT", path, body)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)

    # ------------------------------------------------------------------ helpers
    def wait_for_dag(self, dag_id: str, timeout: float = 120) -> dict[str, Any]:
        """The DAG as the API sees it, once the dag-processor has parsed it since start:
        a row left in the test DB by an earlier session may hold an older serialization."""
        assert self.started_at is not None
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                last = self.get(f"/api/v2/dags/{dag_id}")
                parsed = last.get("last_parsed_time")
                if parsed and datetime.fromisoformat(parsed) >= self.started_at:
                    return last
            except AirflowServiceError as error:
                if error.status != 404:
                    raise
            time.sleep(0.5)
        raise AirflowServiceError(
            f"DAG {dag_id} not parsed within {timeout:.0f} s (last answer {last}); "
            f"see {self.log_dir}/dag-processor.log"
        )

    def pause_all_except(self, *dag_ids: str) -> dict[str, bool]:
        """Pause every DAG but `dag_ids` (a shared test DB has every pull DAG unpaused, and a
        scheduler would run them all); returns the previous states for restore_paused."""
        previous = {
            d["dag_id"]: d["is_paused"] for d in self.get("/api/v2/dags?limit=1000")["dags"]
        }
        for dag_id, paused in previous.items():
            if dag_id not in dag_ids and not paused:
                self.patch(f"/api/v2/dags/{dag_id}", {"is_paused": True})
        return previous

    def restore_paused(self, previous: Mapping[str, bool]) -> None:
        for dag_id, paused in previous.items():
            self.patch(f"/api/v2/dags/{dag_id}", {"is_paused": paused})

    def dag_runs(self, dag_id: str, **params: str) -> list[dict[str, Any]]:
        """Every run of a DAG (paged), oldest logical date first when it has one."""
        from urllib.parse import urlencode

        runs: list[dict[str, Any]] = []
        while True:
            query = urlencode({**params, "limit": 100, "offset": len(runs)})
            page = self.get(f"/api/v2/dags/{dag_id}/dagRuns?{query}")
            runs += page["dag_runs"]
            if len(runs) >= page["total_entries"] or not page["dag_runs"]:
                return runs

    def wait_for_runs(
        self,
        dag_id: str,
        run_ids: Iterable[str],
        timeout: float = 300,
        states: frozenset[str] = FINISHED,
    ) -> dict[str, dict[str, Any]]:
        """Poll until every run is in one of `states`; the runs by id."""
        wanted = set(run_ids)
        deadline = time.monotonic() + timeout
        current: dict[str, dict[str, Any]] = {}
        while time.monotonic() < deadline:
            self._check_alive()
            current = {
                r["dag_run_id"]: r for r in self.dag_runs(dag_id) if r["dag_run_id"] in wanted
            }
            if len(current) == len(wanted) and all(r["state"] in states for r in current.values()):
                return current
            time.sleep(1)
        pending = {i: (current.get(i) or {}).get("state", "missing") for i in sorted(wanted)}
        raise AirflowServiceError(
            f"runs of {dag_id} not {sorted(states)} within {timeout:.0f} s: {pending}; "
            f"logs in {self.log_dir}"
        )

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
        from urllib.parse import quote

        path = (
            f"/api/v2/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/taskInstances/"
            f"{task_id}/xcomEntries/{key}?deserialize=true"
        )
        return self.get(path)["value"]

    def cli(
        self, *args: str, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess:
        """`airflow ARGS` with the services' environment (same DB, same settings)."""
        if not self.env:
            raise AirflowServiceError("start the services first: the CLI needs their environment")
        result = subprocess.run(
            [str(Path(sys.executable).with_name("airflow")), *args],
            env=self.env,
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AirflowServiceError(
                f"airflow {' '.join(args)} exited {result.returncode}:\n"
                f"{(result.stdout + result.stderr)[-3000:]}"
            )
        return result
