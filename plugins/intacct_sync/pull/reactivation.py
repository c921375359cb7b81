"""Documents skipped because their customer was not active, imported once it is.

The loader records each skipped document in intacct_sync.skipped_records. When the customer
is active again, its documents may be long outside any WHENMODIFIED window, so they are read
again by RECORDNO and landed with the run's other records (chunk "reactivated").
"""

from __future__ import annotations

from intacct_sync.intacct.hook import IntacctHook
from intacct_sync.pull.healing import land_by_keys
from intacct_sync.sync_objects import SyncObject


def reactivated_recordnos(connection, obj: SyncObject) -> list[str]:
    """Skipped documents whose local customer (their bill-to contact's, else their
    customer's: intacct_sync.customer_of) is active now."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.intacct_recordno::text FROM intacct_sync.skipped_records s"
            " JOIN ar.customers c ON c.id = intacct_sync.customer_of(s.customer_key,"
            "  s.contact_key)"
            " WHERE s.object = %s AND c.status = 'active' AND c.deleted_at IS NULL"
            " ORDER BY 1",
            (obj.name,),
        )
        return [r[0] for r in cursor.fetchall()]


def land_reactivated(hook: IntacctHook, connection, obj: SyncObject, run_id: str) -> int:
    """Land headers and children of the reactivated documents; returns how many headers."""
    keys = reactivated_recordnos(connection, obj)
    return land_by_keys(hook, connection, obj, run_id, keys, "reactivated")
