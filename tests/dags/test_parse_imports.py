"""What a DAG file costs the dag-processor: parsing imports the SDK and the registry only.

The client (lxml, requests, aiohttp through the HTTP provider), pandas, psycopg2 and
Airflow's ORM (airflow.models, SQLAlchemy) are imported by tasks when they run. Each one
pulled in at parse time cost tens to hundreds of milliseconds per file in
bench/bench_parse.py; this test names the module and the file that brings one back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Imported by a task when it runs, never while a DAG file is parsed.
RUN_TIME_ONLY = (
    "lxml", "requests", "aiohttp", "pandas", "psycopg2", "sqlalchemy", "airflow.models",
    "airflow.providers.http", "airflow.providers.postgres", "intacct_sync.intacct.hook",
    "intacct_sync.pull.loading", "intacct_sync.push.posting",
)  # fmt: skip

PROBE = """
import json, runpy, sys
from airflow.sdk import dag, task  # a TaskFlow DAG's own imports: the baseline
before = set(sys.modules)
runpy.run_path(sys.argv[1])
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def _parse_time_imports(path: Path) -> list[str]:
    """The modules a fresh interpreter imports to parse `path`, beyond the SDK's own."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "plugins")}
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(path)], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, f"{path.name} failed to parse:\n{result.stderr[-3000:]}"
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_dag_files_import_no_run_time_module_while_parsed() -> None:
    heavy = {}
    for path in sorted((ROOT / "dags").glob("intacct_*.py")):
        found = [m for m in _parse_time_imports(path)
                 if any(m == p or m.startswith(p + ".") for p in RUN_TIME_ONLY)]  # fmt: skip
        if found:
            heavy[path.name] = sorted({m.split(".")[0] if not m.startswith(("airflow", "intacct"))
                                       else m for m in found})[:10]  # fmt: skip
    assert heavy == {}, f"imported at parse time (move into the task that needs it): {heavy}"


def test_the_probe_sees_a_run_time_import(tmp_path: Path) -> None:
    """The check above can fail: a DAG file that imports the hook is caught."""
    dag_file = tmp_path / "intacct_probe.py"
    dag_file.write_text("import intacct_sync.intacct.hook  # noqa: F401\n")
    assert "intacct_sync.intacct.hook" in _parse_time_imports(dag_file)
