"""airflow_settings.yaml is valid Astro format and the loader applies it through Airflow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from include.localenv import settings

AIRFLOW = str(Path(sys.executable).with_name("airflow"))


def test_every_extra_value_is_a_string_so_the_astro_cli_keeps_it():
    for connection in settings.load()["connections"]:
        for key, value in (connection.get("conn_extra") or {}).items():
            assert isinstance(value, str), f"{connection['conn_id']}.{key} must be quoted"


def test_intacct_pool_matches_the_connection_concurrency():
    loaded = settings.load()
    intacct = next(c for c in loaded["connections"] if c["conn_id"] == "intacct_default")
    pool = next(p for p in loaded["pools"] if p["pool_name"] == "intacct_api")
    assert int(intacct["conn_extra"]["max_concurrent_requests"]) == pool["pool_slot"]


def test_non_mapping_extra_is_refused_with_the_connection_named():
    with pytest.raises(ValueError, match="broken: conn_extra must be a mapping"):
        settings.connections_json([{"conn_id": "broken", "conn_type": "http", "conn_extra": [1]}])


def _airflow(*args: str) -> str:
    # The suite's own AIRFLOW_VAR_ override (conftest) would shadow the imported variable.
    env = {k: v for k, v in os.environ.items() if k != "AIRFLOW_VAR_INTACCT_SYNC_CONFIG"}
    result = subprocess.run([AIRFLOW, *args], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_loader_applies_connections_pools_and_variables_through_airflow():
    settings.apply(dict(os.environ), overrides={"ar_postgres": {"port": 6543}})
    connection = json.loads(_airflow("connections", "get", "ar_postgres", "-o", "json"))[0]
    assert int(connection["port"]) == 6543 and connection["schema"] == "ar"
    intacct = json.loads(_airflow("connections", "get", "intacct_default", "-o", "json"))[0]
    assert intacct["conn_type"] == "intacct"
    assert intacct["extra_dejson"]["company_id"] == "SANDBOX-AR"
    assert intacct["extra_dejson"]["max_concurrent_requests"] == "2"
    pool = json.loads(_airflow("pools", "get", "intacct_api", "-o", "json"))[0]
    assert int(pool["slots"]) == 2
    config = json.loads(_airflow("variables", "get", "intacct_sync_config"))
    assert config["lookback_minutes"] == 60


def test_make_airflow_runs_the_cli_on_the_local_instance_not_sqlite():
    """`make airflow ARGS=...` (README's backfill hint): the project's metadata database and
    connection testing on, so the connection form's Test button works under `make up`."""
    from include.localenv.airflow_env import LOCAL

    def value(section: str, key: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "include.localenv", "airflow", "config", "get-value",
             section, key], capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout.strip()

    port = (LOCAL / "postgres" / "port").read_text().strip()
    assert value("database", "sql_alchemy_conn").endswith(f"@127.0.0.1:{port}/airflow")
    assert value("core", "test_connection") == "Enabled"
