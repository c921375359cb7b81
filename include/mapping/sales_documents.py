"""SODOCUMENT ("Sales Invoice" / "Sales Return") + SODOCUMENTENTRY → invoices or credit notes.

Both document types share this shape; the registry says which table each lands in.
PRRECORDKEY (the A/R invoice or adjustment Order Entry generated) is kept as ar_recordno:
payments apply to it, and an edited OE document re-links through it.
"""

from __future__ import annotations

import json

import pandas as pd

from include.mapping import (
    Mapped,
    column,
    entity,
    extras,
    hash_with_children,
    intacct_date,
    intacct_timestamp,
    money,
    reject,
)
from include.sync_objects import OBJECTS

# Registry fields are the standard ones this mapping reads; anything else fetched (custom
# fields a deployment adds) is kept in custom_fields.
USED = set(OBJECTS["invoices"].fields)
LINE_DIMENSIONS = ("PROJECTID", "CLASSID", "CONTRACTID")


def _line_numbers(children: pd.DataFrame) -> pd.Series:
    """Intacct's LINE_NO, or the line's position in its document when it has none."""
    given = pd.to_numeric(column(children, "LINE_NO"), errors="coerce")
    position = children.groupby(column(children, "DOCHDRNO"), dropna=False).cumcount()
    return given.fillna(position).astype(int)


def _lines(children: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    amount, bad_amount = money(children, "TRX_VALUE")
    dims = pd.DataFrame({d.lower(): column(children, d) for d in LINE_DIMENSIONS})
    lines = pd.DataFrame(
        {
            "parent_recordno": column(children, "DOCHDRNO"),
            "line_no": _line_numbers(children),
            "item_id": column(children, "ITEMID"),
            "description": column(children, "ITEMDESC"),
            "quantity": column(children, "QUANTITY"),
            "unit_price": column(children, "UIPRICE"),
            "amount": amount,
            "location_id": column(children, "LOCATIONID"),
            "department_id": column(children, "DEPARTMENTID"),
            "dimensions": [
                json.dumps({k: v for k, v in r.items() if v}, sort_keys=True)
                for r in dims.to_dict("records")
            ],
        }
    )
    return lines, lines["parent_recordno"][bad_amount].unique()


def map_records(headers: pd.DataFrame, children: pd.DataFrame | None = None) -> Mapped:
    total, bad_total = money(headers, "TRX_TOTAL")
    paid, bad_paid = money(headers, "TRX_TOTALPAID")
    due, bad_due = money(headers, "TRX_TOTALDUE")
    rows = pd.DataFrame(
        {
            "intacct_recordno": column(headers, "RECORDNO"),
            "intacct_docid": column(headers, "DOCID"),
            "ar_recordno": column(headers, "PRRECORDKEY"),
            "number": column(headers, "DOCNO"),
            "intacct_customer_id": column(headers, "CUSTVENDID"),
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
    line_rows = line_rows[line_rows["parent_recordno"].isin(rows["intacct_recordno"])]
    rows = hash_with_children(rows, line_rows)
    return Mapped(rows=rows, children=line_rows, rejected=rejected)
