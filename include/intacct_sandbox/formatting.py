"""Typed record values and how Intacct prints them.

Records hold Python values; the type says how a value is written and how a query literal is
compared with it:

* ``Stamp`` – an instant (epoch seconds) shown in the company's local time with no zone, the
  way WHENMODIFIED/WHENCREATED are (``MM/DD/YYYY HH:MM:SS``);
* ``UtcStamp`` – an instant shown in GMT (AUWHENCREATED, F15; ISO ``…Z`` in ``read``, F26);
* ``datetime.date`` – ``MM/DD/YYYY`` in lists, ``YYYY-MM-DD`` in ``read`` of OE/legacy objects;
* ``Decimal``/``int`` – numbers without trailing zeros (``2.51``, ``-100``, ``0``);
* ``bool`` – ``true``/``false`` (ONHOLD in F15).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from decimal import Decimal
from zoneinfo import ZoneInfo


def _decimal_text(value: Decimal, iso: bool = False) -> str:
    text = str(value)
    if "E" in text:
        text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


class Stamp(int):
    """Epoch seconds rendered in the company's local time."""

    __slots__ = ()


class UtcStamp(int):
    """Epoch seconds rendered in GMT."""

    __slots__ = ()


_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ATTR_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})


def xml_text(value: str) -> str:
    """Escape element text (fast path for the common case of nothing to escape)."""
    if "&" in value or "<" in value or ">" in value:
        return value.translate(_ESCAPES)
    return value


def xml_attr(value: str) -> str:
    return value.translate(_ATTR_ESCAPES)


def format_number(value: Decimal | int) -> str:
    """Intacct prints amounts without trailing zeros: 2.51, 0, -100, 1442.62."""
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if "E" in text:
        text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        return "0"
    return text


_EPOCH_DAY = dt.date(1970, 1, 1)


class TimeZoneFormatter:
    """Converts instants to the company's wall-clock time, caching the UTC offset per hour."""

    def __init__(self, timezone: str) -> None:
        self.zone = ZoneInfo(timezone)
        self._offsets: dict[int, int] = {}
        self._days: dict[int, str] = {}
        self._day_dates: dict[int, dt.date] = {}
        self._clocks: list[str | None] = [None] * 86400
        self._us_dates: dict[object, str] = {}
        self._iso_dates: dict[object, str] = {}

    def offset(self, epoch: int) -> int:
        hour = epoch // 3600
        cached = self._offsets.get(hour)
        if cached is None:
            moment = dt.datetime.fromtimestamp(hour * 3600, self.zone)
            cached = int(moment.utcoffset().total_seconds())  # type: ignore[union-attr]
            if len(self._offsets) > 200_000:
                self._offsets.clear()
            self._offsets[hour] = cached
        return cached

    def local_parts(self, epoch: int) -> time.struct_time:
        return time.gmtime(epoch + self.offset(epoch))

    def local_date(self, epoch: int) -> dt.date:
        day = (epoch + self.offset(epoch)) // 86400
        found = self._day_dates.get(day)
        if found is None:
            found = _EPOCH_DAY + dt.timedelta(days=day)
            self._day_dates[day] = found
        return found

    def to_epoch(self, local: dt.datetime) -> int:
        """Local wall-clock time (no zone, as in query literals) to epoch seconds."""
        return int(local.replace(tzinfo=self.zone).timestamp())

    def iso_with_offset(self, epoch: int) -> str:
        """Session timestamps: ISO-8601 with the zone offset (F03, F13)."""
        return dt.datetime.fromtimestamp(epoch, self.zone).isoformat(timespec="seconds")

    def format_value(self, value: object, iso_dates: bool = False) -> str:
        """Render one record value as Intacct prints it (dispatch on the exact type: hot path)."""
        render = self._dispatch.get(type(value))
        if render is not None:
            return render(value, iso_dates)
        if value is None:
            return ""
        if isinstance(value, dt.date):
            return self._date(value, iso_dates)  # type: ignore[arg-type]
        if isinstance(value, (Decimal, int)):
            return format_number(value)  # type: ignore[arg-type]
        return str(value)

    @property
    def _dispatch(self) -> dict[type, Callable[[object, bool], str]]:
        table = self.__dict__.get("_dispatch_table")
        if table is None:
            table = {
                str: lambda v, iso: v,
                type(None): lambda v, iso: "",
                bool: lambda v, iso: "true" if v else "false",
                Stamp: self._stamp,
                UtcStamp: self._utc,
                Decimal: _decimal_text,
                int: lambda v, iso: str(v),
                dt.date: self._date,
            }
            self.__dict__["_dispatch_table"] = table
        return table

    def _stamp(self, value: object, iso: bool) -> str:
        epoch: int = value  # type: ignore[assignment]
        day, secs = divmod(epoch + self.offset(epoch), 86400)
        return f"{self._day(day)} {self._clock(secs)}"

    def _utc(self, value: object, iso: bool) -> str:
        day, secs = divmod(value, 86400)  # type: ignore[operator]
        if iso:
            return f"{self._date(_EPOCH_DAY + dt.timedelta(days=day), True)}T{self._clock(secs)}Z"
        return f"{self._day(day)} {self._clock(secs)}"

    def _day(self, day: int) -> str:
        text = self._days.get(day)
        if text is None:
            text = self._date(_EPOCH_DAY + dt.timedelta(days=day), False)
            self._days[day] = text
        return text

    def _clock(self, secs: int) -> str:
        text = self._clocks[secs]
        if text is None:
            h, rest = divmod(secs, 3600)
            text = f"{h:02d}:{rest // 60:02d}:{rest % 60:02d}"
            self._clocks[secs] = text
        return text

    def _date(self, value: object, iso: bool) -> str:
        cache = self._iso_dates if iso else self._us_dates
        text = cache.get(value)
        if text is None:
            d: dt.date = value  # type: ignore[assignment]
            text = (f"{d.year:04d}-{d.month:02d}-{d.day:02d}" if iso
                    else f"{d.month:02d}/{d.day:02d}/{d.year:04d}")
            if len(cache) < 100_000:
                cache[value] = text
        return text

    def to_json(self, value: object) -> object:
        """Ground-truth JSON: numbers stay numbers, everything else as Intacct prints it."""
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, (Stamp, UtcStamp)):
            return self.format_value(value)
        if isinstance(value, Decimal):
            return float(value)
        if isinstance(value, int):
            return value
        return self.format_value(value)


def parse_date_literal(text: str) -> dt.date | dt.datetime | None:
    """Query literals: ``MM/DD/YYYY`` or ``MM/DD/YYYY HH:MM:SS`` (also ISO for leniency)."""
    text = text.strip()
    for fmt in ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"):
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            pass
    for fmt in ("%m/%d/%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    return None


_ZERO = Decimal("0.00")


def money(cents: int) -> Decimal:
    """Integer cents to a two-decimal amount (exponent -2, so ``str`` never goes scientific)."""
    if not cents:
        return _ZERO
    return Decimal(cents).scaleb(-2)
