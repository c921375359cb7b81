"""Environment variables that point Airflow at this project (DAGs, plugins, home, database)."""

from __future__ import annotations

import json
import os
import secrets
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LOCAL = PROJECT_ROOT / ".local"
AIRFLOW_HOME = LOCAL / "airflow"
ADMIN_USER = "admin"


def _stored_secret(path: Path, make: callable) -> str:
    """A random value generated once per checkout and kept under .local/ (git-ignored)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


def _fernet_key() -> str:
    from cryptography.fernet import Fernet  # installed with Airflow

    return Fernet.generate_key().decode()


def admin_password() -> str:
    """The local UI admin password (SimpleAuthManager reads it from this JSON file)."""
    file = AIRFLOW_HOME / "passwords.json"
    if not file.exists():
        _stored_secret(file, lambda: json.dumps({ADMIN_USER: secrets.token_urlsafe(12)}))
    return json.loads(file.read_text())[ADMIN_USER]


def airflow_env(metadata_dsn: str) -> dict[str, str]:
    """The full environment for Airflow commands and for code that imports Airflow."""
    admin_password()  # make sure the passwords file exists before any component starts
    python_path = os.pathsep.join(
        p
        for p in (str(PROJECT_ROOT), str(PROJECT_ROOT / "plugins"), os.environ.get("PYTHONPATH"))
        if p
    )
    return {
        **os.environ,
        "AIRFLOW_HOME": str(AIRFLOW_HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__FERNET_KEY": _stored_secret(AIRFLOW_HOME / "fernet.key", _fernet_key),
        "AIRFLOW__API_AUTH__JWT_SECRET": _stored_secret(
            AIRFLOW_HOME / "jwt.secret", lambda: secrets.token_urlsafe(32)
        ),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(AIRFLOW_HOME / "passwords.json"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_dsn.replace(
            "postgresql://", "postgresql+psycopg2://", 1
        ),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        # The README tells users to press the connection's Test button; Airflow disables it
        # unless this is set.
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "True",
        "PYTHONPATH": python_path,
        # `airflow standalone` starts its components as `airflow ...` found on PATH.
        "PATH": os.pathsep.join((str(Path(sys.executable).parent), os.environ.get("PATH", ""))),
    }
