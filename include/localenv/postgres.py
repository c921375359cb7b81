"""The project's private PostgreSQL 15 server: find or install, initialise, start, stop.

It lives under `.local/postgres/` (git-ignored), listens on loopback only, and is started and
stopped by the pid in its own `postmaster.pid` — never by process name, so other PostgreSQL
servers on the machine are never touched. Standard library only: this runs before the venv
has anything in it.

As root, the server runs as the `postgres` OS user, which cannot enter a clone in a private
directory (root's home, `mktemp -d`). Then its files live in a directory of their own under
`/var/lib/intacct-sync/postgres/`, named after the clone's path and owned by `postgres`, and
`.local/postgres/home` records where: the user's directory permissions are never changed.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

PG_MAJOR = "15"
DEFAULT_PORT = 54329
ROLE = "intacct_sync"
# A local, loopback-only development server: this password is the project's documented
# default, also written in airflow_settings.yaml. Production uses its own connection.
ROLE_PASSWORD = "intacct_sync"  # noqa: S105
DATABASES = ("airflow", "airflow_test", "ar")
# Where the server's files go when the `postgres` user cannot reach the clone (see above).
OUTSIDE_HOMES = Path("/var/lib/intacct-sync/postgres")


class SetupError(RuntimeError):
    """A set-up problem a person must act on; the message says what and how."""


@dataclass(frozen=True)
class PostgresPaths:
    """Where the project's server keeps its files: `root` is the clone's `.local/postgres`,
    `home` holds what the server itself reads and writes (the same folder, unless the server's
    OS user cannot reach it: see the module docstring)."""

    root: Path
    home: Path

    @property
    def data(self) -> Path:
        return self.home / "data"

    @property
    def socket_dir(self) -> Path:
        return self.home / "run"

    @property
    def log(self) -> Path:
        return self.home / "server.log"

    @property
    def port_file(self) -> Path:
        return self.root / "port"

    @property
    def home_file(self) -> Path:
        return self.root / "home"

    @property
    def pid_file(self) -> Path:
        return self.data / "postmaster.pid"


def outside_home(root: Path) -> Path:
    """The server's own folder for a clone the `postgres` user cannot enter: one per clone
    path, so two clones never share a cluster."""
    key = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
    return OUTSIDE_HOMES / key


def default_search_dirs() -> list[str]:
    """Where PostgreSQL 15 may live: $PG_BIN, Debian's versioned directory, then $PATH."""
    dirs = [os.environ.get("PG_BIN", ""), f"/usr/lib/postgresql/{PG_MAJOR}/bin"]
    on_path = shutil.which("pg_ctl")
    if on_path:
        dirs.append(str(Path(on_path).resolve().parent))
    return [d for d in dirs if d]


def find_bin_dir(search_dirs: list[str]) -> Path | None:
    """The first directory holding PostgreSQL 15's initdb and pg_ctl."""
    for candidate in search_dirs:
        directory = Path(candidate)
        if (directory / "initdb").exists() and (directory / "pg_ctl").exists():
            version = subprocess.run(
                [str(directory / "pg_ctl"), "--version"], capture_output=True, text=True
            ).stdout
            if f"(PostgreSQL) {PG_MAJOR}." in version:
                return directory
    return None


def ensure_binaries(
    search_dirs: list[str] | None = None, apt_get: str | None | bool = True
) -> Path:
    """Return PostgreSQL 15's bin directory, installing Debian's package when it is missing.

    `apt_get=True` means "look it up on PATH"; tests pass None to simulate a machine without it.
    """
    search_dirs = default_search_dirs() if search_dirs is None else search_dirs
    found = find_bin_dir(search_dirs)
    if found:
        return found
    apt = shutil.which("apt-get") if apt_get is True else apt_get
    if not apt or os.geteuid() != 0:
        raise SetupError(
            "PostgreSQL 15 binaries (initdb, pg_ctl) were not found in "
            f"{', '.join(search_dirs) or 'any known place'} and cannot be installed here "
            f"({'apt-get is unavailable' if not apt else 'installing needs root'}). "
            "Install PostgreSQL 15 (Debian: apt-get install postgresql-15) or set PG_BIN to "
            "its bin directory, then run make again."
        )
    print("postgres: PostgreSQL 15 binaries missing; installing Debian's postgresql-15 ...")
    apt_install(apt, f"postgresql-{PG_MAJOR}")
    found = find_bin_dir(default_search_dirs())
    if not found:
        raise SetupError("postgresql-15 was installed but initdb/pg_ctl are still not found.")
    return found


