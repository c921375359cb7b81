"""SODOCUMENT ("Sales Invoice" / "Sales Return") + SODOCUMENTENTRY → invoices or credit notes.

Both document types share this shape; the registry says which table each lands in.
PRRECORDKEY (the A/R invoice or adjustment Order Entry generated) is kept as ar_recordno:
payments apply to it, and an edited OE document re-links through it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd

from intacct_sync.mapping import (
    DATE_FORMAT,
    TIMESTAMP_FORMAT,
    Mapped,
    NotPushable,
    column,
    document_lines,
    entity,
    extras,
    hash_with_children,
    intacct_date,
    intacct_timestamp,
    money,
    reject,
    unreadable_dates,
)
from intacct_sync.sync_objects import OBJECTS

# Registry fields are the standard ones this mapping reads; anything else fetched (custom
# fields a deployment adds) is kept in custom_fields.
USED = set(OBJECTS["invoices"].fields)


def _lines(children: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    amount, bad_amount = money(children, "TRX_VALUE")
    lines = document_lines(
        children,
        parent_field="DOCHDRNO",
        description_field="ITEMDESC",
        amount=amount,
        quantity=column(children, "QUANTITY"),
        unit_price=column(children, "UIPRICE"),
    )
    return lines, lines["parent_recordno"][bad_amount].unique()


def map_records(headers: pd.DataFrame, children: pd.DataFrame | None = None) -> Mapped:
    total, bad_total = money(headers, "TRX_TOTAL")
    paid, bad_paid = money(headers, "TRX_TOTALPAID")
    due, bad_due = money(headers, "TRX_TOTALDUE")
    rows = pd.DataFrame(
        {
            "intacct_recordno": column(headers, "RECORDNO"),
            "intacct_source": "order_entry",  # migration 0017; the registry's Read.source
            "intacct_docid": column(headers, "DOCID"),
            "ar_recordno": column(headers, "PRRECORDKEY"),
            "number": column(headers, "DOCNO"),
            "intacct_customer_id": column(headers, "CUSTVENDID"),
            "intacct_contact_name": column(headers, "BILLTO.CONTACTNAME"),  # migration 0021
            "state": column(headers, "STATE"),
            "currency": column(headers, "CURRENCY"),
            "entity": entity(headers),
            "issue_date": intacct_date(headers, "WHENCREATED"),
            "due_date": intacct_date(headers, "WHENDUE"),
            "total": total,
            "total_paid": paid,
            "total_due": due,
            "memo": column(headers, "MESSAGE"),
            "custom_fields": extras(headers, USED),
            "intacct_whenmodified": intacct_timestamp(headers, "WHENMODIFIED"),
        }
    )
    lines = children if children is not None else pd.DataFrame(columns=["DOCHDRNO"])
    line_rows, bad_line_parents = _lines(lines)
    ids = rows["intacct_recordno"]
    rows, rejected = reject(
        rows,
        bad_total | bad_paid | bad_due,
        ids,
        "amount is not a decimal number",
        "Check the document's totals in Intacct.",
    )
    rows, more = reject(
        rows,
        rows["currency"].isna() | rows["number"].isna(),
        rows["intacct_recordno"],
        "document has no currency or number",
        "Every document needs a DOCNO and a currency in Intacct.",
    )
    rejected += more
    rows, more = reject(
        rows,
        rows["intacct_recordno"].isin(bad_line_parents),
        rows["intacct_recordno"],
        "a line amount is not a decimal number",
        "Check the document's line amounts in Intacct.",
    )
    rejected += more
    rows, more = unreadable_dates(
        rows,
        headers,
        {
            "issue_date": ("WHENCREATED", DATE_FORMAT),
            "due_date": ("WHENDUE", DATE_FORMAT),
            "intacct_whenmodified": ("WHENMODIFIED", TIMESTAMP_FORMAT),
        },
    )
    rejected += more
    line_rows = line_rows[line_rows["parent_recordno"].isin(rows["intacct_recordno"])]
    rows = hash_with_children(rows, line_rows)
    return Mapped(rows=rows, children=line_rows, rejected=rejected)


# -- push: local invoices → create_invoice, credit notes → create_aradjustment ---------------
# The per-line custom fields of design.md ("Dimensions") and the lineitem element each sets.
LINE_OVERRIDES = {
    "intacct_glaccountno": "glaccountno",
    "intacct_offsetglaccountno": "offsetglaccountno",
    "intacct_allocation": "allocationid",
    "intacct_location": "locationid",
    "intacct_department": "departmentid",
    "intacct_project": "projectid",
    "intacct_vendor": "vendorid",
    "intacct_employee": "employeeid",
    "intacct_item": "itemid",
    "intacct_class": "classid",
    "intacct_contract": "contractid",
    "intacct_warehouse": "warehouseid",
    "intacct_deferredrevaccount": "defrevaccount",
    "intacct_revrecstartdate": "revrecstartdate",
    "intacct_revrecenddate": "revrecenddate",
    "intacct_revrectemplate": "revrectemplate",
}
_DATE_OVERRIDES = ("intacct_revrecstartdate", "intacct_revrecenddate")


def line_item(
    line: Mapping[str, Any], defaults: Mapping[str, str], glaccountno: str, sign: int = 1
) -> dict[str, Any]:
    """One lineitem: configured defaults < the line's own location/department < its
    intacct_* fields. An unknown intacct_* field is refused, never dropped silently."""
    where = f"line {line['line_no']}"
    item: dict[str, Any] = {"glaccountno": glaccountno, **defaults}
    for column_name, tag in (("location_id", "locationid"), ("department_id", "departmentid")):
        if line.get(column_name):
            item[tag] = line[column_name]
    dimensions = line.get("dimensions") or {}
    overrides = {k: v for k, v in dimensions.items() if k.startswith("intacct_")}
    unknown = sorted(set(overrides) - set(LINE_OVERRIDES))
    if unknown:
        raise NotPushable(
            f"{where}: unknown field {', '.join(unknown)}",
            f"Use one of {', '.join(LINE_OVERRIDES)} (design.md, Dimensions), then retry.",
        )
    for key, value in overrides.items():
        if value in (None, ""):
            continue
        if key in _DATE_OVERRIDES:
            try:
                value = date.fromisoformat(str(value))
            except ValueError:
                raise NotPushable(
                    f"{where}: {key}={value!r} is not a date", "Write it as YYYY-MM-DD."
                ) from None
        item[LINE_OVERRIDES[key]] = value
    item["amount"] = sign * Decimal(line["amount"])
    item["memo"] = line.get("description") or None
    return item


def to_intacct(
    kind: str,
    document: Mapping[str, Any],
    lines: list[Mapping[str, Any]],
    customer_id: str,
    defaults: Mapping[str, str],
    glaccountno: str,
) -> dict[str, Any]:
    """A local invoice (`kind` "invoice") as create_invoice, or a credit note as
    create_aradjustment with negative lines (a credit memo)."""
    if document.get("issue_date") is None:
        raise NotPushable("no issue date", "Give the document an issue date, then retry.")
    if not lines:
        raise NotPushable("no lines", "Add at least one line, then retry.")
    sign = 1 if kind == "invoice" else -1
    items = {"lineitem": [line_item(li, defaults, glaccountno, sign) for li in lines]}
    common = {
        "customerid": customer_id,
        "datecreated": document["issue_date"],
        "description": document.get("memo") or None,
        "currency": document["currency"],
    }
    if kind == "invoice":
        return {
            **common,
            "datedue": document.get("due_date"),
            "invoiceno": document["number"],
            "invoiceitems": items,
        }
    return {**common, "adjustmentno": document["number"], "aradjustmentitems": items}
