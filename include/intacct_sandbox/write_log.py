"""The log of every write function received, for tie-out tests (GET /_sandbox/writes)."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field

from lxml import etree


def element_to_data(el: etree._Element) -> object:
    """XML payload → JSON-able data: leaves become text, repeated tags become lists."""
    kids = [c for c in el if isinstance(c.tag, str)]
    if not kids and not el.attrib:
        return (el.text or "").strip()
    out: dict[str, object] = {}
    for kid in kids:
        value = element_to_data(kid)
        if kid.tag in out:
            existing = out[kid.tag]
            if not isinstance(existing, list):
                out[kid.tag] = [existing]
            out[kid.tag].append(value)  # type: ignore[union-attr]
        else:
            out[kid.tag] = value
    for key, value in el.attrib.items():
        out["@" + key] = value
    return out


@dataclass
class WriteEntry:
    seq: int
    received_at: str
    request_controlid: str
    controlid: str
    function: str
    object: str | None
    payload: object
    outcome: str  # success | failure | aborted | rolled_back | refused_duplicate
    keys: list[str] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    entity: str = ""
    transaction: bool = False


class WriteLog:
    def __init__(self) -> None:
        self._entries: list[WriteEntry] = []
        self._lock = threading.Lock()

    def add(self, entry: WriteEntry) -> WriteEntry:
        with self._lock:
            entry.seq = len(self._entries) + 1
            self._entries.append(entry)
        return entry

    def entries(self, since: int = 0, function: str | None = None,
                controlid: str | None = None) -> list[dict]:
        with self._lock:
            rows = [e for e in self._entries[since:]
                    if (function is None or e.function == function)
                    and (controlid is None or e.controlid == controlid)]
            return [asdict(e) for e in rows]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
