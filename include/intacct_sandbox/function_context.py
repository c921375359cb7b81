"""What every function handler receives, and what it returns."""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .envelope import IntacctError
from .store import visible_to

if TYPE_CHECKING:
    from .clock import SandboxClock
    from .config import SandboxOptions
    from .formatting import TimeZoneFormatter
    from .rendering import PlanItem
    from .sessions import Authenticator, AuthResult
    from .store import KeyList, Store
    from .write_log import WriteLog


@dataclass
class Result:
    """One ``<result>``: status, echo, then ``key`` or pre-rendered ``data``, then errors."""

    status: str
    function: str
    controlid: str
    data: str | None = None
    key: str | None = None
    errors: list[IntacctError] = field(default_factory=list)
    listtype: str | None = None

    @classmethod
    def failure(cls, function: str, controlid: str, *errors: IntacctError,
                data: str | None = None) -> Result:
        return cls("failure", function, controlid, data=data, errors=list(errors))


@dataclass
class ResultSet:
    """A readByQuery snapshot: keys and the overlay of that moment, paged by readMore."""

    result_id: str
    object_name: str
    listtype: str
    plan: list[PlanItem]
    keys: KeyList
    overlay: dict
    pagesize: int
    delivered: int
    last_used: float
    owner: str
    iso_dates: bool = False


class ResultSets:
    """resultId registry with an inactivity TTL (sandbox clock) and a size cap."""

    def __init__(self, ttl_seconds: float, max_sets: int) -> None:
        self.ttl = ttl_seconds
        self.max_sets = max_sets
        self._sets: OrderedDict[str, ResultSet] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def new_id() -> str:
        # the shape of real ids: 7765623338X7bwUx4HsmSBC9j3Gof@eQAAAAY4 (F15)
        return "7765623338" + secrets.token_urlsafe(18).replace("-", "@").replace("_", "X")

    def add(self, rs: ResultSet) -> None:
        with self._lock:
            self._sets[rs.result_id] = rs
            while len(self._sets) > self.max_sets:
                self._sets.popitem(last=False)

    def get(self, result_id: str, now: float) -> ResultSet | None:
        with self._lock:
            rs = self._sets.get(result_id)
            if rs is None:
                return None
            if now - rs.last_used > self.ttl:
                del self._sets[result_id]
                return None
            rs.last_used = now
            self._sets.move_to_end(result_id)
            return rs

    def latest_for(self, object_name: str, owner: str, now: float) -> ResultSet | None:
        with self._lock:
            for rs in reversed(self._sets.values()):
                if rs.object_name == object_name and rs.owner == owner:
                    return self.get_unlocked(rs, now)
        return None

    def get_unlocked(self, rs: ResultSet, now: float) -> ResultSet | None:
        if now - rs.last_used > self.ttl:
            self._sets.pop(rs.result_id, None)
            return None
        rs.last_used = now
        return rs

    def expire_all(self) -> int:
        with self._lock:
            n = len(self._sets)
            self._sets.clear()
            return n

    def __len__(self) -> int:
        return len(self._sets)


@dataclass
class FunctionContext:
    store: Store
    tz: TimeZoneFormatter
    clock: SandboxClock
    options: SandboxOptions
    auth: AuthResult
    authenticator: Authenticator
    result_sets: ResultSets
    write_log: WriteLog
    pretty: bool
    endpoint_url: str
    request_controlid: str
    owner: str = ""
    denied_objects: frozenset[str] = frozenset()

    @property
    def entity(self) -> str:
        return self.auth.entity

    def now(self) -> int:
        return self.clock.now_int()

    def visible(self, record: dict | None) -> dict | None:
        """The record if this session's entity may see it (and so read or write it), else None."""
        return record if record is not None and visible_to(self.entity, record) else None
