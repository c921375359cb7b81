"""Company activity between syncs: what other Intacct users do to the data.

Each step picks one action (seeded): create/edit/pay/reverse/delete invoices, create credit
memos, change customers, edit an Order Entry invoice (which deletes and recreates its AR
invoice with a new RECORDNO, §5.2), or open a *late-committing batch*: records stamped with
WHENMODIFIED = now that only become visible ``late_commit_lag_seconds`` later, the way long
imports commit (§4.6).
"""

from __future__ import annotations

import datetime as dt
import random
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

from .formatting import Stamp, UtcStamp
from .function_context import FunctionContext
from .seed_data import ITEMS
from .sessions import AuthResult
from .writes import ArDocument, ArWriter, Line, WriteError

if TYPE_CHECKING:
    from .sandbox import Sandbox

ACTIONS = ("create_invoice", "edit_invoice", "pay_invoice", "reverse_payment",
           "reverse_invoice", "delete_invoice", "create_credit_memo", "edit_customer",
           "create_customer", "edit_sales_invoice", "late_commit_batch")
WEIGHTS = (20, 10, 15, 5, 4, 5, 6, 6, 3, 6, 5)


class Activity:
    def __init__(self, sandbox: Sandbox, seed: int) -> None:
        self.sb = sandbox
        self.rng = random.Random(seed * 7919 + 17)
        self.pending: list[tuple[float, float, Callable[[FunctionContext], dict]]] = []
        self.lock = threading.Lock()

    # ------------------------------------------------------------------ plumbing
    def _ctx(self, fixed_now: int | None = None) -> FunctionContext:
        sb = self.sb
        auth = AuthResult(True, "jdoe", sb.company_id, "", sb.clock.now())
        ctx = FunctionContext(sb.store, sb.tz, sb.clock, sb.options, auth, sb.authenticator,
                              sb.result_sets, sb.write_log, True, sb.gateway_url, "activity")
        if fixed_now is not None:
            ctx.now = lambda: fixed_now  # type: ignore[method-assign]
        return ctx

    def run(self, steps: int, actions: list[str] | None = None) -> list[dict]:
        events = []
        with self.sb.store.lock:
            for _ in range(steps):
                action = (self.rng.choice(actions) if actions else
                          self.rng.choices(ACTIONS, WEIGHTS)[0])
                try:
                    events.append(getattr(self, action)())
                except (WriteError, LookupError) as exc:
                    events.append({"action": action, "skipped": str(exc)})
        return events

    def commit_due(self, now: float) -> list[dict]:
        """Make late batches visible once the clock passes their commit time."""
        with self.lock:
            due = [p for p in self.pending if p[1] <= now]
            self.pending = [p for p in self.pending if p[1] > now]
        events = []
        with self.sb.store.lock:
            for started, _, apply in due:
                events.append(apply(self._ctx(int(started))))
        return events

    def _random_key(self, name: str, predicate: Callable[[dict], bool], tries: int = 60) -> dict:
        store = self.sb.store
        segs = [s for s in store.segments[name] if s.count]
        overlay = [r for r in store.state.overlay[name].values() if r is not None]
        for _ in range(tries):
            if overlay and self.rng.random() < 0.3:
                rec = self.rng.choice(overlay)
            else:
                seg = self.rng.choice(segs)
                rec = store.get(name, seg.recordno(self.rng.randrange(seg.count)))
            if rec is not None and predicate(rec):
                return rec
        raise LookupError(f"no suitable {name} found")

    def _customer(self) -> dict:
        return self._random_key("CUSTOMER", lambda c: c["STATUS"] == "active")

    # ------------------------------------------------------------------ actions
    def create_invoice(self, ctx: FunctionContext | None = None) -> dict:
        ctx = ctx or self._ctx()
        cust = self._customer()
        n = self.rng.randint(1, 3)
        lines = [Line(self.rng.choice(["4000", "4100", "4200"]),
                      Decimal(self.rng.randint(0, 500_000)).scaleb(-2),
                      f"{self.rng.choice(list(ITEMS.values()))} & more",
                      {"locationid": cust["MEGAENTITYID"] or "E100"}) for _ in range(n)]
        doc = ArDocument("invoice", cust["CUSTOMERID"], ctx.tz.local_date(ctx.now()),
                         description="Created in the Intacct UI <batch>", lines=lines)
        rec = ArWriter(ctx).create_document(doc)
        return {"action": "create_invoice", "object": "ARINVOICE", "recordno": rec["RECORDNO"],
                "whenmodified": ctx.tz.format_value(rec["WHENMODIFIED"])}

    def edit_invoice(self) -> dict:
        ctx = self._ctx()
        inv = self._random_key("ARINVOICE", lambda r: r["STATE"] in ("Posted", "Partially Paid"))
        self.sb.store.update("ARINVOICE", inv["RECORDNO"], {
            "DESCRIPTION": f"Edited memo #{self.rng.randint(1, 999)} – ünïcödé & <tags>",
            "DOCNUMBER": f"PO-{self.rng.randint(10**6, 10**7)}"}, ctx.now())
        return {"action": "edit_invoice", "object": "ARINVOICE", "recordno": inv["RECORDNO"]}

    def pay_invoice(self, ctx: FunctionContext | None = None) -> dict:
        ctx = ctx or self._ctx()
        inv = self._random_key("ARINVOICE", lambda r: r["STATE"] in ("Posted", "Partially Paid")
                               and (r.get("TRX_TOTALDUE") or 0) > 0)
        due = inv["TRX_TOTALDUE"]
        amount = due if self.rng.random() < 0.7 else (due / 2).quantize(Decimal("0.01"))
        currency = inv["CURRENCY"]
        bank = {"USD": "BOA-OPER", "EUR": "DB-EUR", "GBP": "HSBC-GBP", "CAD": "RBC-CAD"}[currency]
        rec = ArWriter(ctx).create_payment(
            customerid=inv["CUSTOMERID"], method="EFT", bank=bank, undeposited="", batch="",
            currency=currency, received=ctx.tz.local_date(ctx.now()), docnumber="ACT",
            amount=None, applications=[("invoice", str(inv["RECORDNO"]), amount)])
        return {"action": "pay_invoice", "object": "ARPYMT", "recordno": rec["RECORDNO"],
                "invoice": inv["RECORDNO"], "amount": float(amount)}

    def reverse_payment(self) -> dict:
        ctx = self._ctx()
        pay = self._random_key("ARPYMT", lambda r: r["STATE"] == "C" and r["RECORDTYPE"] == "rp")
        rec = ArWriter(ctx).reverse_payment(str(pay["RECORDNO"]), None, "Bounced check")
        return {"action": "reverse_payment", "object": "ARPYMT", "recordno": pay["RECORDNO"],
                "reversal": rec["RECORDNO"]}

    def reverse_invoice(self) -> dict:
        ctx = self._ctx()
        inv = self._random_key("ARINVOICE", lambda r: r["STATE"] == "Posted"
                               and not r.get("TRX_TOTALPAID") and r.get("MODULEKEY") == "4.AR")
        rec = ArWriter(ctx).reverse_document("ARINVOICE", str(inv["RECORDNO"]), None, "")
        return {"action": "reverse_invoice", "object": "ARINVOICE", "recordno": inv["RECORDNO"],
                "reversal": rec["RECORDNO"]}

    def delete_invoice(self) -> dict:
        ctx = self._ctx()
        inv = self._random_key("ARINVOICE", lambda r: r["STATE"] in ("Draft", "Posted")
                               and not r.get("TRX_TOTALPAID") and r.get("MODULEKEY") == "4.AR")
        ArWriter(ctx).delete("ARINVOICE", str(inv["RECORDNO"]))
        return {"action": "delete_invoice", "object": "ARINVOICE", "recordno": inv["RECORDNO"]}

    def create_credit_memo(self) -> dict:
        ctx = self._ctx()
        cust = self._customer()
        doc = ArDocument("adjustment", cust["CUSTOMERID"], ctx.tz.local_date(ctx.now()),
                         description="Goodwill credit", lines=[Line(
                             "4950", -Decimal(self.rng.randint(100, 50_000)).scaleb(-2),
                             "Goodwill", {"locationid": cust["MEGAENTITYID"] or "E100"})])
        rec = ArWriter(ctx).create_document(doc)
        return {"action": "create_credit_memo", "object": "ARADJUSTMENT",
                "recordno": rec["RECORDNO"]}

    def edit_customer(self) -> dict:
        ctx = self._ctx()
        cust = self._random_key("CUSTOMER", lambda c: True)
        changes: dict = {"BILLTO.PHONE1": f"(503) 555-{self.rng.randint(0, 9999):04d}"}
        if self.rng.random() < 0.3:
            changes["STATUS"] = "inactive" if cust["STATUS"] == "active" else "active"
        self.sb.store.update("CUSTOMER", cust["RECORDNO"], changes, ctx.now())
        return {"action": "edit_customer", "object": "CUSTOMER", "recordno": cust["RECORDNO"],
                **({"status": changes["STATUS"]} if "STATUS" in changes else {})}

    def create_customer(self) -> dict:
        ctx = self._ctx()
        n = self.rng.randint(1000, 999_999)
        from lxml import etree
        el = etree.fromstring(
            f"<CUSTOMER><NAME>Nouveau Client {n} &amp; Fils</NAME><CURRENCY>USD</CURRENCY>"
            f"<DISPLAYCONTACT><EMAIL1>ap{n}@example.com</EMAIL1></DISPLAYCONTACT></CUSTOMER>")
        rec = ArWriter(ctx).create_customer(el)
        return {"action": "create_customer", "object": "CUSTOMER", "recordno": rec["RECORDNO"]}

    def edit_sales_invoice(self) -> dict:
        """Editing an OE invoice deletes its AR invoice and recreates it with a new RECORDNO."""
        ctx = self._ctx()
        store = self.sb.store
        so = self._random_key("SODOCUMENT", lambda r: r.get("DOCPARID") == "Sales Invoice"
                              and r.get("PRRECORDKEY") is not None
                              and not r.get("TRX_TOTALPAID"))
        old = store.get("ARINVOICE", so["PRRECORDKEY"])
        if old is None:
            raise LookupError("AR invoice already gone")
        now = ctx.now()
        lines = store.children("ARINVOICE", old["RECORDNO"])
        store.delete("ARINVOICE", old["RECORDNO"], now)
        new_rn = store.allocate("ARINVOICE")
        child_keys = []
        for line in lines:
            crn = store.allocate("ARINVOICEITEM")
            store.insert("ARINVOICEITEM", {**line, "RECORDNO": crn, "RECORDKEY": new_rn,
                                            "WHENCREATED": Stamp(now)}, now)
            child_keys.append(crn)
        store.attach_children("ARINVOICE", new_rn, child_keys)
        memo = f"Revised {dt.date.fromtimestamp(now):%b %d}: quantities updated"
        store.insert("ARINVOICE", {**old, "RECORDNO": new_rn, "DESCRIPTION": memo,
                                   "AUWHENCREATED": UtcStamp(now)}, now)
        store.update("SODOCUMENT", so["RECORDNO"], {"PRRECORDKEY": new_rn, "MESSAGE": memo}, now)
        return {"action": "edit_sales_invoice", "object": "SODOCUMENT",
                "recordno": so["RECORDNO"], "old_arinvoice": old["RECORDNO"],
                "new_arinvoice": new_rn}

    def late_commit_batch(self, size: int | None = None) -> dict:
        """Invoices and payments stamped now, visible only after the lag (a long import's
        transaction: WHENMODIFIED is the transaction's start, not its commit)."""
        started = self.sb.clock.now()
        lag = self.sb.options.late_commit_lag_seconds
        size = size or self.rng.randint(2, 5)

        def apply(ctx: FunctionContext) -> dict:
            made = [self.create_invoice(ctx)["recordno"] for _ in range(size)]
            payments = [self.pay_invoice(ctx)["recordno"] for _ in range(size)]
            return {"action": "late_commit_committed", "object": "ARINVOICE",
                    "recordnos": made, "payments": payments,
                    "whenmodified": ctx.tz.format_value(Stamp(int(started)))}

        with self.lock:
            self.pending.append((started, started + lag, apply))
        return {"action": "late_commit_batch", "object": "ARINVOICE", "size": size,
                "whenmodified": self.sb.tz.format_value(Stamp(int(started))),
                "visible_at": self.sb.tz.format_value(Stamp(int(started + lag)))}

    def pending_json(self) -> list[dict]:
        with self.lock:
            return [{"whenmodified": self.sb.tz.format_value(Stamp(int(s))),
                     "visible_at": self.sb.tz.format_value(Stamp(int(v)))}
                    for s, v, _ in self.pending]

