"""`make bench`: run every benchmark in one go and write bench/REPORT.md and bench/report.png.

Each benchmark runs as its own process (so peak-memory figures stay clean) and leaves its
figures as JSON lines (bench/results.py); this script only orchestrates and renders. Every
figure is set against a baseline or floor measured in the same run, on this machine.

    .venv/bin/python bench/report.py            # the full run (≈ 20 min)
    .venv/bin/python bench/report.py --quick    # small sizes, to check the pipeline (≈ 5 min)
    .venv/bin/python bench/report.py --render   # re-render from bench/results.json

A benchmark that fails is reported as failed (with its log under .local/bench/) and makes the
command exit 1; the others still run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
LOGS = ROOT / ".local" / "bench"
RESULTS = HERE / "results.json"

# (step, script and arguments of the full run, of the quick run)
STEPS: list[tuple[str, list[str], list[str]]] = [
    ("pull", ["bench_pull.py", "--invoices", "100000", "--compare-only"],
     ["bench_pull.py", "--invoices", "10000", "--compare-only"]),
    ("api calls", ["bench_hook.py", "--scale", "medium"], ["bench_hook.py", "--scale", "small"]),
    ("healing", ["bench_healing.py", "--invoices", "100000"],
     ["bench_healing.py", "--invoices", "10000"]),
    ("memory", ["bench_history.py", "--only", "memory", "--sizes", "10000", "100000", "1000000"],
     ["bench_history.py", "--only", "memory", "--sizes", "10000", "30000", "100000"]),
    ("dag parse", ["bench_parse.py", "--repeat", "3"], ["bench_parse.py", "--repeat", "1"]),
    ("history", ["bench_history.py", "--only", "latency"],
     ["bench_history.py", "--only", "latency", "--so-invoices", "5000"]),
    ("push", ["bench_push.py"],
     ["bench_push.py", "--invoices", "200", "--naive-invoices", "50", "--samples", "3"]),
    ("sync page", ["bench_ui.py"], ["bench_ui.py", "--samples", "5", "--loads", "2"]),
]  # fmt: skip

PAGE_PROMISE_MS = 1000  # issue 19: the Intacct Sync page loads in under 1 s


def machine() -> dict[str, str]:
    """What the figures were measured on (they mean little without it)."""
    cpu = next((line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown")  # fmt: skip
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal:"))  # fmt: skip
    sys.path[:0] = [str(ROOT), str(ROOT / "plugins")]
    from include.localenv.postgres import ensure_binaries

    postgres = subprocess.run([str(ensure_binaries() / "postgres"), "--version"],
                              capture_output=True, text=True).stdout.strip()  # fmt: skip
    return {"cpu": f"{cpu}, {os.cpu_count()} cores", "memory": f"{mem_kb / 1024**2:.0f} GiB",
            "os": platform.platform(terse=True), "python": platform.python_version(),
            "postgres": postgres}  # fmt: skip


def run_steps(quick: bool) -> dict:
    """Run every benchmark; return the figures they recorded and how each step ended."""
    LOGS.mkdir(parents=True, exist_ok=True)
    figures = LOGS / "figures.jsonl"
    figures.unlink(missing_ok=True)
    env = {**os.environ, "INTACCT_BENCH_RESULTS": str(figures), "PYTHONUNBUFFERED": "1"}
    steps, started = [], time.monotonic()
    for name, full, small in STEPS:
        args = small if quick else full
        log = LOGS / f"{args[0].removesuffix('.py')}-{name.replace(' ', '_')}.log"
        print(f"\n=== {name}: bench/{' '.join(args)}  (log: {log.relative_to(ROOT)})", flush=True)
        step_started = time.monotonic()
        with open(log, "w") as out:
            process = subprocess.Popen([sys.executable, str(HERE / args[0]), *args[1:]], cwd=ROOT,
                                       env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                       text=True)  # fmt: skip
            for line in process.stdout:
                out.write(line)
                if not line.startswith("20"):  # structured log lines stay in the log only
                    print(line, end="", flush=True)
            code = process.wait()
        steps.append({"step": name, "command": f"bench/{' '.join(args)}", "exit": code,
                      "seconds": round(time.monotonic() - step_started),
                      "log": str(log.relative_to(ROOT))})  # fmt: skip
    found: dict[str, dict] = {}
    if figures.exists():
        for line in figures.read_text().splitlines():
            entry = json.loads(line)
            found[entry.pop("name")] = entry
    return {"generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "quick": quick,
            "minutes": round((time.monotonic() - started) / 60, 1), "machine": machine(),
            "steps": steps, "figures": found}  # fmt: skip


# ------------------------------------------------------------------------------ rendering
def summary_rows(f: dict) -> list[tuple[str, str, str, str]]:
    """(measure, result, compared with, ratio) for every figure that was measured."""
    rows = []
    if pull := f.get("pull"):
        s, n = pull["seconds"], pull["invoices"]
        rows.append((f"pull throughput, {n:,} Order Entry invoices with {pull['lines']:,} lines "
                     "(extract + map + load)", f"{n / s['pull']:,.0f} invoices/s",
                     f"floor (fetch + COPY only) {n / s['floor']:,.0f}/s; naive (row-by-row "
                     f"INSERT) {n / s['naive']:,.0f}/s",
                     f"{s['pull'] / s['floor']:.2f}× the floor's time; naive takes "
                     f"{s['naive'] / s['pull']:.2f}× the pull's"))  # fmt: skip
    if calls := f.get("api_calls"):
        per_10k = calls["api_calls_per_10000_records"] or "more than the minimum"
        rows.append((f"API calls to read {calls['records']:,} {calls['object']} records",
                     f"{calls['api_calls']} calls → {per_10k} per 10,000 records",
                     f"minimum {calls['minimum_calls']} (1 session + one call per "
                     f"{calls['page_size']:,}-record page)",
                     f"{calls['api_calls'] / calls['minimum_calls']:.2f}"))  # fmt: skip
    if healing := f.get("healing"):
        runs = healing["runs"]
        hourly, compared = runs["incremental"], runs["comparison"]
        lost = runs["comparison, 1 % lost"]
        rows.append((f"self-healing comparison of {healing['records']:,} Order Entry invoices "
                     "(keys + WHENMODIFIED listed, compared, what is missing read again)",
                     f"{compared['calls_per_100k']:,} calls, {compared['seconds_per_100k']:.1f} s"
                     f" per 100k records; with 1 % lost: {lost['calls_per_100k']:,} calls, "
                     f"{lost['seconds_per_100k']:.1f} s",
                     f"a plain hourly run: {hourly['calls']} calls, {hourly['seconds']:.1f} s",
                     f"{compared['calls'] / max(hourly['calls'], 1):.0f}× the hourly run's "
                     f"calls, once a day"))  # fmt: skip
    if memory := f.get("memory"):
        runs = memory["runs"]
        rows.append(("peak memory of a one-year history run (fresh process each)",
                     " / ".join(f"{r['peak_rss_mb']:.0f} MB at {r['records']:,}" for r in runs),
                     f"the {runs[0]['records']:,}-record run",
                     f"{runs[-1]['peak_rss_mb'] / runs[0]['peak_rss_mb']:.2f} for "
                     f"{runs[-1]['records'] / runs[0]['records']:.0f}× the records; "
                     f"{runs[-1]['peak_rss_mb'] / runs[-2]['peak_rss_mb']:.2f} for the last "
                     f"{runs[-1]['records'] / runs[-2]['records']:.0f}×"))  # fmt: skip
    if parse := f.get("dag_parse"):
        worst = max(parse["files"], key=lambda x: x["seconds"])
        taskflow = parse.get("taskflow_s", parse["baseline_s"])
        rows.append(("DAG parse time per file (airflow dags report, fresh process)",
                     f"{worst['seconds']:.3f} s at most ({worst['file']})",
                     f"a one-task DAG {parse['baseline_s']:.3f} s; a one-task TaskFlow DAG "
                     f"{taskflow:.3f} s",
                     f"{(worst['seconds'] - taskflow) * 1000:.0f} ms beyond the TaskFlow DAG; "
                     f"{worst['seconds'] / 30:.1%} of Airflow's 30 s import timeout"))  # fmt: skip
    if history := f.get("history_latency"):
        rows.append((f"history sync, one year of {history['invoices']:,} invoices at "
                     f"{history['latency_ms']} ms per call, {history['concurrency']} concurrent",
                     f"{history['run_s']:.0f} s ({history['calls']:,} calls)",
                     f"concurrency-budget floor {history['floor_s']:.0f} s "
                     f"(calls ÷ {history['concurrency']} × latency)",
                     f"{history['run_s'] / history['floor_s']:.2f}"))  # fmt: skip
    if push := f.get("push_throughput"):
        v = {row["label"]: row for row in push["variants"]}
        rate = {k: row["posted"] / row["seconds"] for k, row in v.items()}
        batched, naive, faulty = (rate[k] for k in v)
        labels = list(v)
        rows.append((f"push throughput at {push['latency_ms']} ms per call",
                     f"{batched:.1f} records/s ({v[labels[0]]['calls']} calls for "
                     f"{v[labels[0]]['posted']:,})",
                     f"one request per record {naive:.1f}/s", f"{batched / naive:.1f}× faster"))
        rows.append(("push with 10 % dropped answers + 10 % 524s",
                     f"{faulty:.1f} records/s, {v[labels[2]]['posted']:,} posted once each",
                     "the same push without faults", f"{faulty / batched:.2f} of its speed"))
    if latency := f.get("push_latency"):
        samples = sorted(latency["samples"])
        median = statistics.median(samples)
        rows.append((f"push ready → posted (NOTIFY → asset watcher → run), {len(samples)} "
                     "invoices", f"median {median:.1f} s, max {samples[-1]:.1f} s",
                     f"the push called directly {latency['floor_s']:.2f} s; promise 60 s",
                     f"{median / latency['floor_s']:.0f}× the direct push; "
                     f"{samples[-1] / 60:.0%} of the promise"))  # fmt: skip
    if ui := f.get("ui"):
        rows.append(ui_row(ui))
    return rows


def ui_row(ui: dict) -> tuple[str, str, str, str]:
    """The sync page's load against its promise; the API's slowest call beside it."""
    slowest = max((k for k in ui["api"] if k != "bundle"), key=lambda k: ui["api"][k]["median_ms"])
    api = ui["api"][slowest]
    measure = (f"Intacct Sync page, {ui['errors']:,} reconciliation errors and {ui['hours']} h "
               "of history")  # fmt: skip
    if not ui.get("page"):
        return (measure, f"slowest API call ({slowest}) median {api['median_ms']} ms; no "
                "browser figures (no chromium)", f"promise {PAGE_PROMISE_MS:,} ms", "-")
    page = ui["page"]
    return (measure, f"page shown in Chromium: median {page['median_ms']} ms, p95 "
            f"{page['p95_ms']} ms over {page['samples']} loads",
            f"promise {PAGE_PROMISE_MS:,} ms; slowest API call ({slowest}) median "
            f"{api['median_ms']} ms", f"{page['median_ms'] / PAGE_PROMISE_MS:.0%} of the promise")


def render_markdown(data: dict) -> str:
    m = data["machine"]
    lines = [
        "# Benchmark report",
        "",
        f"Generated by `make bench` on {data['generated']} in {data['minutes']} min"
        + (" (**--quick**: small sizes, not the reference figures)" if data["quick"] else "")
        + ".",
        "",
        f"Machine: {m['cpu']}, {m['memory']} RAM, {m['os']}, Python {m['python']}, "
        f"{m['postgres']}. The Intacct sandbox, PostgreSQL and Airflow all run on this machine, "
        "so every figure includes their competition for the same cores.",
        "",
        "![benchmark chart](report.png)",
        "",
        "## Summary",
        "",
        "Each result is set against a baseline or floor measured in the same run.",
        "",
        "| measure | result | compared with | ratio |",
        "|---|---|---|---|",
    ]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in summary_rows(data["figures"])]
    lines += ["", "## Steps", "", "| step | command | exit | seconds |", "|---|---|---|---|"]
    lines += [f"| {s['step']} | `{s['command']}` | {s['exit']} | {s['seconds']} |"
              for s in data["steps"]]  # fmt: skip
    failed = [s for s in data["steps"] if s["exit"] != 0]
    if failed:
        lines += ["", "**Failed:** " + ", ".join(f"{s['step']} (see `{s['log']}`)"
                                                  for s in failed)]  # fmt: skip
    lines += ["", "## What each figure means", "", *METHODS, ""]
    return "\n".join(lines)


METHODS = [
    "- **Pull** (`bench/bench_pull.py`): the invoices object end to end against a sandbox "
    "process — extract pages into the landing table, map with pandas, upsert — next to the "
    "floor (the same pages fetched and COPYed, nothing else) and a naive script (same fetch, "
    "one INSERT per row).",
    "- **API calls** (`bench/bench_hook.py`): every gateway request the hook sends to read "
    "all of an object; the minimum is one getAPISession plus one call per page.",
    "- **Healing** (`bench/bench_healing.py`): the daily self-healing comparison of the "
    "invoices object (every RECORDNO and WHENMODIFIED listed and compared with the local rows; "
    "what is missing read again by key and loaded) with nothing lost and with 1 % of the rows "
    "lost, next to one plain hourly run; calls are the sandbox's own count, scaled to 100k "
    "records.",
    "- **Memory** (`bench/bench_history.py --only memory`): a one-year history run, chunk by "
    "chunk as the mapped tasks run, in a fresh process per size; peak RSS is VmHWM. Flat "
    "means the largest runs agree.",
    "- **DAG parse** (`bench/bench_parse.py`): `airflow dags report` on a folder holding "
    "only that file, in a fresh process (the first file pays the project's imports, as in the "
    "dag-processor's fresh child), median of the repeats.",
    "- **History** (`bench/bench_history.py --only latency`): a one-year history run of the "
    "invoices DAG on a real scheduler (LocalExecutor) against a sandbox answering every call "
    "after the latency and allowing the concurrency; the floor is what a client keeping every "
    "allowed request busy would need.",
    "- **Push** (`bench/bench_push.py`): local invoices and their customers posted batched (50 "
    "functions per request) vs one request per record, then with dropped answers and 524s "
    "(each write lands once: the push replays control ids); and real Airflow (triggerer "
    "included) timing each invoice from the commit that makes it ready until Intacct's key "
    "is on its row.",
]


def render_chart(data: dict, path: Path) -> None:
    """One PNG, a panel per figure that was measured."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    f = data["figures"]
    fig, axes = plt.subplots(2, 3, figsize=(15, 8.5))
    fig.suptitle(f"intacct-sync benchmarks — {data['generated']} — {data['machine']['cpu']}",
                 fontsize=11)  # fmt: skip
    panels = iter(axes.flat)

    def bars(title: str, labels: list[str], values: list[float], unit: str) -> None:
        ax = next(panels)
        ax.bar(labels, values, color=["#2b6cb0", "#a0aec0", "#e53e3e", "#38a169"][:len(values)])
        ax.set_title(title, fontsize=10)
        ax.set_ylabel(unit)
        for i, value in enumerate(values):
            text = f"{value:.3f}" if value < 1 else f"{value:,.1f}" if value < 100 else (
                f"{value:,.0f}")
            ax.annotate(text, (i, value), ha="center", va="bottom", fontsize=8)
        ax.tick_params(axis="x", labelsize=8)

    if pull := f.get("pull"):
        s, n = pull["seconds"], pull["invoices"]
        bars("pull throughput", ["floor", "pull", "naive"],
             [n / s["floor"], n / s["pull"], n / s["naive"]], "invoices / s")
    if calls := f.get("api_calls"):
        bars(f"API calls to read {calls['records']:,} records", ["minimum", "hook"],
             [calls["minimum_calls"], calls["api_calls"]], "calls")
    if memory := f.get("memory"):
        ax = next(panels)
        runs = memory["runs"]
        ax.plot([r["records"] for r in runs], [r["peak_rss_mb"] for r in runs], "o-")
        ax.set_xscale("log")
        ax.set_ylim(0, max(r["peak_rss_mb"] for r in runs) * 1.3)
        ax.set_title("peak memory, one-year history run", fontsize=10)
        ax.set_xlabel("records (headers + lines)")
        ax.set_ylabel("MB")
    if parse := f.get("dag_parse"):
        bars("DAG parse per file (fresh process)",
             ["baseline"] + [x["file"].removeprefix("intacct_").removesuffix(".py")
                             .replace("_", "\n") for x in parse["files"]],
             [parse["baseline_s"]] + [x["seconds"] for x in parse["files"]], "s")  # fmt: skip
    if history := f.get("history_latency"):
        bars("history sync, latency-bound", ["floor", "run", "sequential"],
             [history["floor_s"], history["run_s"],
              history["calls"] * history["latency_ms"] / 1000], "s")  # fmt: skip
    if push := f.get("push_throughput"):
        rates = [row["posted"] / row["seconds"] for row in push["variants"]]
        labels = ["batched", "1/request", "faults"]
        if latency := f.get("push_latency"):
            ax = next(panels)
            ax.bar(labels, rates, color=["#2b6cb0", "#e53e3e", "#dd6b20"])
            ax.set_ylabel("records / s")
            ax.set_title(f"push; ready→posted median {statistics.median(latency['samples']):.1f} s",
                         fontsize=10)
        else:
            bars("push throughput", labels, rates, "records / s")
    for ax in panels:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (checks the pipeline)")
    parser.add_argument("--render", action="store_true",
                        help=f"only re-render from {RESULTS.relative_to(ROOT)}")
    args = parser.parse_args()
    if args.render:
        data = json.loads(RESULTS.read_text())
    else:
        data = run_steps(args.quick)
        RESULTS.write_text(json.dumps(data, indent=2) + "\n")
    render_chart(data, HERE / "report.png")
    (HERE / "REPORT.md").write_text(render_markdown(data))
    print(f"\nwrote {(HERE / 'REPORT.md').relative_to(ROOT)} and "
          f"{(HERE / 'report.png').relative_to(ROOT)}")
    return 1 if any(s["exit"] for s in data["steps"]) else 0


if __name__ == "__main__":
    raise SystemExit(main())
