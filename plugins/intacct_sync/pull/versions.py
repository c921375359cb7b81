"""Which of two snapshots of an Intacct record is newer, whatever the clock did.

Intacct's WHENMODIFIED is company-local, without a zone, to the second. Compared as it is,
an edit at 01:10 PST on a fall-back night is "earlier" than one at 01:30 PDT an hour before,
and two edits in one second are "equal": a loader that keeps the newer version drops the
first until the record changes again, and an older run's load can overwrite a newer one.

So each pulled row also keeps:
- `intacct_modified_from` / `intacct_modified_to`: the UTC instants its WHENMODIFIED can
  mean in the company zone — one instant, or two an hour apart in a repeated hour;
- `intacct_read_at`: when the read that saw this version started. A readByQuery snapshot
  shows every change committed before its first call; a read that started later has seen at
  least as much.

The rule (SQL `intacct_sync.not_older`, migration 0016): a snapshot modified definitely
later wins, definitely earlier loses, and otherwise — the same second, or a repeated hour —
the one whose read started later wins.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

import pandas as pd


def utc_range(local: datetime, zone: tzinfo) -> tuple[datetime, datetime]:
    """The earliest and latest UTC instant a company-local time can mean: equal, except in
    a fall-back hour (it occurs twice) or a spring-forward gap (it never occurred)."""
    instants = [local.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)]
    return min(instants), max(instants)


def stamp(rows: pd.DataFrame, read_at: dict[str, datetime], zone: tzinfo) -> pd.DataFrame:
    """`rows` (mapped headers) with their version columns: the UTC range of
    `intacct_whenmodified` and the read start of each record (`read_at` by RECORDNO)."""
    if rows.empty or "intacct_whenmodified" not in rows.columns:
        return rows
    ranges = [
        utc_range(pd.Timestamp(value).to_pydatetime(), zone) if pd.notna(value) else (None, None)
        for value in rows["intacct_whenmodified"]
    ]
    return rows.assign(
        intacct_modified_from=[r[0].isoformat() if r[0] else None for r in ranges],
        intacct_modified_to=[r[1].isoformat() if r[1] else None for r in ranges],
        intacct_read_at=[
            read_at[key].isoformat() if read_at.get(key) else None
            for key in rows["intacct_recordno"].astype(str)
        ],
    )
