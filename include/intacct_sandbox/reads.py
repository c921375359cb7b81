"""Read functions: readByQuery, readMore, query, read, readByName, lookup, inspect (§4)."""

from __future__ import annotations

from decimal import Decimal

from lxml import etree

from .conditions import QueryError
from .envelope import IntacctError
from .function_context import FunctionContext, Result, ResultSet
from .object_definitions import OBJECTS, ObjectDef, is_known_field, lookup_object
from .query_filter import QuerySpec, parse_query
from .readbyquery_language import parse_readbyquery
from .rendering import PlanItem, RecordWriter, build_plan, data_block

READBYQUERY_MAX = 1000
READ_MAX_KEYS = 100
DL02000001 = IntacctError("DL02000001", "Error", "There was an error processing the request.", "")


def _text(el: etree._Element, name: str) -> str:
    found = el.find(name)
    return (found.text or "").strip() if found is not None else ""


def object_not_found(function: str, controlid: str, name: str) -> Result:
    return Result.failure(function, controlid, IntacctError(
        "Query Failed", "", f"Object definition {name} not found", ""))


def permission_denied(ctx: FunctionContext, function: str, controlid: str,
                      obj: ObjectDef) -> Result | None:
    """The failure a user without read permission on the object gets, else None."""
    if obj.name not in ctx.denied_objects:
        return None
    return Result.failure(function, controlid, IntacctError(
        "Query Failed", "", f"You do not have permission for API operation READ on objects of"
        f" type {obj.name.lower()}", "Ask the company administrator for the permission."))


def source_object(obj: ObjectDef) -> str:
    """The legacy ARPAYMENT object is a view of ARPYMT."""
    return "ARPYMT" if obj.name == "ARPAYMENT" else obj.name


ACCESS_CODES = {"Create": "C", "Delete": "D", "Modify": "M", "Access": "A"}


def materialise(ctx: FunctionContext, obj: ObjectDef, rec: dict, overlay: dict | None,
                for_query: bool = False) -> dict:
    """Attach view-only data (legacy ARPAYMENT applications, SO subtotals)."""
    if obj.name == "AUDITHISTORY" and for_query:
        # `query` shows ACCESSMODE as codes (C, D, …), readByQuery as words (§8)
        return {**rec, "ACCESSMODE": ACCESS_CODES.get(rec.get("ACCESSMODE"),  # type: ignore[arg-type]
                                                      rec.get("ACCESSMODE"))}
    if obj.name != "ARPAYMENT":
        return rec
    details = ctx.store.children("ARPYMT", rec["RECORDNO"], overlay)
    invoices, credits = [], []
    for d in details:
        if d.get("RECORDKEY"):
            inv = ctx.store.get("ARINVOICE", d["RECORDKEY"], None) or {}
            invoices.append({"RECORD": d["RECORDKEY"], "APPLIEDAMOUNT": d.get("TRX_PAYMENTAMOUNT"),
                             "RECORDID": inv.get("RECORDID")})
        if d.get("ADJUSTMENTKEY"):
            adj = ctx.store.get("ARADJUSTMENT", d["ADJUSTMENTKEY"], None) or {}
            credits.append({"RECORD": d["ADJUSTMENTKEY"], "RECORDTYPE": "ra",
                            "APPLIEDAMOUNT": d.get("TRX_ADJUSTMENTAMOUNT"),
                            "RECORDID": adj.get("RECORDID")})
    view = dict(rec)
    view["PAYMENTTYPE"] = rec.get("PAYMENTMETHOD")
    view["STATE"] = "V" if rec.get("STATE") == "V" else None
    view["_INVOICES"] = invoices
    view["_CREDITS"] = credits
    return view


def _writer(ctx: FunctionContext, obj: ObjectDef, iso: bool, overlay: dict | None) -> RecordWriter:
    def children_of(rec: dict, container: str) -> list[dict]:
        if container == "SUBTOTALS":
            return rec.get("_subtotals", [])
        return ctx.store.children(obj.name, rec["RECORDNO"], overlay)

    plans: dict[str, list[PlanItem]] = {}

    def child_plan(tag: str) -> list[PlanItem]:
        if tag not in plans:
            plans[tag] = ([PlanItem("field", n) for n in ("RECORDNO", "DESCRIPTION", "TOTAL",
                                                          "TRX_TOTAL")]
                          if tag == "sodocumentsubtotals" else build_plan(OBJECTS[tag.upper()],
                                                                          "*"))
        return plans[tag]

    return RecordWriter(ctx.tz, ctx.pretty, iso, children_of, child_plan)


