"""The migrations build the documented schema once, in order, and refuse edited history."""

from __future__ import annotations

import psycopg2
import pytest
from intacct_sync.db import schema

TRANSACTION_TABLES = ("invoices", "credit_notes", "payments", "convenience_fees")


@pytest.fixture(scope="module")
def connection(ar_database_dsn):
    conn = psycopg2.connect(ar_database_dsn)
    schema.migrate(conn)
    yield conn
    conn.close()


def _columns(conn, table_schema: str) -> list[tuple[str, str, str, str]]:
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name, data_type, is_nullable"
            " FROM information_schema.columns WHERE table_schema = %s",
            (table_schema,),
        )
        return cursor.fetchall()


def test_second_run_applies_nothing(connection):
    assert schema.migrate(connection) == []


def test_all_tables_exist(connection):
    tables = {row[0] for row in _columns(connection, "ar")}
    assert tables == {
        "customers",
        "invoices",
        "invoice_lines",
        "credit_notes",
        "credit_note_lines",
        "payments",
        "payment_applications",
        "convenience_fees",
    }
    bookkeeping = {row[0] for row in _columns(connection, "intacct_sync")}
    assert {"sync_state", "reconciliation_errors", "pushes", "raw_records"} <= bookkeeping


def test_money_is_never_float(connection):
    floats = [
        f"{table}.{column}"
        for table, column, data_type, _ in _columns(connection, "ar")
        if data_type in ("real", "double precision")
    ]
    assert floats == []


def test_every_transaction_has_currency_and_entity(connection):
    columns = {(t, c): nullable for t, c, _, nullable in _columns(connection, "ar")}
    for table in TRANSACTION_TABLES:
        assert columns[(table, "currency")] == "NO", table
        assert columns[(table, "entity")] == "NO", table


def test_credit_notes_have_their_own_ids(connection):
    insert_note = (
        "INSERT INTO ar.credit_notes (number, state, currency) VALUES ('C', 'Draft', 'USD')"
        " RETURNING id"
    )
    with connection, connection.cursor() as cursor:
        cursor.execute(insert_note)
        first = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO ar.invoices (number, state, currency) VALUES ('I', 'Draft', 'USD')"
        )
        cursor.execute(insert_note)
        assert cursor.fetchone()[0] == first + 1  # invoices do not consume credit note ids
        cursor.execute(
            "INSERT INTO ar.credit_note_lines (credit_note_id, line_no, amount)"
            " VALUES (%s, 1, -5.25)",
            (first,),
        )
    with pytest.raises(psycopg2.errors.ForeignKeyViolation), connection, connection.cursor() as c:
        c.execute(
            "INSERT INTO ar.credit_note_lines (credit_note_id, line_no, amount) VALUES (-1, 1, 1)"
        )


def test_edited_migration_is_refused(connection, monkeypatch):
    original = schema._files()
    edited = [(v, sql + "\n-- edited", "not-the-checksum") for v, sql, _ in original]
    monkeypatch.setattr(schema, "_files", lambda: edited)
    with pytest.raises(schema.MigrationError, match=r"0001_ar_platform\.sql changed"):
        schema.migrate(connection)
