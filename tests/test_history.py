"""History ranges: each bad one refused with the limit and the fix; long ones split."""

from __future__ import annotations

from datetime import date

import pytest

from include.history import HistoryRangeError, history_range, month_chunks, split_into_runs

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
    assert runs[0][0] == date(2020, 3, 15) and runs[-1][1] == date(2023, 6, 30)
    for (_, end), (start, _) in zip(runs, runs[1:], strict=False):
        assert (start - end).days == 1  # consecutive: no gap, no overlap
    assert all((end - start).days + 1 <= 366 for start, end in runs)
    assert len(runs) == 4


def test_a_run_is_cut_into_calendar_months():
    chunks = month_chunks(date(2024, 1, 15), date(2024, 3, 10))
    assert chunks == [
        (date(2024, 1, 15), date(2024, 1, 31)),
        (date(2024, 2, 1), date(2024, 2, 29)),
        (date(2024, 3, 1), date(2024, 3, 10)),
    ]
