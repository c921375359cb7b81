"""Deletions: Intacct has no deleted-records feed, so read AUDITHISTORY, else compare keys.

AUDITHISTORY 'Delete' rows name the deleted RECORDNOs of an object type; it needs the
"custom reports: view" permission. Without it, the complete set of RECORDNOs is listed
cheaply (readByQuery fields=RECORDNO) and local rows missing from it are deleted. Either
way rows are soft-deleted (deleted_at), never removed. Reversals and voids are state changes
and arrive as ordinary updates.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from intacct_sync.errors import IntacctObjectNotFoundError, IntacctPermissionError
from intacct_sync.hooks.intacct import IntacctHook
from intacct_sync.xml_request import eq, ge, lt

from include.sync_objects import SyncObject


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
) -> int:
    """Mark rows deleted: the given RECORDNOs, or with keep_only every pulled row not in
    them — except rows written after `listed_at`, which another run (hourly, history) loaded
    while the listing ran: they are newer than the listing, not gone."""
    condition = (
        "NOT (intacct_recordno::text = ANY(%s))"
        if keep_only
        else ("intacct_recordno::text = ANY(%s)")
    )
    with connection, connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {obj.table} SET deleted_at = now(), updated_at = now()"
            f" WHERE origin = 'intacct' AND deleted_at IS NULL AND {condition}"
            " AND (%s::timestamptz IS NULL OR updated_at < %s::timestamptz)",
            (recordnos, listed_at, listed_at),
        )
        return cursor.rowcount


def _keyset_due(connection, obj: SyncObject, every: timedelta) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT last_keyset_at FROM intacct_sync.sync_state"
            " WHERE object = %s AND direction = 'pull'",
            (obj.name,),
        )
        row = cursor.fetchone()
    return not row or row[0] is None or datetime.now(UTC) - row[0] >= every


def _keyset_done(connection, obj: SyncObject) -> None:
    with connection, connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO intacct_sync.sync_state (object, direction, last_keyset_at)"
            " VALUES (%s, 'pull', now()) ON CONFLICT (object, direction)"
            " DO UPDATE SET last_keyset_at = now()",
            (obj.name,),
        )


MAX_KEYSET_DELETE_SHARE = 0.10


class MassDeleteRefused(RuntimeError):
    """A key-set listing would delete too much: a person must look (retrying won't help)."""


def _refuse_mass_delete(connection, obj: SyncObject, existing: list[str]) -> None:
    """A short listing usually means lost access (an entity, a permission), not deletions:
    refuse to soft-delete a large share of the table on its word."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE NOT (intacct_recordno::text = ANY(%s)))"
            f" FROM {obj.table} WHERE origin = 'intacct' AND deleted_at IS NULL",
            (existing,),
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
    keyset_every: timedelta = timedelta(hours=24),
) -> dict[str, int | str]:
    """Soft-delete what Intacct deleted in the window; returns how and how many.

    The key-set comparison lists every RECORDNO of the object (one call per 1,000 records),
    so it runs at most once per `keyset_every`; deletions wait for it at most that long.
    """
    if start is None:  # a full read: everything that exists was just loaded
        return {"method": "full-read", "deleted": 0}
    try:
        keys = deleted_recordnos(hook, obj, start, end)
        return {"method": "audithistory", "deleted": soft_delete(connection, obj, keys)}
    except (IntacctPermissionError, IntacctObjectNotFoundError):
        if not _keyset_due(connection, obj, keyset_every):
            return {"method": "key-set-not-due", "deleted": 0}
        listed_at = datetime.now(UTC)
        existing = [
            r["RECORDNO"]
            for r in hook.read_by_query(obj.intacct_object, ["RECORDNO"], docparid=obj.docparid)
        ]
        _refuse_mass_delete(connection, obj, existing)
        deleted = soft_delete(connection, obj, existing, keep_only=True, listed_at=listed_at)
        _keyset_done(connection, obj)
        return {"method": "key-set", "deleted": deleted}
