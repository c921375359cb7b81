"""The one loader: upsert mapped rows into the AR tables, rewriting only what changed.

Per batch, in one transaction: COPY the mapped rows into a temporary table, apply the
object's rules (link customers, skip invoices of inactive customers), upsert headers whose
row_hash changed, replace their children, and resolve reconciliation errors of the records
that now loaded. If the batch statement fails (a record violates a constraint), the batch
is redone record by record under savepoints: the bad record goes to
intacct_sync.reconciliation_errors and the rest load.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import psycopg2
import psycopg2.errors

from intacct_sync import customer_sync
from intacct_sync.mapping import Mapped, Rejected
from intacct_sync.push import links as push_links
from intacct_sync.sync_objects import SyncObject

# Errors a record's data causes. Anything else (lock timeout, lost connection) is not the
# record's fault: it fails the task, which Airflow retries, instead of a reconciliation error.
# A value past a database limit (an index row over 8 kB: a 10 MB customer name) is the
# record's too.
RECORD_ERRORS = (
    psycopg2.IntegrityError,
    psycopg2.DataError,
    psycopg2.errors.ProgramLimitExceeded,
)


class MixedCustomerSources(RuntimeError):
    """ar.customers holds rows of the other customer_source (not a record's fault)."""


@dataclass
class LoadCounts:
    """What one load did; small enough for XCom and asset event extras."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    rejected: int = 0
    rejected_ids: list[str] = field(default_factory=list)
    balances_refreshed: int = 0  # invoices / credit notes whose A/R paid or due changed

    def as_dict(self) -> dict[str, Any]:
        return {
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "rejected": self.rejected,
            "balances_refreshed": self.balances_refreshed,
        }


def _copy_frame(cursor, table: str, frame: pd.DataFrame) -> None:
    """COPY a DataFrame (all values as text, None as NULL) into a temp table."""
    columns = ", ".join(f'"{c}" text' for c in frame.columns)
    cursor.execute(f"DROP TABLE IF EXISTS {table}; CREATE TEMP TABLE {table} ({columns})")
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False, na_rep="\\N")
    buffer.seek(0)
    cursor.copy_expert(f"COPY {table} FROM STDIN WITH (FORMAT csv, NULL '\\N')", buffer)


def _column_types(cursor, table: str) -> dict[str, str]:
    schema, name = table.split(".")
    cursor.execute(
        "SELECT column_name, format_type(a.atttypid, a.atttypmod)"
        " FROM information_schema.columns c"
        " JOIN pg_attribute a ON a.attrelid = %s::regclass AND a.attname = c.column_name"
        " WHERE c.table_schema = %s AND c.table_name = %s",
        (table, schema, name),
    )
    return dict(cursor.fetchall())


def record_errors(
    cursor,
    obj: str,
    direction: str,
    rejected: list[Rejected],
    error_numbers: list[str] | None = None,
) -> None:
    """Open (or bump) one reconciliation error per record; ignored ones stay ignored."""
    for r in rejected:
        cursor.execute(
            "INSERT INTO intacct_sync.reconciliation_errors"
            " (object, direction, record_id, error_numbers, message, hint)"
            " VALUES (%s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (object, direction, record_id) DO UPDATE SET"
            "  error_numbers = EXCLUDED.error_numbers, message = EXCLUDED.message,"
            "  hint = EXCLUDED.hint, attempts = reconciliation_errors.attempts + 1,"
            "  last_seen_at = now(), resolved_at = NULL,"
            "  state = CASE WHEN reconciliation_errors.state = 'ignored' THEN 'ignored'"
            "          ELSE 'open' END",
            (obj, direction, r.record_id, error_numbers or [], r.error, r.hint),
        )


# The local customer of a pulled record: its bill-to contact's row, else its customer's own
# row (intacct_sync.customer_of, migration 0021: one rule for both customer sources).
CUSTOMER_OF = "intacct_sync.customer_of({alias}.intacct_customer_id, {contact})"

RELINK_SQL = (
    # The DAGs run independently: a payment may load before its customer, an application
    # before its invoice or credit note. Fill such references whenever the target exists.
    *(
        f"UPDATE ar.{table} t SET customer_id = {CUSTOMER_OF.format(alias='t', contact=c)}"
        f" WHERE t.customer_id IS NULL AND {CUSTOMER_OF.format(alias='t', contact=c)} IS NOT NULL"
        for table, c in (
            ("invoices", "t.intacct_contact_name"),
            ("credit_notes", "t.intacct_contact_name"),
            ("payments", "NULL"),
        )
    ),
    # A payment names no bill-to contact (it goes to the Intacct customer): when its customer
    # has several local customers (bill-to contacts), it belongs to the one whose invoices
    # and credit notes it pays, if they all belong to one.
    "UPDATE ar.payments p SET customer_id = paid.customer_id FROM ("
    " SELECT a.payment_id, min(d.id) AS customer_id FROM ar.payments q"
    " JOIN ar.payment_applications a ON a.payment_id = q.id"
    " LEFT JOIN ar.invoices i ON i.id = a.invoice_id"
    " LEFT JOIN ar.credit_notes n ON n.id = a.credit_note_id"
    " LEFT JOIN ar.customers d ON d.id = coalesce(i.customer_id, n.customer_id)"
    "  AND d.intacct_customer_id = q.intacct_customer_id"
    " WHERE q.customer_id IS NULL AND (a.intacct_target_key IS NOT NULL"
    "  OR a.intacct_credit_key IS NOT NULL)"
    " GROUP BY a.payment_id"
    " HAVING count(*) = count(d.id) AND count(DISTINCT d.id) = 1) paid"
    " WHERE p.id = paid.payment_id AND p.customer_id IS NULL",
    # A customer deleted in Intacct and re-created with the same identity: documents still
    # pointing at the deleted row move to the live one (driven from the few deleted rows).
    *(
        f"UPDATE ar.{table} t SET customer_id = {live} FROM ar.customers old"
        f" WHERE old.deleted_at IS NOT NULL AND t.customer_id = old.id AND {live} IS NOT NULL"
        for table in ("invoices", "credit_notes", "payments")
        for live in [
            CUSTOMER_OF.format(
                alias="t", contact="coalesce(t.intacct_contact_name, old.intacct_contact_name)"
            )
        ]
    ),
    "UPDATE ar.payment_applications a SET invoice_id = i.id, target = 'invoice'"
    " FROM ar.invoices i WHERE i.ar_recordno = a.intacct_target_key"
    " AND a.invoice_id IS DISTINCT FROM i.id",
    "UPDATE ar.payment_applications a SET credit_note_id = n.id FROM ar.credit_notes n"
    " WHERE n.ar_recordno = a.intacct_credit_key AND a.credit_note_id IS DISTINCT FROM n.id",
)


def relink_references(cursor) -> None:
    for statement in RELINK_SQL:
        cursor.execute(statement)


def resolve_errors(cursor, obj: str, record_ids: list[str], direction: str = "pull") -> None:
    """A record that now synced closes its open (or retrying) reconciliation error."""
    if record_ids:
        cursor.execute(
            "UPDATE intacct_sync.reconciliation_errors SET state = 'resolved',"
            " resolved_at = now() WHERE object = %s AND direction = %s"
            " AND record_id = ANY(%s) AND state IN ('open', 'retrying')",
            (obj, direction, record_ids),
        )


class _Loader:
    """The SQL for one object, built once per load from the registry and the table."""

    def __init__(
        self, cursor, obj: SyncObject, rows: pd.DataFrame, children: pd.DataFrame | None
    ) -> None:
        self.obj = obj
        types = _column_types(cursor, obj.table)
        self.columns = [c for c in rows.columns if c in types]
        self.casts = ", ".join(f'i."{c}"::{types[c]}' for c in self.columns)
        self.has_customer = "customer_id" in types and "intacct_customer_id" in rows.columns
        # The bill-to contact a pulled record names (documents; CONTACT records as customers:
        # customer_source bill_to_contact); none for payments and CUSTOMER records.
        named = "intacct_contact_name" in rows.columns
        self.contact = 'i."intacct_contact_name"' if named else "NULL::text"
        self.contacts = obj.name == "customers" and named
        # Invoices / credit notes: SODOCUMENT and ARINVOICE RECORDNOs are separate number
        # spaces, so a row is keyed by its source too (migration 0017).
        self.by_source = "intacct_source" in types and "intacct_source" in rows.columns
        self.key = "(intacct_source, intacct_recordno)" if self.by_source else "(intacct_recordno)"
        self.same_source = " AND t.intacct_source = i.intacct_source" if self.by_source else ""
        self.child_types = _column_types(cursor, obj.child_table) if obj.child_table else {}
        self.child_columns = [
            c
            for c in (children.columns if children is not None else [])
            if c in self.child_types and c != obj.child_parent_column
        ]

    def link_customers(self, cursor, ids: list[str]) -> None:
        """Match local customers by Intacct customer id, then account number, then name
        (design.md): a match is linked to the Intacct record instead of becoming a
        duplicate. Only a single, not deleted candidate is linked; with several, the
        incoming customer is inserted and a person decides (nothing is merged by guess).
        A name match whose account number names another Intacct customer is not linked: a
        reconciliation error on the local customer (intacct_sync/customer_sync.py). Linking
        keeps `origin`: a linked customer syncs both ways whichever side created it.
        A bill-to contact is matched by its identity alone, (Intacct customer id, contact
        name), as the push links it (intacct_sync/push/plans.py `_plan_contacts`)."""
        conditions: tuple[str, ...] = tuple(
            f"{match} AND c.intacct_contact_name IS NULL"  # a contact's row is no CUSTOMER
            for match in (
                "c.intacct_customer_id = i.intacct_customer_id",
                "c.account_number = i.intacct_customer_id",
                f"lower(c.name) = lower(i.name) AND {customer_sync.NAME_MATCH_AGREES}",
            )
        )
        if self.contacts:
            conditions = ("c.intacct_customer_id = i.intacct_customer_id"
                          " AND c.intacct_contact_name = i.intacct_contact_name",)  # fmt: skip
        for condition in conditions:
            cursor.execute(
                "WITH candidates AS ("
                " SELECT i.intacct_recordno, min(c.id) AS id, count(*) AS n FROM incoming i"
                " JOIN ar.customers c ON c.intacct_recordno IS NULL AND c.deleted_at IS NULL"
                f"  AND {condition}"
                " WHERE i.intacct_recordno = ANY(%s) AND NOT EXISTS (SELECT 1 FROM ar.customers x"
                "  WHERE x.intacct_recordno = i.intacct_recordno::bigint)"
                " GROUP BY i.intacct_recordno)"
                " UPDATE ar.customers c SET intacct_recordno = i.intacct_recordno::bigint,"
                " intacct_customer_id = i.intacct_customer_id"
                " FROM candidates m JOIN incoming i ON i.intacct_recordno = m.intacct_recordno"
                " WHERE m.n = 1 AND c.id = m.id",
                (ids,),
            )
        if not self.contacts:
            record_errors(cursor, "customers", "push", customer_sync.account_conflicts(cursor, ids))

    def refuse_mixed_sources(self, cursor) -> None:
        """CONTACT and CUSTOMER RECORDNOs are separate number spaces, both kept in
        ar.customers.intacct_recordno: rows linked under the other customer_source would be
        taken for records of this one. Refused (the task fails), naming the key."""
        kind = "NULL" if self.contacts else "NOT NULL"
        cursor.execute(
            "SELECT count(*) FROM ar.customers WHERE deleted_at IS NULL"
            f" AND intacct_recordno IS NOT NULL AND intacct_contact_name IS {kind}"
        )
        (count,) = cursor.fetchone()
        if count:
            source, other = ("bill_to_contact", "CUSTOMER") if self.contacts else (
                "customer", "CONTACT")  # fmt: skip
            raise MixedCustomerSources(
                f"intacct_sync_config: customer_source={source!r}, but ar.customers holds"
                f" {count} customers linked to Intacct {other} records (synced under the other"
                " customer_source): their keys would be taken for this source's. Set"
                " customer_source back, or soft-delete those rows (deleted_at) before switching."
            )

    def retire_reused_ids(self, cursor, ids: list[str]) -> None:
        """Intacct keeps a CUSTOMERID unique among existing customers: a newer customer with
        the id a different live row holds means that row was deleted in Intacct and the id
        re-used. Soft-delete the old row, so the new one loads (uniqueness is among live rows,
        migration 0012) and documents re-link to it (a bill-to contact: its contact name,
        unique in the company, the same). Only a read that started after the one that saw the
        old row retires it: a retried old run retires nothing."""
        cursor.execute(
            "UPDATE ar.customers c SET deleted_at = now(), updated_at = now() FROM incoming i"
            " WHERE i.intacct_recordno = ANY(%s) AND c.intacct_customer_id = i.intacct_customer_id"
            f" AND c.intacct_contact_name IS NOT DISTINCT FROM {self.contact}"
            " AND c.deleted_at IS NULL AND c.origin = 'intacct'"
            " AND c.intacct_recordno <> i.intacct_recordno::bigint"
            " AND coalesce(i.intacct_read_at::timestamptz > c.intacct_read_at,"
            "  i.intacct_whenmodified::timestamp > c.intacct_whenmodified, true)",
            (ids,),
        )

    def skip_inactive_customers(self, cursor, ids: list[str]) -> list[str]:
        """Only invoices of active customers are imported; the rest wait, counted (with the
        bill-to contact they wait for: intacct_sync/pull/reactivation.py)."""
        customer = CUSTOMER_OF.format(alias="i", contact=self.contact)
        cursor.execute(
            f"SELECT i.intacct_recordno, i.intacct_customer_id, {self.contact} FROM incoming i"
            f" LEFT JOIN ar.customers c ON c.id = {customer}"
            " WHERE i.intacct_recordno = ANY(%s) AND (c.id IS NULL OR c.status <> 'active')"
            # Documents already imported keep receiving updates (payments, reversals) even
            # after their customer becomes inactive: only new ones wait.
            f" AND NOT EXISTS (SELECT 1 FROM {self.obj.table} t"
            f"  WHERE t.intacct_recordno = i.intacct_recordno::bigint{self.same_source})",
            (ids,),
        )
        skipped = cursor.fetchall()
        for recordno, customer, contact in skipped:
            cursor.execute(
                "INSERT INTO intacct_sync.skipped_records (object, intacct_recordno,"
                " customer_key, contact_key, reason) VALUES (%s, %s, %s, %s,"
                " 'customer not active') ON CONFLICT (object, intacct_recordno)"
                " DO UPDATE SET skipped_at = now(), customer_key = EXCLUDED.customer_key,"
                " contact_key = EXCLUDED.contact_key",
                (self.obj.name, recordno, customer, contact),
            )
        cursor.execute(
            "DELETE FROM intacct_sync.skipped_records WHERE object = %s"
            " AND intacct_recordno::text = ANY(%s) AND NOT (intacct_recordno::text = ANY(%s))",
            (self.obj.name, ids, [r[0] for r in skipped]),
        )
        return [r[0] for r in skipped]

    def upsert(self, cursor, ids: list[str]) -> list[tuple[int, str, bool]]:
        """Insert new and rewrite changed headers; returns (id, recordno, inserted)."""
        names = ", ".join(f'"{c}"' for c in self.columns)
        kept = customer_sync.KEPT_COLUMNS if self.obj.name == "customers" else ()
        updates = ", ".join(
            f'"{c}" = coalesce({self.obj.table}."{c}", EXCLUDED."{c}")' if c in kept
            else f'"{c}" = EXCLUDED."{c}"'
            for c in self.columns
        )  # fmt: skip
        customer_col, customer_val, relink = "", "", ""
        t = self.obj.table
        if self.has_customer:
            customer_col = ", customer_id"
            customer_val = f", {CUSTOMER_OF.format(alias='i', contact=self.contact)}"
            customer = "EXCLUDED.customer_id"
            if self.obj.name == "payments":  # keeps the customer its applications gave it
                customer = (
                    f"coalesce(EXCLUDED.customer_id, CASE WHEN {t}.intacct_customer_id"
                    f" = EXCLUDED.intacct_customer_id THEN {t}.customer_id END)"
                )
            updates += f", customer_id = {customer}"
            relink = f" OR {t}.customer_id IS DISTINCT FROM {customer}"
        # intacct_sync/pull/versions.py: which snapshot is newer, DST nights and same seconds
        # included.
        not_older = (
            "intacct_sync.not_older(EXCLUDED.intacct_modified_from,"
            " EXCLUDED.intacct_modified_to, EXCLUDED.intacct_read_at,"
            f" {t}.intacct_modified_from, {t}.intacct_modified_to, {t}.intacct_read_at)"
        )
        # A deletion leaves WHENMODIFIED as it was: a read that started after the row was
        # deleted has seen the record exist (a late load of an older read has not).
        seen_after_delete = (
            f"coalesce(EXCLUDED.intacct_read_at > {t}.deleted_at"
            f" OR EXCLUDED.intacct_modified_from > {t}.intacct_modified_to, false)"
        )
        # A local record we pushed comes back from Intacct: the AR platform owns it. Except
        # customers, which sync both ways (intacct_sync/customer_sync.py) and keep the local
        # account number they were linked by.
        owned = f"{self.obj.table}.origin = 'intacct'"
        if self.obj.name == "customers":
            owned = "true"
        cursor.execute(
            f"INSERT INTO {self.obj.table} ({names}{customer_col}, origin)"
            f" SELECT {self.casts}{customer_val}, 'intacct' FROM incoming i"
            " WHERE i.intacct_recordno = ANY(%s)"
            f" ON CONFLICT {self.key} DO UPDATE SET {updates}, updated_at = now(),"
            f" deleted_at = CASE WHEN {seen_after_delete} THEN NULL ELSE {t}.deleted_at END"
            f" WHERE {owned}"
            f" AND ({t}.row_hash IS DISTINCT FROM EXCLUDED.row_hash"
            f" OR ({t}.deleted_at IS NOT NULL AND {seen_after_delete}){relink})"
            # A retried old run, or the slower of two overlapping runs, must not overwrite
            # what a newer snapshot loaded.
            f" AND {not_older}"
            " RETURNING id, intacct_recordno::text, (xmax = 0)",
            (ids,),
        )
        return cursor.fetchall()

    def replace_children(self, cursor, parents: list[tuple[int, str, bool]]) -> None:
        if not self.obj.child_table or not parents:
            return
        parent_col = self.obj.child_parent_column
        cursor.execute(
            f"DELETE FROM {self.obj.child_table} WHERE {parent_col} = ANY(%s)",
            ([p[0] for p in parents],),
        )
        if not self.child_columns:  # this batch has no child rows at all
            return
        names = ", ".join(f'"{c}"' for c in self.child_columns)
        casts = ", ".join(f'ch."{c}"::{self.child_types[c]}' for c in self.child_columns)
        extra_cols, extra_vals, joins = "", "", ""
        if self.obj.name == "payments":
            # Applications point at local invoices / credit notes through the A/R keys.
            extra_cols = ", target, invoice_id, credit_note_id"
            extra_vals = (
                ", CASE WHEN inv.id IS NULL AND ch.intacct_target_key IS NULL"
                " THEN 'other' ELSE 'invoice' END, inv.id, cn.id"
            )
            joins = (
                " LEFT JOIN ar.invoices inv ON inv.ar_recordno = ch.intacct_target_key::bigint"
                " LEFT JOIN ar.credit_notes cn"
                "  ON cn.ar_recordno = ch.intacct_credit_key::bigint"
            )
        cursor.execute(
            f"INSERT INTO {self.obj.child_table} ({parent_col}, {names}{extra_cols})"
            f" SELECT p.id, {casts}{extra_vals} FROM incoming_children ch"
            " JOIN unnest(%s::bigint[], %s::text[]) AS p(id, recordno)"
            f"  ON p.recordno = ch.parent_recordno{joins}",
            ([p[0] for p in parents], [p[1] for p in parents]),
        )

    def run(self, cursor, ids: list[str], counts: LoadCounts) -> list[str]:
        """Load the records `ids`; returns the ids that are now in the AR tables."""
        held: list[str] = []
        # A record a push sent (or is still sending) links to its local row, not a new one
        # (a CUSTOMER record: by its id, link_customers).
        if self.obj.name != "customers" or self.contacts:
            push_links.link_pulled(cursor, self.obj.name, ids)
        if self.obj.name == "customers":
            self.refuse_mixed_sources(cursor)
            self.retire_reused_ids(cursor, ids)
            self.link_customers(cursor, ids)
            held, conflicts = customer_sync.hold_back(cursor, ids, contacts=self.contacts)
            record_errors(cursor, "customers", "push", conflicts)
            counts.unchanged += len(held)
            ids = [i for i in ids if i not in set(held)]
        if self.obj.skips_inactive_customers:
            skipped = set(self.skip_inactive_customers(cursor, ids))
            counts.skipped += len(skipped)
            ids = [i for i in ids if i not in skipped]
        changed = self.upsert(cursor, ids)
        if self.obj.name == "customers":
            customer_sync.record_pulled(cursor, ids)
        self.replace_children(cursor, changed)
        counts.inserted += sum(1 for c in changed if c[2])
        counts.updated += sum(1 for c in changed if not c[2])
        counts.unchanged += len(ids) - len(changed)
        return ids + held


def load(connection, obj: SyncObject, mapped: Mapped) -> LoadCounts:
    """Load one mapped batch in one transaction; bad records are isolated, not fatal."""
    counts = LoadCounts(
        rejected=len(mapped.rejected), rejected_ids=[r.record_id for r in mapped.rejected]
    )
    rows = mapped.rows
    if obj.keep and not rows.empty:  # e.g. both sources: an A/R invoice OE made loads as its doc
        field, value = obj.keep
        rows = rows[rows[f"intacct_{field.lower()}"] == value]
    with connection, connection.cursor() as cursor:
        record_errors(cursor, obj.name, "pull", mapped.rejected)
        if rows.empty:
            return counts
        _copy_frame(cursor, "incoming", rows)
        if mapped.children is not None:
            _copy_frame(cursor, "incoming_children", mapped.children)
        loader = _Loader(cursor, obj, rows, mapped.children)
        ids = rows["intacct_recordno"].astype(str).tolist()
        cursor.execute("SAVEPOINT batch")
        try:
            loaded = loader.run(cursor, ids, counts)
        except RECORD_ERRORS:
            cursor.execute("ROLLBACK TO SAVEPOINT batch")
            counts = LoadCounts(rejected=counts.rejected, rejected_ids=counts.rejected_ids)
            loaded = []
            for recordno in ids:
                cursor.execute("SAVEPOINT one")
                try:
                    loaded += loader.run(cursor, [recordno], counts)
                except RECORD_ERRORS as error:
                    cursor.execute("ROLLBACK TO SAVEPOINT one")
                    message = (error.diag.message_primary or str(error)).strip()
                    record_errors(
                        cursor,
                        obj.name,
                        "pull",
                        [
                            Rejected(
                                recordno,
                                f"{obj.table}: {message}",
                                "The record violates a rule of the AR database; fix it in Intacct "
                                "or the AR platform, then retry.",
                            )
                        ],
                    )
                    counts.rejected += 1
                    counts.rejected_ids.append(recordno)
        relink_references(cursor)
        resolve_errors(cursor, obj.name, loaded)
        cursor.execute("DROP TABLE IF EXISTS incoming; DROP TABLE IF EXISTS incoming_children")
    return counts
