"""Benchmark: the Intacct sandbox must never be the bottleneck of a sync.

Prints
* start-up time and resident memory of the largest scale (1,000,000 invoices), measured from
  process start until the first gateway answer;
* records/s served as 1,000-record readByQuery + readMore pages over HTTP to one client (the
  server is one Python process: one core), for a sync-sized field list and for ``fields=*``.

Run: ``.venv/bin/python bench/bench_sandbox.py [--scale large] [--pages 60]``
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
SYNC_FIELDS = ("RECORDNO,RECORDID,STATE,CUSTOMERID,CUSTOMERNAME,DOCNUMBER,DESCRIPTION,TERMNAME,"
               "WHENCREATED,WHENPOSTED,WHENDUE,WHENPAID,CURRENCY,BASECURR,EXCHANGE_RATE,"
               "TOTALENTERED,TOTALPAID,TOTALDUE,TRX_TOTALENTERED,TRX_TOTALPAID,TRX_TOTALDUE,"
               "MODULEKEY,AUWHENCREATED,WHENMODIFIED,MEGAENTITYID,BILLTO.MAILADDRESS.CITY")


def envelope(function: str, controlid: str) -> bytes:
    return (
        "<request><control><senderid>intacct_sync_sandbox</senderid>"
        "<password>sandbox-sender-secret</password><controlid>bench</controlid>"
        "<uniqueid>false</uniqueid><dtdversion>3.0</dtdversion>"
        "<includewhitespace>false</includewhitespace></control><operation><authentication>"
        "<login><userid>ws_sync</userid><companyid>SANDBOX-AR</companyid>"
        "<password>sandbox-user-secret</password></login></authentication><content>"
        f'<function controlid="{controlid}">{function}</function></content></operation>'
        "</request>").encode()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_server(scale: str) -> tuple[subprocess.Popen, str, float]:
    t0 = time.perf_counter()
    proc = subprocess.Popen(  # noqa: S603 - our own module
        [sys.executable, "-m", "include.intacct_sandbox", "--port", "0", "--scale", scale,
         "--seed", "7"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()  # type: ignore[union-attr]
    url = json.loads(line)["url"]
    conn = connection(url)
    conn.request("POST", urlparse(url).path, envelope("<getAPISession/>", "warm"))
    conn.getresponse().read()
    return proc, url, time.perf_counter() - t0


def connection(url: str) -> http.client.HTTPConnection:
    parsed = urlparse(url)
    return http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=120)


def pages(url: str, fields: str, max_pages: int) -> tuple[int, float, int]:
    """Read up to ``max_pages`` pages of ARINVOICE; returns (records, seconds, bytes)."""
    conn = connection(url)
    path = urlparse(url).path
    body = envelope(f"<readByQuery><object>ARINVOICE</object><fields>{fields}</fields>"
                    "<query></query><pagesize>1000</pagesize></readByQuery>", "p1")
    total = 0
    size = 0
    t0 = time.perf_counter()
    for page in range(max_pages):
        conn.request("POST", path, body, {"Content-Type": "application/xml"})
        raw = conn.getresponse().read()
        size += len(raw)
        head = raw[:2000].decode("utf-8", "replace")
        total += int(re.search(r'count="(\d+)"', head).group(1))  # type: ignore[union-attr]
        result_id = re.search(r'resultId="([^"]*)"', head).group(1)  # type: ignore[union-attr]
        remaining = int(re.search(r'numremaining="(\d+)"', head).group(1))  # type: ignore[union-attr]
        if not remaining:
            break
        body = envelope(f"<readMore><resultId>{result_id}</resultId></readMore>", f"p{page + 2}")
    return total, time.perf_counter() - t0, size


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", default="large")
    ap.add_argument("--pages", type=int, default=60, help="pages per measurement")
    args = ap.parse_args()
    proc, url, startup = start_server(args.scale)
    try:
        print(f"scale={args.scale}: start-up {startup:.2f} s to first answer, "
              f"RSS {rss_mb(proc.pid):.0f} MB")
        for label, fields, n in (("sync field list (26 fields)", SYNC_FIELDS, args.pages),
                                 ("fields=* (all standard fields)", "*", max(5, args.pages // 4))):
            records, seconds, size = pages(url, fields, n)
            print(f"{label}: {records:,} records in {seconds:.2f} s = "
                  f"{records / seconds:,.0f} records/s ({size / seconds / 1e6:.1f} MB/s)")
        print(f"RSS after reads: {rss_mb(proc.pid):.0f} MB")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
