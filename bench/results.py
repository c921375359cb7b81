"""Where a benchmark leaves its figures for bench/report.py.

Each measurement is one JSON line appended to the file named by $INTACCT_BENCH_RESULTS;
when it is unset (a benchmark run by hand) nothing is written and the printout is all.
"""

from __future__ import annotations

import json
import os


def record(name: str, **figures: object) -> None:
    path = os.environ.get("INTACCT_BENCH_RESULTS")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps({"name": name, **figures}, default=str) + "\n")
