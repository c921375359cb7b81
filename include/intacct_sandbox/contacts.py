"""CONTACT records: bill-to contacts of the seeded customers (issue 17, customer_source
bill_to_contact).

Intacct relates a contact to a customer through the customer's contact list; the sandbox
flattens that list onto each contact as CUSTOMERID (the customer whose bill-to contacts it is
on), so readByQuery can select a customer's contacts. The protocol reference documents no
CONTACT object: field names are Intacct's standard contact fields (CONTACTNAME, PRINTAS,
COMPANYNAME, EMAIL1, STATUS, MAILADDRESS.*); CONTACTNAME is unique in a company.
"""

from __future__ import annotations

from typing import Any

OBJECT = "CONTACT"
# (customer index, contact name, e-mail): two contacts under customer C-00001, one under
# C-00003. Customer c's CUSTOMERID is C-<c+1:05d> and its RECORDNO c+1 (seed_data).
SEEDS = (
    (0, "Billing West", "west@billing.example"),
    (0, "Billing East", "east@billing.example"),
    (2, "Accounts Payable", "ap@third.example"),
)


def seed(store: Any, world: Any) -> None:
    """Insert the seeded contacts (no audit rows: they predate the history)."""
    for index, name, email in SEEDS:
        if index >= world.n_cust:
            continue
        customer = store.get("CUSTOMER", index + 1)
        if customer is None:
            continue
        rn = store.allocate(OBJECT)
        stamp = customer.get("WHENCREATED")
        store._set(OBJECT, rn, {
            "RECORDNO": rn, "CONTACTNAME": name, "PRINTAS": name,
            "COMPANYNAME": customer.get("NAME"), "EMAIL1": email, "STATUS": "active",
            "CUSTOMERID": customer["CUSTOMERID"], "WHENCREATED": stamp, "WHENMODIFIED": stamp,
            "MEGAENTITYID": customer.get("MEGAENTITYID"),
        })
