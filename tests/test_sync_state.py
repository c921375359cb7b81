"""Which WHENMODIFIED window each kind of run reads (include/sync_state.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from include.sync_state import pull_window

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


def _cursor(connection) -> datetime | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT last_window_end FROM intacct_sync.sync_state WHERE object = 'invoices'"
        )
        return cursor.fetchone()[0]


def test_the_cursor_moves_only_forward_and_only_from_connected_windows(clean_ar):
    from include.sync_state import record_success

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
