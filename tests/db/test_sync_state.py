"""Which WHENMODIFIED window each kind of run reads (intacct_sync/db/sync_state.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from intacct_sync.db.sync_state import pull_window

H = timedelta(hours=1)
T = datetime(2026, 11, 21, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("run_type", "interval", "last_end", "expected"),
    [
        # First ever run: everything, up to the end of its interval.
        ("scheduled", (T - H, T), None, (None, T)),
        # Normal hourly run right after a success: its interval minus the overlap.
        ("scheduled", (T - H, T), T - H, (T - 2 * H, T)),
        # Two hours failed: widened back to the end of the last success.
        ("scheduled", (T - H, T), T - 3 * H, (T - 4 * H, T)),
        # Backfill repairs exactly its own interval (plus overlap), whatever synced since.
        ("backfill", (T - 24 * H, T - 23 * H), T, (T - 25 * H, T - 23 * H)),
        # Manual run without parameters: sync now, from the last success.
        ("manual", (T - H, T), T - 2 * H, (T - 3 * H, T + 5 * H)),
        ("manual", (T - H, T), None, (None, T + 5 * H)),
    ],
    ids=["first-run", "hourly", "after-failed-hours", "backfill", "sync-now", "sync-now-first"],
)
def test_pull_window(run_type, interval, last_end, expected):
    window = pull_window(
        run_type=run_type,
        interval_start=interval[0],
        interval_end=interval[1],
        last_window_end=last_end,
        now=T + 5 * H,
        overlap=H,
    )
    assert window == expected


@pytest.mark.parametrize(
    ("run_type", "interval", "last_end", "sync_start", "expected"),
    [
        # First run after the cut-over 10 minutes ago: from the cut-over (no overlap before
        # it), and to now, since the run's own interval ended before the cut-over.
        ("scheduled", (T - H, T), None, T + 4 * H, (T + 4 * H, T + 5 * H)),
        # A cursor past the cut-over: the usual hourly window.
        ("scheduled", (T - H, T), T - H, T - 30 * H, (T - 2 * H, T)),
        # Overlap never reaches before the cut-over.
        ("scheduled", (T - H, T), T - H, T - H, (T - H, T)),
        # Sync now with no cursor yet: from the cut-over.
        ("manual", (T - H, T), None, T - 2 * H, (T - 2 * H, T + 5 * H)),
        # A backfill is a repair the user asked for: before the cut-over too.
        ("backfill", (T - 24 * H, T - 23 * H), T, T, (T - 25 * H, T - 23 * H)),
        # A cut-over still to come: nothing to read (end not after start).
        ("scheduled", (T - H, T), None, T + 9 * H, (T + 9 * H, T + 5 * H)),
    ],
    ids=["first-run", "hourly", "overlap-clamped", "sync-now-first", "backfill", "future"],
)
def test_pull_window_with_a_cut_over(run_type, interval, last_end, sync_start, expected):
    window = pull_window(
        run_type=run_type,
        interval_start=interval[0],
        interval_end=interval[1],
        last_window_end=last_end,
        now=T + 5 * H,
        overlap=H,
        sync_start=sync_start,
    )
    assert window == expected


def test_the_cut_over_is_recorded_once_and_configuration_wins(clean_ar):
    from intacct_sync.db.sync_state import cut_over
    from intacct_sync.sync_config import BEGINNING

    first = cut_over(clean_ar, "payments", "pull")
    assert cut_over(clean_ar, "payments", "pull") == first  # kept, not "now" again
    assert cut_over(clean_ar, "payments", "pull", T) == T  # configured
    assert cut_over(clean_ar, "payments", "pull", BEGINNING) is None  # no cut-over
    assert cut_over(clean_ar, "payments", "push") not in (None, T)  # per direction


def _cursor(connection) -> datetime | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT last_window_end FROM intacct_sync.sync_state WHERE object = 'invoices'"
        )
        return cursor.fetchone()[0]


def test_the_cursor_moves_only_forward_and_only_from_connected_windows(clean_ar):
    from intacct_sync.db.sync_state import record_success

    def success(start, end):
        record_success(clean_ar, "invoices", start, end, "run", {})
        return _cursor(clean_ar)

    # Never synced: a backfill of one old hour proves nothing about the rest.
    assert success(T - 30 * H, T - 29 * H) is None
    assert success(None, T) == T  # a full read sets it
    assert success(T - 30 * H, T - 29 * H) == T  # an old repair leaves it alone
    assert success(T + 2 * H, T + 3 * H) == T  # a gap before the window: not covered
    assert success(T - H, T + H) == T + H  # connected: forward
    assert success(T - 2 * H, T) == T + H  # finishing late never moves it backwards
