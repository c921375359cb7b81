"""The page escapes everything it shows: a record's text cannot become markup or script."""

from __future__ import annotations

import pytest
from intacct_sync.ui.page import render

HOSTILE = '<script>alert("x")</script>'


@pytest.mark.security
def test_values_from_intacct_and_users_are_escaped():
    status = {
        "generated_at": "2026-11-21T12:00:00+00:00",
        "per_hour": [{"hour": "2026-11-21T11:00:00+00:00", "pull": 3, "push": 1}],
        "objects": [
            {
                "object": "customers", "direction": "pull", "dag_id": "intacct_customers",
                "last_success_at": HOSTILE, "window_start": None, "window_end": None,
                "lag_seconds": 4000, "records_last_run": 3, "records_24h": 3,
                "open_errors": 1, "tieout": None,
                "latest_run": {"run_id": 'manual__"><img src=x>', "state": "success"},
            }
        ],
    }  # fmt: skip
    errors = [{
        "id": 7, "object": "customers", "direction": "push", "record_id": "12",
        "error_numbers": ["BL01001973"], "message": HOSTILE, "hint": "<b>fix</b>",
        "attempts": 2, "state": "open",
    }]  # fmt: skip
    html = render(status, errors, {"object": "", "state": ["open"], "errorno": '"><x'})
    assert HOSTILE not in html and "<b>fix</b>" not in html and '"><img' not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "&lt;b&gt;fix&lt;/b&gt;" in html
    assert 'value="&quot;&gt;&lt;x"' in html
    assert "1 h 6 min" in html  # lag shown in hours and minutes
