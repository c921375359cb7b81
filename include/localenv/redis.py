"""The project's private Redis (the Celery broker): find or install, start, stop.

Like the PostgreSQL server (postgres.py) it lives under `.local/redis/` (git-ignored), listens
on loopback only, on a free port recorded in `.local/redis/port`, and is stopped by the pid in
its own pid file — never by process name, so other Redis servers on the machine are never
touched. No persistence: the broker only holds queued task messages, and the tests start from
an empty one. Standard library only.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from include.localenv.postgres import SetupError, apt_install, pick_port

DEFAULT_PORT = 63799


def ensure_binary(apt_get: str | None | bool = True) -> str:
    """Debian's `redis-server`, installed with apt-get when it is missing (root only)."""
    found = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if found:
        return found
    apt = shutil.which("apt-get") if apt_get is True else apt_get
    if not apt or os.geteuid() != 0:
        raise SetupError(
            "redis-server was not found and cannot be installed here "
            f"({'apt-get is unavailable' if not apt else 'installing needs root'}). "
            "Install it (Debian: apt-get install redis-server), then run make again."
        )
    print("redis: redis-server missing; installing Debian's redis-server ...")
    apt_install(apt, "redis-server")
    found = shutil.which("redis-server")
    if not found:
        raise SetupError("redis-server was installed but is still not on PATH.")
    return found


def _ping(port: int, timeout: float = 1.0) -> bool:
    """Whether a Redis answers PING on 127.0.0.1:port (RESP inline command)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """One private Redis: `ensure_running()` is idempotent; `stop()` signals its pid only."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def pid_file(self) -> Path:
        return self.root / "redis.pid"

    @property
    def port_file(self) -> Path:
        return self.root / "port"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    @property
    def port(self) -> int:
        return int(self.port_file.read_text()) if self.port_file.exists() else DEFAULT_PORT

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def running_pid(self) -> int | None:
        """The pid in our pid file when that process is alive and is a redis-server."""
        try:
            pid = int(self.pid_file.read_text().strip())
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return None
        return pid if b"redis-server" in command else None

    def ensure_running(self) -> bool:
        """Start it unless ours already answers; True when this call started it."""
        if self.running_pid() is not None and _ping(self.port):
            return False
        binary = ensure_binary()
        self.root.mkdir(parents=True, exist_ok=True)
        port = pick_port(DEFAULT_PORT)
        self.port_file.write_text(str(port))
        self.pid_file.unlink(missing_ok=True)
        # Arguments on the command line instead of a config file: nothing to keep in sync.
        command = [
            binary,
            "--bind", "127.0.0.1",
            "--port", str(port),
            "--dir", str(self.root),
            "--pidfile", str(self.pid_file),
            "--logfile", str(self.log),
            "--daemonize", "yes",
            "--save", "",
            "--appendonly", "no",
            "--protected-mode", "yes",
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, cwd=self.root)
        if result.returncode != 0:
            raise SetupError(f"redis-server failed to start:\n{result.stderr[-2000:]}")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.running_pid() is not None and _ping(port):
                print(f"redis: started on 127.0.0.1:{port} (pid {self.running_pid()})")
                return True
            time.sleep(0.1)
        raise SetupError(f"redis-server did not answer on port {port} within 30 s; see {self.log}")

    def stop(self) -> bool:
        """SIGTERM to the pid in our pid file; False when it was not running."""
        pid = self.running_pid()
        if pid is None:
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if not Path(f"/proc/{pid}").exists():
                self.pid_file.unlink(missing_ok=True)
                return True
            time.sleep(0.1)
        raise SetupError(f"redis-server (pid {pid}) did not stop within 30 s; see {self.log}")
