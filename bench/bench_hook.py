"""Benchmark the IntacctHook: records/s parsed and API calls per 10,000 records.

Two measurements:

* ``parse``: the response parser alone on synthetic 1,000-record readByQuery pages shaped
  like ARINVOICE (30 fields, nested SHIPTO), i.e. the hook's CPU cost per record;
* ``sandbox``: a full ``read_by_query`` stream against the local Intacct sandbox over HTTP,
  counting every request the hook sends. The minimum is one ``getAPISession`` plus
  ``ceil(N / page_size)`` pages; the run fails (exit 1) if the hook used more.

Usage::

    .venv/bin/python bench/bench_hook.py                 # both
    .venv/bin/python bench/bench_hook.py --mode parse
    .venv/bin/python bench/bench_hook.py --mode sandbox --scale medium --object ARINVOICE \
        --fields RECORDNO,RECORDID,STATE,CUSTOMERID,TRX_TOTALDUE,WHENMODIFIED
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "plugins")]
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="bench_airflow_"))

from intacct_sync.intacct import hook as hook_module  # noqa: E402
from intacct_sync.intacct.hook import IntacctHook  # noqa: E402
from intacct_sync.intacct.xml_response import parse_response  # noqa: E402
from results import record  # noqa: E402


def synthetic_page(n: int, start: int = 0) -> bytes:
    fields = "".join(f"<FIELD{i}>value {i} with some text</FIELD{i}>" for i in range(24))
    records = "".join(
        f"<arinvoice><RECORDNO>{start + i}</RECORDNO><RECORDID>INV-{start + i:07d}</RECORDID>"
        f"<STATE>Posted</STATE><CUSTOMERID>C-{i % 97}</CUSTOMERID><TOTALDUE>123.45</TOTALDUE>"
        f"<WHENMODIFIED>01/02/2024 10:00:00</WHENMODIFIED>{fields}<DESCRIPTION></DESCRIPTION>"
        "<SHIPTO><PRINTAS>Someone</PRINTAS><MAILADDRESS><CITY>Austin</CITY><ZIP>78701</ZIP>"
        "</MAILADDRESS></SHIPTO></arinvoice>" for i in range(n))
    return ("<?xml version='1.0' encoding='UTF-8'?><response><control><status>success</status>"
            "<senderid>s</senderid><controlid>c</controlid></control><operation>"
            "<authentication><status>success</status><userid>u</userid><companyid>c</companyid>"
            "</authentication><result><status>success</status><function>readByQuery</function>"
            f"<controlid>f</controlid><data listtype='arinvoice' count='{n}' totalcount='{n}' "
            f"numremaining='0' resultId=''>{records}</data></result></operation></response>"
            ).encode()


def bench_parse(pages: int = 20, per_page: int = 1000) -> dict[str, float]:
    body = synthetic_page(per_page)
    parse_response(body)  # warm up
    started = time.perf_counter()
    total = 0
    for _ in range(pages):
        total += len(parse_response(body).results[0].records)
    elapsed = time.perf_counter() - started
    return {"records": total, "seconds": round(elapsed, 3),
            "records_per_s": round(total / elapsed), "page_bytes": len(body)}


def bench_sandbox(scale: str, obj: str, page_size: int, fields: str = "*") -> dict[str, object]:
    from include.intacct_sandbox import SandboxServer

    with SandboxServer(seed=1, scale=scale, port=0) as sandbox:
        c = sandbox.credentials
        os.environ["AIRFLOW_CONN_INTACCT_BENCH"] = json.dumps({
            "conn_type": "intacct", "host": c["url"], "login": c["sender_id"],
            "password": c["sender_password"],
            "extra": {"company_id": c["company_id"], "user_id": c["user_id"],
                      "user_password": c["user_password"],
                      "company_timezone": "America/Los_Angeles", "page_size": page_size,
                      "max_concurrent_requests": 2}})
        hook_module.reset_sessions()
        hook = IntacctHook("intacct_bench")

        parse_seconds = 0.0
        original = hook_module.parse_response

        def timed_parse(body: bytes, **kw):
            nonlocal parse_seconds
            t = time.perf_counter()
            try:
                return original(body, **kw)
            finally:
                parse_seconds += time.perf_counter() - t

        hook_module.parse_response = timed_parse
        try:
            started = time.perf_counter()
            stream = hook.read_by_query(obj, fields, page_size=page_size)
            total = stream.totalcount
            n = sum(1 for _ in stream)
            elapsed = time.perf_counter() - started
        finally:
            hook_module.parse_response = original
    calls = sum(hook.api_calls.values())
    minimum = math.ceil(n / page_size) + 1
    return {
        "object": obj, "fields": fields, "scale": scale, "page_size": page_size, "records": n,
        "totalcount": total, "seconds": round(elapsed, 3),
        "records_per_s_end_to_end": round(n / elapsed) if elapsed else None,
        "records_per_s_parsed": round(n / parse_seconds) if parse_seconds else None,
        "api_calls": calls, "api_calls_by_function": dict(hook.api_calls),
        "minimum_calls": minimum,
        "api_calls_per_10000_records": math.ceil(10_000 / page_size) + 1
        if calls == minimum else None,
        "minimal": calls == minimum,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["parse", "sandbox", "both"], default="both")
    parser.add_argument("--scale", default="medium")
    parser.add_argument("--object", default="ARINVOICE")
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--fields", default="*", help="comma-separated, or * (all fields)")
    args = parser.parse_args()
    ok = True
    if args.mode in ("parse", "both"):
        result = bench_parse()
        record("parse", **result)
        print(f"parse: {result['records_per_s']:,} records/s "
              f"({result['records']:,} records in {result['seconds']} s)")
    if args.mode in ("sandbox", "both"):
        result = bench_sandbox(args.scale, args.object, args.page_size, args.fields)
        record("api_calls", **result)
        print(json.dumps(result, indent=2))
        print(f"sandbox: {result['records']:,} {args.object} records, "
              f"{result['records_per_s_parsed']:,} records/s parsed, "
              f"{result['records_per_s_end_to_end']:,} records/s end to end, "
              f"{result['api_calls']} API calls (minimum {result['minimum_calls']}) -> "
              f"API calls per 10,000 records: {result['api_calls_per_10000_records']}")
        ok = bool(result["minimal"])
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
