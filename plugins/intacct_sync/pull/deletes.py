"""Deletions: Intacct has no deleted-records feed, so read AUDITHISTORY, else compare keys.

AUDITHISTORY 'Delete' rows name the deleted RECORDNOs of an object type; it needs the
"custom reports: view" permission. Without it, deletions come from the periodic comparison
of the complete key set (intacct_sync/pull/healing.py, which also loads what is missing or stale):
local rows missing from Intacct's listing are deleted. Either way rows are soft-deleted
(deleted_at), never removed. Reversals and voids are state changes and arrive as ordinary
updates.
"""

from __future__ import annotations

from datetime import datetime

from intacct_sync.intacct.errors import IntacctObjectNotFoundError, IntacctPermissionError
from intacct_sync.intacct.hook import IntacctHook
from intacct_sync.intacct.xml_request import eq, ge, lt
from intacct_sync.sync_objects import SyncObject


def deleted_recordnos(
    hook: IntacctHook, obj: SyncObject, start: datetime, end: datetime
) -> list[str]:
    """RECORDNOs of `obj` deleted in [start, end), from AUDITHISTORY."""
    audit = (
        eq("OBJECTTYPE", obj.intacct_object.lower())
        & eq("ACCESSMODE", "Delete")
        & ge("ACCESSTIME", start)
        & lt("ACCESSTIME", end)
    )
    return [
        r["OBJECTKEY"]
        for r in hook.read_by_query("AUDITHISTORY", ["OBJECTKEY"], audit)
        if r.get("OBJECTKEY")
    ]


def soft_delete(
    connection,
    obj: SyncObject,
    recordnos: list[str],
    *,
    keep_only: bool = False,
    listed_at: datetime | None = None,
    since: datetime | None = None,
) -> int:
    """Mark rows deleted: the given RECORDNOs, or with keep_only every pulled row not in
    them — except rows written after `listed_at`, which another run (hourly, history) loaded
    while the listing ran: they are newer than the listing, not gone — and, when the listing
    only covered records modified from `since` (company-local), rows older than that."""
    condition = (
        "NOT (intacct_recordno::text = ANY(%s))"
        if keep_only
        else ("intacct_recordno::text = ANY(%s)")
    )
    source, source_params = obj.source_clause
    with connection, connection.cursor() as cursor:
        cursor.execute(
            # The moment of the deletion, not of the transaction's start: a read that started
            # after it and still sees the record brings the row back (intacct_sync/pull/loading.py).
            f"UPDATE {obj.table} SET deleted_at = clock_timestamp(), updated_at = now()"
            f" WHERE origin = 'intacct' AND deleted_at IS NULL AND {condition}"
            " AND (%s::timestamptz IS NULL OR updated_at < %s::timestamptz)"
            " AND (%s::timestamp IS NULL OR intacct_whenmodified >= %s::timestamp)" + source,
            (recordnos, listed_at, listed_at, since, since, *source_params),
        )
        return cursor.rowcount


MAX_KEYSET_DELETE_SHARE = 0.10


class MassDeleteRefused(RuntimeError):
    """A key-set listing would delete too much: a person must look (retrying won't help)."""


def refuse_mass_delete(
    connection, obj: SyncObject, existing: list[str], since: datetime | None = None
) -> None:
    """A short listing usually means lost access (an entity, a permission), not deletions:
    refuse to soft-delete a large share of the table on its word."""
    source, source_params = obj.source_clause
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE NOT (intacct_recordno::text = ANY(%s)))"
            f" FROM {obj.table} WHERE origin = 'intacct' AND deleted_at IS NULL"
            " AND (%s::timestamp IS NULL OR intacct_whenmodified >= %s::timestamp)" + source,
            (existing, since, since, *source_params),
        )
        local, missing = cursor.fetchone()
    if local and missing > max(1, MAX_KEYSET_DELETE_SHARE * local):
        raise MassDeleteRefused(
            f"{obj.name}: Intacct lists {len(existing)} records but {missing} of the {local}"
            f" local rows are missing from it (more than {MAX_KEYSET_DELETE_SHARE:.0%}); not"
            " deleting them — check the web services user's permissions and entity access"
        )


def apply_deletes(
    hook: IntacctHook,
    connection,
    obj: SyncObject,
    start: datetime | None,
    end: datetime,
    healed: dict | None = None,
) -> dict[str, int | str]:
    """Soft-delete what Intacct deleted in the window; returns how and how many.

    Without AUDITHISTORY, the run's comparison (`healed`, intacct_sync/pull/healing.py) already
    deleted what the complete key set no longer holds; it runs at most once per
    `keyset_comparison_hours`, so deletions wait for it at most that long.
    """
    if start is None:  # a full read: everything that exists was just loaded
        return {"method": "full-read", "deleted": 0}
    try:
        keys = deleted_recordnos(hook, obj, start, end)
        return {"method": "audithistory", "deleted": soft_delete(connection, obj, keys)}
    except (IntacctPermissionError, IntacctObjectNotFoundError):
        if not healed or healed.get("comparison") != "done":
            return {"method": "key-set-not-due", "deleted": 0}
        return {"method": "key-set", "deleted": int(healed["deleted"])}
