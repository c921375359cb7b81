"""Deletions: Intacct has no deleted-records feed, so read AUDITHISTORY, else compare keys.

AUDITHISTORY 'Delete' rows name the deleted RECORDNOs of an object type; it needs the
"custom reports: view" permission. Without it, the complete set of RECORDNOs is listed
cheaply (readByQuery fields=RECORDNO) and local rows missing from it are deleted. Either
way rows are soft-deleted (deleted_at), never removed. Reversals and voids are state changes
and arrive as ordinary updates.
"""

from __future__ import annotations

from datetime import datetime

from intacct_sync.errors import IntacctObjectNotFoundError, IntacctPermissionError
from intacct_sync.hooks.intacct import IntacctHook
from intacct_sync.xml_request import eq, ge, lt

from include.sync_objects import SyncObject


def deleted_recordnos(hook: IntacctHook, obj: SyncObject, start: datetime, end: datetime
                      ) -> list[str]:
    """RECORDNOs of `obj` deleted in [start, end), from AUDITHISTORY."""
    audit = (
        eq("OBJECTTYPE", obj.intacct_object.lower()) & eq("ACCESSMODE", "Delete")
        & ge("ACCESSTIME", start) & lt("ACCESSTIME", end)
    )
    return [r["OBJECTKEY"] for r in hook.read_by_query("AUDITHISTORY", ["OBJECTKEY"], audit)
            if r.get("OBJECTKEY")]


def soft_delete(connection, obj: SyncObject, recordnos: list[str], *, keep_only: bool = False
                ) -> int:
    """Mark rows deleted: the given RECORDNOs, or with keep_only every pulled row not in them."""
    condition = "NOT (intacct_recordno::text = ANY(%s))" if keep_only else (
        "intacct_recordno::text = ANY(%s)")
    with connection, connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {obj.table} SET deleted_at = now(), updated_at = now()"
            f" WHERE origin = 'intacct' AND deleted_at IS NULL AND {condition}",
            (recordnos,),
        )
        return cursor.rowcount


def apply_deletes(hook: IntacctHook, connection, obj: SyncObject, start: datetime | None,
                  end: datetime) -> dict[str, int | str]:
    """Soft-delete what Intacct deleted in the window; returns how and how many."""
    if start is None:  # a full read: everything that exists was just loaded
        return {"method": "full-read", "deleted": 0}
    try:
        keys = deleted_recordnos(hook, obj, start, end)
        return {"method": "audithistory", "deleted": soft_delete(connection, obj, keys)}
    except (IntacctPermissionError, IntacctObjectNotFoundError):
        existing = [r["RECORDNO"] for r in hook.read_by_query(
            obj.intacct_object, ["RECORDNO"], docparid=obj.docparid)]
        return {"method": "key-set", "deleted": soft_delete(connection, obj, existing,
                                                           keep_only=True)}
