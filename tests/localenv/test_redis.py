"""The private Redis (the Celery broker): idempotent start, stop by its own pid only."""

from __future__ import annotations

import socket
import subprocess

import pytest

from include.localenv.postgres import SetupError
from include.localenv.redis import RedisServer, _ping, ensure_binary


def test_start_is_idempotent_and_stop_uses_the_pid(tmp_path):
    server = RedisServer(tmp_path / "redis")
    try:
        assert server.ensure_running() is True
        pid = server.running_pid()
        assert pid is not None and _ping(server.port)
        assert server.ensure_running() is False  # already ours and answering
        assert server.running_pid() == pid
        # Loopback only, no persistence: nothing is written to its folder.
        assert not list((tmp_path / "redis").glob("*.rdb"))
    finally:
        assert server.stop() is True
    assert server.running_pid() is None and not _ping(server.port)
    assert server.stop() is False


def test_a_taken_port_moves_it_and_another_redis_is_never_stopped(tmp_path):
    other = RedisServer(tmp_path / "other")
    ours = RedisServer(tmp_path / "ours")
    try:
        other.ensure_running()
        ours.ensure_running()
        assert ours.port != other.port
        ours.stop()
        assert _ping(other.port), "stopping ours stopped another Redis"
    finally:
        ours.stop()
        other.stop()


def test_a_stale_pid_file_does_not_name_a_foreign_process(tmp_path):
    server = RedisServer(tmp_path / "redis")
    server.root.mkdir()
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        server.pid_file.write_text(str(sleeper.pid))
        assert server.running_pid() is None
        assert server.stop() is False
        assert sleeper.poll() is None
    finally:
        sleeper.kill()
        sleeper.wait()


def test_missing_binary_without_apt_says_what_to_do(monkeypatch):
    monkeypatch.setattr("shutil.which", lambda name: None)
    monkeypatch.setattr("include.localenv.redis.Path.exists", lambda self: False)
    with pytest.raises(SetupError, match="apt-get install redis-server"):
        ensure_binary(apt_get=None)


def test_ping_is_false_when_nothing_listens():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert _ping(port) is False
