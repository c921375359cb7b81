"""Extract → map → load of every object ties out with the sandbox's own ground truth."""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

from intacct_sync.pull.extract import IntacctExtractOperator
from intacct_sync.pull.map_and_load import map_and_load
from intacct_sync.sync_objects import OBJECTS

from tests.ground_truth import all_records, sandbox_get

ORDER = ("customers", "invoices", "credit_notes", "payments")
COMPANY_TZ = ZoneInfo("America/Los_Angeles")  # the test connection's (tests/conftest.py)


def land(run_id: str, obj) -> None:
    """The extract task of one registry entry (any source): land its records for `run_id`."""
    IntacctExtractOperator(
        task_id=f"extract_{obj.name}_{obj.source}",
        object_name=obj.name,
        intacct_object=obj.intacct_object,
        docparid=obj.docparid,
        fields=list(obj.fields),
        landing_run_id=run_id,
        children=obj.children.spec() if obj.children else None,
    ).execute({})


def _extract(run_id: str, name: str):
    """The extract task of one object, as registered: land its records for `run_id`."""
    land(run_id, OBJECTS[name])
    return OBJECTS[name]


def _pull(run_id: str, connection, names: tuple[str, ...] = ORDER, hook=None) -> dict:
    """Extract, map and load `names` in turn; with `hook`, balances are refreshed too."""
    counts = {}
    for name in names:
        obj = _extract(run_id, name)
        counts[name] = map_and_load(
            connection, obj, run_id, batch_size=400, hook=hook, company_tz=COMPANY_TZ
        )
    return counts


def _query(connection, sql: str, *args):
    with connection.cursor() as cursor:
        cursor.execute(sql, args)
        return cursor.fetchall()


def test_full_pull_ties_out_and_a_second_run_changes_nothing(intacct_connection, clean_ar):
    ar_connection = clean_ar
    server = intacct_connection
    first = _pull("run-a", ar_connection)

    customers = all_records(server, object="CUSTOMER")
    assert first["customers"].inserted == len(customers)
    active = {c["CUSTOMERID"] for c in customers if c["STATUS"] == "active"}
    for name, docparid, table in (
        ("invoices", "Sales Invoice", "ar.invoices"),
        ("credit_notes", "Sales Return", "ar.credit_notes"),
    ):
        docs = all_records(server, object="SODOCUMENT", docparid=docparid)
        expected = [d for d in docs if d["CUSTVENDID"] in active]
        assert first[name].skipped == len(docs) - len(expected)
        assert first["invoices"].skipped > 0 or name == "credit_notes"  # the rule is exercised
        by_entity: dict[str, list] = {}
        for d in expected:
            by_entity.setdefault(d["MEGAENTITYID"] or "", []).append(d)
        rows = dict(
            (
                (e, (n, s))
                for e, n, s in _query(
                    ar_connection, f"SELECT entity, count(*), sum(total) FROM {table} GROUP BY 1"
                )
            )
        )
        assert rows == {
            e: (len(ds), sum(Decimal(str(d["TRX_TOTAL"])) for d in ds))
            for e, ds in by_entity.items()
        }, name

    payments = all_records(server, object="ARPYMT")
    [(count, total)] = _query(ar_connection, "SELECT count(*), sum(amount) FROM ar.payments")
    assert count == len(payments)
    assert total == sum(Decimal(str(p["TRX_TOTALENTERED"])) for p in payments)
    [(applications,)] = _query(ar_connection, "SELECT count(*) FROM ar.payment_applications")
    assert applications > 0

    second = _pull("run-b", ar_connection)
    for name in ORDER:
        assert (second[name].inserted, second[name].updated) == (0, 0), name


def test_local_customers_are_linked_by_account_number_then_name(intacct_connection, clean_ar):
    customers = sandbox_get(intacct_connection, "records", object="CUSTOMER", limit=2)["records"]
    by_number, by_name = customers
    with clean_ar, clean_ar.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ar.customers (origin, account_number, name) VALUES"
            " ('local', %s, 'Local name differs'), ('local', NULL, %s) RETURNING id",
            (by_number["CUSTOMERID"], by_name["NAME"].upper()),
        )
        local_ids = [r[0] for r in cursor.fetchall()]
    _pull("link", clean_ar, names=("customers",))
    linked = dict(
        _query(
            clean_ar, "SELECT id, intacct_recordno FROM ar.customers WHERE id = ANY(%s)", local_ids
        )
    )
    assert linked == {local_ids[0]: by_number["RECORDNO"], local_ids[1]: by_name["RECORDNO"]}
    [(rows,)] = _query(clean_ar, "SELECT count(*) FROM ar.customers")
    assert rows == sandbox_get(intacct_connection, "summary", object="CUSTOMER")["count"]


def test_an_ambiguous_local_match_is_not_linked_by_guess(intacct_connection, clean_ar):
    customer = sandbox_get(intacct_connection, "records", object="CUSTOMER", limit=1)["records"][0]
    with clean_ar, clean_ar.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ar.customers (origin, account_number, name) VALUES"
            " ('local', 'L-1', %s), ('local', 'L-2', %s) RETURNING id",
            (customer["NAME"], customer["NAME"]),
        )
        twins = [r[0] for r in cursor.fetchall()]
    _pull("ambiguous", clean_ar, names=("customers",))
    assert _query(
        clean_ar, "SELECT intacct_recordno FROM ar.customers WHERE id = ANY(%s)", twins
    ) == [(None,), (None,)]
    assert _query(
        clean_ar,
        "SELECT count(*) FROM ar.customers WHERE intacct_recordno = %s",
        customer["RECORDNO"],
    ) == [(1,)]


def test_a_deleted_row_comes_back_only_from_a_read_that_started_after_the_deletion(
    intacct_connection, clean_ar
):
    """A deletion does not change WHENMODIFIED: a late load of data read before the deletion
    (a retried history chunk, a slow hourly run) must not undo it. A read that started
    after it and still sees the record has seen it exist: the row comes back."""
    from intacct_sync.pull.deletes import soft_delete

    customers = OBJECTS["customers"]
    _pull("undelete-1", clean_ar, ("customers",))
    [(first,), (second,)] = _query(
        clean_ar, "SELECT intacct_recordno::text FROM ar.customers ORDER BY 1 LIMIT 2"
    )
    _extract("undelete-late", "customers")  # read before the deletion, loaded after it
    assert soft_delete(clean_ar, customers, [first, second]) == 2

    def deleted() -> set[str]:
        rows = _query(
            clean_ar,
            "SELECT intacct_recordno::text FROM ar.customers WHERE deleted_at IS NOT NULL",
        )
        return {r[0] for r in rows}

    map_and_load(clean_ar, customers, "undelete-late", company_tz=COMPANY_TZ)
    assert deleted() == {first, second}
    _pull("undelete-after", clean_ar, ("customers",))
    assert deleted() == set()


def test_the_key_set_spares_rows_loaded_while_it_was_listed(intacct_connection, clean_ar):
    from datetime import UTC, datetime, timedelta

    from intacct_sync.pull.deletes import soft_delete

    _pull("keyset-1", clean_ar, ("customers",))
    every = [r[0] for r in _query(clean_ar, "SELECT intacct_recordno::text FROM ar.customers")]
    listed_before_the_load = datetime.now(UTC) - timedelta(minutes=5)
    # An empty listing taken before these rows were written deletes none of them.
    assert (
        soft_delete(
            clean_ar, OBJECTS["customers"], [], keep_only=True, listed_at=listed_before_the_load
        )
        == 0
    )
    assert soft_delete(clean_ar, OBJECTS["customers"], every[1:], keep_only=True) == 1
