"""Every DAG file imports cleanly, without heavy imports, and declares tags, an owner and
retries (its parse time is a figure of `make bench`, bench/bench_parse.py, not a test).

The checks live in `dag_problems()` so the same code that guards `dags/` is itself tested
against a deliberately broken DAG folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest

DAGS_FOLDER = Path(__file__).resolve().parents[1] / "dags"


def dag_problems(folder: Path) -> list[str]:
    """One line per problem, each naming the file (and DAG) and what is wrong."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(folder))
    problems = [
        f"{Path(file).name}: import error: {error}" for file, error in bag.import_errors.items()
    ]
    for dag_id, dag in sorted(bag.dags.items()):
        where = f"{Path(dag.fileloc).name} ({dag_id})"
        if not dag.tags:
            problems.append(f"{where}: no tags")
        if not dag.owner or dag.owner == "airflow":
            problems.append(f"{where}: no owner (set default_args['owner'])")
        for task in dag.tasks:
            if not task.retries:
                problems.append(f"{where}: task {task.task_id} has no retries")
    return problems


def test_project_dags_have_no_problems():
    problems = dag_problems(DAGS_FOLDER)
    assert not problems, "DAG problems:\n" + "\n".join(problems)


def test_every_registry_object_has_its_dag():
    from airflow.dag_processing.dagbag import DagBag
    from intacct_sync.sync_objects import OBJECTS

    dags = DagBag(dag_folder=str(DAGS_FOLDER)).dags
    assert {o.dag_id for o in OBJECTS.values()} <= set(dags)
    # The DAG list's one line per DAG, and a Trigger form without internal plumbing: `then`
    # (queued ranges, set by make history) is accepted in the conf but is not a form field.
    for obj in OBJECTS.values():
        assert dags[obj.dag_id].description == obj.description
        assert "then" not in dags[obj.dag_id].params


BROKEN = "from airflow.sdk import dag\nraise RuntimeError('boom in a broken DAG')\n"
UNTAGGED = """
from datetime import datetime
from airflow.sdk import dag, task

@dag(schedule=None, start_date=datetime(2026, 1, 1))
def untagged():
    @task
    def hello():
        return 1
    hello()

untagged()
"""


@pytest.mark.parametrize(
    ("filename", "source", "expected"),
    [
        ("broken_dag.py", BROKEN, "broken_dag.py: import error: "),
        ("untagged_dag.py", UNTAGGED, "untagged_dag.py (untagged): no tags"),
        ("untagged_dag.py", UNTAGGED, "untagged_dag.py (untagged): no owner"),
        ("untagged_dag.py", UNTAGGED, "untagged_dag.py (untagged): task hello has no retries"),
    ],
)
def test_checker_names_the_file_and_the_problem(tmp_path, filename, source, expected):
    (tmp_path / filename).write_text(source)
    problems = dag_problems(tmp_path)
    assert any(p.startswith(expected) for p in problems), problems
    if filename == "broken_dag.py":
        assert any("boom in a broken DAG" in p for p in problems), problems


# Imported only when a task runs: a DAG file that pulls them in at parse time costs every
# parse loop of the dag-processor (bench/bench_parse.py measures the per-file time).
HEAVY_AT_PARSE = (
    "pandas",
    "numpy",
    "intacct_sync.pull.map_and_load",
    "intacct_sync.push.posting",
    "intacct_sync.pull.loading",
)


def test_parsing_the_dag_files_imports_nothing_heavy():
    import json
    import os
    import subprocess
    import sys

    script = (
        "import json, sys\n"
        "from airflow.dag_processing.dagbag import DagBag\n"
        f"bag = DagBag(dag_folder={str(DAGS_FOLDER)!r})\n"
        "assert bag.dags and not bag.import_errors, bag.import_errors\n"
        f"print(json.dumps([m for m in {HEAVY_AT_PARSE!r} if m in sys.modules]))\n"
    )
    root = DAGS_FOLDER.parent
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=root,
        env={**os.environ, "PYTHONPATH": f"{root}:{root / 'plugins'}"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