def apt_install(apt: str, *packages: str) -> None:
    """`apt-get update` and `apt-get install` of Debian packages (root only), or SetupError."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in ([apt, "update", "-q"], [apt, "install", "-y", "-q", *packages]):
        result = subprocess.run(command, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise SetupError(
                f"`{' '.join(command)}` failed (exit {result.returncode}):\n{result.stderr[-2000:]}"
            )


def ensure_chromium() -> str:
    """Debian's headless-capable chromium for the browser tests (Playwright drives it; its
    own browser download is not reachable everywhere). Installed when missing."""
    found = shutil.which("chromium")
    if found:
        return found
    apt = shutil.which("apt-get")
    if not apt or os.geteuid() != 0:
        raise SetupError(
            "chromium is needed by the browser tests and cannot be installed here "
            f"({'apt-get is unavailable' if not apt else 'installing needs root'}): "
            "apt-get install chromium, then run make again."
        )
    print("test: chromium missing; installing Debian's chromium ...")
    apt_install(apt, "chromium")
    found = shutil.which("chromium")
    if not found:
        raise SetupError("chromium was installed but is not on PATH.")
    return found


def port_is_free(port: int) -> bool:
    """True when nothing listens on 127.0.0.1:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def pick_port(preferred: int) -> int:
    """The preferred port if free, else the next free one above it."""
    for port in range(preferred, preferred + 100):
        if port_is_free(port):
            return port
    raise SetupError(f"No free loopback port in {preferred}-{preferred + 99} for PostgreSQL.")


