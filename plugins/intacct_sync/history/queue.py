"""Queue an initial data sync longer than one run allows: one DAG run per calendar year,
run one after another (each queues the next through the DAG's `then` parameter).

    python -m intacct_sync.history.queue --dag intacct_invoices --from 2019-01-01 --to 2023-12-31
    make history DAG=intacct_invoices FROM=2019-01-01 TO=2023-12-31 ARGS="--open-items-only"

A run covers at most one year (intacct_sync/history/ranges.py says why), so years of history are
several consecutive runs. They go through Airflow's REST API rather than the database, so they
are ordinary manual runs: visible in the UI with a note, validated against the DAG's Params,
limited by its max_active_runs. Bad input is refused (exit 2) before any HTTP call; an error
from Airflow is printed with its status and detail (exit 1). Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from intacct_sync.history.ranges import HistoryRangeError, history_range, split_into_runs
from intacct_sync.sync_objects import OBJECTS

PASSWORDS_FILE = Path(__file__).resolve().parents[3] / ".local" / "airflow" / "passwords.json"
# The history options each pull DAG declares as Params (the registry); others are refused.
FLAGS: dict[str, tuple[str, ...]] = {o.dag_id: o.history_options for o in OBJECTS.values()}
CLI_FLAG = {
    "open_items_only": "--open-items-only",
    "include_payments": "--no-payments",
    "all_customers": "--all-customers",
}


class UsageError(ValueError):
    """Input that cannot become runs; exit 2, nothing sent to Airflow."""


class AirflowError(RuntimeError):
    """Airflow answered an error (status and detail) or could not be reached; exit 1."""

    def __init__(self, message: str, status: int | None = None, detail: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class PlannedRun:
    run_id: str
    start: date | None
    end: date | None
    conf: dict[str, Any]
    note: str

    @property
    def days(self) -> int | None:
        return (self.end - self.start).days + 1 if self.start and self.end else None

    def describe(self) -> str:
        if self.start is None or self.end is None:
            return f"{self.run_id}  every customer"
        return f"{self.run_id}  {self.start} → {self.end}  {self.days} days"


def _ranges(date_from: str | None, date_to: str | None, today: date) -> list[tuple[date, date]]:
    """[from, to] as consecutive pieces of at most a calendar year; the messages are
    intacct_sync.history.ranges's."""
    try:
        found = history_range(date_from, date_to, today)
    except HistoryRangeError as refused:
        # history_range checks dates, order and today before the length: a valid range that
        # is only too long for one run is the case to split; anything else stays refused.
        try:
            start = date.fromisoformat(str(date_from).strip())
            end = date.fromisoformat(str(date_to).strip())
        except ValueError:
            raise refused from None
        if not start <= end <= today:
            raise
        pieces = split_into_runs(start, end)
        for piece in pieces:  # each one must pass the DAG's own rule
            history_range(piece[0], piece[1], today)
        return pieces
    if found is None:
        raise UsageError("give --from and --to (YYYY-MM-DD)")
    return [found]


def plan_runs(
    dag_id: str,
    date_from: str | None,
    date_to: str | None,
    *,
    open_items_only: bool = False,
    include_payments: bool = True,
    all_customers: bool = False,
    today: date,
    now: datetime,
) -> list[PlannedRun]:
    """The runs to queue, in order; UsageError/HistoryRangeError for anything wrong."""
    if dag_id not in FLAGS:
        raise UsageError(f"{dag_id} is not a pull DAG; choose one of {', '.join(FLAGS)}")
    asked = {
        "open_items_only": open_items_only,
        "include_payments": not include_payments,
        "all_customers": all_customers,
    }
    refused = [
        CLI_FLAG[name] for name, given in asked.items() if given and name not in FLAGS[dag_id]
    ]
    if refused:
        allowed = ", ".join(CLI_FLAG[f] for f in FLAGS[dag_id]) or "none"
        raise UsageError(f"{dag_id} does not take {', '.join(refused)}; its flags: {allowed}")
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    if all_customers:
        if date_from or date_to:
            raise UsageError("--all-customers reads every customer: leave out --from and --to")
        return [
            PlannedRun(
                f"history__all-customers__{stamp}",
                None,
                None,
                {"all_customers": True},
                "initial data sync: all customers (1 of 1)",
            )
        ]
    options = {
        "open_items_only": open_items_only,
        "include_payments": include_payments,
        "all_customers": False,
    }
    extra = {name: options[name] for name in FLAGS[dag_id]}
    pieces = _ranges(date_from, date_to, today)
    return [
        PlannedRun(
            f"history__{start}__{end}__{stamp}",
            start,
            end,
            {"history_from": start.isoformat(), "history_to": end.isoformat(), **extra},
            f"initial data sync {start} → {end} ({k} of {len(pieces)})",
        )
        for k, (start, end) in enumerate(pieces, start=1)
    ]


