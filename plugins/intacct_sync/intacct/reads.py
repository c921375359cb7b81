"""Paging reads: readByQuery/readMore snapshots, keyset queries, reads by key, isolation.

A mixin of IntacctHook: it relies on the hook's ``_call_single`` (one function, retried),
``_raise``, ``config``, ``company_timezone`` and ``log``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from intacct_sync.intacct import xml_request as rq
from intacct_sync.intacct.connection import QUERY_MAX_PAGE, READ_BY_QUERY_MAX_PAGE
from intacct_sync.intacct.errors import (
    IntacctResponseError,
    IntacctUnreadableResponseError,
)
from intacct_sync.intacct.xml_response import Data

READ_MAX_KEYS = 100
# Keys per read when a page could not be parsed and its records are read again by key: an
# IN list as long as the extract's child reads use, one page per piece.
ISOLATION_PIECE = 500


def _read_ahead(pages: Iterator[Data]) -> Iterator[Data]:
    """Ask for the next page while the caller works on this one.

    A stream then has its next request in flight while the records of the current page are
    parsed and written (one request at a time, never more: the next is only asked for when
    the previous answer arrived), so a task uses its `intacct_api` slot for Intacct's latency,
    not for our own processing. Errors surface at the page they belong to.
    """
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="intacct-read-ahead")
    try:
        pending = pool.submit(next, pages, None)
        while (data := pending.result()) is not None:
            pending = pool.submit(next, pages, None)
            yield data
    finally:
        # A reader that stops early does not wait for the page asked for ahead.
        pool.shutdown(wait=False, cancel_futures=True)


@dataclass(frozen=True)
class UnreadableRecord:
    """A record Intacct holds but cannot send as readable XML (a character XML 1.0 forbids,
    a text node past the bound): what an isolating read skips so the rest goes on."""

    object: str
    key: str
    error: str


class RecordStream(Iterator[dict[str, Any]]):
    """Records of one read, fetched a page ahead (at most two pages are held in memory).

    ``totalcount`` is the number of records the read matches, as Intacct reported on the
    first page (the first page is fetched on access if needed), for progress reporting;
    None for a stream of several reads. ``pages`` counts what was fetched so far.
    """

    def __init__(self, pages: Iterator[Data], *, single_read: bool = True,
                 read_ahead: bool = True) -> None:
        self._pages = _read_ahead(pages) if read_ahead else pages
        self._single_read = single_read
        self._buffer: Iterator[dict[str, Any]] = iter(())
        self._totalcount: int | None = None
        self._started = False
        self._done = False
        self.pages = 0
        self.records_read = 0
        #: Records skipped by an isolating read (``isolate=True``), filled while iterating.
        self.unreadable: list[UnreadableRecord] = []

    def _next_page(self) -> bool:
        try:
            data = next(self._pages)
        except StopIteration:
            self._done = True
            return False
        if not self._started:
            self._started = True
            if self._single_read:
                self._totalcount = data.totalcount if data.totalcount is not None else (
                    len(data.records) if not data.numremaining else None)
        self.pages += 1
        self._buffer = iter(data.records)
        return True

    @property
    def totalcount(self) -> int | None:
        if not self._started and not self._done:
            self._next_page()
        return self._totalcount

    def __iter__(self) -> RecordStream:
        return self

    def __next__(self) -> dict[str, Any]:
        while True:
            record = next(self._buffer, None)
            if record is not None:
                self.records_read += 1
                return record
            if self._done or not self._next_page():
                raise StopIteration



def _empty() -> Data:
    return Data(None, 0, 0, 0, None, None, [])


def _both_parts(first: Iterator[Data], second: Iterator[Data]) -> Iterator[Data]:
    """Pages of ``first`` then ``second``; the first page's totalcount is the sum of both.

    Both first pages are fetched up front so progress is known before iterating, without
    an extra counting call.
    """
    head_a, head_b = next(first, None), next(second, None)
    total = sum(d.totalcount or 0 for d in (head_a, head_b) if d is not None)
    leading = True
    for head, rest in ((head_a, first), (head_b, second)):
        if head is None:
            continue
        head.totalcount = total if leading else None
        leading = False
        yield head
        yield from rest


def _sortable(whenmodified: str) -> datetime:
    try:
        return datetime.strptime(whenmodified, "%m/%d/%Y %H:%M:%S")
    except ValueError:
        return datetime.fromisoformat(whenmodified.replace("Z", "+00:00")).replace(tzinfo=None)


class ReadsMixin:
    """The hook's reads (see the module docstring for what it relies on)."""

    def _page_size(self, page_size: int | None, maximum: int) -> int:
        size = page_size or self.config.page_size
        return max(1, min(int(size), maximum))

    def read_by_query(self, object: str, fields: str | Sequence[str] = "*",  # noqa: A002
                      query: str | rq.Filter = "", *, docparid: str | None = None,
                      page_size: int | None = None, read_ahead: bool = True,
                      isolate: bool = False) -> RecordStream:
        """Stream ``readByQuery`` + ``readMore(resultId)`` until ``numremaining`` is 0.

        ``query`` is a :class:`~intacct_sync.intacct.xml_request.Filter` (values escaped, datetimes
        converted to the company zone) or a raw query string you built safely yourself.
        Pages are one consistent snapshot (resultId); order is Intacct's, not sorted.
        ``read_ahead=False`` for a read that may stop after its first page (no extra call).
        ``isolate=True`` (``fields`` must include RECORDNO): a page that cannot be parsed
        does not end the read; its records are read again by key, in halving pieces, and
        each record that alone cannot be read is in ``stream.unreadable`` (:meth:`_isolate`).
        """
        size = self._page_size(page_size, READ_BY_QUERY_MAX_PAGE)
        text = query if isinstance(query, str) else rq.build_query(query, self.company_timezone)
        unreadable: list[UnreadableRecord] = []
        stream = RecordStream(
            self._read_by_query_pages(object, fields, text, docparid, size,
                                      unreadable if isolate else None),
            read_ahead=read_ahead)
        stream.unreadable = unreadable
        return stream

    def read_by_queries(self, object: str, fields: str | Sequence[str],  # noqa: A002
                        queries: Iterable[str | rq.Filter], *, docparid: str | None = None,
                        page_size: int | None = None, isolate: bool = False) -> RecordStream:
        """Several ``readByQuery`` reads as one stream, e.g. the lines of 500 headers at a
        time: the next read is asked for as soon as the previous one's last page arrived.
        ``isolate`` as in :meth:`read_by_query`."""
        size = self._page_size(page_size, READ_BY_QUERY_MAX_PAGE)
        unreadable: list[UnreadableRecord] = []

        def pages() -> Iterator[Data]:
            for query in queries:
                text = (query if isinstance(query, str)
                        else rq.build_query(query, self.company_timezone))
                yield from self._read_by_query_pages(object, fields, text, docparid, size,
                                                     unreadable if isolate else None)

        stream = RecordStream(pages(), single_read=False)
        stream.unreadable = unreadable
        return stream

    def _read_by_query_pages(self, obj: str, fields: str | Sequence[str], query: str,
                             docparid: str | None, size: int,
                             unreadable: list[UnreadableRecord] | None = None
                             ) -> Iterator[Data]:
        """The snapshot's pages; with `unreadable` (an isolating read) a page that cannot be
        parsed hands over to :meth:`_isolate` for the records not delivered yet."""
        delivered: set[str] = set()
        try:
            for data in self._snapshot_pages(obj, fields, query, docparid, size):
                if unreadable is not None:
                    delivered.update(str(r.get("RECORDNO")) for r in data.records)
                yield data
        except IntacctUnreadableResponseError as exc:
            if unreadable is None:
                raise
            self.log.warning("%s: a page cannot be parsed (%s); reading its records again by "
                             "key to find the one that causes it", obj, exc.message)
            yield from self._isolate(obj, fields, query, docparid, size, delivered, unreadable)

    def _isolate(self, obj: str, fields: str | Sequence[str], query: str,
                 docparid: str | None, size: int, delivered: set[str],
                 unreadable: list[UnreadableRecord]) -> Iterator[Data]:
        """Read what a failed snapshot had not delivered, by key, down to the bad records.

        The read's keys are listed (RECORDNO alone always parses; one call per 1,000), then
        the keys not delivered yet are read in pieces of up to ISOLATION_PIECE, one page
        each; a piece that cannot be parsed is halved, down to single records. A single
        record that still cannot be parsed goes to `unreadable`, every other one is read.
        Cost for one bad record: the listing, the pieces, and about log2(500) ≈ 9 halvings.
        """
        listed = [str(r["RECORDNO"])
                  for data in self._snapshot_pages(obj, ["RECORDNO"], query, docparid,
                                                   READ_BY_QUERY_MAX_PAGE)
                  for r in data.records if r.get("RECORDNO")]
        remaining = [k for k in dict.fromkeys(listed) if k not in delivered]
        piece = max(1, min(size, ISOLATION_PIECE))
        pending = [remaining[i:i + piece] for i in range(0, len(remaining), piece)]
        while pending:
            keys = pending.pop(0)
            text = rq.build_query(rq.in_("RECORDNO", keys), self.company_timezone)
            try:
                pages = list(self._snapshot_pages(obj, fields, text, docparid, len(keys)))
            except IntacctUnreadableResponseError as exc:
                if len(keys) > 1:
                    half = len(keys) // 2
                    pending[:0] = [keys[:half], keys[half:]]
                    continue
                self.log.warning("%s %s cannot be read from Intacct: %s", obj, keys[0],
                                 exc.message)
                unreadable.append(UnreadableRecord(obj, keys[0], exc.message))
                continue
            for data in pages:
                delivered.update(str(r.get("RECORDNO")) for r in data.records)
                yield data

    def _snapshot_pages(self, obj: str, fields: str | Sequence[str], query: str,
                        docparid: str | None, size: int) -> Iterator[Data]:
        first = self._call_single(rq.read_by_query(
            rq.new_control_id(), obj, fields, query, size, docparid))
        data = first.data or _empty()
        total, delivered = data.totalcount, len(data.records)
        yield data
        while (data.numremaining or 0) > 0:
            if not data.resultid:
                self._raise(IntacctResponseError(
                    f"{obj}: {data.numremaining} records remain but no resultId was given",
                    retryable=False))
            result = self._call_single(rq.read_more(rq.new_control_id(), str(data.resultid)))
            data = result.data or _empty()
            if not data.records and (data.numremaining or 0) > 0:
                self._raise(IntacctResponseError(
                    f"{obj}: readMore returned no records with {data.numremaining} remaining",
                    retryable=False))
            delivered += len(data.records)
            # readMore moves Intacct's cursor: if a reply was lost and the call retried, the
            # retry answers with the *next* page. Intacct's own count exposes the gap.
            if total is not None and data.numremaining is not None and (
                    total - data.numremaining != delivered):
                self._raise(IntacctResponseError(
                    f"{obj}: readMore pages skipped or repeated records (received {delivered}, "
                    f"Intacct reports {total - data.numremaining} delivered); read again",
                    retryable=False))
            yield data

    def query_keyset(self, object: str, fields: Sequence[str], *,  # noqa: A002
                     modified_from: datetime | None = None,
                     modified_to: datetime | None = None,
                     extra_filter: rq.Filter | None = None, docparid: str | None = None,
                     page_size: int | None = None,
                     include_unmodified: bool | None = None) -> RecordStream:
        """Stream the ``query`` function with keyset paging on (WHENMODIFIED, RECORDNO).

        The window is ``modified_from <= WHENMODIFIED < modified_to`` (aware datetimes,
        converted to the company zone). Each page is a fresh query continuing strictly after
        the last (WHENMODIFIED, RECORDNO) seen, so records changing underneath can neither
        shift a page (no duplicates of a version, no misses as with offsets): a record
        modified while reading reappears later with its new WHENMODIFIED if that is still
        inside the window. ``RECORDNO`` and ``WHENMODIFIED`` are added to ``fields``.

        Old records can have an empty WHENMODIFIED; no window matches them. With
        ``include_unmodified`` (default: when there is no ``modified_from``, i.e. a full
        read) they are read first, keyset on RECORDNO. ``totalcount`` covers both parts.
        """
        for bound in (modified_from, modified_to):
            if bound is not None and (bound.tzinfo is None or bound.utcoffset() is None):
                raise ValueError("modified_from/modified_to must be timezone-aware datetimes")
        names = list(dict.fromkeys([*fields, "RECORDNO", "WHENMODIFIED"]))
        size = self._page_size(page_size, QUERY_MAX_PAGE)
        window: list[rq.Filter] = list(
            rq.modified_window(modified_from, modified_to, self.company_timezone))
        if extra_filter is not None:
            window.append(extra_filter)
        if include_unmodified is None:
            include_unmodified = modified_from is None
        if not include_unmodified:
            return RecordStream(self._keyset_pages(object, names, window, docparid, size))
        # Two disjoint parts: empty WHENMODIFIED (keyset on RECORDNO), then the rest.
        main = self._keyset_pages(object, names, [rq.is_not_null("WHENMODIFIED"), *window],
                                  docparid, size)
        nulls_only = [rq.is_null("WHENMODIFIED")] + (
            [extra_filter] if extra_filter is not None else [])
        unmodified = self._keyset_pages(object, names, nulls_only, docparid, size,
                                        by_whenmodified=False)
        return RecordStream(_both_parts(unmodified, main))

    def _keyset_pages(self, obj: str, fields: list[str], window: list[rq.Filter],
                      docparid: str | None, size: int, *,
                      by_whenmodified: bool = True) -> Iterator[Data]:
        tz = self.company_timezone
        cursor: tuple[str, int] | None = None
        cursor_sort: tuple[datetime, int] | None = None
        order = [("WHENMODIFIED", True), ("RECORDNO", True)] if by_whenmodified else [
            ("RECORDNO", True)]
        first = True
        while True:
            conditions = list(window)
            if cursor is not None:
                wm, recordno = cursor
                conditions.append(rq.Or(
                    rq.gt("WHENMODIFIED", wm),
                    rq.And(rq.eq("WHENMODIFIED", wm), rq.gt("RECORDNO", recordno)))
                    if by_whenmodified else rq.gt("RECORDNO", recordno))
            filter_ = rq.And(*conditions) if conditions else None
            result = self._call_single(rq.query(
                rq.new_control_id(), obj, fields, filter_, order, size, tz, docparid=docparid))
            data = result.data or _empty()
            if not first:
                data.totalcount = None  # later pages count what remains, not the window
            first = False
            yield data
            if not data.records:
                return
            last = data.records[-1]
            wm_text, rn_text = last.get("WHENMODIFIED"), last.get("RECORDNO")
            if not isinstance(rn_text, str) or (by_whenmodified and not isinstance(wm_text, str)):
                self._raise(IntacctResponseError(
                    f"{obj}: query records lack WHENMODIFIED/RECORDNO", retryable=False))
            new_sort = (_sortable(str(wm_text)) if by_whenmodified else datetime.min,
                        int(str(rn_text)))
            if cursor_sort is not None and new_sort <= cursor_sort:
                self._raise(IntacctResponseError(
                    f"{obj}: keyset cursor did not advance (order by not honoured)",
                    retryable=False))
            cursor, cursor_sort = (str(wm_text), int(str(rn_text))), new_sort
            if data.numremaining == 0 or (
                    data.numremaining is None and len(data.records) < size):
                return

    def read(self, object: str, keys: Iterable[str | int],  # noqa: A002
             fields: str | Sequence[str] = "*", docparid: str | None = None) -> list[dict]:
        """``read`` by RECORDNO, 100 keys per call; unknown keys are silently absent."""
        return self._read_keys(object, keys, fields, docparid, by_name=False)

    def read_by_name(self, object: str, names: Iterable[str],  # noqa: A002
                     fields: str | Sequence[str] = "*", docparid: str | None = None
                     ) -> list[dict]:
        """``readByName`` by the object's id field (e.g. CUSTOMERID), 100 per call."""
        return self._read_keys(object, names, fields, docparid, by_name=True)

    def _read_keys(self, obj: str, keys: Iterable[str | int], fields: str | Sequence[str],
                   docparid: str | None, *, by_name: bool) -> list[dict]:
        keys = [str(k) for k in keys]
        for k in keys:
            if "," in k:
                raise ValueError(f"Key {k!r} contains a comma")
        out: list[dict] = []
        for i in range(0, len(keys), READ_MAX_KEYS):
            chunk = keys[i:i + READ_MAX_KEYS]
            result = self._call_single(rq.read(rq.new_control_id(), obj, chunk, fields,
                                               docparid, by_name=by_name))
            out.extend(result.records)
        return out
