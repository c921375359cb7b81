"""Bill-to contacts as the customer source (issue 17, item 6): the `customer_source`
configuration key, and the identity of a local customer in that mode — (Intacct customer
id, contact name), unique among live rows (migration 0018) — against the real PostgreSQL."""

from __future__ import annotations

import psycopg2
import pytest

from include.sync_config import CUSTOMER_SOURCES, SyncConfigError, parse


def _insert(connection, name: str, customer_id: str, contact: str | None) -> int:
    with connection, connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ar.customers (origin, name, intacct_customer_id, intacct_contact_name)"
            " VALUES ('local', %s, %s, %s) RETURNING id",
            (name, customer_id, contact),
        )
        return cursor.fetchone()[0]


# -- configuration ---------------------------------------------------------------------------
def test_customer_source_defaults_to_customer_and_accepts_bill_to_contact():
    assert parse(None).customer_source == "customer"
    assert parse({}).customer_source == "customer"
    assert parse({"customer_source": "bill_to_contact"}).customer_source == "bill_to_contact"
    assert CUSTOMER_SOURCES == ("customer", "bill_to_contact")


@pytest.mark.parametrize("value", ["contacts", "", 1, None, ["customer"]])
def test_a_bad_customer_source_names_the_key_and_the_allowed_values(value):
    with pytest.raises(SyncConfigError) as error:
        parse({"customer_source": value})
    message = str(error.value)
    assert "intacct_sync_config: customer_source" in message
    assert "customer" in message and "bill_to_contact" in message


# -- identity (migration 0018) ---------------------------------------------------------------
def test_two_contacts_of_one_intacct_customer_are_two_local_customers(clean_ar):
    west = _insert(clean_ar, "Acme West", "C-ACME", "Acme West AP")
    east = _insert(clean_ar, "Acme East", "C-ACME", "Acme East AP")
    assert west != east
    with clean_ar, clean_ar.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM ar.customers WHERE intacct_customer_id = 'C-ACME'")
        assert cursor.fetchone()[0] == 2


def test_the_same_contact_of_the_same_customer_is_refused_among_live_rows(clean_ar):
    first = _insert(clean_ar, "Acme West", "C-ACME", "Acme West AP")
    with pytest.raises(psycopg2.IntegrityError):
        _insert(clean_ar, "Acme West again", "C-ACME", "Acme West AP")
    clean_ar.rollback()
    # Soft-deleted, the contact may be created again (uniqueness among live rows only).
    with clean_ar, clean_ar.cursor() as cursor:
        cursor.execute("UPDATE ar.customers SET deleted_at = now() WHERE id = %s", (first,))
    assert _insert(clean_ar, "Acme West again", "C-ACME", "Acme West AP")


def test_customer_mode_is_unchanged_one_live_row_per_intacct_customer_id(clean_ar):
    _insert(clean_ar, "Plain Customer", "C-PLAIN", None)
    with pytest.raises(psycopg2.IntegrityError):
        _insert(clean_ar, "Plain Customer twin", "C-PLAIN", None)
    clean_ar.rollback()
    # A contact row and the customer row of one id do not collide with each other.
    assert _insert(clean_ar, "Plain Customer AP", "C-PLAIN", "Plain AP")
