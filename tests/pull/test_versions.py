"""Versions that the clock cannot fool (issue 15 items 3 and 4): daylight-saving nights with
edits in both repeated hours, hourly runs and a "sync now" inside the hour, and two
overlapping runs with edits in the same second, loaded in either order.

Each run is what the DAG's tasks do, through their public code: the window of
intacct_sync/db/sync_state.py, the extract operator over HTTP, map and load into PostgreSQL, and the
recorded success. The sandbox clock is set to the night in question (its WHENMODIFIED is
company-local, America/Los_Angeles); every test ends with PostgreSQL equal to the sandbox.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from intacct_sync.db.sync_state import last_window_end, pull_window, record_success
from intacct_sync.pull.extract import IntacctExtractOperator
from intacct_sync.pull.map_and_load import map_and_load
from intacct_sync.sync_objects import OBJECTS

from tests.ground_truth import all_records, sandbox_post

LA = ZoneInfo("America/Los_Angeles")
CUSTOMERS = OBJECTS["customers"]
HOUR = timedelta(hours=1)
FALL_BACK = datetime(2026, 11, 1, 9, tzinfo=UTC)  # 02:00 PDT becomes 01:00 PST
SPRING_FORWARD = datetime(2026, 3, 8, 10, tzinfo=UTC)  # 02:00 PST becomes 03:00 PDT


class Company:
    """The sandbox company and the AR database, driven one run at a time."""

    def __init__(self, server, connection) -> None:
        self.server, self.connection, self.runs = server, connection, 0

    def at(self, moment: datetime) -> None:
        sandbox_post(self.server, "clock", {"set": moment.timestamp()})

    def rename(self, recordno: int, name: str) -> None:
        sandbox_post(
            self.server, "edit", {"object": "CUSTOMER", "recordno": recordno, "set": {"NAME": name}}
        )

    def extract(self, start: datetime | None, end: datetime | None) -> str:
        """The extract task of a run reading [start, end): lands, does not load yet."""
        self.runs += 1
        run_id = f"run-{self.runs}"
        IntacctExtractOperator(
            task_id="extract",
            object_name=CUSTOMERS.name,
            intacct_object=CUSTOMERS.intacct_object,
            fields=list(CUSTOMERS.fields),
            window_start=start.isoformat() if start else None,
            window_end=end.isoformat() if end else None,
            landing_run_id=run_id,
        ).execute({})
        return run_id

    def load(self, run_id: str) -> None:
        map_and_load(self.connection, CUSTOMERS, run_id, company_tz=LA)

    def run(self, run_type: str, now: datetime, interval: tuple | None = None) -> None:
        """A whole run: window, extract, map and load, success recorded."""
        self.at(now)
        start, end = pull_window(
            run_type=run_type,
            interval_start=interval[0] if interval else None,
            interval_end=interval[1] if interval else None,
            last_window_end=last_window_end(self.connection, CUSTOMERS.name),
            now=now,
            overlap=HOUR,
        )
        run_id = self.extract(start, end)
        self.load(run_id)
        record_success(self.connection, CUSTOMERS.name, start, end, run_id, {})

    def local_names(self) -> dict[int, str]:
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT intacct_recordno, name FROM ar.customers WHERE deleted_at IS NULL"
            )
            return dict(cursor.fetchall())

    def intacct_names(self) -> dict[int, str]:
        return {c["RECORDNO"]: c["NAME"] for c in all_records(self.server, object="CUSTOMER")}

    def two_customers(self) -> tuple[int, int]:
        first, second = sorted(self.intacct_names())[:2]
        return first, second


@pytest.fixture
def company(intacct_connection, clean_ar) -> Company:
    return Company(intacct_connection, clean_ar)


def _local(moment: datetime) -> str:
    return moment.astimezone(LA).strftime("%H:%M %Z")


@pytest.mark.sandbox(start_time=(FALL_BACK - 90 * timedelta(minutes=1)).timestamp())
def test_fall_back_night_edits_in_both_repeated_hours_all_arrive(company):
    """01:30 PDT, then 01:10 PST an hour later: the later edit reads as "earlier". A sync now
    inside the repeated hour, a slow run that read before the edit and loads after it, and
    the hourly runs on both sides of the night all end with Intacct's latest names."""
    x, y = company.two_customers()
    company.run("manual", FALL_BACK - 85 * timedelta(minutes=1))  # the first, full read

    company.at(FALL_BACK - 30 * timedelta(minutes=1))
    company.rename(x, f"X at {_local(FALL_BACK - 30 * timedelta(minutes=1))}")  # 01:30 PDT
    company.run("scheduled", FALL_BACK + timedelta(minutes=2), (FALL_BACK - HOUR, FALL_BACK))
    slow = company.extract(FALL_BACK - 2 * HOUR, FALL_BACK + timedelta(minutes=3))

    company.at(FALL_BACK + timedelta(minutes=10))
    company.rename(x, f"X at {_local(FALL_BACK + timedelta(minutes=10))}")  # 01:10 PST
    company.rename(y, f"Y at {_local(FALL_BACK + timedelta(minutes=10))}")
    company.run("manual", FALL_BACK + timedelta(minutes=20))  # sync now, inside the hour
    assert company.local_names()[x] == "X at 01:10 PST"

    company.load(slow)  # read before the 01:10 PST edit: must not bring 01:30 PDT back
    assert company.local_names()[x] == "X at 01:10 PST"

    company.at(FALL_BACK + timedelta(minutes=50))
    company.rename(y, f"Y at {_local(FALL_BACK + timedelta(minutes=50))}")  # 01:50 PST
    company.run("scheduled", FALL_BACK + HOUR + timedelta(minutes=2), (FALL_BACK, FALL_BACK + HOUR))
    company.run(
        "scheduled",
        FALL_BACK + 2 * HOUR + timedelta(minutes=2),
        (FALL_BACK + HOUR, FALL_BACK + 2 * HOUR),
    )
    assert company.local_names()[y] == "Y at 01:50 PST"
    assert company.local_names() == company.intacct_names()


