"""ARINVOICE / ARADJUSTMENT (+ their ITEMs) → invoices or credit notes (invoice_source
accounts_receivable or both, intacct_sync/sync_objects.py `reads`).

The record IS the A/R record: ar_recordno is its own RECORDNO (payments apply to it, balances
refresh by it). A credit memo (RECORDTYPE "ra") has negative amounts in A/R and positive ones
locally; its reversal, positive in A/R, is negative here. A reversal has no RECORDID: its
number is its RECORDNO. MODULEKEY is kept as intacct_modulekey (not a table column) so the
loader can drop, in `both` mode, the A/R records Order Entry generated (loaded as their
SODOCUMENT).
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from intacct_sync.mapping import (
    DATE_FORMAT,
    TIMESTAMP_FORMAT,
    Mapped,
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
from intacct_sync.sync_objects import reads

SOURCE = "accounts_receivable"
USED = set(reads("invoices", SOURCE)[0].fields)


def _signed(amounts: pd.Series, signs: pd.Series, bad: pd.Series) -> pd.Series:
    """Decimal texts times ±1 (texts that are not decimals stay, to be rejected)."""
    return pd.Series(
        [a if b or s == 1 else str(-Decimal(a)) for a, s, b in zip(amounts, signs, bad,
                                                                    strict=True)],
        index=amounts.index, dtype="object",
    )  # fmt: skip


def _signs(headers: pd.DataFrame) -> pd.Series:
    """-1 for adjustments (credit memos are negative in A/R), 1 for invoices."""
    return column(headers, "RECORDTYPE").map(lambda t: -1 if t == "ra" else 1).astype(int)


def _lines(children: pd.DataFrame, signs: dict[str, int]) -> tuple[pd.DataFrame, pd.Series]:
    amount, bad_amount = money(children, "TRX_AMOUNT")
    parents = column(children, "RECORDKEY")
    amount = _signed(amount, parents.map(lambda p: signs.get(str(p), 1)), bad_amount)
    lines = document_lines(
        children, parent_field="RECORDKEY", description_field="ENTRYDESCRIPTION", amount=amount
    )
    return lines, lines["parent_recordno"][bad_amount].unique()


def map_records(headers: pd.DataFrame, children: pd.DataFrame | None = None) -> Mapped:
    total, bad_total = money(headers, "TRX_TOTALENTERED")
    paid, bad_paid = money(headers, "TRX_TOTALPAID")
    due, bad_due = money(headers, "TRX_TOTALDUE")
    sign = _signs(headers)
    recordno = column(headers, "RECORDNO")
    rows = pd.DataFrame(
        {
            "intacct_recordno": recordno,
            "intacct_source": SOURCE,
            "intacct_docid": column(headers, "RECORDID"),
            "ar_recordno": recordno,
            "number": column(headers, "RECORDID").fillna(recordno.astype(str)),
            "intacct_customer_id": column(headers, "CUSTOMERID"),
            "intacct_contact_name": column(headers, "BILLTO.CONTACTNAME"),  # migration 0021
            "state": column(headers, "STATE"),
            "currency": column(headers, "CURRENCY"),
            "entity": entity(headers),
            "issue_date": intacct_date(headers, "WHENCREATED"),
            "due_date": intacct_date(headers, "WHENDUE"),
            "total": _signed(total, sign, bad_total),
            "total_paid": _signed(paid, sign, bad_paid),
            "total_due": _signed(due, sign, bad_due),
            "memo": column(headers, "DESCRIPTION"),
            "custom_fields": extras(headers, USED),
            "intacct_whenmodified": intacct_timestamp(headers, "WHENMODIFIED"),
            "intacct_modulekey": column(headers, "MODULEKEY"),
        }
    )
    signs = dict(zip(recordno.astype(str), sign, strict=True))
    lines = children if children is not None else pd.DataFrame(columns=["RECORDKEY"])
    line_rows, bad_line_parents = _lines(lines, signs)
    rows, rejected = reject(
        rows, bad_total | bad_paid | bad_due, rows["intacct_recordno"],
        "amount is not a decimal number", "Check the record's totals in Intacct.",
    )  # fmt: skip
    rows, more = reject(
        rows, rows["currency"].isna(), rows["intacct_recordno"],
        "record has no currency", "Every A/R invoice and adjustment needs a currency.",
    )  # fmt: skip
    rejected += more
    rows, more = reject(
        rows, rows["intacct_recordno"].isin(bad_line_parents), rows["intacct_recordno"],
        "a line amount is not a decimal number", "Check the record's line amounts in Intacct.",
    )  # fmt: skip
    rejected += more
    rows, more = unreadable_dates(
        rows, headers,
        {
            "issue_date": ("WHENCREATED", DATE_FORMAT),
            "due_date": ("WHENDUE", DATE_FORMAT),
            "intacct_whenmodified": ("WHENMODIFIED", TIMESTAMP_FORMAT),
        },
    )  # fmt: skip
    rejected += more
    line_rows = line_rows[line_rows["parent_recordno"].isin(rows["intacct_recordno"])]
    rows = hash_with_children(rows, line_rows)
    return Mapped(rows=rows, children=line_rows, rejected=rejected)
