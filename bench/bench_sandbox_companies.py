"""Benchmark: one sandbox process serving 1 vs 50 companies (issue 20, Sandbox).

Prints, for each company count, the sandbox process's resident memory right after start-up
(companies are seeded lazily, so this is the cost of configuring them), after every company
has answered once (all seeded), and the gateway latency of a login + 100-customer readByQuery:
the first call per company (includes its seeding) and steady state (p50 / p95, round-robin
over the companies). No timed assertions: figures only.

Run: ``.venv/bin/python bench/bench_sandbox_companies.py [--counts 1,50] [--scale small]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SENDER = ("intacct_sync_sandbox", "sandbox-sender-secret")


def _request(company: dict) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><request><control>'
        f"<senderid>{SENDER[0]}</senderid><password>{SENDER[1]}</password>"
        "<controlid>bench</controlid><uniqueid>false</uniqueid><dtdversion>3.0</dtdversion>"
        "</control><operation><authentication><login>"
        f"<userid>{company['user_id']}</userid><companyid>{company['company_id']}</companyid>"
        f"<password>{company['user_password']}</password></login></authentication><content>"
        '<function controlid="f1"><readByQuery><object>CUSTOMER</object>'
        "<fields>CUSTOMERID,NAME,CURRENCY</fields><query></query><pagesize>100</pagesize>"
        "</readByQuery></function></content></operation></request>").encode()


def _call(url: str, body: bytes) -> float:
    started = time.perf_counter()
    req = urllib.request.Request(url, data=body, method="POST",  # noqa: S310 - loopback
                                 headers={"Content-Type": "application/xml"})
    with urllib.request.urlopen(req, timeout=120) as resp:  # noqa: S310
        answer = resp.read()
    elapsed = time.perf_counter() - started
    if b"<status>success</status>" not in answer:
        raise RuntimeError(answer[:400])
    return elapsed * 1000


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(count: int, scale: str, rounds: int) -> dict:
    extra = [{"company_id": f"BENCH-{i:03d}", "settings": {"seed": 100 + i}}
             for i in range(1, count)]
    cmd = [sys.executable, "-m", "include.intacct_sandbox", "--port", "0", "--scale", scale]
    if extra:
        cmd += ["--companies", json.dumps(extra)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)  # noqa: S603
    try:
        line = json.loads(proc.stdout.readline())
        companies = line.get("companies") or [line]
        rss_start = _rss_mb(proc.pid)
        first = [_call(c["url"], _request(c)) for c in companies]
        rss_seeded = _rss_mb(proc.pid)
        steady = [_call(c["url"], _request(c)) for _ in range(rounds) for c in companies]
        steady.sort()
        return {"companies": count, "rss_start_mb": rss_start, "rss_seeded_mb": rss_seeded,
                "first_ms_mean": statistics.mean(first),
                "steady_ms_p50": steady[len(steady) // 2],
                "steady_ms_p95": steady[int(len(steady) * 0.95) - 1 if len(steady) > 1 else 0],
                "steady_calls": len(steady)}
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--counts", default="1,50", help="company counts to compare (default 1,50)")
    p.add_argument("--scale", default="small", help="scale of every company (default small)")
    p.add_argument("--calls", type=int, default=200,
                   help="steady-state calls per run, spread over the companies (default 200)")
    args = p.parse_args()
    print(f"{'companies':>9} {'RSS start':>10} {'RSS seeded':>11} {'1st call':>9} "
          f"{'p50':>7} {'p95':>7}  (MB, ms; scale={args.scale})")
    for count in (int(c) for c in args.counts.split(",")):
        r = measure(count, args.scale, max(1, args.calls // count))
        print(f"{r['companies']:>9} {r['rss_start_mb']:>10.1f} {r['rss_seeded_mb']:>11.1f} "
              f"{r['first_ms_mean']:>9.1f} {r['steady_ms_p50']:>7.1f} {r['steady_ms_p95']:>7.1f}"
              f"  ({r['steady_calls']} steady calls)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
