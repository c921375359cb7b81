"""The ``/_sandbox/`` JSON API: ground truth and control, outside the Intacct protocol.

Tie-out tests compare what a sync loaded with what the sandbox holds (counts and sums per
object, entity, state and currency; record dumps), inspect every write received, and drive the
clock, faults and company activity. Endpoints are listed in README.md.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from . import config
from .conditions import QueryError
from .formatting import Stamp
from .object_definitions import OBJECTS, lookup_object
from .readbyquery_language import parse_readbyquery

if TYPE_CHECKING:
    from .sandbox import Sandbox

AMOUNT_FIELDS = {
    "ARINVOICE": ("TRX_TOTALENTERED", "TRX_TOTALPAID", "TRX_TOTALDUE", "TOTALENTERED",
                  "TOTALPAID", "TOTALDUE"),
    "ARADJUSTMENT": ("TRX_TOTALENTERED", "TRX_TOTALPAID", "TRX_TOTALDUE", "TOTALENTERED",
                     "TOTALPAID", "TOTALDUE"),
    "ARPYMT": ("TRX_TOTALENTERED", "TOTALENTERED"),
    "ARINVOICEITEM": ("TRX_AMOUNT", "AMOUNT"), "ARADJUSTMENTITEM": ("TRX_AMOUNT", "AMOUNT"),
    "ARPYMTDETAIL": ("TRX_PAYMENTAMOUNT", "PAYMENTAMOUNT", "TRX_ADJUSTMENTAMOUNT",
                     "ADJUSTMENTAMOUNT"),
    "SODOCUMENT": ("TRX_TOTAL", "TOTAL", "TRX_TOTALPAID"),
    "SODOCUMENTENTRY": ("TRX_VALUE", "VALUE"),
    "CUSTOMER": (), "AUDITHISTORY": (),
}
STATE_FIELD = {"CUSTOMER": "STATUS", "CONTACT": "STATUS", "AUDITHISTORY": "ACCESSMODE",
               "LOCATIONENTITY": "STATUS"}


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _num(value: Decimal) -> float:
    return float(value)


class GroundTruth:
    def __init__(self, sandbox: Sandbox) -> None:
        self.sb = sandbox
        self._summary_cache: dict[tuple, dict] = {}

    # ------------------------------------------------------------------ dispatch
    def handle(self, method: str, path: str, query: str, body: bytes) -> tuple[int, dict]:
        params = {k: v[-1] for k, v in parse_qs(query).items()}
        payload: dict = {}
        if body:
            try:
                payload = json.loads(body)
            except json.JSONDecodeError as exc:
                return 400, {"error": f"invalid JSON body: {exc}"}
        route = path[len("/_sandbox"):].strip("/") or "config"
        handler = getattr(self, f"{method.lower()}_{route.replace('/', '_')}", None)
        if handler is None:
            return 404, {"error": f"no endpoint {method} {path}"}
        try:
            self.sb.tick()
            return 200, handler(params, payload)
        except ApiError as exc:
            return exc.status, {"error": str(exc)}
        except (ValueError, KeyError, QueryError) as exc:
            return 400, {"error": str(exc)}

    # ------------------------------------------------------------------ info
    def get_health(self, params: dict, body: dict) -> dict:
        return {"ok": True}

    def get_config(self, params: dict, body: dict) -> dict:
        sb = self.sb
        w = sb.world
        return {
            "url": sb.gateway_url, **credentials(sb.gateway_url),
            "seed": sb.seed, "scale": sb.spec.__dict__, "timezone": sb.timezone,
            "history": {"start": sb.tz.format_value(_stamp(w.start)),
                        "end": sb.tz.format_value(_stamp(w.end))},
            "options": {k: v for k, v in sb.options.__dict__.items() if k != "extra"},
            "base_counts": {name: sum(s.count for s in segs)
                            for name, segs in sb.store.segments.items()},
        }

    # ------------------------------------------------------------------ ground truth
    def _obj(self, params: dict) -> str:
        name = params.get("object", "")
        obj = lookup_object(name)
        if obj is None or obj.name == "ARPAYMENT":
            raise ApiError(404, f"unknown object {name!r}; known: {', '.join(OBJECTS)}")
        return obj.name

    def get_summary(self, params: dict, body: dict) -> dict:
        """Counts and amount sums per object, entity, state and currency."""
        if "object" not in params:
            return {name: self._summary(name, None, None)
                    for name in AMOUNT_FIELDS}
        return self._summary(self._obj(params), params.get("docparid"), params.get("entity"))

    def _summary(self, name: str, docparid: str | None, entity: str | None) -> dict:
        store = self.sb.store
        key = (name, docparid, entity, store.version)
        cached = self._summary_cache.get(key)
        if cached is not None:
            return cached
        fields = AMOUNT_FIELDS.get(name, ())
        state_field = STATE_FIELD.get(name, "STATE")

        def bucket() -> dict:
            return {"count": 0, **{f: Decimal(0) for f in fields}}

        total = bucket()
        groups: dict[str, dict[str, dict]] = {"by_entity": {}, "by_state": {}, "by_currency": {}}
        with store.lock:
            for rec in store.iter_records(name, docparid=docparid, entity=entity):
                labels = {"by_entity": rec.get("MEGAENTITYID") or "",
                          "by_state": str(rec.get(state_field) or ""),
                          "by_currency": rec.get("CURRENCY") or ""}
                targets = [total] + [groups[g].setdefault(v, bucket()) for g, v in labels.items()]
                for b in targets:
                    b["count"] += 1
                    for f in fields:
                        v = rec.get(f)
                        if v is not None:
                            b[f] += v

        def jsonify(b: dict) -> dict:
            return {k: (_num(v) if isinstance(v, Decimal) else v) for k, v in b.items()}

        result = {"object": name, "docparid": docparid, "entity": entity, **jsonify(total),
                  **{g: {k: jsonify(v) for k, v in sorted(d.items())} for g, d in groups.items()}}
        if len(self._summary_cache) > 64:
            self._summary_cache.clear()
        self._summary_cache[key] = result
        return result

    def _record_json(self, rec: dict) -> dict:
        to_json = self.sb.tz.to_json
        return {k: to_json(v) for k, v in rec.items() if not k.startswith("_")}

    def get_records(self, params: dict, body: dict) -> dict:
        """Paged record dump; filter with ``query`` (readByQuery syntax), ``since``, ``entity``."""
        name = self._obj(params)
        offset = int(params.get("offset", 0))
        limit = min(int(params.get("limit", 100)), 10_000)
        text = params.get("query", "")
        if params.get("since"):
            clause = f"WHENMODIFIED >= '{params['since']}'"
            text = f"({text}) AND {clause}" if text else clause
        store = self.sb.store
        with store.lock:
            keys, overlay = store.select(name, parse_readbyquery(text).condition,
                                         docparid=params.get("docparid"),
                                         entity=params.get("entity"))
            page = [store.get(name, rn, overlay) for rn in keys.slice(offset, limit)]
        return {"object": name, "total": len(keys), "offset": offset,
                "records": [self._record_json(r) for r in page if r is not None]}

    def get_record(self, params: dict, body: dict) -> dict:
        name = self._obj(params)
        rec = self.sb.store.get(name, int(params["recordno"]))
        if rec is None:
            raise ApiError(404, f"{name} {params['recordno']} does not exist (or was deleted)")
        out = self._record_json(rec)
        children = self.sb.store.children(name, rec["RECORDNO"])
        if children:
            out["_children"] = [self._record_json(c) for c in children]
        return out

    def get_writes(self, params: dict, body: dict) -> dict:
        entries = self.sb.write_log.entries(int(params.get("since", 0)), params.get("function"),
                                            params.get("controlid"))
        return {"count": len(entries), "writes": entries}

    # ------------------------------------------------------------------ control
    def get_faults(self, params: dict, body: dict) -> dict:
        o = self.sb.options
        return {**self.sb.faults.to_json(), "max_concurrent": o.max_concurrent,
                "concurrency_wait_seconds": o.concurrency_wait_seconds,
                "resultid_ttl_seconds": o.resultid_ttl_seconds,
                "live_resultids": len(self.sb.result_sets)}

    def post_faults(self, params: dict, body: dict) -> dict:
        o = self.sb.options
        if "max_concurrent" in body:
            o.max_concurrent = int(body["max_concurrent"])
        if "concurrency_wait_seconds" in body:
            o.concurrency_wait_seconds = float(body["concurrency_wait_seconds"])
        if "payment_batch_required" in body:  # the company's A/R summary-posting setting
            o.payment_batch_required = bool(body["payment_batch_required"])
        if "resultid_ttl_seconds" in body:
            o.resultid_ttl_seconds = int(body["resultid_ttl_seconds"])
            self.sb.result_sets.ttl = o.resultid_ttl_seconds
        expired = self.sb.result_sets.expire_all() if body.get("expire_resultids") else 0
        self.sb.faults.configure(body)
        return {**self.get_faults(params, {}), "expired_resultids": expired}

    def get_clock(self, params: dict, body: dict) -> dict:
        sb = self.sb
        now = sb.clock.now()
        return {"epoch": now, "iso": sb.tz.iso_with_offset(int(now)),
                "local": sb.tz.format_value(_stamp(int(now))), "timezone": sb.timezone,
                "frozen": sb.clock.frozen, "pending_late_batches": sb.activity.pending_json()}

    def post_clock(self, params: dict, body: dict) -> dict:
        clock = self.sb.clock
        if "freeze" in body:
            clock.freeze(bool(body["freeze"]))
        if "set" in body:
            value = body["set"]
            if isinstance(value, (int, float)):
                clock.set(float(value))
            else:
                moment = dt.datetime.fromisoformat(str(value))
                if moment.tzinfo is None:
                    moment = moment.replace(tzinfo=self.sb.tz.zone)
                clock.set(moment.timestamp())
        if "advance_seconds" in body:
            clock.advance(float(body["advance_seconds"]))
        committed = self.sb.activity.commit_due(clock.now())
        return {**self.get_clock(params, {}), "committed": committed}

    def get_activity(self, params: dict, body: dict) -> dict:
        return {"pending_late_batches": self.sb.activity.pending_json()}

    def post_activity(self, params: dict, body: dict) -> dict:
        steps = int(body.get("steps", 10))
        events = self.sb.activity.run(steps, body.get("actions"))
        return {"events": events}

    def post_edit(self, params: dict, body: dict) -> dict:
        """Change fields of one record the way a person in Intacct's UI does (WHENMODIFIED
        moves), without the gateway's checks: a test can store what no XML request could
        carry — a 10 MB name, a vertical tab, U+FFFE — and see how a client reads it back.
        ``repeat`` repeats every text value (a 10 MB name without a 10 MB body)."""
        obj = lookup_object(str(body.get("object", "")))
        if obj is None:
            raise ApiError(400, f"unknown object {body.get('object')!r}")
        repeat = int(body.get("repeat", 1))
        changes = {str(k).upper(): v * repeat if isinstance(v, str) else v
                   for k, v in dict(body.get("set") or {}).items()}
        unknown = sorted(set(changes) - obj.field_set)
        if unknown:
            raise ApiError(400, f"{obj.name} has no field {', '.join(unknown)}")
        store = self.sb.store
        with store.lock:
            rec = store.update(obj.name, int(body["recordno"]), changes, int(self.sb.clock.now()))
        if rec is None:
            raise ApiError(404, f"{obj.name} {body['recordno']} does not exist (or was deleted)")
        return {"object": obj.name, "recordno": rec["RECORDNO"],
                "whenmodified": self.sb.tz.format_value(rec["WHENMODIFIED"])}

    def post_reset(self, params: dict, body: dict) -> dict:
        self.sb.reset()
        self._summary_cache.clear()
        return {"ok": True}

    def get_sessions(self, params: dict, body: dict) -> dict:
        return {"live_sessions": len(self.sb.authenticator.sessions)}

    def post_sessions_invalidate(self, params: dict, body: dict) -> dict:
        return {"invalidated": self.sb.authenticator.invalidate(body.get("sessionid"))}

    def post_resultids_expire(self, params: dict, body: dict) -> dict:
        return {"expired": self.sb.result_sets.expire_all()}


def _stamp(epoch: int) -> Stamp:
    return Stamp(int(epoch))


def credentials(url: str) -> dict:
    """The start-up JSON line: exactly these keys."""
    return {"url": url, "sender_id": config.SENDER_ID, "sender_password": config.SENDER_PASSWORD,
            "company_id": config.COMPANY_ID, "user_id": config.USER_ID,
            "user_password": config.USER_PASSWORD, "entity_ids": list(config.ENTITY_IDS)}
