"""The CeleryExecutor on this machine: Redis broker, Airflow services, N Celery workers.

The same DAGs run unchanged; only the executor differs. Tasks go through the broker (the
project's private Redis, redis.py) to `airflow celery worker` processes, each in its own
session with its own log and log-server port, stopped by pid like the other services. Task
results go to the metadata PostgreSQL (`db+postgresql://…`), so Redis holds nothing that
matters. Each worker reports its own name as the task instances' hostname, so a test can see
which worker ran what (both run on one machine, so the real hostname would be the same).

    with CeleryCluster(workers=2) as cluster:
        cluster.airflow.wait_for_dag("intacct_customers")
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType

from include.localenv.airflow_env import LOCAL, PROJECT_ROOT
from include.localenv.airflow_services import AirflowServices, _terminate, free_port
from include.localenv.redis import RedisServer

WORKER_NAME_VAR = "INTACCT_SYNC_WORKER_NAME"
WORKER_PREFIX = "worker-"


def worker_hostname() -> str:
    """`[core] hostname_callable` for the local workers: the worker's own name."""
    import socket

    return os.environ.get(WORKER_NAME_VAR) or socket.getfqdn()


def celery_env(broker_url: str, metadata_sql_alchemy_conn: str) -> dict[str, str]:
    """The settings that switch Airflow from LocalExecutor to CeleryExecutor."""
    result_dsn = metadata_sql_alchemy_conn.split("://", 1)[1]
    return {
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CELERY__BROKER_URL": broker_url,
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql://{result_dsn}",
        # One task at a time per worker, none reserved ahead: work spreads over the workers.
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "1",
        "AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER": "1",
    }


class CeleryWorkers:
    """`airflow celery worker` processes on a started AirflowServices' environment."""

    def __init__(self, env: Mapping[str, str], log_dir: Path, count: int = 2) -> None:
        self.env = dict(env)
        self.log_dir = log_dir
        self.count = count
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    @property
    def names(self) -> list[str]:
        return [f"{WORKER_PREFIX}{n}" for n in range(1, self.count + 1)]

    def start(self) -> CeleryWorkers:
        for name in self.names:
            env = {
                **self.env,
                WORKER_NAME_VAR: name,
                "AIRFLOW__CORE__HOSTNAME_CALLABLE": f"{__name__}.worker_hostname",
                # Two workers on one machine cannot share the log server's port.
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            }
            command = [
                str(Path(sys.executable).with_name("airflow")),
                "celery", "worker",
                "--celery-hostname", f"{name}@%h",
                "--concurrency", "1",
            ]  # fmt: skip
            with open(self.log_dir / f"{name}.log", "ab") as log:
                self.processes[name] = subprocess.Popen(
                    command,
                    env=env,
                    cwd=PROJECT_ROOT,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
        return self

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                tail = (self.log_dir / f"{name}.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"celery {name} exited with {process.returncode}:\n{tail}")

    def stop(self) -> None:
        """Each worker's whole session, by pid (its forked pool and task runners too)."""
        _terminate(list(self.processes.values()))
        self.processes.clear()


class CeleryCluster:
    """Redis (started if ours is not running, stopped after if we started it), the Airflow
    services on CeleryExecutor, and `workers` Celery workers; a context manager."""

    def __init__(
        self,
        components: Iterable[str] = ("api-server", "scheduler", "dag-processor"),
        *,
        workers: int = 2,
        redis_root: Path = LOCAL / "redis",
        log_dir: Path | None = None,
    ) -> None:
        self.redis = RedisServer(redis_root)
        self.components = tuple(components)
        self.worker_count = workers
        self.log_dir = log_dir
        self.airflow: AirflowServices | None = None
        self.workers: CeleryWorkers | None = None
        self._started_redis = False

    def start(self) -> CeleryCluster:
        self._started_redis = self.redis.ensure_running()
        try:
            conn = os.environ.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "")
            self.airflow = AirflowServices(
                self.components,
                log_dir=self.log_dir,
                parallelism=self.worker_count,
                extra_env=celery_env(self.redis.url, conn) if conn else {},
            ).start()
            assert self.airflow.log_dir is not None
            self.workers = CeleryWorkers(
                self.airflow.env, self.airflow.log_dir, self.worker_count
            ).start()
        except BaseException:
            self.stop()
            raise
        return self

    def log_tail(self, chars: int = 2000) -> str:
        """The end of the scheduler's and each worker's log, for a failure message."""
        if self.airflow is None or self.airflow.log_dir is None:
            return ""
        names = ["scheduler", *(self.workers.names if self.workers else [])]
        return "\n".join(f"--- {n}:\n{self.airflow.log_tail(n, chars)}" for n in names)

    def stop(self) -> None:
        if self.workers is not None:
            self.workers.stop()
        if self.airflow is not None:
            self.airflow.stop()
        if self._started_redis:
            self.redis.stop()
            self._started_redis = False

    def __enter__(self) -> CeleryCluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