def _page(ctx: FunctionContext, rs: ResultSet, function: str, controlid: str) -> Result:
    obj = OBJECTS[rs.object_name]
    src = source_object(obj)
    keys = rs.keys.slice(rs.delivered, rs.pagesize)
    writer = _writer(ctx, obj, rs.iso_dates, rs.overlay)
    records = []
    for rn in keys:
        rec = ctx.store.get(src, rn, rs.overlay)
        if rec is not None:
            records.append(writer.record(rs.listtype, materialise(ctx, obj, rec, rs.overlay),
                                         rs.plan, 4))
    rs.delivered += len(keys)
    remaining = len(rs.keys) - rs.delivered
    result_id = rs.result_id if (function == "readMore" or remaining > 0) else ""
    attrs = {"listtype": rs.listtype, "count": str(len(records)),
             "totalcount": str(len(rs.keys)), "numremaining": str(remaining),
             "resultId": result_id}
    return Result("success", function, controlid, data=data_block(attrs, records, ctx.pretty))


def read_by_query(ctx: FunctionContext, el: etree._Element, controlid: str) -> Result:
    name = _text(el, "object")
    obj = lookup_object(name)
    if obj is None:
        return object_not_found("readByQuery", controlid, name)
    if denied := permission_denied(ctx, "readByQuery", controlid, obj):
        return denied
    try:
        pagesize = int(_text(el, "pagesize") or 100)
    except ValueError:
        return Result.failure("readByQuery", controlid, DL02000001)
    if not 1 <= pagesize <= READBYQUERY_MAX:
        return Result.failure("readByQuery", controlid, IntacctError(
            "DL02000001", "Error", "There was an error processing the request.",
            "pagesize must be between 1 and 1000"))
    docparid = _text(el, "docparid") or None
    try:
        plan = build_plan(obj, _text(el, "fields") or "*")
        parsed = parse_readbyquery(el.findtext("query"))
        keys, overlay = ctx.store.select(source_object(obj), parsed.condition,
                                         docparid=docparid, entity=ctx.entity or None)
        if parsed.rownum_limit is not None:
            from .store import KeyList
            keys = KeyList.of(keys.slice(0, max(0, parsed.rownum_limit)))
    except QueryError:
        return Result.failure("readByQuery", controlid, DL02000001)
    rs = ResultSet(ctx.result_sets.new_id(), obj.name, obj.name.lower(), plan, keys, overlay,
                   pagesize, 0, ctx.clock.now(), ctx.owner)
    result = _page(ctx, rs, "readByQuery", controlid)
    if rs.delivered < len(keys):
        ctx.result_sets.add(rs)
    return result


def read_more(ctx: FunctionContext, el: etree._Element, controlid: str) -> Result:
    result_id = _text(el, "resultId")
    now = ctx.clock.now()
    rs = None
    if result_id:
        rs = ctx.result_sets.get(result_id, now)
    elif _text(el, "object"):
        obj = lookup_object(_text(el, "object"))
        rs = ctx.result_sets.latest_for(obj.name, ctx.owner, now) if obj else None
        result_id = _text(el, "object")
    if rs is None:
        return Result.failure("readMore", controlid, IntacctError(
            "readMore failed", "",
            f"Attempt to readMore with an invalid or expired resultId: {result_id}", ""))
    return _page(ctx, rs, "readMore", controlid)


