"""The project's PostgreSQL set-up recovers from bad states or says exactly what is wrong."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from include.localenv.airflow_env import LOCAL
from include.localenv.postgres import PostgresServer, SetupError, ensure_binaries


@pytest.fixture(scope="module")
def scratch_root() -> Iterator[Path]:
    """A directory the `postgres` OS user can traverse (pytest's tmp_path is private to root)."""
    LOCAL.mkdir(exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="pgtest-", dir=LOCAL))
    root.chmod(0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def half_initialised_server(scratch_root: Path) -> Iterator[PostgresServer]:
    """A server whose data folder was left half-written by an interrupted initdb (wherever
    the server keeps its files: in the clone, or outside it when the clone is private)."""
    server = PostgresServer(scratch_root / "pg")
    data = server.paths.data
    data.mkdir(parents=True)
    (data / "base").mkdir()
    (data / "precious.txt").write_text("left by an interrupted run")
    yield server
    server.stop()
    shutil.rmtree(server.paths.home, ignore_errors=True)


def test_half_initialised_folder_is_moved_aside_not_wiped(half_initialised_server):
    server = half_initialised_server
    assert server.start() is True
    aside = [p for p in server.paths.home.iterdir() if p.name.startswith("data.incomplete-")]
    assert len(aside) == 1
    assert (aside[0] / "precious.txt").read_text() == "left by an interrupted run"
    assert server.psql("postgres", "SELECT 1") == "1"


def test_start_is_idempotent_and_stop_uses_the_pid(half_initialised_server):
    server = half_initialised_server
    server.start()
    pid = server.running_pid()
    assert pid is not None
    assert server.start() is False  # already running: nothing new started
    assert server.stop() is True
    assert server.running_pid() is None
    assert server.stop() is False


def test_databases_created_once_even_when_setup_is_repeated(half_initialised_server):
    server = half_initialised_server
    server.start()
    server.ensure_databases()
    server.ensure_databases()
    names = server.psql("postgres", "SELECT datname FROM pg_database ORDER BY 1").split()
    assert {"airflow", "airflow_test", "ar"} <= set(names)
    assert len(names) == len(set(names))


def test_a_port_taken_while_stopped_moves_the_server_to_a_free_one(half_initialised_server):
    """Another clone started while this one was down and took its port: start elsewhere."""
    server = half_initialised_server
    server.stop()
    taken = server.port
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", taken))
        squatter.listen()
        assert server.start() is True
        assert server.port != taken
        assert server.psql("postgres", "SHOW port").strip() == str(server.port)
    server.stop()
    assert server.start() is True  # the new port is kept, not given back
    assert server.port != taken


def test_missing_binaries_without_apt_say_what_to_do(tmp_path):
    with pytest.raises(SetupError) as problem:
        ensure_binaries(search_dirs=[str(tmp_path)], apt_get=None)
    message = str(problem.value)
    assert "PostgreSQL 15 binaries (initdb, pg_ctl) were not found" in message
    assert "apt-get is unavailable" in message
    assert "PG_BIN" in message


@pytest.mark.skipif(os.geteuid() != 0, reason="the server runs as another OS user only as root")
def test_a_clone_in_a_private_directory_gets_a_server_as_root():
    """A clone in a mode-700 folder (root's home, `mktemp -d`): the `postgres` user cannot
    enter it, so the server's files live outside, recorded in the clone, and nothing about
    the user's folder changes."""
    private = Path(tempfile.mkdtemp(prefix="intacct-private-clone-"))
    root = private / "clone" / ".local" / "postgres"
    server = PostgresServer(root)
    try:
        assert private.stat().st_mode & 0o777 == 0o700
        assert server.start() is True
        home = Path((root / "home").read_text().strip())
        assert home == server.paths.home and not home.is_relative_to(private)
        assert server.psql("postgres", "SELECT current_setting('data_directory')") == str(
            home / "data"
        )
        assert private.stat().st_mode & 0o777 == 0o700  # the user's folder is untouched
        assert server.stop() is True
        # A new process finds the same cluster again through the record: idempotent.
        again = PostgresServer(root)
        assert again.paths.home == home
        assert again.start() is True
        assert again.psql("postgres", "SELECT 1") == "1"
        assert again.start() is False
    finally:
        server.stop()
        PostgresServer(root).stop()
        shutil.rmtree(server.paths.home, ignore_errors=True)
        shutil.rmtree(private, ignore_errors=True)
