"""DAG parse time per file, as `airflow dags report` measures it, next to a trivial DAG.

Each file is parsed alone in a fresh `airflow dags report` process (a folder holding only that
file), as the dag-processor parses a file in a fresh child: the first file pays the imports
of the project's modules, and that is the cost that matters. Two baselines, parsed the same
way in the same run: a one-task DAG that imports nothing but airflow.sdk and EmptyOperator,
and a one-task TaskFlow DAG (`@task`, which imports Airflow's Python operators). The second is
"Airflow's own import" for a TaskFlow DAG; the figure to hold small is ours beyond it.

    .venv/bin/python bench/bench_parse.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_pull import ROOT, airflow_metadata  # noqa: E402
from results import record  # noqa: E402

from include.localenv.airflow_env import LOCAL  # noqa: E402
from include.localenv.postgres import PostgresServer  # noqa: E402

BASELINE = '''\
from datetime import datetime

from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator

with DAG("baseline_one_task", start_date=datetime(2026, 1, 1), schedule="@hourly"):
    EmptyOperator(task_id="noop")
'''

TASKFLOW = '''\
from datetime import datetime

from airflow.sdk import dag, task


@dag(dag_id="baseline_taskflow", start_date=datetime(2026, 1, 1), schedule="@hourly")
def baseline_taskflow():
    @task
    def noop() -> None:
        return None

    noop()


baseline_taskflow()
'''


def _seconds(duration: str) -> float:
    hours, minutes, seconds = duration.split(":")
    return timedelta(hours=int(hours), minutes=int(minutes), seconds=float(seconds)).total_seconds()


def report(env: dict[str, str], folder: Path) -> list[dict]:
    """`airflow dags report -o json` over one folder; raises with Airflow's words if it fails."""
    result = subprocess.run(
        [str(Path(sys.executable).with_name("airflow")), "dags", "report", "-o", "json"],
        env={**env, "AIRFLOW__CORE__DAGS_FOLDER": str(folder)}, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"airflow dags report failed for {folder}:\n{result.stderr[-2000:]}")
    lines = [line for line in result.stdout.splitlines() if line.startswith("[{")]  # not logs
    rows = json.loads(lines[-1]) if lines else []
    if not rows or any(int(r["dag_num"]) < 1 for r in rows):
        raise SystemExit(f"airflow dags report found no DAG in {folder}: {rows}")
    return rows


def cold(env: dict[str, str], source: str, name: str, repeat: int) -> float:
    """Median seconds to parse one file alone in a fresh process."""
    with tempfile.TemporaryDirectory(prefix="bench-parse-") as folder:
        (Path(folder) / name).write_text(source)
        return statistics.median(_seconds(report(env, Path(folder))[0]["duration"])
                                 for _ in range(repeat))  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="fresh processes per file")
    args = parser.parse_args()
    pg = PostgresServer(LOCAL / "postgres")
    started_pg = pg.start()
    try:
        env = airflow_metadata(pg)
        baseline = cold(env, BASELINE, "baseline_one_task.py", args.repeat)
        taskflow = cold(env, TASKFLOW, "baseline_taskflow.py", args.repeat)
        files = []
        for path in sorted((ROOT / "dags").glob("intacct_*.py")):
            files.append({"file": path.name, "seconds": round(
                cold(env, path.read_text(), path.name, args.repeat), 3)})  # fmt: skip
        warm = {r["file"]: _seconds(r["duration"]) for r in report(env, ROOT / "dags")}
    finally:
        if started_pg:
            pg.stop()
    print(f"DAG parse time per file (airflow dags report, median of {args.repeat} fresh "
          f"processes); baselines: one-task DAG {baseline:.3f} s, one-task TaskFlow DAG "
          f"{taskflow:.3f} s")
    print(f"{'file':<32}{'cold s':>8}{'beyond TaskFlow ms':>20}{'in folder s':>13}")
    for f in files:
        f["in_folder_seconds"] = round(warm[f["file"]], 3)
        f["beyond_taskflow_ms"] = round((f["seconds"] - taskflow) * 1000)
        print(f"{f['file']:<32}{f['seconds']:>8.3f}{f['beyond_taskflow_ms']:>20}"
              f"{f['in_folder_seconds']:>13.3f}")
    record("dag_parse", baseline_s=round(baseline, 3), taskflow_s=round(taskflow, 3),
           files=files, repeat=args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