def query(ctx: FunctionContext, el: etree._Element, controlid: str) -> Result:
    try:
        spec = parse_query(el)
    except (QueryError, ValueError):
        return Result.failure("query", controlid, DL02000001)
    obj = lookup_object(spec.object_name)
    if obj is None:
        return object_not_found("query", controlid, spec.object_name)
    if denied := permission_denied(ctx, "query", controlid, obj):
        return denied
    src = source_object(obj)
    names = [f for _, f in spec.select] + [f for f, _ in spec.order]
    if any(not is_known_field(obj, f) for f in names if f):
        return Result.failure("query", controlid, DL02000001)
    try:
        keys, overlay = ctx.store.select(src, spec.condition, docparid=spec.docparid,
                                         entity=ctx.entity or None,
                                         case_insensitive=spec.case_insensitive)
        if any(agg for agg, _ in spec.select):
            return _aggregate(ctx, obj, spec, keys, overlay, controlid)
        ordered = ctx.store.sorted_keys(src, keys, overlay, spec.order)
    except QueryError:
        return Result.failure("query", controlid, DL02000001)
    page = ordered.slice(spec.offset, spec.pagesize)
    tag = obj.name
    plan = [PlanItem("field", f) for _, f in spec.select]
    writer = RecordWriter(ctx.tz, ctx.pretty, False)
    records = []
    for rn in page:
        rec = ctx.store.get(src, rn, overlay)
        if rec is not None:
            records.append(writer.record(tag, materialise(ctx, obj, rec, overlay, True), plan,
                                         4))
    total = len(ordered)
    remaining = max(0, total - spec.offset - len(records))
    attrs = {"listtype": tag, "totalcount": str(total), "offset": str(spec.offset),
             "count": str(len(records)), "numremaining": str(remaining)}
    return Result("success", "query", controlid, data=data_block(attrs, records, ctx.pretty))


def _aggregate(ctx: FunctionContext, obj: ObjectDef, spec: QuerySpec, keys, overlay,
               controlid: str) -> Result:
    """``select`` with count/sum/avg/min/max, grouped by the plain fields (DEV:queries)."""
    src = source_object(obj)
    group_fields = [f for agg, f in spec.select if agg is None]
    groups: dict[tuple, list[dict]] = {}
    for rn in keys:
        rec = ctx.store.get(src, rn, overlay)
        if rec is not None:
            groups.setdefault(tuple(rec.get(f) for f in group_fields), []).append(rec)
    writer = RecordWriter(ctx.tz, ctx.pretty, False)
    rows = []
    for group_key, recs in groups.items():
        row: dict = dict(zip(group_fields, group_key, strict=True))
        names = []
        for agg, f in spec.select:
            if agg is None:
                names.append(f)
                continue
            values = [r.get(f) for r in recs if r.get(f) not in (None, "")]
            label = f"{agg.upper()}.{f}"
            names.append(label)
            if agg == "count":
                row[label] = len(values)
            elif not values:
                row[label] = None
            elif agg == "sum":
                row[label] = sum(Decimal(v) for v in values)
            elif agg == "avg":
                row[label] = (sum(Decimal(v) for v in values) / len(values)).quantize(
                    Decimal("0.01"))
            else:
                row[label] = min(values) if agg == "min" else max(values)
        rows.append(writer.record(obj.name, row, [PlanItem("field", n) for n in names], 4))
    page = rows[spec.offset: spec.offset + spec.pagesize]
    attrs = {"listtype": obj.name, "totalcount": str(len(rows)), "offset": str(spec.offset),
             "count": str(len(page)),
             "numremaining": str(max(0, len(rows) - spec.offset - len(page)))}
    return Result("success", "query", controlid, data=data_block(attrs, page, ctx.pretty))


