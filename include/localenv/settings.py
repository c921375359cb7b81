"""Apply airflow_settings.yaml (Astro CLI format) with Airflow's own import commands.

The Astro CLI applies this file itself; this loader gives the same result without it, so a
plain `pip`-installed Airflow (our `make` targets, CI) is configured from the same source.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

SETTINGS_FILE = Path(__file__).resolve().parents[2] / "airflow_settings.yaml"


def load(path: Path = SETTINGS_FILE) -> dict[str, list[dict[str, Any]]]:
    """The `airflow:` section, with each list present (possibly empty)."""
    document = yaml.safe_load(path.read_text()) or {}
    section = document.get("airflow") or {}
    return {key: section.get(key) or [] for key in ("connections", "pools", "variables")}


def _extra(value: Any, conn_id: str) -> str | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        json.loads(value)  # a JSON string is accepted as is; anything else is an error
        return value
    if not isinstance(value, dict):
        raise ValueError(f"{conn_id}: conn_extra must be a mapping or a JSON string")
    return json.dumps(value)


def connections_json(
    connections: list[dict[str, Any]], overrides: dict[str, dict[str, Any]] | None = None
) -> dict[str, dict[str, Any]]:
    """Astro connection entries -> the JSON shape `airflow connections import` reads."""
    result: dict[str, dict[str, Any]] = {}
    for entry in connections:
        conn_id = entry["conn_id"]
        fields = {
            "conn_type": entry["conn_type"],
            "host": entry.get("conn_host"),
            "login": entry.get("conn_login"),
            "password": entry.get("conn_password"),
            "schema": entry.get("conn_schema"),
            "port": entry.get("conn_port"),
            "extra": _extra(entry.get("conn_extra"), conn_id),
        }
        fields.update((overrides or {}).get(conn_id, {}))
        result[conn_id] = {key: value for key, value in fields.items() if value is not None}
    return result


def pools_json(pools: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        p["pool_name"]: {
            "slots": int(p["pool_slot"]),
            "description": p.get("pool_description", ""),
            "include_deferred": False,
        }
        for p in pools
    }


def variables_json(variables: list[dict[str, Any]]) -> dict[str, str]:
    return {v["variable_name"]: v["variable_value"] for v in variables}


def apply(
    env: dict[str, str],
    overrides: dict[str, dict[str, Any]] | None = None,
    sections: tuple[str, ...] = ("connections", "pools", "variables"),
) -> None:
    """Import connections (overwriting), pools and variables into the metadata database."""
    settings = load()
    documents = {
        ("connections", "import", "--overwrite"): connections_json(
            settings["connections"], overrides
        ),
        ("pools", "import"): pools_json(settings["pools"]),
        ("variables", "import", "--action-on-existing-key", "overwrite"): variables_json(
            settings["variables"]
        ),
    }
    airflow = str(Path(sys.executable).with_name("airflow"))
    with tempfile.TemporaryDirectory() as tmp:
        for command, document in documents.items():
            if not document or command[0] not in sections:
                continue
            file = Path(tmp) / f"{command[0]}.json"
            file.write_text(json.dumps(document))
            file.chmod(0o600)
            result = subprocess.run(
                [airflow, *command, str(file)], env=env, capture_output=True, text=True
            )
            if result.returncode != 0:
                raise RuntimeError(
                    f"airflow {' '.join(command)} failed:\n"
                    f"{(result.stderr or result.stdout)[-2000:]}"
                )
            print(f"settings: {command[0]} imported ({len(document)})")
