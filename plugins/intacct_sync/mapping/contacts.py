"""CONTACT ↔ ar.customers: bill-to contacts as the customer source (customer_source
bill_to_contact, issue 17).

A local customer is then one bill-to contact of an Intacct customer, identified by
(intacct_customer_id = the contact's customer, intacct_contact_name = CONTACTNAME); its name
is the contact's PRINTAS. Intacct relates a contact to a customer through the customer's
contact list, which the sandbox holds as the contact's CUSTOMERID
(include/intacct_sandbox/contacts.py); a contact on no customer's list is no customer and is
left out. A CONTACT has no currency: the local currency stays as it is (its invoices take the
Intacct customer's).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from intacct_sync.mapping import Mapped, column, entity, extras, intacct_timestamp
from intacct_sync.mapping.customers import ADDRESS, addresses, checked
from intacct_sync.sync_objects import sourced

FIELDS = sourced("customers", customer_source="bill_to_contact")[0].fields
# Registry fields are the standard ones this mapping reads; anything else fetched (custom
# fields a deployment adds) is kept in custom_fields.
USED = set(FIELDS)
MAIL = {key: f"MAILADDRESS.{field.rsplit('.', 1)[1]}" for key, field in ADDRESS.items()}


def map_records(headers: pd.DataFrame, children: pd.DataFrame | None = None) -> Mapped:
    rows = pd.DataFrame(
        {
            "intacct_recordno": column(headers, "RECORDNO"),
            "intacct_customer_id": column(headers, "CUSTOMERID"),
            "intacct_contact_name": column(headers, "CONTACTNAME"),
            "account_number": column(headers, "CUSTOMERID"),  # the Intacct account it bills
            "name": column(headers, "PRINTAS"),
            "status": column(headers, "STATUS").str.lower(),
            "email": column(headers, "EMAIL1"),
            "entity": entity(headers),
            "billing_address": addresses(headers, MAIL),
            "custom_fields": extras(headers, USED),
            "intacct_whenmodified": intacct_timestamp(headers, "WHENMODIFIED"),
        }
    )
    rows = rows[rows["intacct_customer_id"].notna()]  # on no customer's list: not a customer
    return checked(
        rows, headers, "CONTACT", "PRINTAS (print as)",
        "Give the contact a print-as name in Intacct; it is synced on its next change.",
    )  # fmt: skip


# -- push: ar.customers → CONTACT -------------------------------------------------------------
def versions(records: list[Mapping[str, Any]]) -> dict[int, dict[str, Any]]:
    """CONTACT records as the synced fields of their customer rows (RECORDNO → snapshot,
    intacct_sync/customer_sync.py); records the pull would reject are left out."""
    from intacct_sync.customer_sync import contact_snapshot

    if not records:
        return {}
    rows = map_records(pd.DataFrame.from_records(records)).rows
    return {int(r["intacct_recordno"]): contact_snapshot(r) for r in rows.to_dict("records")}


def to_intacct(customer: Mapping[str, Any]) -> dict[str, Any]:
    """A bill-to contact customer as its CONTACT, under its Intacct customer."""
    address = customer.get("billing_address") or {}
    mail = {field.rsplit(".", 1)[1]: address.get(key) for key, field in MAIL.items()}
    return {
        "CONTACTNAME": customer["intacct_contact_name"],
        "PRINTAS": customer["name"],
        "EMAIL1": customer.get("email") or None,
        "STATUS": customer["status"],
        "MAILADDRESS": {k: v for k, v in mail.items() if v} or None,
        "CUSTOMERID": customer["intacct_customer_id"],
    }
