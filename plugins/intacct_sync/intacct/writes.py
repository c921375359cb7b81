"""Write batches: functions with stable control ids, results mapped back, replayed keys found.

A mixin of IntacctHook: it relies on the hook's ``_send``, ``retrying``, ``read_by_query``,
``_known_secrets``, ``company_timezone`` and ``log``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from lxml import etree

from intacct_sync.intacct import xml_request as rq
from intacct_sync.intacct.errors import (
    IntacctAlreadyRecordedError,
    IntacctError,
    IntacctRecordNotFoundError,
    IntacctResponseError,
    IntacctTransactionAbortedError,
    IntacctTransientError,
    IntacctUnsendableError,
)
from intacct_sync.intacct.reads import READ_MAX_KEYS
from intacct_sync.intacct.xml_response import Result

LEGACY_ACTIONS = frozenset({
    "create_invoice", "create_aradjustment", "create_arpayment", "apply_arpayment",
    "reverse_arpayment", "reverse_invoice", "delete_invoice", "delete_aradjustment",
    "reverse_aradjustment",
})
# Where to find a record again when a uniqueid replay says "already recorded" (§1.4):
# action → (object, {payload field: query field}).
_RECOVERY_LOOKUPS: dict[str, tuple[str, dict[str, str]]] = {
    "create_invoice": ("ARINVOICE", {"invoiceno": "RECORDID", "customerid": "CUSTOMERID"}),
    "create_aradjustment": ("ARADJUSTMENT",
                            {"adjustmentno": "RECORDID", "customerid": "CUSTOMERID"}),
    "create_arpayment": ("ARPYMT", {"refid": "DOCNUMBER", "customerid": "CUSTOMERID"}),
}
# Generic create: the object's business id field.
ID_FIELDS = {
    "CUSTOMER": "CUSTOMERID", "VENDOR": "VENDORID", "PROJECT": "PROJECTID", "CLASS": "CLASSID",
    "LOCATION": "LOCATIONID", "DEPARTMENT": "DEPARTMENTID", "ITEM": "ITEMID",
    "ARINVOICE": "RECORDID", "ARADJUSTMENT": "RECORDID", "CONTACT": "CONTACTNAME",
}


@dataclass(frozen=True)
class WriteFunction:
    """One write of one record: the function, its payload and its deterministic control id.

    :param action: ``create``, ``update``, ``delete`` or a legacy AR function name
        (``create_invoice``, ``create_aradjustment``, ``create_arpayment``,
        ``apply_arpayment``, ``reverse_arpayment``, ``reverse_invoice``, ``delete_invoice``,
        ``delete_aradjustment``, ``reverse_aradjustment``).
    :param object: the Intacct object (``CUSTOMER``, ``ARINVOICE``, …); required for the
        generic functions, used to recover keys for legacy ones.
    :param record_id: the identity of the local record this write belongs to.
    :param fields: the payload, element name → value (nested mappings, lists, dates ok).
    :param key: the Intacct key for ``delete`` and key-attributed legacy functions.
    :param control_id: derived from action, object and record id if empty (plus a payload
        digest for updates), so a replay after a timeout is refused by Intacct itself.
    :param lookup: query fields that find the created record again, used when a replay
        reports "already recorded"; defaults come from the object's id field.
    :param version: the local record's version (e.g. its ``updated_at``), part of the
        control id: pass it for updates, so changing a record back to earlier values is
        still sent instead of being refused as a replay of the first update.
    """

    action: str
    object: str | None
    record_id: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    key: str | None = None
    control_id: str = ""
    lookup: Mapping[str, Any] | None = None
    version: str | None = None

    def __post_init__(self) -> None:
        if self.action not in ("create", "update", "delete") and \
                self.action not in LEGACY_ACTIONS:
            raise ValueError(f"Unsupported write action {self.action!r}")
        if self.action in ("create", "update", "delete") and not self.object:
            raise ValueError(f"{self.action} needs an object")
        if self.action == "delete" and not self.key:
            raise ValueError("delete needs a key")
        if not self.control_id:
            content = self.fields if self.action == "update" else None
            object.__setattr__(self, "control_id", rq.derive_control_id(
                self.action, self.object, str(self.record_id), content=content,
                version=self.version))

    def to_element(self, company_tz: ZoneInfo) -> etree._Element:
        if self.action in ("create", "update"):
            return rq.generic_write(self.control_id, self.action, str(self.object),
                                    self.fields, company_tz)
        if self.action == "delete":
            return rq.generic_delete(self.control_id, str(self.object), [str(self.key)])
        return rq.legacy_write(self.control_id, self.action, self.fields, company_tz,
                               key=self.key)

    def recovery_lookup(self) -> tuple[str, dict[str, Any]] | None:
        """(object, {query field: value}) to find the record this write created."""
        if self.lookup:
            return str(self.object), dict(self.lookup)
        if self.action in _RECOVERY_LOOKUPS:
            obj, mapping = _RECOVERY_LOOKUPS[self.action]
            values = {q: self.fields[p] for p, q in mapping.items() if self.fields.get(p)}
            # The first mapping entry is the document's own number: required.
            first = next(iter(mapping.values()))
            return (obj, values) if first in values else None
        if self.action == "create" and self.object:
            id_field = ID_FIELDS.get(self.object.upper())
            if id_field and self.fields.get(id_field):
                return self.object, {id_field: self.fields[id_field]}
        return None


@dataclass
class WriteResult:
    """The outcome of one :class:`WriteFunction`, mapped back by its control id."""

    function: WriteFunction
    status: str  # success | failure | aborted
    key: str | None = None
    records: list[dict[str, Any]] = field(default_factory=list)
    error: IntacctError | None = None
    already_recorded: bool = False

    @property
    def ok(self) -> bool:
        return self.status == "success"

    @property
    def record_id(self) -> str:
        return self.function.record_id

    @property
    def control_id(self) -> str:
        return self.function.control_id

    def raise_for_error(self) -> None:
        if self.error is not None:
            raise self.error

    def to_dict(self) -> dict[str, Any]:
        """Small, secret-free summary for XCom."""
        return {"record_id": self.record_id, "control_id": self.control_id,
                "action": self.function.action, "status": self.status, "key": self.key,
                "already_recorded": self.already_recorded,
                "error": self.error.to_dict() if self.error else None}


def _str_or_none(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


class WritesMixin:
    """The hook's writes (see the module docstring for what it relies on)."""

    def write_batch(self, functions: Sequence[WriteFunction], *,
                    transaction: bool = False) -> list[WriteResult]:
        """Send writes, many functions per request, ``uniqueid=true``; results in input order.

        Function-level failures come back as ``WriteResult.error`` (one bad record never
        fails the others); function-level transient errors are re-sent (only those
        functions) under the retry policy. A replay Intacct reports as "already recorded
        with the control id" is a success; its key is looked up. Envelope-level failures
        (credentials, exhausted retries) raise.
        """
        ids = [f.control_id for f in functions]
        dupes = {c for c in ids if ids.count(c) > 1}
        if dupes:
            raise ValueError(f"Duplicate function control ids in one batch: {sorted(dupes)}")
        by_id: dict[str, WriteResult] = {}
        size = len(functions) if transaction else max(1, self.functions_per_request)
        for i in range(0, len(functions), size):
            by_id.update(self._write_chunk(functions[i:i + size], transaction))
        results = [by_id[f.control_id] for f in functions]
        self._recover_keys(results)
        return results

    def _write_chunk(self, chunk: Sequence[WriteFunction],
                     transaction: bool) -> dict[str, WriteResult]:
        tz = self.company_timezone
        elements: dict[str, etree._Element] = {}
        done: dict[str, WriteResult] = {}
        for f in chunk:
            try:
                elements[f.control_id] = f.to_element(tz)
            except ValueError as unsendable:  # e.g. a control character XML cannot carry
                if transaction:  # all or nothing: nothing is sent
                    raise
                done[f.control_id] = WriteResult(f, "failure", error=IntacctUnsendableError(
                    str(unsendable), control_id=f.control_id))
        pending = {f.control_id: f for f in chunk if f.control_id in elements}
        if not pending:
            return done
        provisional: dict[str, WriteResult] = {}
        try:
            for attempt in self.retrying():
                with attempt:
                    fns = list(pending.values())
                    resp = self._send([elements[f.control_id] for f in fns], uniqueid=True,
                                      transaction=transaction)
                    transient: IntacctError | None = None
                    for f in fns:
                        results = resp.result_for(f.control_id)
                        if not results:
                            done[f.control_id] = WriteResult(f, "failure", error=(
                                IntacctResponseError(
                                    f"Intacct's answer has no result for control id "
                                    f"{f.control_id}; the next push sends it again under the "
                                    "same control id (if it was applied, Intacct refuses the "
                                    "replay)", control_id=f.control_id, retryable=False)))
                            del pending[f.control_id]
                            continue
                        wr = self._write_result(f, results[0])
                        if isinstance(wr.error, IntacctTransientError) and not transaction:
                            provisional[f.control_id] = wr
                            transient = transient or wr.error
                        else:
                            done[f.control_id] = wr
                            provisional.pop(f.control_id, None)
                            del pending[f.control_id]
                    if transient is not None and pending:
                        raise transient
        except IntacctTransientError:
            if any(cid not in provisional for cid in pending):
                raise
        done.update({cid: provisional[cid] for cid in pending if cid in provisional})
        if transaction and any(r.already_recorded for r in done.values()):
            # A transaction commits all or nothing: if one function of a replayed
            # transaction was already recorded, the whole transaction committed before and
            # the "aborted" siblings (XL03000009 only) are replays too.
            for cid, r in list(done.items()):
                if isinstance(r.error, IntacctTransactionAbortedError) and set(
                        r.error.errornos) == {"XL03000009"}:
                    done[cid] = self._already_recorded(r.function)
        return done

    def _write_result(self, f: WriteFunction, result: Result) -> WriteResult:
        if result.ok:
            records = result.records
            key = result.key
            if key is None and records:
                recordno = records[0].get("RECORDNO")
                key = recordno if isinstance(recordno, str) else None
            if key is None and f.action in ("update", "delete"):
                key = f.key or _str_or_none(f.fields.get("RECORDNO"))
            return WriteResult(f, "success", key=key, records=records)
        err = result.error()
        assert err is not None
        err.scrub(self._known_secrets())
        if isinstance(err, IntacctAlreadyRecordedError):
            return self._already_recorded(f)
        return WriteResult(f, result.status or "failure", error=err)

    def _already_recorded(self, f: WriteFunction) -> WriteResult:
        """A replay Intacct refused as done: a success. Its key is known (updates, deletes,
        keyed functions) or looked up afterwards, with its batch (:meth:`_recover_keys`)."""
        key = None
        if f.action in ("update", "delete") or (f.key and f.action != "apply_arpayment"):
            key = f.key or _str_or_none(f.fields.get("RECORDNO"))
        self.log.info("Write %s was already recorded by Intacct (replay)", f.control_id)
        return WriteResult(f, "success", key=key, already_recorded=True)

    def _recover_keys(self, results: Iterable[WriteResult]) -> None:
        """Find the keys of replayed creates again: one query per object and lookup shape
        for up to 100 writes, not one per write (a dropped answer replays a whole request).
        A write whose record can no longer be found (deleted in Intacct since) fails."""
        groups: dict[tuple[str, tuple[str, ...]], list[tuple[WriteResult, dict]]] = {}
        for r in results:
            lookup = r.function.recovery_lookup() if r.already_recorded and not r.key else None
            if lookup:
                groups.setdefault((lookup[0], tuple(lookup[1])), []).append((r, lookup[1]))
        for (obj, names), items in groups.items():
            for i in range(0, len(items), READ_MAX_KEYS):
                part = items[i:i + READ_MAX_KEYS]
                filter_ = rq.And(*(rq.in_(n, sorted({str(v[n]) for _, v in part}))
                                   for n in names))
                try:
                    found = list(self.read_by_query(obj, ["RECORDNO", *names], filter_))
                except IntacctError as exc:
                    self.log.warning("Could not look up the keys of %d replayed writes: %s",
                                     len(part), exc)
                    continue
                for r, values in part:
                    same = [x for x in found
                            if all(str(x.get(n)) == str(values[n]) for n in names)]
                    if len(same) == 1:
                        r.key = _str_or_none(same[0].get("RECORDNO"))
                    elif not same:
                        r.status, r.error = "failure", IntacctRecordNotFoundError(
                            f"{r.control_id} was already recorded by Intacct, but the record it "
                            "created no longer exists (deleted in Intacct?); resend with a new "
                            "control id", control_id=r.control_id, retryable=False)
                    else:
                        self.log.warning("Lookup of %s in %s found %d records", r.control_id,
                                         obj, len(same))

    def _write_one(self, f: WriteFunction) -> WriteResult:
        return self.write_batch([f])[0]

    def create(self, object: str, record_id: str, fields: Mapping[str, Any], *,  # noqa: A002
               lookup: Mapping[str, Any] | None = None) -> WriteResult:
        """Generic ``create``; ``key`` is the new RECORDNO."""
        return self._write_one(WriteFunction("create", object, record_id, fields,
                                             lookup=lookup))

    def update(self, object: str, record_id: str, fields: Mapping[str, Any]  # noqa: A002
               ) -> WriteResult:
        """Generic ``update`` (identify the record with RECORDNO or its id field)."""
        return self._write_one(WriteFunction("update", object, record_id, fields))

    def delete(self, object: str, key: str, record_id: str | None = None  # noqa: A002
               ) -> WriteResult:
        return self._write_one(WriteFunction("delete", object, record_id or key, key=key))

    def create_invoice(self, record_id: str, fields: Mapping[str, Any]) -> WriteResult:
        """Legacy ``create_invoice``; ``key`` is the ARINVOICE RECORDNO."""
        return self._write_one(WriteFunction("create_invoice", "ARINVOICE", record_id, fields))

    def create_aradjustment(self, record_id: str, fields: Mapping[str, Any]) -> WriteResult:
        """Legacy ``create_aradjustment`` (negative amounts make a credit memo)."""
        return self._write_one(WriteFunction("create_aradjustment", "ARADJUSTMENT", record_id,
                                             fields))

    def create_arpayment(self, record_id: str, fields: Mapping[str, Any]) -> WriteResult:
        return self._write_one(WriteFunction("create_arpayment", "ARPYMT", record_id, fields))

    def apply_arpayment(self, record_id: str, fields: Mapping[str, Any]) -> WriteResult:
        """Legacy ``apply_arpayment`` (apply a credit memo/advance to an invoice)."""
        return self._write_one(WriteFunction("apply_arpayment", "ARPYMT", record_id, fields))

    def reverse_arpayment(self, key: str, datereversed: date, *, record_id: str | None = None,
                          description: str | None = None) -> WriteResult:
        return self._write_one(WriteFunction(
            "reverse_arpayment", "ARPYMT", record_id or key,
            {"datereversed": datereversed, "description": description}, key=key))

    def reverse_invoice(self, key: str, datereversed: date, *, record_id: str | None = None,
                        description: str | None = None) -> WriteResult:
        """Void a posted invoice by reversing it (a reversal record is added)."""
        return self._write_one(WriteFunction(
            "reverse_invoice", "ARINVOICE", record_id or key,
            {"datereversed": datereversed, "description": description}, key=key))

    def delete_invoice(self, key: str, record_id: str | None = None) -> WriteResult:
        return self._write_one(WriteFunction("delete_invoice", "ARINVOICE", record_id or key,
                                             key=key))

    def delete_aradjustment(self, key: str, record_id: str | None = None) -> WriteResult:
        return self._write_one(WriteFunction("delete_aradjustment", "ARADJUSTMENT",
                                             record_id or key, key=key))
