"""Command line: ``python -m include.intacct_sandbox --port 18931 --seed 1 --scale small``."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import signal
import sys

from . import config
from .faults import FAULT_NAMES
from .seed_data import SCALES
from .server import SandboxServer


def _epoch(text: str) -> float:
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


def _companies(text: str) -> list[dict]:
    """A JSON list of company specs, inline or in a file."""
    if not text.lstrip().startswith("["):
        with open(text, encoding="utf-8") as handle:
            text = handle.read()
    data = json.loads(text)
    if not isinstance(data, list):
        raise argparse.ArgumentTypeError("--companies wants a JSON list")
    return data


def build_parser() -> argparse.ArgumentParser:
    scales = ", ".join(f"{n} ({s.invoices:,} invoices, {s.customers:,} customers)"
                       for n, s in SCALES.items())
    p = argparse.ArgumentParser(
        prog="python -m include.intacct_sandbox",
        description="Local Sage Intacct XML gateway with deterministic AR data. Prints one JSON "
                    "line with url and credentials, then serves until interrupted.")
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=config.DEFAULT_PORT,
                   help=f"port (default {config.DEFAULT_PORT}; 0 = any free port)")
    p.add_argument("--seed", type=int, default=1, help="data seed (default 1)")
    p.add_argument("--scale", default="small", choices=list(SCALES), help=f"data size: {scales}")
    p.add_argument("--invoices", type=int, help="explicit invoice count (overrides the scale)")
    p.add_argument("--customers", type=int, help="explicit customer count")
    p.add_argument("--adjustments", type=int, help="explicit AR adjustment count")
    p.add_argument("--history-days", type=int, help="days of history the seeded data spans")
    p.add_argument("--timezone", default=config.DEFAULT_TIMEZONE,
                   help="company time zone of WHENCREATED/WHENMODIFIED "
                        f"(default {config.DEFAULT_TIMEZONE})")
    p.add_argument("--start-time", type=_epoch,
                   help="sandbox clock start, ISO-8601 (default: now); history ends 5 min before")
    p.add_argument("--frozen-clock", action="store_true",
                   help="the clock only moves when told to (POST /_sandbox/clock)")
    p.add_argument("--session-duration", type=int, default=6 * 3600, dest="session_duration",
                   help="sliding session timeout in seconds (default 21600)")
    p.add_argument("--resultid-ttl", type=int, default=900,
                   help="readByQuery resultId inactivity expiry in seconds (default 900)")
    p.add_argument("--max-concurrent", type=int, default=2,
                   help="concurrent gateway requests per company (default 2)")
    p.add_argument("--concurrency-wait", type=float, default=2.0,
                   help="seconds an extra request is held before 'too many operations' "
                        "(default 2)")
    p.add_argument("--latency-ms", type=float, default=0.0, help="added latency per call")
    p.add_argument("--latency-jitter-ms", type=float, default=0.0,
                   help="random extra latency per call, 0..N ms")
    p.add_argument("--session-invalidate-every", type=int, default=0,
                   help="invalidate the session used by every Nth session call (0 = never)")
    p.add_argument("--payment-batch-required", action="store_true",
                   help="AR summary posting is user-specified: payments need a batch key")
    p.add_argument("--late-commit-lag", type=int, default=480,
                   help="seconds between a late batch's WHENMODIFIED and its visibility")
    p.add_argument("--fault", action="append", default=[], metavar="NAME[:next=N|every=N|"
                   "probability=P]", help=f"switch a fault on; NAME is one of "
                   f"{', '.join(FAULT_NAMES)} (repeatable; default schedule next=1)")
    p.add_argument("--companies", type=_companies, default=[], metavar="FILE|JSON",
                   help="more companies in this process: a JSON list (or a file holding one) of "
                        '{"company_id", "user_id", "user_password", "entity_ids", "settings": '
                        '{"seed", "scale", "timezone", ...}}; the options above are their '
                        "defaults; more can be added at run time (POST /_sandbox/companies)")
    p.add_argument("--verbose", action="store_true", help="log sandbox problems to stderr")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    server = SandboxServer(
        seed=args.seed, scale=args.scale, port=args.port, host=args.host,
        timezone=args.timezone, invoices=args.invoices, customers=args.customers,
        adjustments=args.adjustments, history_days=args.history_days,
        start_time=args.start_time, frozen_clock=args.frozen_clock,
        session_duration_seconds=args.session_duration,
        resultid_ttl_seconds=args.resultid_ttl, max_concurrent=args.max_concurrent,
        concurrency_wait_seconds=args.concurrency_wait, latency_ms=args.latency_ms,
        latency_jitter_ms=args.latency_jitter_ms,
        session_invalidate_every=args.session_invalidate_every,
        payment_batch_required=args.payment_batch_required,
        late_commit_lag_seconds=args.late_commit_lag, faults=args.fault,
        companies=args.companies, quiet=not args.verbose)
    line = dict(server.credentials)
    if args.companies:
        line["companies"] = [server.company(c) for c in server.companies.ids()]
    print(json.dumps(line), flush=True)

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # background jobs start with SIGINT ignored; stop cleanly on SIGINT and SIGTERM alike
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
