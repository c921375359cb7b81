"""Land raw Intacct records in Postgres with COPY, streaming, one transaction per chunk.

The extract step writes here and the map step reads back; tasks share nothing but Postgres.
Records stream from the hook's page iterator into COPY, so memory stays flat however many
records a window holds. Landing (run, object, chunk) again replaces what that chunk landed
before, so a retried extract never duplicates rows.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import psycopg2.errors

COPY_SQL = (
    "COPY intacct_sync.raw_records"
    " (run_id, object, chunk, recordno, whenmodified, parent, payload, read_at)"
    " FROM STDIN WITH (FORMAT csv, FORCE_NOT_NULL (chunk))"
)


class _StreamReader:
    """A read()-able file over an iterator of text pieces, for psycopg2's copy_expert.

    psycopg2 turns an exception raised by read() into QueryCanceled; the original (e.g. the
    Intacct read that failed) is kept in `failure` so the caller can raise it instead."""

    def __init__(self, pieces: Iterator[str]) -> None:
        self._pieces = pieces
        self._buffer = ""
        # What stopped the records (an IntacctError, a record without RECORDNO): psycopg2
        # reports it as QueryCanceled; land_records raises the original, with its type.
        self.error: BaseException | None = None

    def read(self, size: int = -1) -> str:
        while size < 0 or len(self._buffer) < size:
            try:
                piece = next(self._pieces, None)
            except Exception as error:
                self.error = error
                raise
            if piece is None:
                break
            self._buffer += piece
        if size < 0:
            out, self._buffer = self._buffer, ""
        else:
            out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out

    readline = read


def _csv_rows(
    run_id: str,
    object_name: str,
    chunk: str,
    records: Iterable[Mapping[str, Any]],
    counter: list[int],
    parent_field: str | None,
    read_at: str,
) -> Iterator[str]:
    line = io.StringIO()
    writer = csv.writer(line, lineterminator="\n")
    for record in records:
        recordno = record.get("RECORDNO")
        if not recordno:
            raise ValueError(f"{object_name}: a record without RECORDNO cannot be landed: {record}")
        writer.writerow(
            (
                run_id,
                object_name,
                chunk,
                recordno,
                record.get("WHENMODIFIED") or "",
                (record.get(parent_field) or "") if parent_field else "",
                json.dumps(record, ensure_ascii=False, default=str),
                read_at,
            )
        )
        counter[0] += 1
        yield line.getvalue()
        line.seek(0)
        line.truncate()


def land_records(
    connection,
    run_id: str,
    object_name: str,
    records: Iterable[Mapping[str, Any]],
    chunk: str = "",
    parent_field: str | None = None,
    read_at: datetime | None = None,
) -> int:
    """Replace the chunk's landed rows with `records`; returns how many were landed.

    `parent_field` names the header key of child records (e.g. DOCHDRNO for lines).
    `read_at`: when the read that yields `records` started (before its first call; default
    now, which is right for a lazy stream not started yet) — the version's tie-breaker
    (intacct_sync/pull/versions.py).
    """
    read_at = read_at or datetime.now(UTC)
    counter = [0]
    with connection, connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM intacct_sync.raw_records WHERE run_id = %s AND object = %s AND chunk = %s",
            (run_id, object_name, chunk),
        )
        reader = _StreamReader(
            _csv_rows(
                run_id, object_name, chunk, records, counter, parent_field, read_at.isoformat()
            )
        )
        try:
            cursor.copy_expert(COPY_SQL, reader)
        except psycopg2.errors.QueryCanceled:
            if reader.error is None:
                raise
            raise reader.error from None  # the transaction still rolls back: nothing lands
    return counter[0]


def landed_keys(connection, run_id: str, object_name: str, chunk: str = "") -> list[str]:
    """RECORDNOs landed for (run, object, chunk): the parents children are read for."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT recordno FROM intacct_sync.raw_records"
            " WHERE run_id = %s AND object = %s AND chunk = %s ORDER BY recordno",
            (run_id, object_name, chunk),
        )
        return [r[0] for r in cursor.fetchall()]


def landed_count(connection, run_id: str, object_name: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM intacct_sync.raw_records WHERE run_id = %s AND object = %s",
            (run_id, object_name),
        )
        return cursor.fetchone()[0]


UNREADABLE_HINT = (
    "The record holds text XML cannot carry (a control character such as a vertical tab, "
    "U+FFFE, or a field of tens of megabytes): correct the field in Intacct, then retry."
)


def record_unreadable(connection, object_name: str, unreadable: Iterable[Any]) -> int:
    """One reconciliation error per record Intacct could not send readably (object, key,
    what the parser said); the read itself went on without it. Returns how many."""
    from intacct_sync.mapping import Rejected
    from intacct_sync.pull.loading import record_errors

    rejected = [
        Rejected(u.key, f"{u.object} {u.key} cannot be read from Intacct: {u.error}",
                 UNREADABLE_HINT)
        for u in unreadable
    ]  # fmt: skip
    if rejected:
        with connection, connection.cursor() as cursor:
            record_errors(cursor, object_name, "pull", rejected)
    return len(rejected)