class Airflow:
    """A small client of Airflow's REST API: a JWT for the user, JSON in and out."""

    def __init__(self, api: str, user: str, password: str) -> None:
        self.api = api.rstrip("/")
        self.user = user
        self.password = password
        self._token: str | None = None

    def token(self) -> str:
        """A JWT for the user (SimpleAuthManager and others: POST /auth/token)."""
        if self._token is None:
            answer = self.call(
                "POST",
                "/auth/token",
                {"username": self.user, "password": self.password},
                auth=False,
            )
            self._token = str(answer["access_token"])
        return self._token

    def call(
        self, method: str, path: str, body: Any = None, *, auth: bool = True, timeout: float = 60
    ) -> Any:
        """One request; an HTTP error raises AirflowError with its status and detail."""
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.token()}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - the URL is the operator's --api
            self.api + path, data=data, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                text = response.read().decode()
        except urllib.error.HTTPError as error:
            raw = error.read().decode(errors="replace")
            try:
                detail = json.loads(raw).get("detail", raw)
            except (ValueError, AttributeError):
                detail = raw
            raise AirflowError(
                f"Airflow answered {method} {path} with HTTP {error.code}: {detail}",
                error.code,
                detail,
            ) from None
        except urllib.error.URLError as error:
            raise AirflowError(
                f"cannot reach Airflow at {self.api} ({error.reason}); is it running "
                "(`make up`)? Give its address with --api"
            ) from None
        return json.loads(text) if text else None

    def dag(self, dag_id: str) -> dict[str, Any]:
        return self.call("GET", f"/api/v2/dags/{urllib.parse.quote(dag_id)}")

    def trigger(self, dag_id: str, run: PlannedRun) -> dict[str, Any]:
        body = {"logical_date": None, "dag_run_id": run.run_id, "conf": run.conf, "note": run.note}
        return self.call("POST", f"/api/v2/dags/{urllib.parse.quote(dag_id)}/dagRuns", body)


def local_password(user: str) -> str:
    """The password `make up` set for the local UI (SimpleAuthManager's passwords file)."""
    path = Path(os.environ.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE", PASSWORDS_FILE))
    try:
        return json.loads(path.read_text())[user]
    except (OSError, ValueError, KeyError):
        raise UsageError(
            f"no password for {user!r} in {path}; give --password (or start Airflow with "
            "`make up`, which writes that file)"
        ) from None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m intacct_sync.history.queue", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--dag", required=True, help=f"one of {', '.join(FLAGS)}")
    parser.add_argument("--from", dest="date_from", help="first date, YYYY-MM-DD (inclusive)")
    parser.add_argument("--to", dest="date_to", help="last date, YYYY-MM-DD (inclusive)")
    parser.add_argument("--open-items-only", action="store_true", help="invoices, credit notes")
    parser.add_argument(
        "--no-payments",
        dest="include_payments",
        action="store_false",
        help="invoices, credit notes: leave out their payments",
    )
    parser.add_argument(
        "--all-customers", action="store_true", help="customers: every one, no dates"
    )
    parser.add_argument("--api", default="http://127.0.0.1:8080", help="Airflow's base URL")
    parser.add_argument("--user", default="admin")
    parser.add_argument(
        "--password",
        help=f"default: read from {PASSWORDS_FILE}; write --password=VALUE if it starts with -",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the runs, send nothing")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None, *, today: date | None = None) -> int:
    args = parse_args(argv)
    try:
        runs = plan_runs(
            args.dag,
            args.date_from,
            args.date_to,
            open_items_only=args.open_items_only,
            include_payments=args.include_payments,
            all_customers=args.all_customers,
            today=today or date.today(),
            now=datetime.now(UTC),
        )
        password = "" if args.dry_run else args.password or local_password(args.user)
    except (UsageError, HistoryRangeError) as problem:
        print(f"history: {problem}", file=sys.stderr)
        return 2
    first = chained(runs)
    if args.dry_run:
        print(f"would queue {first.describe()}  conf={json.dumps(first.conf)}")
        _print_then(runs)
        print(f"dry run: {len(runs)} run(s) of {args.dag}, nothing sent to Airflow")
        return 0
    airflow = Airflow(args.api, args.user, password)
    try:
        paused = bool(airflow.dag(args.dag).get("is_paused"))
        airflow.trigger(args.dag, first)
    except AirflowError as problem:
        print(f"history: {problem}", file=sys.stderr)
        return 1
    print(f"queued {first.describe()}")
    _print_then(runs)
    days = sum(r.days or 0 for r in runs)
    span = f"{runs[0].start} → {runs[-1].end}, {days} days" if days else "every customer"
    print(
        f"history: {len(runs)} run(s) of {args.dag} ({span}): the first is queued, each "
        "queues the next when it succeeds (conf `then`), so hourly runs keep their slots"
    )
    if paused:
        print(
            f"WARNING: {args.dag} is paused: the run stays queued until it is unpaused "
            f"(`airflow dags unpause {args.dag}`, or the toggle next to it in the UI)."
        )
    return 0


def _print_then(runs: list[PlannedRun]) -> None:
    for run in runs[1:]:
        print(f"  then {run.describe().split('  ', 1)[1]}")


def chained(runs: list[PlannedRun]) -> PlannedRun:
    """The first run, carrying the others in `then`: queued runs count against the DAG's
    max_active_runs, so years of history queued at once would stop the hourly sync."""
    first, rest = runs[0], runs[1:]
    if not rest:
        return first
    then = [[r.conf["history_from"], r.conf["history_to"]] for r in rest]
    return PlannedRun(
        first.run_id,
        first.start,
        first.end,
        {**first.conf, "then": then},
        f"{first.note}; then {len(rest)} more, one after another",
    )


if __name__ == "__main__":
    sys.exit(main())
