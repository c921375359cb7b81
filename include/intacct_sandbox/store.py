"""Record store: lazily generated base records plus an overlay of everything that changed.

The overlay maps RECORDNO to the current record (or ``None`` for a deleted one). Overlay dicts
are replaced, never mutated, on every write, so a readByQuery snapshot or a transaction
savepoint is just a reference to the dicts of that moment.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from . import contacts
from .conditions import And, Between, Compare, ConditionCompiler, InList, Node, range_hints
from .formatting import Stamp, TimeZoneFormatter, UtcStamp, parse_date_literal
from .object_definitions import OBJECTS, is_known_field
from .seed_data import Segment, World

TOMBSTONE = None


class KeyList:
    """An ordered list of RECORDNOs stored as runs (ranges or lists) so 1M keys stay small."""

    def __init__(self) -> None:
        self.runs: list[range | list[int]] = []
        self.size = 0

    def add_run(self, run: range | list[int]) -> None:
        if len(run):
            self.runs.append(run)
            self.size += len(run)

    def __len__(self) -> int:
        return self.size

    def slice(self, start: int, count: int) -> list[int]:
        out: list[int] = []
        pos = 0
        for run in self.runs:
            n = len(run)
            if pos + n <= start:
                pos += n
                continue
            lo = max(0, start - pos)
            take = run[lo: lo + (count - len(out))]
            out.extend(take)
            if len(out) >= count:
                break
            pos += n
        return out

    def __iter__(self) -> Iterator[int]:
        for run in self.runs:
            yield from run

    @classmethod
    def of(cls, keys: list[int]) -> KeyList:
        kl = cls()
        kl.add_run(keys)
        return kl


@dataclass
class StoreState:
    """Everything a transaction must be able to roll back."""

    overlay: dict[str, dict[int, dict | None]]
    children: dict[tuple[str, int], tuple[int, ...]]
    ids: dict[str, dict[str, int]]
    next_recordno: dict[str, int]
    version: int


def visible_to(entity: str | None, record: dict) -> bool:
    """An entity sees its own records and top-level ones; the top level (no entity) sees all.

    The one rule for reads and writes alike (README "Multi-entity")."""
    return not entity or (record.get("MEGAENTITYID") or "") in (entity, "")


CHILD_OF = {"ARINVOICE": "ARINVOICEITEM", "ARADJUSTMENT": "ARADJUSTMENTITEM",
            "ARPYMT": "ARPYMTDETAIL", "SODOCUMENT": "SODOCUMENTENTRY"}
# Objects without seeded segments: every record lives in the overlay (a few, seeded by their
# own module).
OVERLAY_ONLY = (contacts.OBJECT,)
ID_FIELDS = {contacts.OBJECT: "CONTACTNAME", "CUSTOMER": "CUSTOMERID",
             "ARINVOICE": "RECORDID", "ARADJUSTMENT": "RECORDID",
             "SODOCUMENT": "DOCID", "LOCATIONENTITY": "LOCATIONID"}
# The field of a child record that holds its parent's RECORDNO.
PARENT_KEY = {"ARINVOICEITEM": ("ARINVOICE", "RECORDKEY"),
              "ARADJUSTMENTITEM": ("ARADJUSTMENT", "RECORDKEY"),
              "ARPYMTDETAIL": ("ARPYMT", "PAYMENTKEY"),
              "SODOCUMENTENTRY": ("SODOCUMENT", "DOCHDRNO")}


class Store:
    def __init__(self, world: World, tz: TimeZoneFormatter) -> None:
        self.world = world
        self.tz = tz
        self.lock = threading.RLock()
        self.segments = world.segments
        names = (*self.segments, *OVERLAY_ONLY)
        self.state = StoreState(
            overlay={name: {} for name in names},
            children={}, ids={name: {} for name in ID_FIELDS},
            next_recordno={name: self._first_free(name) for name in names},
            version=0)
        self._cache: dict[tuple, object] = {}
        self._child_base = self._base_children()
        contacts.seed(self, world)

    # ----------------------------------------------------------------- state
    def _first_free(self, name: str) -> int:
        top = max((s.first_recordno + s.count for s in self.segments.get(name, ())), default=0)
        return max(top + 10_000, 2_000_001)

    def savepoint(self) -> StoreState:
        s = self.state
        return StoreState(dict(s.overlay), dict(s.children),
                          {k: dict(v) for k, v in s.ids.items()}, dict(s.next_recordno),
                          s.version)

    def restore(self, saved: StoreState) -> None:
        self.state = saved
        self.state.version += 1_000_000  # invalidate caches built on the abandoned state

    @property
    def version(self) -> int:
        return self.state.version

    # ----------------------------------------------------------------- lookups
    def segment_of(self, name: str, recordno: int) -> tuple[Segment, int] | None:
        for seg in self.segments.get(name, ()):
            i = seg.index_of(recordno)
            if i is not None:
                return seg, i
        return None

    def get(self, name: str, recordno: int, overlay: dict | None = None) -> dict | None:
        ov = self.state.overlay[name] if overlay is None else overlay
        if recordno in ov:
            return ov[recordno]
        found = self.segment_of(name, recordno)
        if found is None:
            return None
        seg, i = found
        return seg.make(i)

    def find_by_id(self, name: str, value: str) -> dict | None:
        """Business-key lookup (CUSTOMERID, invoice/adjustment RECORDID, DOCID)."""
        rn = self.state.ids.get(name, {}).get(value)
        if rn is not None:
            return self.get(name, rn)
        rn = self._base_id_to_recordno(name, value)
        if rn is None:
            return None
        rec = self.get(name, rn)
        if rec is not None and rec.get(ID_FIELDS[name]) == value:
            return rec
        return None

    def _base_id_to_recordno(self, name: str, value: str) -> int | None:
        w = self.world
        try:
            if name == "CUSTOMER" and value.startswith("C-"):
                c = int(value[2:]) - 1
                return c + 1 if 0 <= c < w.n_cust else None
            if name == "ARINVOICE" and value.startswith("INV-"):
                i = int(value[4:]) - 1
                return w.invoice_recordno(i) if 0 <= i < w.n_inv else None
            if name == "ARADJUSTMENT" and value.startswith("CM-"):
                a = int(value[3:]) - 1
                return 3001 + a if 0 <= a < w.n_adj else None
            if name == "LOCATIONENTITY":
                return w.entity_recordno(value)
            if name == "SODOCUMENT" and value.startswith("Sales Invoice-INV-"):
                i = int(value.rsplit("-", 1)[1]) - 1
                return 100_001 + (i - 1) // 3 if 0 <= i < w.n_inv and i % 3 == 1 else None
        except ValueError:
            return None
        return None

    def _base_children(self) -> dict[str, Callable[[int], list[int]]]:
        w = self.world

        def lines(layout, parent_first: int, child_first: int) -> Callable[[int], list[int]]:
            def of(recordno: int) -> list[int]:
                i = recordno - parent_first
                if not 0 <= i < layout.parents:
                    return []
                return list(range(child_first + layout.first_line(i),
                                  child_first + layout.first_line(i + 1)))
            return of

        inv = lines(w.inv_lines, 1001, 20_001)
        adj = lines(w.adj_lines, 3001, 60_001)
        so_segs = self.segments["SODOCUMENT"]
        entry_segs = self.segments["SODOCUMENTENTRY"]
        so_layouts = [w.so_inv_lines, w.so_ret_lines, w.so_draft_lines]
        so = [lines(lay, s.first_recordno, e.first_recordno)
              for lay, s, e in zip(so_layouts, so_segs, entry_segs, strict=True)]
        pay_segs = self.segments["ARPYMT"]
        det_segs = self.segments["ARPYMTDETAIL"]

        def payment_details(recordno: int) -> list[int]:
            for pseg, dseg in zip(pay_segs, det_segs, strict=True):
                i = pseg.index_of(recordno)
                if i is not None:
                    return [dseg.first_recordno + i]
            return []

        def sodoc_entries(recordno: int) -> list[int]:
            for fn in so:
                found = fn(recordno)
                if found:
                    return found
            return []

        return {"ARINVOICE": inv, "ARADJUSTMENT": adj, "ARPYMT": payment_details,
                "SODOCUMENT": sodoc_entries}

    def children(self, parent: str, recordno: int, overlay: dict | None = None) -> list[dict]:
        child = CHILD_OF.get(parent)
        if child is None:
            return []
        keys = self.state.children.get((parent, recordno))
        if keys is None:
            keys = tuple(self._child_base[parent](recordno))
        out = []
        for rn in keys:
            rec = self.get(child, rn, overlay)
            if rec is not None:
                out.append(rec)
        return out

    # ----------------------------------------------------------------- selection
    def select(self, name: str, condition: Node | None, *, docparid: str | None = None,
               entity: str | None = None, case_insensitive: bool = False) -> tuple[KeyList, dict]:
        """Keys of matching records (base runs first, then overlay) and the overlay used."""
        cache_key = ("select", name, repr(condition), docparid, entity, case_insensitive,
                     self.state.version)
        cached = self._cache.get(cache_key)
        if cached is not None:
            return cached  # type: ignore[return-value]
        obj = OBJECTS[name]
        compiler = ConditionCompiler(name, self.tz, case_insensitive,
                                     known_field=lambda f: is_known_field(obj, f))
        pred = compiler.compile(condition)
        by_parent = self._select_by_parent(name, condition, pred, docparid, entity)
        if by_parent is not None:
            self._remember(cache_key, by_parent)
            return by_parent
        hints = range_hints(condition, self.tz)
        trivial = condition is None or _only_range_terms(condition)
        overlay = self.state.overlay[name]
        keys = KeyList()
        for seg in self.segments.get(name, ()):
            if docparid is not None and seg.docparid != docparid:
                continue
            lo, hi = 0, seg.count
            rn_hint = hints.get("RECORDNO")
            if rn_hint is not None:
                if rn_hint.low is not None:
                    lo = max(lo, rn_hint.low - seg.first_recordno)
                if rn_hint.high is not None:
                    hi = min(hi, rn_hint.high - seg.first_recordno + 1)
            wm_hint = hints.get("WHENMODIFIED")
            if wm_hint is not None:
                wlo, whi = seg.bisect_wm(wm_hint.low, wm_hint.high)
                lo, hi = max(lo, wlo), min(hi, whi)
            for sorted_field in seg.sorted_fields:
                hint = hints.get(sorted_field)
                if hint is not None and lo < hi:
                    # Whole days: a date field compared with a literal that has a time matches
                    # on the date, so the bounds are widened to the days they fall in.
                    flo, fhi = seg.bisect_field(
                        sorted_field, self._epoch,
                        None if hint.low is None else self._day_start(hint.low, 0),
                        None if hint.high is None else self._day_start(hint.high, 1) - 1)
                    lo, hi = max(lo, flo), min(hi, fhi)
            if lo >= hi:
                continue
            check_null = wm_hint is not None and lo < seg.null_wm_below
            if trivial and not entity and not check_null:
                _add_range_minus(keys, seg.first_recordno + lo, seg.first_recordno + hi, overlay)
                continue
            run: list[int] = []
            first = seg.first_recordno
            ent = seg.entity
            make = seg.make
            members = rn_hint.members if rn_hint is not None else None
            indices = (range(lo, hi) if members is None
                       else sorted(m - first for m in members if lo <= m - first < hi))
            for i in indices:
                rn = first + i
                if rn in overlay:
                    continue
                if entity and ent(i) not in (entity, ""):
                    continue
                if trivial and not (check_null and i < seg.null_wm_below):
                    run.append(rn)
                    continue
                if pred(make(i)):
                    run.append(rn)
            keys.add_run(run)
        extra = []
        for rn in sorted(overlay):
            rec = overlay[rn]
            if rec is None:
                continue
            if docparid is not None and rec.get("DOCPARID") != docparid:
                continue
            if not visible_to(entity, rec):
                continue
            if pred(rec):
                extra.append(rn)
        keys.add_run(extra)
        result = (keys, overlay)
        self._remember(cache_key, result)
        return result

    def _day_start(self, epoch: int, days_after: int) -> int:
        """Local midnight of the day `epoch` falls in, `days_after` days later."""
        day = self.tz.local_date(epoch) + dt.timedelta(days=days_after)
        return self.tz.to_epoch(dt.datetime(day.year, day.month, day.day))

    def _epoch(self, value: object) -> int:
        """A date or timestamp field's value as epoch seconds (dates: local midnight)."""
        if isinstance(value, int):
            return int(value)
        if isinstance(value, dt.date):
            return self.tz.to_epoch(dt.datetime(value.year, value.month, value.day))
        raise TypeError(f"not a date: {value!r}")

    def _select_by_parent(self, name: str, condition: Node | None, pred: Callable[[dict], bool],
                          docparid: str | None, entity: str | None
                          ) -> tuple[KeyList, dict] | None:
        """Children asked for by their parents' keys (``DOCHDRNO IN (…)``, ``PAYMENTKEY =
        …``): read them through the parent's child index instead of scanning every line,
        as a database would use its foreign-key index. None when the condition does not
        pin the parent key."""
        if name not in PARENT_KEY or condition is None:
            return None
        parent, field = PARENT_KEY[name]
        parents: set[int] | None = None
        for term in condition.children if isinstance(condition, And) else [condition]:
            values = None
            if isinstance(term, InList) and not term.negate and term.field.upper() == field:
                values = term.values
            elif isinstance(term, Compare) and term.op == "=" and term.field.upper() == field:
                values = [term.value]
            if values is not None:
                try:
                    keys = {int(Decimal(v)) for v in values}
                except (InvalidOperation, ValueError):
                    return None
                parents = keys if parents is None else parents & keys
        if parents is None:
            return None
        overlay = self.state.overlay[name]
        found: list[int] = []
        for parent_rn in sorted(parents):
            for record in self.children(parent, parent_rn):
                if docparid is not None and record.get("DOCPARID") != docparid:
                    continue
                if not visible_to(entity, record):
                    continue
                if pred(record):
                    found.append(int(record["RECORDNO"]))
        keys = KeyList()
        keys.add_run(sorted(found))
        return keys, overlay

    def _remember(self, key: tuple, value: object) -> None:
        if len(self._cache) > 32:
            self._cache.pop(next(iter(self._cache)))
        self._cache[key] = value

    def sorted_keys(self, name: str, keys: KeyList, overlay: dict,
                    order: list[tuple[str, bool]]) -> KeyList:
        """Apply a ``query`` orderby (NULLs last ascending, first descending, as Oracle)."""
        if not order:
            return keys
        cache_key = ("sort", name, id(keys), len(keys), tuple(order), self.state.version)
        cached = self._cache.get(cache_key)
        if cached is not None:
            return cached  # type: ignore[return-value]
        all_keys = list(keys)
        if order == [("RECORDNO", False)]:
            all_keys.sort()
        elif order == [("RECORDNO", True)]:
            all_keys.sort(reverse=True)
        else:
            records = {rn: self.get(name, rn, overlay) or {} for rn in all_keys}
            for field_name, descending in reversed(order):
                def sort_key(rn: int, f: str = field_name) -> tuple:
                    v = records[rn].get(f)
                    if v is None or v == "":
                        return (1, 0)
                    return (0, v)
                all_keys.sort(key=sort_key, reverse=descending)
        result = KeyList.of(all_keys)
        self._remember(cache_key, result)
        return result

    # ----------------------------------------------------------------- mutations
    def _set(self, name: str, recordno: int, record: dict | None) -> None:
        s = self.state
        s.overlay = {**s.overlay, name: {**s.overlay[name], recordno: record}}
        s.version += 1
        ident = ID_FIELDS.get(name)
        if ident and record is not None and record.get(ident):
            s.ids[name] = {**s.ids[name], record[ident]: recordno}

    def allocate(self, name: str) -> int:
        rn = self.state.next_recordno[name]
        self.state.next_recordno = {**self.state.next_recordno, name: rn + 1}
        return rn

    def insert(self, name: str, record: dict, when: int) -> dict:
        """Add a new record; stamps RECORDNO, WHENCREATED/WHENMODIFIED and AUWHENCREATED."""
        rec = dict(record)
        rec["RECORDNO"] = rec.get("RECORDNO") or self.allocate(name)
        rec.setdefault("WHENCREATED", Stamp(when) if name in ("CUSTOMER",) or "ITEM" in name
                       or name.endswith("DETAIL") or name.endswith("ENTRY")
                       else self.tz.local_date(when))
        rec["WHENMODIFIED"] = Stamp(when)
        if "AUWHENCREATED" in OBJECTS[name].field_set:
            rec.setdefault("AUWHENCREATED", UtcStamp(when))
        rec.setdefault("CREATEDBY", 7)
        rec.setdefault("MODIFIEDBY", 7)
        self._set(name, rec["RECORDNO"], rec)
        if name != "AUDITHISTORY":
            self.audit(name, rec, "C", when)
        return rec

    def attach_children(self, parent: str, recordno: int, child_keys: list[int]) -> None:
        s = self.state
        s.children = {**s.children, (parent, recordno): tuple(child_keys)}

    def update(self, name: str, recordno: int, changes: dict, when: int) -> dict | None:
        current = self.get(name, recordno)
        if current is None:
            return None
        rec = {**current, **changes, "WHENMODIFIED": Stamp(when), "MODIFIEDBY": 7}
        self._set(name, recordno, rec)
        self.audit(name, rec, "M", when)
        return rec

    def delete(self, name: str, recordno: int, when: int) -> bool:
        current = self.get(name, recordno)
        if current is None:
            return False
        for child in self.children(name, recordno):
            self._set(CHILD_OF[name], child["RECORDNO"], TOMBSTONE)
        self._set(name, recordno, TOMBSTONE)
        ident = ID_FIELDS.get(name)
        if ident and current.get(ident) in self.state.ids[name]:
            ids = dict(self.state.ids[name])
            ids.pop(current[ident])
            self.state.ids[name] = ids
        self.audit(name, current, "D", when)
        return True

    def audit(self, name: str, record: dict, mode: str, when: int) -> None:
        """AUDITHISTORY row: OBJECTTYPE is the lowercase object, OBJECTKEY the RECORDNO."""
        rn = self.allocate("AUDITHISTORY")
        row = {
            "RECORDNO": rn, "ID": rn, "OBJECTTYPE": name.lower(),
            "OBJECTKEY": str(record.get("RECORDNO")),
            "OBJECTDESC": str(record.get(ID_FIELDS.get(name, "RECORDNO"))
                              or record.get("RECORDNO")),
            "USERID": "ws_sync" if mode != "D" or name != "ARINVOICE" else "jdoe",
            "USERKEY": 7, "ACCESSTIME": Stamp(when),
            "ACCESSMODE": {"C": "Create", "D": "Delete", "M": "Modify"}[mode],
            "SOURCE": "api", "IPADDRESS": "10.0.0.7",
            "MEGAENTITYID": record.get("MEGAENTITYID"),
            "WHENMODIFIED": Stamp(when), "WHENCREATED": Stamp(when),
        }
        self._set("AUDITHISTORY", rn, row)

    # ----------------------------------------------------------------- ground truth helpers
    def iter_records(self, name: str, docparid: str | None = None,
                     entity: str | None = None) -> Iterator[dict]:
        keys, overlay = self.select(name, None, docparid=docparid, entity=entity)
        for rn in keys:
            rec = self.get(name, rn, overlay)
            if rec is not None:
                yield rec


def _only_range_terms(node: Node) -> bool:
    terms = node.children if isinstance(node, And) else [node]
    for term in terms:
        if isinstance(term, (Compare, Between)) and term.field.upper() in ("WHENMODIFIED",
                                                                           "RECORDNO"):
            if isinstance(term, Compare) and term.op == "!=":
                return False
            values = [term.value] if isinstance(term, Compare) else [term.low, term.high]
            if term.field.upper() == "RECORDNO":
                if not all(v.strip().lstrip("-").isdigit() for v in values):
                    return False
            elif not all(parse_date_literal(v) is not None for v in values):
                return False
            continue
        return False
    return True


def _add_range_minus(keys: KeyList, start: int, stop: int, overlay: dict) -> None:
    """Add [start, stop) minus overlay keys, splitting the range around them."""
    cut = sorted(rn for rn in overlay if start <= rn < stop)
    pos = start
    for rn in cut:
        keys.add_run(range(pos, rn))
        pos = rn + 1
    keys.add_run(range(pos, stop))
