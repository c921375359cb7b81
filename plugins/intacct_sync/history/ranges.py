"""Initial data sync ranges: validate them, split long history into runs, runs into chunks.

One run covers at most one year (366 days, so a leap year fits): it bounds the blast
radius and the load on Intacct. Longer history is several consecutive runs; inside a run the
range is processed in month-long chunks, each committed on its own. Every bad range is
refused with a message that names the limit and the fix, before any call to Intacct.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

MAX_DAYS = 366
SPLIT_HINT = "split it into runs of at most one year, or queue them all with `make history`"


class HistoryRangeError(ValueError):
    """A history range that cannot run; the message says what is wrong and how to fix it."""


def _parse(name: str, value: object) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise HistoryRangeError(
            f"{name}={value!r} is not a date; give it as YYYY-MM-DD (e.g. 2023-01-01)"
        ) from None


def history_range(date_from: object, date_to: object, today: date) -> tuple[date, date] | None:
    """The validated [from, to] (inclusive) range, or None when no history was asked for."""
    if date_from in (None, "") and date_to in (None, ""):
        return None
    if date_from in (None, "") or date_to in (None, ""):
        missing = "history_from" if date_from in (None, "") else "history_to"
        raise HistoryRangeError(f"{missing} is missing: an initial data sync needs both dates")
    start, end = _parse("history_from", date_from), _parse("history_to", date_to)
    if end < start:
        raise HistoryRangeError(
            f"history_to {end} is before history_from {start}: swap the two dates"
        )
    if end > today:
        raise HistoryRangeError(
            f"history_to {end} is in the future (today is {today}): history ends today at "
            "the latest; the hourly sync covers what happens from now on"
        )
    days = (end - start).days + 1
    if days > MAX_DAYS:
        raise HistoryRangeError(
            f"the range {start} → {end} is {days} days; one run covers at most {MAX_DAYS} "
            f"days — {SPLIT_HINT}"
        )
    return start, end


def split_into_runs(start: date, end: date) -> list[tuple[date, date]]:
    """Consecutive inclusive ranges covering [start, end], cut at calendar years (each at
    most MAX_DAYS days): 2019-03-15 → 2021-06-30 gives the rest of 2019, 2020, and 2021
    to June."""
    if end < start:
        raise HistoryRangeError(f"history_to {end} is before history_from {start}")
    runs = []
    while start <= end:
        stop = min(end, date(start.year, 12, 31))
        runs.append((start, stop))
        start = stop + timedelta(days=1)
    return runs


def month_chunks(start: date, end: date) -> list[tuple[date, date]]:
    """[start, end] cut at calendar-month boundaries: the unit a run commits and resumes."""
    chunks = []
    while start <= end:
        next_month = (start.replace(day=1) + timedelta(days=32)).replace(day=1)
        stop = min(end, next_month - timedelta(days=1))
        chunks.append((start, stop))
        start = stop + timedelta(days=1)
    return chunks


RANGE_KEYS = ("history_from", "history_to")
THEN_KEY = "then"  # further ranges, run one after another (make history fills it)


@dataclass(frozen=True)
class Option:
    """A yes/no choice of an initial data sync, shown in the Trigger form."""

    default: bool
    title: str
    description: str


OPTIONS: dict[str, Option] = {
    "open_items_only": Option(
        False,
        "Open items only",
        "Only documents that still have a balance (TRX_TOTALDUE > 0); paid-off history is "
        "left out.",
    ),
    "include_payments": Option(
        True,
        "Include payments",
        "Also pull the payments received in the same date range (by receipt date), so the "
        "balances of the pulled documents are complete.",
    ),
    "all_customers": Option(
        False,
        "All customers",
        "Every customer, whatever its creation date (leave both dates empty): documents of "
        "any year need their customer.",
    ),
}


@dataclass(frozen=True)
class HistoryRequest:
    """What one initial-data-sync run was asked for; start/end None means every record."""

    start: date | None
    end: date | None
    options: dict[str, bool] = field(default_factory=dict)
    then: tuple[tuple[date, date], ...] = ()


def _flag(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    raise HistoryRangeError(f"{name}={value!r} must be true or false")


def history_request(
    dag_id: str,
    allowed_options: tuple[str, ...],
    conf: Mapping[str, Any],
    params: Mapping[str, Any],
    today: date,
) -> HistoryRequest | None:
    """Validate a run's parameters: None for an ordinary (hourly / sync now) run.

    `conf` is what the run was created with (REST, CLI or the Trigger form): keys the DAG
    does not know are refused, not ignored. `params` adds the declared defaults.
    """
    known = (*RANGE_KEYS, *allowed_options, THEN_KEY)
    unknown = sorted(set(conf) - set(known))
    if unknown:
        raise HistoryRangeError(
            f"{dag_id} has no parameter {', '.join(unknown)}; its Initial data sync "
            f"parameters are {', '.join(known)}"
        )
    values = {**params, **conf}
    options = {
        name: _flag(name, values.get(name, OPTIONS[name].default)) for name in allowed_options
    }
    dates_given = any(values.get(k) not in (None, "") for k in RANGE_KEYS)
    if options.get("all_customers"):
        if dates_given:
            raise HistoryRangeError(
                "all_customers reads every customer: leave history_from and history_to empty"
            )
        return HistoryRequest(None, None, options)
    found = history_range(values.get("history_from"), values.get("history_to"), today)
    then = _then(values.get(THEN_KEY) or [], today)
    if then and found is None:
        raise HistoryRangeError(
            f"{THEN_KEY} continues an initial data sync: give its first range too"
        )
    if found is None:
        changed = [n for n, v in options.items() if v != OPTIONS[n].default]
        if changed:
            raise HistoryRangeError(
                f"{', '.join(changed)} only applies to an initial data sync: also give "
                "history_from and history_to (YYYY-MM-DD)"
            )
        return None
    return HistoryRequest(found[0], found[1], options, then)


def _then(pairs: object, today: date) -> tuple[tuple[date, date], ...]:
    """The ranges queued after this run: [[from, to], ...], each a valid one-run range."""
    if not isinstance(pairs, list) or not all(
        isinstance(p, list | tuple) and len(p) == 2 for p in pairs
    ):
        raise HistoryRangeError(
            f"{THEN_KEY}={pairs!r} must be a list of [from, to] date pairs (YYYY-MM-DD)"
        )
    ranges = [history_range(a, b, today) for a, b in pairs]
    if None in ranges:
        raise HistoryRangeError(f"{THEN_KEY}: every queued range needs both dates")
    return tuple(ranges)  # type: ignore[arg-type]
