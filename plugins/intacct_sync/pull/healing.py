"""Self-healing: what no WHENMODIFIED window shows is found by comparison and read by key.

A window only sees records whose WHENMODIFIED falls inside it. A batch that commits later
than the overlap (stamped 10:30, visible at 12:30), a load lost to an outage, a record a
person asked to retry: none of them is in any later window. So, besides the windows:

- **the comparison** (every `keyset_comparison_hours` of the sync configuration, default
  24): Intacct's key set *with modification times* (readByQuery fields=RECORDNO,WHENMODIFIED,
  paged like any read) is compared with the local rows. Records missing locally, or whose
  local WHENMODIFIED differs from Intacct's, are read again by RECORDNO; local rows Intacct
  no longer has are soft-deleted (refused when that would delete more than 10% of the
  table: intacct_sync/pull/deletes.py). Documents waiting for an inactive customer
  (skipped_records) and records with an open or ignored reconciliation error are not read
  again (reactivation and "retry" are their way back).
- **retries**: pull reconciliation errors a person retried (`intacct_sync.retry_error`,
  state `retrying`) are read again by RECORDNO in the next run; a record Intacct no longer
  has resolves its error.

What is read again is landed with the run's other records (chunks ``healing`` and
``retry``) and goes through the same map and load; the load resolves the errors of the
records it loads, a record still bad keeps (re-opens) its error.

Cost per 100,000 records of an object: the listing is 100 calls (1,000 keys a call) plus one
call per 100 records read again, and their children (lines, applications) one call per 500
parents; `make bench` (bench/bench_healing.py) measures it next to a plain hourly run.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from intacct_sync.intacct.hook import IntacctHook, RecordStream
from intacct_sync.intacct.xml_request import in_
from intacct_sync.pull.deletes import refuse_mass_delete, soft_delete
from intacct_sync.pull.extract import hold_back_parents
from intacct_sync.pull.landing import land_records, landed_keys, record_unreadable
from intacct_sync.sync_objects import SyncObject

KEY_BATCH = 100  # RECORDNOs per read by key: an IN list that stays a short query
CHILD_KEY_BATCH = 500  # parents per child read, as the extract does
LOCAL_FORMAT = "MM/DD/YYYY HH24:MI:SS"  # WHENMODIFIED as Intacct prints it (company-local)


def land_by_keys(
    hook: IntacctHook, connection, obj: SyncObject, run_id: str, keys: list[str], chunk: str
) -> int:
    """Read the headers `keys` and their children again and land them as `chunk` of the run;
    returns how many headers Intacct still has."""

    streams: list[RecordStream] = []

    def read(
        intacct_object: str, fields: list[str], key_field: str, wanted: list[str], batch: int
    ) -> Iterator[dict[str, Any]]:
        for start in range(0, len(wanted), batch):
            streams.append(
                hook.read_by_query(
                    intacct_object,
                    fields,
                    in_(key_field, wanted[start : start + batch]),
                    docparid=obj.docparid if intacct_object == obj.intacct_object else None,
                    isolate=True,
                )
            )
            yield from streams[-1]

    if not keys:
        return 0
    fields = list(dict.fromkeys([*obj.fields, "RECORDNO", "WHENMODIFIED"]))
    landed = land_records(
        connection,
        run_id,
        obj.name,
        read(obj.intacct_object, fields, "RECORDNO", keys, KEY_BATCH),
        chunk=chunk,
    )
    record_unreadable(connection, obj.name, (u for s in streams for u in s.unreadable))
    streams.clear()
    if obj.children and landed:
        land_records(
            connection,
            run_id,
            f"{obj.name}.children",
            read(
                obj.children.intacct_object,
                list(obj.children.fields),
                obj.children.parent_field,
                landed_keys(connection, run_id, obj.name, chunk),
                CHILD_KEY_BATCH,
            ),
            chunk=chunk,
            parent_field=obj.children.parent_field,
        )
        held = hold_back_parents(
            hook, connection, obj.children.spec(), [u for s in streams for u in s.unreadable],
            object_name=obj.name, run_id=run_id, chunk=chunk,
        )  # fmt: skip
        record_unreadable(connection, obj.name, held)
        landed -= len({h.key for h in held})
    return landed


# -- retries --------------------------------------------------------------------------------
def land_retried(hook: IntacctHook, connection, obj: SyncObject, run_id: str) -> dict[str, int]:
    """Read again the records of the object's retried pull errors; an error whose record
    Intacct no longer has is resolved (there is nothing left to load). A record that still
    cannot be read is open again (record_unreadable), so it is not taken for gone."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT record_id FROM intacct_sync.reconciliation_errors"
            " WHERE object = %s AND direction = 'pull' AND state = 'retrying'"
            " AND record_id ~ '^[0-9]+$' ORDER BY record_id::bigint",
            (obj.name,),
        )
        keys = [r[0] for r in cursor.fetchall()]
    landed = land_by_keys(hook, connection, obj, run_id, keys, "retry")
    gone = sorted(set(keys) - set(landed_keys(connection, run_id, obj.name, "retry")))
    if gone:
        with connection, connection.cursor() as cursor:
            cursor.execute(
                "UPDATE intacct_sync.reconciliation_errors SET state = 'resolved',"
                " resolved_at = now(), message = message || ' (no longer in Intacct)'"
                " WHERE object = %s AND direction = 'pull' AND state = 'retrying'"
                " AND record_id = ANY(%s)",
                (obj.name, gone),
            )
    return {"retried": landed, "retried_gone": len(gone)}