def _read_common(ctx: FunctionContext, el: etree._Element, controlid: str, function: str,
                 by_name: bool) -> Result:
    requested = _text(el, "object")
    obj = lookup_object(requested)
    if obj is None:
        return object_not_found(function, controlid, requested)
    if denied := permission_denied(ctx, function, controlid, obj):
        return denied
    src = source_object(obj)
    docparid = _text(el, "docparid") or None
    fields_text = _text(el, "fields") or "*"
    try:
        plan = build_plan(obj, fields_text, nested_star=obj.iso_dates_in_read,
                          with_children=obj.iso_dates_in_read)
    except QueryError:
        return Result.failure(function, controlid, DL02000001)
    raw_keys = [k.strip() for k in _text(el, "keys").split(",") if k.strip()]
    if len(raw_keys) > READ_MAX_KEYS:
        return Result.failure(function, controlid, DL02000001)
    records: list[dict] = []
    overlay = ctx.store.state.overlay[src]
    if not raw_keys:
        keys, overlay = ctx.store.select(src, None, docparid=docparid, entity=ctx.entity or None)
        found = [ctx.store.get(src, rn, overlay) for rn in keys.slice(0, READ_MAX_KEYS)]
        records = [r for r in found if r is not None]
    for key in raw_keys:
        if by_name and obj.id_field:
            rec = ctx.store.find_by_id(src, key)
        else:
            try:
                rec = ctx.store.get(src, int(key))
            except ValueError:
                rec = None
        if rec is None:
            continue  # unknown keys are silently dropped (§4.4)
        if docparid and rec.get("DOCPARID") not in (None, docparid):
            continue
        if ctx.visible(rec) is None:
            continue
        records.append(rec)
    writer = _writer(ctx, obj, obj.iso_dates_in_read, overlay)
    rendered = [writer.record(requested, materialise(ctx, obj, r, overlay), plan, 4)
                for r in records]
    attrs = {"listtype": requested, "count": str(len(rendered))}
    return Result("success", function, controlid, data=data_block(attrs, rendered, ctx.pretty))


def read(ctx: FunctionContext, el: etree._Element, controlid: str) -> Result:
    return _read_common(ctx, el, controlid, "read", by_name=False)


def read_by_name(ctx: FunctionContext, el: etree._Element, controlid: str) -> Result:
    return _read_common(ctx, el, controlid, "readByName", by_name=True)


def lookup(ctx: FunctionContext, el: etree._Element, controlid: str) -> Result:
    """Object definition: ``<Type Name=…><Fields><Field>…`` as Intacct's lookup returns."""
    requested = _text(el, "object")
    obj = lookup_object(requested)
    if obj is None:
        return object_not_found("lookup", controlid, requested)
    nl = (lambda d: "\n" + "    " * d) if ctx.pretty else (lambda d: "")
    fields = []
    for name in obj.fields:
        datatype = ("DATE" if name.startswith("WHEN") or name.endswith("DATE") else
                    "DECIMAL" if any(t in name for t in ("AMOUNT", "TOTAL", "PRICE", "RATE"))
                    else "INTEGER" if name == "RECORDNO" or name.endswith("KEY") else "TEXT")
        custom = name in ("CRM_ACCOUNT_ID", "PORTAL_INVOICE_ID", "SALES_CHANNEL")
        inner = "".join(f"{nl(7)}<{k}>{v}</{k}>" for k, v in (
            ("ID", name), ("LABEL", name.replace("_", " ").title()), ("DESCRIPTION", ""),
            ("REQUIRED", "true" if name == obj.id_field else "false"),
            ("READONLY", "true" if name in ("RECORDNO", "WHENMODIFIED") else "false"),
            ("DATATYPE", datatype), ("ISCUSTOM", "true" if custom else "false")))
        fields.append(f"{nl(6)}<Field>{inner}{nl(6)}</Field>")
    body = (f"{nl(4)}<Type Name=\"{obj.name}\" DocumentType=\"\">{nl(5)}<Fields>{''.join(fields)}"
            f"{nl(5)}</Fields>{nl(4)}</Type>")
    return Result("success", "lookup", controlid,
                  data=f"{nl(3)}<data listtype=\"All\" count=\"1\">{body}{nl(3)}</data>")


def inspect(ctx: FunctionContext, el: etree._Element, controlid: str) -> Result:
    nl = (lambda d: "\n" + "    " * d) if ctx.pretty else (lambda d: "")
    types = "".join(f'{nl(4)}<type typename="{o.name.lower()}">{o.label}</type>'
                    for o in OBJECTS.values())
    return Result("success", "inspect", controlid,
                  data=f'{nl(3)}<data listtype="All" count="1">{types}{nl(3)}</data>')


READ_FUNCTIONS = {
    "readByQuery": read_by_query, "readMore": read_more, "query": query, "read": read,
    "readByName": read_by_name, "lookup": lookup, "inspect": inspect,
}
