"""The sandbox company: seeded data, clock, sessions, faults and activity, without HTTP."""

from __future__ import annotations

import dataclasses
import sys
import threading

from . import config
from .activity import Activity
from .clock import SandboxClock
from .faults import Faults
from .formatting import TimeZoneFormatter
from .function_context import ResultSets
from .gateway import Gateway
from .seed_data import SCALES, ScaleSpec, World
from .sessions import Authenticator
from .store import Store
from .write_log import WriteLog


def resolve_scale(scale: str, invoices: int | None = None, customers: int | None = None,
                  adjustments: int | None = None, history_days: int | None = None) -> ScaleSpec:
    """A named scale, optionally with explicit counts (``--invoices 50000``)."""
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    spec = SCALES[scale]
    if invoices is not None:
        ratio = invoices / max(1, spec.invoices)
        spec = dataclasses.replace(
            spec, invoices=invoices, customers=max(3, int(spec.customers * min(ratio, 1) + 0.5)
                                                   if customers is None else spec.customers),
            adjustments=max(1, invoices // 10))
    if customers is not None:
        spec = dataclasses.replace(spec, customers=customers)
    if adjustments is not None:
        spec = dataclasses.replace(spec, adjustments=adjustments)
    if history_days is not None:
        spec = dataclasses.replace(spec, history_days=history_days)
    return spec


class Sandbox:
    """One company: everything it holds is its own (data, clock, sessions, faults, writes)."""

    def __init__(self, seed: int = 1, spec: ScaleSpec | None = None,
                 timezone: str = config.DEFAULT_TIMEZONE, start_time: float | None = None,
                 frozen_clock: bool = False, options: config.SandboxOptions | None = None,
                 faults: list[str] | None = None, quiet: bool = True,
                 company: config.CompanySpec | None = None) -> None:
        self.company = company or config.CompanySpec(config.COMPANY_ID)
        self.company_id = self.company.company_id
        self.entity_ids = self.company.entity_ids
        self.seed = seed
        self.spec = spec or SCALES["small"]
        self.timezone = timezone
        self.options = options or config.SandboxOptions()
        self.quiet = quiet
        self.start_time = start_time
        self.frozen_clock = frozen_clock
        self.gateway_url = f"http://127.0.0.1:{config.DEFAULT_PORT}{config.GATEWAY_PATH}"
        self.faults = Faults(seed)
        for spec_text in faults or []:
            self.faults.parse_cli(spec_text)
        self._build()

    def _build(self) -> None:
        self.clock = SandboxClock(self.start_time, self.frozen_clock)
        if self.start_time is None:
            self.start_time = self.clock.now()
        self.tz = TimeZoneFormatter(self.timezone)
        end = self.options.history_end or int(self.clock.now()) - 300
        self.world = World(self.seed, self.spec, int(end), self.tz)
        self.store = Store(self.world, self.tz)
        self.authenticator = Authenticator(self.clock, self.options.session_duration_seconds,
                                           self.company)
        self.result_sets = ResultSets(self.options.resultid_ttl_seconds, self.options.resultid_max)
        self.write_log = WriteLog()
        self.activity = Activity(self, self.seed)
        self.gateway = Gateway(self)
        self._seed_deletions()

    def _seed_deletions(self) -> None:
        """Some old draft invoices were deleted (AUDITHISTORY 'Delete' rows, tombstones)."""
        w = self.world
        wanted = max(1, w.n_inv // 2000)
        found = 0
        i = 4
        while i < w.n_inv and found < wanted:
            if w.invoice_kind(i) == "Draft":
                self.store.delete("ARINVOICE", w.invoice_recordno(i), w.inv_time(i) + 86400)
                found += 1
            i += 5
        self.store.state.version = 0

    def reset(self) -> None:
        """Back to the freshly seeded company: data, clock, sessions, resultIds, write log."""
        with self.store.lock:
            self.faults.clear()
            self._build()

    def tick(self) -> None:
        """Commit late batches whose time has come (called on every request)."""
        if self.activity.pending:
            self.activity.commit_due(self.clock.now())

    def log(self, message: str) -> None:
        if not self.quiet:
            print(f"[intacct-sandbox] {message}", file=sys.stderr, flush=True)

    @property
    def lock(self) -> threading.RLock:
        return self.store.lock
