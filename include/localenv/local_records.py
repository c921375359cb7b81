"""Create AR-platform records that originate locally (origin = 'local'): what the platform's
application does when a customer, invoice, credit note or payment is entered in it.

Used by the demo (`make run` pushes them) and by the push tests and benchmark. Every insert
commits, so the AR database's NOTIFY reaches the push DAGs as it would in production.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from intacct_sync.sync_objects import OBJECTS


@dataclass
class Line:
    amount: Decimal | str
    description: str = ""
    location_id: str | None = None
    department_id: str | None = None
    dimensions: dict[str, Any] = field(default_factory=dict)  # intacct_* overrides


@dataclass
class Application:
    """Cash (`amount`) and/or a credit note (`credit_note_id`, `credit_amount`) applied to
    one invoice."""

    invoice_id: int
    amount: Decimal | str = Decimal(0)
    credit_note_id: int | None = None
    credit_amount: Decimal | str = Decimal(0)


class LocalRecords:
    """Insert local records on a psycopg2 connection; each method commits and returns the id."""

    def __init__(self, connection) -> None:
        self.connection = connection

    def _insert(self, sql: str, params: Sequence[Any]) -> int:
        with self.connection, self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()[0]

    def customer(
        self,
        name: str,
        *,
        account_number: str | None = None,
        intacct_customer_id: str | None = None,
        currency: str = "USD",
        email: str | None = None,
        city: str | None = None,
    ) -> int:
        address = {"city": city} if city else {}
        return self._insert(
            "INSERT INTO ar.customers (origin, name, account_number, intacct_customer_id,"
            " currency, email, billing_address) VALUES ('local', %s, %s, %s, %s, %s, %s)"
            " RETURNING id",
            (name, account_number, intacct_customer_id, currency, email, json.dumps(address)),
        )

    def document(
        self,
        table: str,
        customer_id: int,
        number: str,
        lines: Sequence[Line],
        *,
        state: str = "open",
        currency: str = "USD",
        issue_date: date | None = None,
        memo: str | None = None,
    ) -> int:
        """An invoice (`table` "invoices") or credit note ("credit_notes") with its lines."""
        total = sum((Decimal(str(li.amount)) for li in lines), Decimal(0))
        line_table, parent = OBJECTS[table].child_table, OBJECTS[table].child_parent_column
        with self.connection, self.connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO ar.{table} (origin, number, customer_id, intacct_customer_id,"
                " state, currency, issue_date, due_date, total, total_due, memo)"
                " SELECT 'local', %s, c.id, c.intacct_customer_id, %s, %s, %s, %s + 30, %s, %s,"
                " %s FROM ar.customers c WHERE c.id = %s RETURNING id",
                (number, state, currency, issue_date or date.today(),
                 issue_date or date.today(), total, total, memo, customer_id),
            )  # fmt: skip
            document_id = cursor.fetchone()[0]
            for n, li in enumerate(lines, start=1):
                cursor.execute(
                    f"INSERT INTO {line_table} ({parent}, line_no, description, amount,"
                    " location_id, department_id, dimensions) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    (document_id, n, li.description or None, Decimal(str(li.amount)),
                     li.location_id, li.department_id, json.dumps(li.dimensions)),
                )  # fmt: skip
        return document_id

    def payment(
        self,
        customer_id: int,
        amount: Decimal | str,
        applications: Sequence[Application] = (),
        *,
        state: str = "completed",
        currency: str = "USD",
        payment_date: date | None = None,
        reference: str | None = None,
        method: str = "check",
        bank_account: str | None = None,
        convenience_fee: Decimal | str | None = None,
    ) -> int:
        """A payment, its applications, and the card surcharge collected with it (if any;
        `amount` includes it)."""
        with self.connection, self.connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO ar.payments (origin, customer_id, intacct_customer_id, state,"
                " currency, payment_date, amount, method, reference, bank_account)"
                " SELECT 'local', c.id, c.intacct_customer_id, %s, %s, %s, %s, %s, %s, %s"
                " FROM ar.customers c WHERE c.id = %s RETURNING id",
                (state, currency, payment_date or date.today(), Decimal(str(amount)), method,
                 reference, bank_account, customer_id),
            )  # fmt: skip
            payment_id = cursor.fetchone()[0]
            for n, app in enumerate(applications, start=1):
                cursor.execute(
                    "INSERT INTO ar.payment_applications (payment_id, line_no, target,"
                    " invoice_id, credit_note_id, amount, credit_amount)"
                    " VALUES (%s, %s, 'invoice', %s, %s, %s, %s)",
                    (payment_id, n, app.invoice_id, app.credit_note_id,
                     Decimal(str(app.amount)), Decimal(str(app.credit_amount))),
                )  # fmt: skip
            if convenience_fee:
                cursor.execute(
                    "INSERT INTO ar.convenience_fees (payment_id, amount, currency)"
                    " VALUES (%s, %s, %s)",
                    (payment_id, Decimal(str(convenience_fee)), currency),
                )
        return payment_id

    def set_state(self, table: str, record_id: int, state: str) -> None:
        """E.g. an invoice leaves draft (`open`) or is voided (`void`)."""
        with self.connection, self.connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE ar.{table} SET state = %s, updated_at = now() WHERE id = %s",
                (state, record_id),
            )
