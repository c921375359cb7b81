"""CUSTOMER → ar.customers."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pandas as pd

from intacct_sync.mapping import (
    TIMESTAMP_FORMAT,
    Mapped,
    column,
    entity,
    extras,
    intacct_timestamp,
    records,
    reject,
    row_hash,
    unreadable_dates,
)
from intacct_sync.sync_objects import OBJECTS

ADDRESS = {
    "address1": "BILLTO.MAILADDRESS.ADDRESS1",
    "city": "BILLTO.MAILADDRESS.CITY",
    "state": "BILLTO.MAILADDRESS.STATE",
    "zip": "BILLTO.MAILADDRESS.ZIP",
    "country": "BILLTO.MAILADDRESS.COUNTRY",
}
# Registry fields are the standard ones this mapping reads; anything else fetched (custom
# fields a deployment adds) is kept in custom_fields.
USED = set(OBJECTS["customers"].fields)


def addresses(headers: pd.DataFrame, fields: Mapping[str, str]) -> list[str]:
    """The billing address of each record as JSON ({key: value given}), keys from `fields`."""
    address = pd.DataFrame({key: column(headers, field) for key, field in fields.items()})
    return [json.dumps({k: v for k, v in r.items() if v}, sort_keys=True) for r in records(address)]


def checked(rows: pd.DataFrame, headers: pd.DataFrame, intacct_object: str,
            name_field: str, name_hint: str) -> Mapped:
    """The rules every customer row follows, whichever Intacct object it came from (CUSTOMER
    or a bill-to CONTACT): a name, a known status, readable dates, and its row hash."""
    rows, rejected = reject(
        rows,
        rows["name"].isna(),
        rows["intacct_recordno"],
        f"{intacct_object} has no {name_field}",
        name_hint,
    )
    label = intacct_object.lower()
    rows, more = reject(
        rows,
        ~rows["status"].isin(["active", "inactive"]),
        rows["intacct_recordno"],
        f"{intacct_object} STATUS is neither active nor inactive",
        f"Check the {label}'s status in Intacct.",
    )
    rows, dates = unreadable_dates(
        rows, headers, {"intacct_whenmodified": ("WHENMODIFIED", TIMESTAMP_FORMAT)}
    )
    rows = rows.assign(row_hash=row_hash(rows, list(rows.columns)))
    return Mapped(rows=rows, rejected=rejected + more + dates)


def map_records(headers: pd.DataFrame, children: pd.DataFrame | None = None) -> Mapped:
    rows = pd.DataFrame(
        {
            "intacct_recordno": column(headers, "RECORDNO"),
            "intacct_customer_id": column(headers, "CUSTOMERID"),
            "account_number": column(headers, "CUSTOMERID"),
            "name": column(headers, "NAME"),
            "status": column(headers, "STATUS").str.lower(),
            "email": column(headers, "DISPLAYCONTACT.EMAIL1"),
            "currency": column(headers, "CURRENCY"),
            "entity": entity(headers),
            "billing_address": addresses(headers, ADDRESS),
            "custom_fields": extras(headers, USED),
            "intacct_whenmodified": intacct_timestamp(headers, "WHENMODIFIED"),
        }
    )
    return checked(
        rows, headers, "CUSTOMER", "NAME",
        "Give the customer a name in Intacct; it is synced on its next change.",
    )  # fmt: skip


# -- push: ar.customers → CUSTOMER ----------------------------------------------------------
def intacct_customer_id(customer: Mapping[str, Any]) -> str:
    """The CUSTOMERID a local customer has (or gets) in Intacct: its own Intacct id, else its
    account number (the rule customers are matched by), else one derived from its local id."""
    return (
        customer.get("intacct_customer_id")
        or customer.get("account_number")
        or f"AR-C{customer['id']:06d}"
    )


def to_intacct(customer: Mapping[str, Any]) -> dict[str, Any]:
    """Generic CUSTOMER fields; create and update send the same, so a change is a new digest."""
    address = customer.get("billing_address") or {}
    mail = {field.rsplit(".", 1)[1]: address.get(key) for key, field in ADDRESS.items()}
    mail = {k: v for k, v in mail.items() if v}
    return {
        "CUSTOMERID": intacct_customer_id(customer),
        "NAME": customer["name"],
        "STATUS": customer["status"],
        "CURRENCY": customer.get("currency") or None,
        "DISPLAYCONTACT": {
            "PRINTAS": customer["name"],
            "EMAIL1": customer.get("email") or None,
            "MAILADDRESS": mail or None,
        },
    }
