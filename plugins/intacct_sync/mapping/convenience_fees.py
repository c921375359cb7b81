"""ar.convenience_fees → a convenience-fee A/R invoice (push only; design.md, "Convenience
fees"). In write_on mode the fee becomes its own invoice and the payment applies the fee part
to it, so no credit is left over; in write_off mode nothing is pushed from here: the payment
keeps the fee as an overpayment.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from intacct_sync.mapping.payments import reference


def invoice_number(fee: Mapping[str, Any]) -> str:
    return f"CF-{fee['id']:06d}"


def to_intacct(
    fee: Mapping[str, Any],
    payment: Mapping[str, Any],
    customer_id: str,
    line: Mapping[str, str],
    glaccountno: str,
) -> dict[str, Any]:
    """create_invoice with the fee as its one line (line dimensions from configuration)."""
    return {
        "customerid": customer_id,
        "datecreated": payment["payment_date"],
        "invoiceno": invoice_number(fee),
        "description": f"Convenience fee collected with payment {reference(payment)}",
        "currency": fee["currency"],
        "invoiceitems": {
            "lineitem": [
                {
                    "glaccountno": glaccountno,
                    **{k: v for k, v in line.items() if k != "glaccountno"},
                    "amount": Decimal(fee["amount"]),
                    "memo": "Convenience fee",
                }
            ]
        },
    }
