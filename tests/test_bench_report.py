"""bench/report.py turns recorded figures into the report's ratios and chart (the figures
themselves come from `make bench`; here they are given, so the arithmetic can be checked)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

REPORT = Path(__file__).resolve().parents[1] / "bench" / "report.py"


def _report_module():
    spec = importlib.util.spec_from_file_location("bench_report", REPORT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FIGURES = {
    "pull": {"invoices": 1000, "lines": 2000,
             "seconds": {"pull": 4.0, "floor": 2.0, "naive": 10.0}},
    "api_calls": {"object": "ARINVOICE", "records": 5000, "api_calls": 6, "minimum_calls": 6,
                  "page_size": 1000, "api_calls_per_10000_records": 11},
    "memory": {"runs": [{"records": 10, "peak_rss_mb": 100.0},
                        {"records": 100, "peak_rss_mb": 110.0},
                        {"records": 1000, "peak_rss_mb": 121.0}]},
    "history_latency": {"invoices": 500, "latency_ms": 1000, "concurrency": 2, "calls": 100,
                        "floor_s": 50.0, "run_s": 60.0},
    "push_latency": {"samples": [3.0, 5.0, 4.0], "floor_s": 0.5},
    "healing": {"records": 10000, "lost": 100, "runs": {
        "incremental": {"calls": 3, "seconds": 1.0, "calls_per_100k": 30,
                        "seconds_per_100k": 10.0},
        "comparison": {"calls": 12, "seconds": 2.0, "calls_per_100k": 120,
                       "seconds_per_100k": 20.0},
        "comparison, 1 % lost": {"calls": 15, "seconds": 3.0, "calls_per_100k": 150,
                                 "seconds_per_100k": 30.0}}},
}  # fmt: skip


def test_ratios_are_computed_from_the_recorded_figures(tmp_path):
    report = _report_module()
    data = {"generated": "2026-01-01 00:00 UTC", "quick": False, "minutes": 1.0,
            "machine": {"cpu": "test cpu", "memory": "1 GiB", "os": "os", "python": "3.11",
                        "postgres": "15"},
            "steps": [{"step": "pull", "command": "bench/bench_pull.py", "exit": 0,
                       "seconds": 1, "log": "x"},
                      {"step": "push", "command": "bench/bench_push.py", "exit": 1,
                       "seconds": 1, "log": ".local/bench/push.log"}],
            "figures": FIGURES}  # fmt: skip
    text = report.render_markdown(data)
    assert "| 250 invoices/s | floor (fetch + COPY only) 500/s; naive (row-by-row INSERT) 100/s" \
        " | 2.00× the floor's time; naive takes 2.50× the pull's |" in text
    assert "6 calls → 11 per 10,000 records" in text
    assert "1.21 for 100× the records; 1.10 for the last 10×" in text
    assert "| 60 s (100 calls) | concurrency-budget floor 50 s (calls ÷ 2 × latency) | 1.20 |" \
        in text
    assert "120 calls, 20.0 s per 100k records; with 1 % lost: 150 calls, 30.0 s" in text
    assert "a plain hourly run: 3 calls, 1.0 s | 4× the hourly run's calls" in text
    assert "median 4.0 s, max 5.0 s" in text and "8× the direct push" in text
    assert "**Failed:** push (see `.local/bench/push.log`)" in text
    assert "test cpu" in text
    chart = tmp_path / "chart.png"
    report.render_chart(data, chart)
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
