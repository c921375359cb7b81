"""History ranges: each bad one refused with the limit and the fix; long ones split."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest
from intacct_sync.history.ranges import (
    HistoryRangeError,
    history_range,
    month_chunks,
    split_into_runs,
)

TODAY = date(2026, 11, 21)


@pytest.mark.parametrize(
    ("date_from", "date_to", "message"),
    [
        (
            "2023-01-01",
            "2024-12-31",
            r"2023-01-01 → 2024-12-31 is 731 days; one run covers at "
            r"most 366 days — split it .* `make history`",
        ),
        ("2024-05-01", "2024-04-01", r"history_to 2024-04-01 is before history_from 2024-05-01"),
        (
            "2026-11-01",
            "2026-12-31",
            r"history_to 2026-12-31 is in the future \(today is "
            r"2026-11-21\)",
        ),
        (
            "2023-13-01",
            "2023-12-31",
            r"history_from='2023-13-01' is not a date; give it as "
            r"YYYY-MM-DD",
        ),
        ("2023-01-01", None, r"history_to is missing"),
    ],
    ids=["longer-than-a-year", "end-before-start", "future", "malformed", "half-given"],
)
def test_bad_ranges_are_refused_with_the_limit_and_the_fix(date_from, date_to, message):
    with pytest.raises(HistoryRangeError, match=message):
        history_range(date_from, date_to, TODAY)


def test_a_leap_year_fits_in_one_run_and_no_params_means_no_history():
    assert history_range("2024-01-01", "2024-12-31", TODAY) == (
        date(2024, 1, 1),
        date(2024, 12, 31),
    )
    assert history_range(None, "", TODAY) is None


def test_long_history_splits_into_consecutive_runs_of_at_most_a_year():
    runs = split_into_runs(date(2020, 3, 15), date(2023, 6, 30))
    assert runs == [
        (date(2020, 3, 15), date(2020, 12, 31)),
        (date(2021, 1, 1), date(2021, 12, 31)),
        (date(2022, 1, 1), date(2022, 12, 31)),
        (date(2023, 1, 1), date(2023, 6, 30)),
    ]
    for (_, end), (start, _) in zip(runs, runs[1:], strict=False):
        assert (start - end).days == 1  # consecutive: no gap, no overlap
    assert all((end - start).days + 1 <= 366 for start, end in runs)
    # A leap year is one run too.
    assert split_into_runs(date(2024, 1, 1), date(2024, 12, 31)) == [
        (date(2024, 1, 1), date(2024, 12, 31))
    ]


def test_a_run_is_cut_into_calendar_months():
    chunks = month_chunks(date(2024, 1, 15), date(2024, 3, 10))
    assert chunks == [
        (date(2024, 1, 15), date(2024, 1, 31)),
        (date(2024, 2, 1), date(2024, 2, 29)),
        (date(2024, 3, 1), date(2024, 3, 10)),
    ]


def _request(obj_name: str, conf: dict):
    from intacct_sync.history.ranges import history_request
    from intacct_sync.sync_objects import OBJECTS

    obj = OBJECTS[obj_name]
    return history_request(obj.dag_id, obj.history_options, conf, {}, TODAY)


def test_options_are_checked_against_the_object():
    from intacct_sync.history.ranges import HistoryRequest

    request = _request("invoices", {"history_from": "2025-01-01", "history_to": "2025-03-31"})
    assert request == HistoryRequest(
        date(2025, 1, 1),
        date(2025, 3, 31),
        {"open_items_only": False, "include_payments": True},
    )
    with pytest.raises(HistoryRangeError, match="intacct_payments has no parameter open_items"):
        _request("payments", {"open_items_only": True})
    with pytest.raises(HistoryRangeError, match="include_payments='no' must be true or false"):
        _request("invoices", {"include_payments": "no"})
    assert _request("customers", {"all_customers": True}) == HistoryRequest(
        None, None, {"all_customers": True}
    )
    assert _request("payments", {}) is None


def test_a_run_plans_one_chunk_per_month_and_object():
    from intacct_sync.history.chunks import chunk_filter, plan_chunks
    from intacct_sync.history.ranges import HistoryRequest
    from intacct_sync.sync_objects import OBJECTS

    invoices = OBJECTS["invoices"]
    chunks = plan_chunks(
        invoices,
        HistoryRequest(
            date(2025, 1, 15),
            date(2025, 2, 28),
            {"open_items_only": True, "include_payments": True},
        ),
    )
    assert [c["label"] for c in chunks] == [
        "invoices 2025-01-15..2025-01-31 open items",
        "invoices 2025-02-01..2025-02-28 open items",
        "payments 2025-01-15..2025-01-31",
        "payments 2025-02-01..2025-02-28",
    ]
    # Whole days on the object's own transaction date; the balance only for documents.
    zone = ZoneInfo("America/Los_Angeles")
    assert chunk_filter(invoices, chunks[0]).to_query(zone) == (
        "(WHENCREATED >= '01/15/2025' AND WHENCREATED < '02/01/2025' AND TRX_TOTALDUE > 0)"
    )
    assert chunk_filter(OBJECTS["payments"], chunks[3]).to_query(zone) == (
        "(RECEIPTDATE >= '02/01/2025' AND RECEIPTDATE < '03/01/2025')"
    )


def test_queued_ranges_are_checked_like_the_first():
    request = _request(
        "payments",
        {
            "history_from": "2024-01-01",
            "history_to": "2024-12-31",
            "then": [["2025-01-01", "2025-06-30"]],
        },
    )
    assert request.then == ((date(2025, 1, 1), date(2025, 6, 30)),)
    with pytest.raises(HistoryRangeError, match="is 731 days; one run covers at most 366"):
        _request(
            "payments",
            {
                "history_from": "2024-01-01",
                "history_to": "2024-12-31",
                "then": [["2023-01-01", "2024-12-31"]],
            },
        )
    with pytest.raises(HistoryRangeError, match="then continues an initial data sync"):
        _request("payments", {"then": [["2025-01-01", "2025-06-30"]]})
