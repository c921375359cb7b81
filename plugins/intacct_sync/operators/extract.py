"""Extract: read one Intacct object over a WHENMODIFIED window and land it in Postgres."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import closing
from datetime import datetime
from typing import Any

from airflow.sdk import BaseOperator

from intacct_sync.hooks.intacct import POOL_NAME, IntacctHook, RecordStream
from intacct_sync.xml_request import And, ge, in_, lt

PROGRESS_EVERY = 5_000
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
    """

    template_fields: Sequence[str] = ("window_start", "window_end", "landing_run_id", "chunk")
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
        self.intacct_conn_id = intacct_conn_id
        self.postgres_conn_id = postgres_conn_id

    def _with_progress(self, stream: RecordStream, page_size: int) -> Iterator[dict[str, Any]]:
        """Log page x of y, records so far, rate and ETA while records flow to COPY."""
        total = stream.totalcount
        pages = -(-total // page_size) if total else None
        started = time.monotonic()
        for count, record in enumerate(stream, start=1):
            if count % PROGRESS_EVERY == 0:
                elapsed = max(time.monotonic() - started, 1e-6)
                rate = count / elapsed
                eta = f", ETA {(total - count) / rate:.0f} s" if total else ""
                self.log.info(
                    "%s%s: page %s of %s, %s records, %.0f records/s%s",
                    self.object_name,
                    f" [{self.chunk}]" if self.chunk else "",
                    stream.pages,
                    pages or "?",
                    count,
                    rate,
                    eta,
                )
            yield record

    def _land_children(self, hook: IntacctHook, connection) -> int:
        """Read the children of the headers this chunk landed, CHILD_BATCH keys per query."""
        from include.landing import land_records, landed_keys

        spec = self.children or {}
        keys = landed_keys(connection, self.landing_run_id, self.object_name, self.chunk)

        def records() -> Iterator[dict[str, Any]]:
            # Children of a fixed set of parents: one readByQuery snapshot per batch is
            # consistent (resultId paging), no keyset needed.
            for start in range(0, len(keys), CHILD_BATCH):
                batch = keys[start : start + CHILD_BATCH]
                yield from hook.read_by_query(
                    spec["intacct_object"], spec["fields"], in_(spec["parent_field"], batch)
                )

        return land_records(
            connection,
            self.landing_run_id,
            f"{self.object_name}.children",
            records(),
            chunk=self.chunk,
            parent_field=spec["parent_field"],
        )

    def execute(self, context: Any) -> dict[str, Any]:
        from include.ar_database import connect
        from include.landing import land_records

        start = _aware(self.window_start, "window_start")
        end = _aware(self.window_end, "window_end")
        if start and end and end <= start:
            raise ValueError(f"empty window: window_end {end} is not after window_start {start}")
        hook = IntacctHook(self.intacct_conn_id)
        # One readByQuery snapshot per window (resultId paging): consistent while records
        # change, the minimum number of calls, and no record is read twice. A full read
        # (no start) takes everything, also records whose WHENMODIFIED is empty; what
        # changes after `end` is read again, idempotently, by the next window.
        query: And | str = ""
        if start:
            query = (
                And(ge("WHENMODIFIED", start), lt("WHENMODIFIED", end))
                if end
                else ge("WHENMODIFIED", start)
            )
        stream = hook.read_by_query(
            self.intacct_object,
            list(dict.fromkeys([*self.fields, "RECORDNO", "WHENMODIFIED"])),
            query,
            docparid=self.docparid,
        )
        started = time.monotonic()
        with closing(connect(self.postgres_conn_id)) as connection:
            landed = land_records(
                connection,
                self.landing_run_id,
                self.object_name,
                self._with_progress(stream, hook.config.page_size),
                chunk=self.chunk,
            )
            children = self._land_children(hook, connection) if self.children else 0
        seconds = time.monotonic() - started
        summary = {
            "object": self.object_name,
            "chunk": self.chunk,
            "records": landed,
            "children": children,
            "pages": stream.pages,
            "window_start": start.isoformat() if start else None,
            "window_end": end.isoformat() if end else None,
            "seconds": round(seconds, 2),
        }
        self.log.info(
            "%s: landed %s records in %s pages (%.1f s, %.0f records/s)",
            self.object_name,
            landed,
            stream.pages,
            seconds,
            landed / max(seconds, 1e-6),
        )
        return summary
