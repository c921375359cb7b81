"""ARPYMT + ARPYMTDETAIL → ar.payments + ar.payment_applications.

A detail applies cash (TRX_PAYMENTAMOUNT) and/or a credit (ADJUSTMENTKEY,
TRX_ADJUSTMENTAMOUNT) to the A/R invoice RECORDKEY; the loader resolves both keys to local
invoices and credit notes through their ar_recordno (the OE documents' PRRECORDKEY).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pandas as pd

from intacct_sync.mapping import (
    DATE_FORMAT,
    TIMESTAMP_FORMAT,
    Mapped,
    NotPushable,
    column,
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
USED = set(OBJECTS["payments"].fields)


def map_records(headers: pd.DataFrame, children: pd.DataFrame | None = None) -> Mapped:
    amount, bad_amount = money(headers, "TRX_TOTALENTERED")
    rows = pd.DataFrame(
        {
            "intacct_recordno": column(headers, "RECORDNO"),
            "intacct_customer_id": column(headers, "CUSTOMERID"),
            "state": column(headers, "STATE"),
            "currency": column(headers, "CURRENCY"),
            "entity": entity(headers),
            "payment_date": intacct_date(headers, "RECEIPTDATE"),
            "amount": amount,
            "method": column(headers, "PAYMENTMETHOD"),
            "reference": column(headers, "DOCNUMBER"),
            "bank_account": column(headers, "FINANCIALENTITY"),
            "memo": column(headers, "DESCRIPTION"),
            "custom_fields": extras(headers, USED),
            "intacct_whenmodified": intacct_timestamp(headers, "WHENMODIFIED"),
        }
    )
    details = children if children is not None else pd.DataFrame(columns=["PAYMENTKEY"])
    cash, bad_cash = money(details, "TRX_PAYMENTAMOUNT")
    credit, bad_credit = money(details, "TRX_ADJUSTMENTAMOUNT")
    applications = pd.DataFrame(
        {
            "parent_recordno": column(details, "PAYMENTKEY"),
            "detail_recordno": pd.to_numeric(column(details, "RECORDNO"), errors="coerce"),
            "intacct_target_key": column(details, "RECORDKEY"),
            "intacct_credit_key": column(details, "ADJUSTMENTKEY"),
            "amount": cash,
            "credit_amount": credit,
        }
    ).sort_values(["parent_recordno", "detail_recordno"])
    applications["line_no"] = applications.groupby("parent_recordno").cumcount() + 1
    bad_parents = applications["parent_recordno"][bad_cash | bad_credit].unique()
    rows, rejected = reject(
        rows,
        bad_amount | rows["intacct_recordno"].isin(bad_parents),
        rows["intacct_recordno"],
        "amount is not a decimal number",
        "Check the payment's amounts in Intacct.",
    )
    rows, more = reject(
        rows,
        rows["currency"].isna(),
        rows["intacct_recordno"],
        "payment has no currency",
        "Set the payment's currency in Intacct.",
    )
    rows, dates = unreadable_dates(
        rows,
        headers,
        {
            "payment_date": ("RECEIPTDATE", DATE_FORMAT),
            "intacct_whenmodified": ("WHENMODIFIED", TIMESTAMP_FORMAT),
        },
    )
    applications = applications[applications["parent_recordno"].isin(rows["intacct_recordno"])]
    applications = applications.drop(columns="detail_recordno")
    rows = hash_with_children(rows, applications)
    return Mapped(rows=rows, children=applications, rejected=rejected + more + dates)


# -- push: local payments → create_arpayment + apply_arpayment per credit note ---------------
# Local method names → Intacct's PAYMENTMETHOD values; anything else is sent as written.
METHODS = {
    "check": "Printed Check",
    "cheque": "Printed Check",
    "ach": "EFT",
    "eft": "EFT",
    "card": "Credit Card",
    "credit card": "Credit Card",
    "cash": "Cash",
}


def reference(payment: Mapping[str, Any]) -> str:
    """The payment's DOCNUMBER in Intacct, which also finds it again after a timeout."""
    return payment.get("reference") or f"AR-P{payment['id']:06d}"


def to_intacct(
    payment: Mapping[str, Any],
    customer_id: str,
    cash_items: list[tuple[str, Decimal]],
    deposit_account: str,
    overpayment: Mapping[str, str],
) -> dict[str, Any]:
    """create_arpayment: the cash received, applied to `cash_items` (A/R invoice key,
    amount); whatever is left (a written-off convenience fee) stays as an overpayment with
    the `overpayment` dimensions."""
    if payment.get("payment_date") is None:
        raise NotPushable("no payment date", "Give the payment a date, then retry.")
    amount = Decimal(payment["amount"])
    applied = sum((a for _, a in cash_items), Decimal(0))
    if applied > amount:
        raise NotPushable(
            f"applications total {applied} but the payment is {amount}",
            "Correct the payment's applications so they do not exceed its amount, then retry.",
        )
    method = payment.get("method") or "Cash"
    bank = payment.get("bank_account")
    fields: dict[str, Any] = {
        "customerid": customer_id,
        "paymentamount": amount,
        "bankaccountid": bank or None,
        "undepfundsacct": None if bank else deposit_account,
        "refid": reference(payment),
        "datereceived": payment["payment_date"],
        "paymentmethod": METHODS.get(method.lower(), method),
        "currency": payment["currency"],
        "arpaymentitem": [{"invoicekey": key, "amount": a} for key, a in cash_items],
    }
    if amount > applied:
        fields["overpaylocid"] = overpayment.get("locationid")
        fields["overpaydeptid"] = overpayment.get("departmentid")
    return fields


def credit_application(
    payment: Mapping[str, Any], credit_key: str, invoice_key: str, amount: Decimal, label: str
) -> dict[str, Any]:
    """apply_arpayment: one credit note (its A/R adjustment) applied to one invoice."""
    return {
        "arpaymentkey": credit_key,
        "paymentdate": payment["payment_date"],
        "memo": f"{label} applied with payment {reference(payment)}",
        "arpaymentitems": {"arpaymentitem": [{"invoicekey": invoice_key, "amount": amount}]},
    }