# -- the comparison -------------------------------------------------------------------------
def comparison_due(connection, obj: SyncObject, every: timedelta) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT last_keyset_at FROM intacct_sync.sync_state"
            " WHERE object = %s AND direction = 'pull'",
            (obj.name,),
        )
        row = cursor.fetchone()
    return not row or row[0] is None or datetime.now(UTC) - row[0] >= every


def _comparison_done(connection, obj: SyncObject) -> None:
    with connection, connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO intacct_sync.sync_state (object, direction, last_keyset_at)"
            " VALUES (%s, 'pull', now()) ON CONFLICT (object, direction)"
            " DO UPDATE SET last_keyset_at = now()",
            (obj.name,),
        )


def _local_versions(connection, obj: SyncObject) -> dict:
    """RECORDNO → (WHENMODIFIED as Intacct prints it, live and ours to compare)."""
    source, source_params = obj.source_clause
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT intacct_recordno::text, to_char(intacct_whenmodified, %s),"
            "  origin = 'intacct' AND deleted_at IS NULL"
            f" FROM {obj.table} WHERE intacct_recordno IS NOT NULL{source}",
            (LOCAL_FORMAT, *source_params),
        )
        return {r[0]: (r[1], r[2]) for r in cursor.fetchall()}


def _modified_before(whenmodified: str | None, since_local: datetime | None) -> bool:
    """Intacct's WHENMODIFIED (as printed) is before the cut-over, or empty: history."""
    if since_local is None:
        return False
    if not whenmodified:
        return True
    return datetime.strptime(whenmodified, "%m/%d/%Y %H:%M:%S") < since_local


def _not_reread(connection, obj: SyncObject) -> set[str]:
    """Keys another path brings back: waiting documents, errors open or ignored."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT intacct_recordno::text FROM intacct_sync.skipped_records WHERE object = %s"
            " UNION SELECT record_id FROM intacct_sync.reconciliation_errors"
            " WHERE object = %s AND direction = 'pull' AND state IN ('open', 'ignored')",
            (obj.name, obj.name),
        )
        return {r[0] for r in cursor.fetchall()}


def compare_and_land(
    hook: IntacctHook,
    connection,
    obj: SyncObject,
    run_id: str,
    since: datetime | None = None,
) -> dict[str, Any]:
    """Compare Intacct's keys and modification times with the local rows: land what is
    missing or stale locally for this run's load, soft-delete what Intacct no longer has.

    The whole key set is compared (a deletion or an edit of an old record counts too), but a
    record missing locally that was last modified before `since` (aware: the cut-over) is
    not read: history arrives through the initial data sync, not through the comparison."""
    listed_at = datetime.now(UTC)
    listing = hook.read_by_query(
        obj.intacct_object, ["RECORDNO", "WHENMODIFIED"], "", docparid=obj.docparid
    )
    intacct = {str(r["RECORDNO"]): r.get("WHENMODIFIED") for r in listing}
    # The cut-over as a company-local time, an hour early: local time repeats an hour on a
    # fall-back night, and reading a few records too many costs nothing.
    since_local = (
        since.astimezone(hook.company_timezone).replace(tzinfo=None) - timedelta(hours=1)
        if since else None
    )  # fmt: skip
    local = _local_versions(connection, obj)
    skip = _not_reread(connection, obj)
    missing = [
        k for k, when in intacct.items()
        if k not in local and k not in skip and not _modified_before(when, since_local)
    ]  # fmt: skip
    stale = [
        k for k, (when, ours) in local.items()
        if ours and k in intacct and intacct[k] != when and k not in skip
    ]  # fmt: skip
    existing = list(intacct)
    refuse_mass_delete(connection, obj, existing)
    deleted = soft_delete(connection, obj, existing, keep_only=True, listed_at=listed_at)
    keys = sorted(missing + stale, key=int)
    landed = land_by_keys(hook, connection, obj, run_id, keys, "healing")
    _comparison_done(connection, obj)
    return {
        "listed": len(intacct),
        "missing": len(missing),
        "stale": len(stale),
        "reread": landed,
        "deleted": deleted,
        "calls": listing.pages,
    }


def heal(
    hook: IntacctHook,
    connection,
    obj: SyncObject,
    run_id: str,
    *,
    full_read: bool,
    every: timedelta,
    since: datetime | None = None,
) -> dict[str, Any]:
    """The run's healing step: retried errors always, the comparison when it is due (not
    after a full read, which loaded everything that exists)."""
    summary: dict[str, Any] = land_retried(hook, connection, obj, run_id)
    if full_read or not comparison_due(connection, obj, every):
        return {**summary, "comparison": "full-read" if full_read else "not-due"}
    return {**summary, "comparison": "done", **compare_and_land(hook, connection, obj, run_id,
                                                                since)}  # fmt: skip
