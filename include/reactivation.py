"""Documents skipped because their customer was not active, imported once it is.

The loader records each skipped document in intacct_sync.skipped_records. When the customer
is active again, its documents may be long outside any WHENMODIFIED window, so they are read
again by RECORDNO and landed with the run's other records (chunk "reactivated").
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from intacct_sync.hooks.intacct import IntacctHook
from intacct_sync.xml_request import in_

from include.landing import land_records
from include.sync_objects import SyncObject

BATCH = 500


def reactivated_recordnos(connection, obj: SyncObject) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.intacct_recordno::text FROM intacct_sync.skipped_records s"
            " JOIN ar.customers c ON c.intacct_customer_id = s.customer_key"
            " WHERE s.object = %s AND c.status = 'active' AND c.deleted_at IS NULL"
            " ORDER BY 1",
            (obj.name,),
        )
        return [r[0] for r in cursor.fetchall()]


def land_reactivated(hook: IntacctHook, connection, obj: SyncObject, run_id: str) -> int:
    """Land headers and children of the reactivated documents; returns how many headers."""
    keys = reactivated_recordnos(connection, obj)

    def read(intacct_object: str, fields: list[str], key_field: str) -> Iterator[dict[str, Any]]:
        for start in range(0, len(keys), BATCH):
            yield from hook.read_by_query(
                intacct_object,
                fields,
                in_(key_field, keys[start : start + BATCH]),
                docparid=obj.docparid if intacct_object == obj.intacct_object else None,
            )

    if not keys:
        return 0
    landed = land_records(
        connection,
        run_id,
        obj.name,
        read(obj.intacct_object, list(obj.fields), "RECORDNO"),
        chunk="reactivated",
    )
    if obj.children:
        land_records(
            connection,
            run_id,
            f"{obj.name}.children",
            read(obj.children.intacct_object, list(obj.children.fields), obj.children.parent_field),
            chunk="reactivated",
            parent_field=obj.children.parent_field,
        )
    return landed
