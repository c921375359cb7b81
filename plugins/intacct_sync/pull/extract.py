"""Extract: read one Intacct object over a WHENMODIFIED window and land it in Postgres."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import closing
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from intacct_sync.intacct import POOL_NAME

if TYPE_CHECKING:  # the client (lxml, requests) is imported when a task runs, not at parse
    from intacct_sync.intacct.hook import IntacctHook, UnreadableRecord

PROGRESS_EVERY = 5_000
PROGRESS_SECONDS = 10.0
CHILD_BATCH = 500  # header keys per child query: ~1,000 lines, one readByQuery page


def _aware(value: str | datetime | None, name: str) -> datetime | None:
    """Window bounds arrive templated as ISO strings; they must carry a zone."""
    if value in (None, ""):
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError(f"{name}={value!r} has no time zone; give an aware ISO-8601 time")
    return moment


class IntacctExtractOperator(BaseOperator):
    """Stream `intacct_object` records modified in [window_start, window_end) into
    `intacct_sync.raw_records` for this run, and return a small summary for XCom.

    :param object_name: the sync object this lands as (e.g. ``invoices``), the landing key.
    :param intacct_object: Intacct object (``SODOCUMENT``, ``CUSTOMER``, …).
    :param fields: fields to read; ``RECORDNO`` and ``WHENMODIFIED`` are always added.
    :param docparid: Order Entry transaction definition, e.g. ``Sales Invoice``.
    :param window_start: aware ISO time (templated); None reads from the beginning,
        including records with an empty WHENMODIFIED.
    :param window_end: aware ISO time (templated); None reads to now.
    :param chunk: a label when one run lands several windows (history chunks).
    :param children: child records to read for the landed headers (lines, payment
        details): ``{"intacct_object", "parent_field", "fields"}``; landed as
        ``<object_name>.children`` with their header's key.
    :param customer_source: (templated) the run's ``customer_source``: the customers are
        then read as the registry says for it (CUSTOMER or CONTACT records,
        ``sync_objects.sourced``) instead of `intacct_object` and `fields`.
    """

    template_fields: Sequence[str] = (
        "window_start", "window_end", "landing_run_id", "chunk", "customer_source",
    )  # fmt: skip
    ui_color = "#e8f4fd"

    def __init__(
        self,
        *,
        object_name: str,
        intacct_object: str,
        fields: Sequence[str],
        docparid: str | None = None,
        window_start: str | None = None,
        window_end: str | None = None,
        landing_run_id: str = "{{ run_id }}",
        chunk: str = "",
        children: dict[str, Any] | None = None,
        customer_source: str = "",
        intacct_conn_id: str = "intacct_default",
        postgres_conn_id: str = "ar_postgres",
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("pool", POOL_NAME)
        super().__init__(**kwargs)
        self.object_name = object_name
        self.intacct_object = intacct_object
        self.fields = list(fields)
        self.docparid = docparid
        self.window_start = window_start
        self.window_end = window_end
        self.landing_run_id = landing_run_id
        self.chunk = chunk
        self.children = children
        self.customer_source = customer_source
        self.intacct_conn_id = intacct_conn_id
        self.postgres_conn_id = postgres_conn_id

    def _read(self) -> dict[str, Any]:
        """What to read: the registry's entry for the run's customer source, else as given."""
        if self.customer_source and self.object_name == "customers":
            from intacct_sync.sync_objects import sourced

            obj = sourced(self.object_name, customer_source=self.customer_source)[0]
            return {"intacct_object": obj.intacct_object, "fields": list(obj.fields),
                    "docparid": obj.docparid,
                    "children": obj.children.spec() if obj.children else None}  # fmt: skip
        return {"intacct_object": self.intacct_object, "fields": self.fields,
                "docparid": self.docparid, "children": self.children}  # fmt: skip

    def execute(self, context: Any) -> dict[str, Any]:
        from intacct_sync.db.ar_database import connect
        from intacct_sync.intacct.hook import IntacctHook
        from intacct_sync.intacct.xml_request import And, modified_window

        start = _aware(self.window_start, "window_start")
        end = _aware(self.window_end, "window_end")
        if start and end and end <= start:
            raise ValueError(f"empty window: window_end {end} is not after window_start {start}")
        # One readByQuery snapshot per window (resultId paging): consistent while records
        # change, the minimum number of calls, and no record is read twice. A full read
        # (no start) takes everything, also records whose WHENMODIFIED is empty; what
        # changes after `end` is read again, idempotently, by the next window.
        hook = IntacctHook(self.intacct_conn_id)
        # Company-local bounds that hold the whole window on DST nights (local_bounds).
        window = modified_window(start, end, hook.company_timezone) if start else []
        query: Any = And(*window) if window else ""
        with closing(connect(self.postgres_conn_id)) as connection:
            summary = land_query(
                hook,
                connection,
                **self._read(),
                object_name=self.object_name,
                query=query,
                landing_run_id=self.landing_run_id,
                chunk=self.chunk,
                log=self.log,
            )
        return {
            **summary,
            "window_start": start.isoformat() if start else None,
            "window_end": end.isoformat() if end else None,
        }


class _Progress:
    """Progress lines for a person watching the log: page x of y, records so far, records/s
    and ETA — every PROGRESS_EVERY records or PROGRESS_SECONDS, whichever comes first."""

    def __init__(self, log: logging.Logger, label: str, total: int | None, page_size: int):
        self.log, self.label, self.total = log, label, total
        self.pages = -(-total // page_size) if total else None
        self.started = self.last = time.monotonic()
        self.logged = 0

    def tick(self, count: int, page: int, what: str = "records") -> None:
        now = time.monotonic()
        if count - self.logged < PROGRESS_EVERY and now - self.last < PROGRESS_SECONDS:
            return
        self.logged, self.last = count, now
        rate = count / max(now - self.started, 1e-6)
        eta = f", ETA {(self.total - count) / rate:.0f} s" if self.total else ""
        self.log.info(
            "%s: page %s of %s, %s %s, %.0f records/s%s",
            self.label,
            page,
            self.pages or "?",
            count,
            what,
            rate,
            eta,
        )


def land_query(
    hook: IntacctHook,
    connection,
    *,
    object_name: str,
    intacct_object: str,
    fields: Sequence[str],
    query: Any,
    docparid: str | None,
    children: dict[str, Any] | None,
    landing_run_id: str,
    chunk: str,
    log: logging.Logger,
) -> dict[str, Any]:
    """Stream the records matching `query` (and their children) into the landing table.

    Shared by the hourly extract (a WHENMODIFIED window) and the initial data sync (a
    transaction-date chunk): one readByQuery snapshot, COPY as pages arrive, flat memory.
    Reads isolate: a record Intacct cannot send as readable XML is skipped by the hook and
    becomes a reconciliation error here (a line holds its document back); the rest lands.
    """
    from intacct_sync.intacct.xml_request import in_
    from intacct_sync.pull.landing import land_records, landed_keys, record_unreadable

    label = f"{object_name} [{chunk}]" if chunk else object_name
    started = time.monotonic()
    # Taken before the snapshot's first call: see intacct_sync/pull/versions.py.
    read_at = datetime.now(UTC)
    stream = hook.read_by_query(
        intacct_object,
        list(dict.fromkeys([*fields, "RECORDNO", "WHENMODIFIED"])),
        query,
        docparid=docparid,
        isolate=True,  # one unreadable record becomes its own error, the rest lands
    )
    progress = _Progress(log, label, stream.totalcount, hook.config.page_size)

    def headers() -> Iterator[dict[str, Any]]:
        for count, record in enumerate(stream, start=1):
            progress.tick(count, stream.pages)
            yield record

    landed = land_records(
        connection, landing_run_id, object_name, headers(), chunk=chunk, read_at=read_at
    )
    unreadable = record_unreadable(connection, object_name, stream.unreadable)
    child_count = child_pages = 0
    if children:
        keys = landed_keys(connection, landing_run_id, object_name, chunk)
        lines = _Progress(log, f"{label} children", None, hook.config.page_size)

        # Children of a fixed set of parents: one readByQuery snapshot per batch of keys is
        # consistent (resultId paging), no keyset needed; the batches form one stream.
        child_stream = hook.read_by_queries(
            children["intacct_object"],
            children["fields"],
            (
                in_(children["parent_field"], keys[first : first + CHILD_BATCH])
                for first in range(0, len(keys), CHILD_BATCH)
            ),
            isolate=True,
        )

        def child_records() -> Iterator[dict[str, Any]]:
            for count, record in enumerate(child_stream, start=1):
                lines.tick(count, child_stream.pages, "child records")
                yield record

        child_count = land_records(
            connection,
            landing_run_id,
            f"{object_name}.children",
            child_records(),
            chunk=chunk,
            parent_field=children["parent_field"],
        )
        child_pages = child_stream.pages
        held = hold_back_parents(
            hook, connection, children, child_stream.unreadable,
            object_name=object_name, run_id=landing_run_id, chunk=chunk,
        )  # fmt: skip
        landed -= len({h.key for h in held})
        unreadable += record_unreadable(connection, object_name, held)
    seconds = time.monotonic() - started
    log.info(
        "%s: landed %s records and %s children in %s pages (%.1f s, %.0f records/s)",
        label,
        landed,
        child_count,
        stream.pages + child_pages,
        seconds,
        (landed + child_count) / max(seconds, 1e-6),
    )
    return {
        "object": object_name,
        "chunk": chunk,
        "records": landed,
        "children": child_count,
        "pages": stream.pages + child_pages,
        "seconds": round(seconds, 2),
        "unreadable": unreadable,
    }


def hold_back_parents(
    hook: IntacctHook,
    connection,
    children: dict[str, Any],
    unreadable: Sequence[UnreadableRecord],
    *,
    object_name: str,
    run_id: str,
    chunk: str,
) -> list[UnreadableRecord]:
    """A child record (a line, an application) that cannot be read holds its whole header
    back: a document without one of its lines would load wrong. The header and its other
    children leave the landing, and the error is the header's, so a retry reads both again.
    Returns the held-back headers as unreadable records."""
    from intacct_sync.intacct.hook import UnreadableRecord
    from intacct_sync.intacct.xml_request import in_

    if not unreadable:
        return []
    parent_field = children["parent_field"]
    keys = [u.key for u in unreadable]
    parent_of: dict[str, str] = {}
    for first in range(0, len(keys), CHILD_BATCH):  # the key fields alone always read
        for record in hook.read_by_query(
            children["intacct_object"],
            ["RECORDNO", parent_field],
            in_("RECORDNO", keys[first : first + CHILD_BATCH]),
        ):
            parent_of[str(record["RECORDNO"])] = str(record[parent_field])
    held = [
        UnreadableRecord(u.object, parent_of[u.key], f"its {u.object} {u.key}: {u.error}")
        for u in unreadable
        if u.key in parent_of
    ]
    parents = sorted({h.key for h in held})
    with connection, connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM intacct_sync.raw_records WHERE run_id = %s AND chunk = %s"
            " AND ((object = %s AND recordno = ANY(%s)) OR (object = %s AND parent = ANY(%s)))",
            (run_id, chunk, object_name, parents, f"{object_name}.children", parents),
        )
    return held
