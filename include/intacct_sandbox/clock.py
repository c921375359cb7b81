"""The sandbox clock: real time by default, but settable, advanceable and freezable.

Sessions, resultIds, WHENMODIFIED of writes and late-committing batches all read this clock,
so a test can age a session or a resultId by advancing it instead of sleeping.
"""

from __future__ import annotations

import threading
import time


class SandboxClock:
    def __init__(self, start_epoch: float | None = None, frozen: bool = False) -> None:
        self._lock = threading.Lock()
        self._base = time.time() if start_epoch is None else float(start_epoch)
        self._anchor = time.monotonic()
        self._frozen = frozen

    def now(self) -> float:
        with self._lock:
            if self._frozen:
                return self._base
            return self._base + (time.monotonic() - self._anchor)

    def now_int(self) -> int:
        return int(self.now())

    def advance(self, seconds: float) -> float:
        with self._lock:
            self._base += seconds
        return self.now()

    def set(self, epoch: float) -> float:
        with self._lock:
            self._base = float(epoch)
            self._anchor = time.monotonic()
        return self.now()

    def freeze(self, frozen: bool) -> None:
        current = self.now()
        with self._lock:
            self._base = current
            self._anchor = time.monotonic()
            self._frozen = frozen

    @property
    def frozen(self) -> bool:
        return self._frozen