@pytest.mark.sandbox(start_time=(SPRING_FORWARD - 90 * timedelta(minutes=1)).timestamp())
def test_spring_forward_night_edits_on_both_sides_of_the_gap_arrive(company):
    """01:50 PST, then 03:10 and 03:40 PDT twenty minutes of real time later: the hourly
    windows that hold the skipped hour read both sides of it."""
    x, y = company.two_customers()
    company.run("manual", SPRING_FORWARD - 85 * timedelta(minutes=1))

    for minutes, who in ((-10, x), (10, y), (40, x)):
        moment = SPRING_FORWARD + timedelta(minutes=minutes)
        company.at(moment)
        company.rename(who, f"{'X' if who == x else 'Y'} at {_local(moment)}")
        if minutes == 10:
            company.run(
                "scheduled", SPRING_FORWARD + timedelta(minutes=12),
                (SPRING_FORWARD - HOUR, SPRING_FORWARD),
            )  # fmt: skip
            assert company.local_names()[x] == "X at 01:50 PST"
    company.run(
        "scheduled", SPRING_FORWARD + HOUR + timedelta(minutes=2),
        (SPRING_FORWARD, SPRING_FORWARD + HOUR),
    )  # fmt: skip
    names = company.local_names()
    assert (names[x], names[y]) == ("X at 03:40 PDT", "Y at 03:10 PDT")
    assert names == company.intacct_names()


@pytest.mark.sandbox(frozen_clock=True)
@pytest.mark.parametrize("order", ["older-run-loads-first", "older-run-loads-last"])
def test_overlapping_runs_with_edits_in_the_same_second_keep_the_newer(company, order):
    """Two runs overlap (hourly + sync now); the record changes twice within one second, once
    before each run read it. Whichever loads last, the second edit stays."""
    x, _ = company.two_customers()
    company.run("manual", datetime.now(UTC))
    company.rename(x, "first edit")
    older = company.extract(None, None)
    company.rename(x, "second edit")  # the same second: the sandbox clock is frozen
    newer = company.extract(None, None)
    for run_id in (older, newer) if order == "older-run-loads-first" else (newer, older):
        company.load(run_id)
    assert company.local_names()[x] == "second edit"
    assert company.local_names() == company.intacct_names()