class PostgresServer:
    """One private cluster: `ensure_running()` is idempotent and recovers interrupted set-ups."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._paths: PostgresPaths | None = None
        self._bin: Path | None = None

    @property
    def paths(self) -> PostgresPaths:
        """Decided once per clone: a recorded home is kept; else the clone's own folder when
        the server's OS user can use it, else a folder outside (created on first use)."""
        if self._paths is None:
            home_file = self.root / "home"
            if home_file.exists():
                home = Path(home_file.read_text().strip())
            elif self._owner() is None or self._owner_can_use(self.root.parent):
                home = self.root
            else:
                home = outside_home(self.root)
            self._paths = PostgresPaths(self.root, home)
        return self._paths

    # -- helpers ---------------------------------------------------------------------------
    @property
    def bin(self) -> Path:
        if self._bin is None:
            self._bin = ensure_binaries()
        return self._bin

    def _owner(self) -> pwd.struct_passwd | None:
        """PostgreSQL refuses to run as root; as root we run it as the `postgres` user."""
        if os.geteuid() != 0:
            return None
        try:
            return pwd.getpwnam("postgres")
        except KeyError as missing:
            raise SetupError(
                "Running as root, PostgreSQL needs an unprivileged `postgres` OS user, and there "
                "is none. Create it (useradd --system postgres) or run make as a normal user."
            ) from missing

    def _owner_can_use(self, directory: Path) -> bool:
        """Whether the server's OS user can reach `directory` through every parent (root's
        own access says nothing about it). A folder not made yet counts as its parent."""
        owner = self._owner()
        while not directory.exists():
            directory = directory.parent
        probe = ["runuser", "-u", owner.pw_name, "--", "test", "-x", str(directory)]  # type: ignore[union-attr]
        return subprocess.run(probe, cwd="/", capture_output=True).returncode == 0

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        owner = self._owner()
        command = list(args)
        if owner is not None:
            command = ["runuser", "-u", owner.pw_name, "--", *command]
        # The server's user may not be able to enter the caller's working directory.
        result = subprocess.run(command, capture_output=True, text=True, cwd="/")
        if check and result.returncode != 0:
            raise SetupError(
                f"`{' '.join(args)}` failed (exit {result.returncode}):\n"
                f"{(result.stderr or result.stdout)[-2000:]}"
            )
        return result

    def _prepare_dirs(self) -> None:
        paths = self.paths
        paths.root.mkdir(parents=True, exist_ok=True)
        if paths.home != paths.root:
            paths.home.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
            paths.home.mkdir(exist_ok=True, mode=0o700)
            if not paths.home_file.exists():
                paths.home_file.write_text(f"{paths.home}\n")
                print(
                    f"postgres: the postgres OS user cannot enter {paths.root}; the server's "
                    f"files live in {paths.home} (recorded in {paths.home_file})."
                )
        paths.socket_dir.mkdir(exist_ok=True)
        owner = self._owner()
        if owner is not None:
            for path in (paths.home, paths.socket_dir):
                os.chown(path, owner.pw_uid, owner.pw_gid)
            if not self._owner_can_use(paths.socket_dir):
                raise SetupError(
                    f"The {owner.pw_name} OS user, which runs PostgreSQL when make runs as "
                    f"root, cannot reach {paths.home}. Make its parent directories "
                    f"traversable for other users (chmod o+x), or delete {paths.home_file} "
                    "to choose again, or run make as an ordinary user."
                )

    @property
    def port(self) -> int:
        return int(self.paths.port_file.read_text().strip())

    def running_pid(self) -> int | None:
        """The pid from postmaster.pid when that process is alive, else None."""
        try:
            pid = int(self.paths.pid_file.read_text().splitlines()[0])
        except (FileNotFoundError, IndexError, ValueError, PermissionError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return pid
        return pid

    # -- lifecycle -------------------------------------------------------------------------
    def is_initialised(self) -> bool:
        return (self.paths.data / "PG_VERSION").exists() and (
            self.paths.data / "global" / "pg_control"
        ).exists()

    def _choose_port(self) -> None:
        """Keep this clone's port while it is free; move to a free one when it is not.

        A stopped server owns no socket, so another clone (or anything else) may take its port
        meanwhile; the port file is what every command reads, so moving is safe.
        """
        preferred = int(os.environ.get("PG_PORT", DEFAULT_PORT))
        if self.paths.port_file.exists():
            preferred = self.port
            if port_is_free(preferred):
                return
        port = pick_port(preferred)
        if port != preferred:
            print(f"postgres: port {preferred} is taken; using free port {port}.")
        self.paths.port_file.write_text(f"{port}\n")

    def initialise(self) -> None:
        """Run initdb once; an interrupted earlier initdb is moved aside, never deleted."""
        self._prepare_dirs()
        if self.is_initialised():
            return
        if self.paths.data.exists() and any(self.paths.data.iterdir()):
            aside = self.paths.home / f"data.incomplete-{time.strftime('%Y%m%d-%H%M%S')}"
            self.paths.data.rename(aside)
            print(
                f"postgres: {self.paths.data} was half-initialised (interrupted run); "
                f"moved it to {aside} and initialising afresh."
            )
        pwfile = self.paths.home / ".initdb-pw"
        pwfile.write_text(ROLE_PASSWORD + "\n")
        owner = self._owner()
        if owner is not None:
            os.chown(pwfile, owner.pw_uid, owner.pw_gid)
        try:
            self._run(
                str(self.bin / "initdb"),
                "-D",
                str(self.paths.data),
                "-U",
                ROLE,
                f"--pwfile={pwfile}",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            )
        finally:
            pwfile.unlink(missing_ok=True)
        print(f"postgres: initialised cluster in {self.paths.data}")

    def start(self) -> bool:
        """Start the server; returns False when it was already running."""
        self.initialise()
        if self.running_pid() is not None:
            return False
        self._choose_port()
        port = self.port
        options = (
            f"-p {port} -c listen_addresses=127.0.0.1 -k {self.paths.socket_dir} "
            "-c max_connections=200 -c shared_buffers=256MB -c fsync=on"
        )
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.paths.data),
            "-l",
            str(self.paths.log),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )
        return True

    def stop(self) -> bool:
        """Fast shutdown by the pid in postmaster.pid; returns False when it was not running."""
        pid = self.running_pid()
        if pid is None:
            return False
        os.kill(pid, signal.SIGINT)  # PostgreSQL's "fast" shutdown
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.running_pid() is None:
                return True
            time.sleep(0.2)
        raise SetupError(f"PostgreSQL (pid {pid}) did not stop within 60 s; see {self.paths.log}")

    def psql(self, database: str, sql: str) -> str:
        """Run one SQL statement over the local socket as the project's role."""
        result = self._run(
            str(self.bin / "psql"),
            "-h",
            str(self.paths.socket_dir),
            "-p",
            str(self.port),
            "-U",
            ROLE,
            "-d",
            database,
            "-v",
            "ON_ERROR_STOP=1",
            "-Atqc",
            sql,
        )
        return result.stdout.strip()

    def ensure_databases(self) -> None:
        """Create the project's databases that are missing (recovers a half-finished set-up)."""
        existing = set(self.psql("postgres", "SELECT datname FROM pg_database").split())
        for name in DATABASES:
            if name not in existing:
                self.psql("postgres", f'CREATE DATABASE "{name}"')
                print(f"postgres: created database {name}")

    def dsn(self, database: str) -> str:
        return f"postgresql://{ROLE}:{ROLE_PASSWORD}@127.0.0.1:{self.port}/{database}"
