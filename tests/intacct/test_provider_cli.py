"""The `intacct` connection type is registered the way Airflow itself discovers it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

AIRFLOW = str(Path(sys.executable).with_name("airflow"))


def _providers(what: str) -> list[dict]:
    result = subprocess.run(
        [AIRFLOW, "providers", what, "-o", "json"], capture_output=True, text=True, env=os.environ
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def test_airflow_lists_the_sage_intacct_hook():
    [hook] = [h for h in _providers("hooks") if h["connection_type"] == "intacct"]
    assert hook["hook_name"] == "Sage Intacct"
    assert hook["class"] == "intacct_sync.intacct.hook.IntacctHook"
    assert hook["package_name"] == "intacct-sync"


def test_airflow_shows_every_intacct_connection_field():
    fields = {
        w["connection_parameter_name"].removeprefix("extra__intacct__")
        for w in _providers("widgets")
        if w["class"] == "intacct_sync.intacct.hook.IntacctHook"
    }
    assert fields == {
        "company_id", "user_id", "user_password", "entity_id", "company_timezone",
        "page_size", "max_concurrent_requests",
    }
