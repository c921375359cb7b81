"""Push local records to Intacct: send what intacct_sync/push/plans.py planned, record each result.

A push of one object: take the object's advisory lock (one push per object at a time), plan
the writes of every ready record from Postgres alone, send them with ``uniqueid=true`` in
batches, and commit each result in one transaction: the `intacct_sync.pushes` row, the
Intacct key on the local record, and the record's reconciliation error (resolved, or opened
with Intacct's error numbers and the fix hint). Because the plan follows only from what
Intacct accepted before, a push retried after a crash or a timeout sends the same control
ids again; Intacct refuses those replays and the hook looks the keys up (protocol §1.4).

Rules (design.md §2) live in the planners (intacct_sync/push/plans.py), one per object; the
payloads live in the object's mapping module (`to_intacct`).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import psycopg2

from intacct_sync import customer_sync
from intacct_sync.mapping import NotPushable, Rejected
from intacct_sync.pull.loading import record_errors, resolve_errors
from intacct_sync.push import links as push_links
from intacct_sync.push.plans import PLANNERS, Write
from intacct_sync.sync_config import SyncConfig
from intacct_sync.sync_objects import NOTIFY_CHANNEL, OBJECTS, dependents

log = logging.getLogger(__name__)

BATCH = 200  # records per write_batch call (the hook sends 50 functions per request)
# Plans that ask for a follow-up (credit notes after their payment) are planned again, at most
# this many times in one push.
MAX_PASSES = 3
_LOCK_BASE = 7_420_200  # + object index: "intacct-sync push of <object>"


@dataclass
class PushCounts:
    posted: int = 0
    linked: int = 0
    replayed: int = 0  # Intacct had already recorded the write (a replay after a timeout)
    failed: int = 0
    waiting: int = 0
    settled: int = 0  # done without a write (a void Intacct never saw, a customer already equal)
    found: int = 0  # an earlier write without an answer, found in Intacct: linked, not resent
    changed: int = 0  # edited while posting: in Intacct as sent, a reconciliation error
    failed_ids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The counts for XCom, asset events and sync_state (not the ids)."""
        return {k: v for k, v in asdict(self).items() if k != "failed_ids"}


# What a successful write changes on the local record (the key link), same transaction.
_CUSTOMER_KEY = (
    "UPDATE ar.customers SET intacct_recordno = %(key)s, intacct_customer_id = %(customer_id)s"
    " WHERE id = %(id)s"
)
LINKS: dict[tuple[str, str], str] = {
    # Customers sync both ways: what Intacct accepted is the new agreed version.
    ("customers", "create"): f"{_CUSTOMER_KEY}; {customer_sync.RECORD_SYNCED}",
    ("customers", "link"): _CUSTOMER_KEY,  # compared with Intacct's version by the next push
    ("customers", "update"): customer_sync.RECORD_SYNCED,
    ("customers", "synced"): customer_sync.RECORD_SYNCED,
    ("invoices", "create"): "UPDATE ar.invoices SET ar_recordno = %(key)s WHERE id = %(id)s",
    ("credit_notes", "create"): "UPDATE ar.credit_notes SET ar_recordno = %(key)s"
    " WHERE id = %(id)s",
    ("payments", "create"): "UPDATE ar.payments SET intacct_recordno = %(key)s WHERE id = %(id)s",
    ("payments", "void"): "UPDATE ar.payments SET warning = coalesce(%(warning)s, warning)"
    " WHERE id = %(id)s",
}
# Creates whose key later writes need: without it the record is not marked posted.
NEEDS_KEY = {("customers", "create"), ("invoices", "create"), ("credit_notes", "create"),
             ("payments", "create"), ("convenience_fees", "create")}  # fmt: skip


# -- running a push ---------------------------------------------------------------------------
@contextmanager
def _object_lock(connection, name: str) -> Iterator[None]:
    """One push of an object at a time (an event-driven run may meet the hourly one)."""
    key = _LOCK_BASE + list(OBJECTS).index(name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", (key,))
    connection.commit()
    try:
        yield
    finally:
        connection.rollback()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", (key,))
        connection.commit()


def push_object(hook, connection, name: str, config: SyncConfig) -> PushCounts:
    """Post every ready local record of `name`; returns what happened (small, for XCom)."""
    counts = PushCounts()
    done: set[tuple[int, str, str]] = set()  # failed or rejected in this push: not resent
    with _object_lock(connection, name):
        for _ in range(MAX_PASSES):
            plan = PLANNERS[name](connection, hook, config)
            connection.rollback()  # planning only read; end its transaction
            counts.waiting = plan.waiting
            rejected = [r for r in plan.rejected if (r[0], "create", "") not in done]
            writes = [w for w in plan.writes if w.step not in done]
            _record_rejected(connection, name, rejected, counts)
            done.update((r[0], "create", "") for r in rejected)
            _link_customers(connection, plan.links, counts)
            _settle(connection, [w for w in plan.settled if w.step not in done], counts)
            writes = _reentries(connection, hook, writes, counts, done)
            if not writes:
                break
            for i in range(0, len(writes), BATCH):
                for entity, batch in _by_entity(connection, writes[i : i + BATCH]):
                    entity_hook = hook.for_entity(entity)
                    batch = _look_up_unknown(connection, entity_hook, batch, counts)
                    if not batch:
                        continue
                    push_links.prepare(connection, batch)  # committed before it goes out
                    try:
                        results = entity_hook.write_batch([w.function for w in batch])
                    except BaseException as no_answer:
                        push_links.mark_unknown(connection, batch, no_answer)
                        raise
                    failed = _commit(connection, batch, results, counts)
                    done.update(w.step for w in failed)
            if not plan.follow_up:
                break
    if counts.posted or counts.linked or counts.found:
        _wake(connection, dependents(name))
    log.info("push %s: %s", name, counts.as_dict())
    return counts


def enable(connection, config: SyncConfig | None = None) -> None:
    """Enable the push of every object now: its cut-over is recorded (unless sync_start
    configures it), so records entered from here on are posted and older ones are not."""
    from intacct_sync.db.sync_state import cut_over
    from intacct_sync.sync_config import PUSH_OBJECTS

    for name in PUSH_OBJECTS:
        cut_over(connection, name, "push", config.sync_start.get(name) if config else None)


def _by_entity(connection, writes: list[Write]) -> list[tuple[str, list[Write]]]:
    """The writes grouped by the entity of their local record (multi-entity companies): each
    group goes through a session of that entity, so Intacct creates the record there and
    lets it touch only that entity's (and top-level) records. '' is the connection's own."""
    wanted: dict[str, list[int]] = defaultdict(list)
    for w in writes:
        wanted[w.object].append(w.local_id)
    entity_of: dict[tuple[str, int], str] = {}
    with connection, connection.cursor() as cursor:
        for obj, ids in wanted.items():
            cursor.execute(f"SELECT id, entity FROM {OBJECTS[obj].table} WHERE id = ANY(%s)",
                           (ids,))  # fmt: skip
            entity_of.update(((obj, i), e or "") for i, e in cursor.fetchall())
    groups: dict[str, list[Write]] = defaultdict(list)
    for w in writes:
        groups[entity_of.get((w.object, w.local_id), "")].append(w)
    return list(groups.items())


def _look_up_unknown(connection, hook, batch: list[Write], counts: PushCounts) -> list[Write]:
    """Creates sent before without an answer (outcome unknown, or a crash mid-write) are
    looked up in Intacct first: found → linked as posted (nothing is sent); not found → sent.
    Returns the writes still to send."""
    links = push_links.pending(connection, batch)
    if not links:
        return batch
    found = push_links.look_up(hook, list(links.values()))
    send = []
    for write in batch:
        link = links.get(getattr(write.function, "control_id", None))
        keys = found.get(link["control_id"], []) if link else []
        if not link or not keys:
            send.append(write)
        elif len(keys) > 1:
            _fail(connection, write, f"{write.label}: sent before without an answer, and "
                  f"{len(keys)} Intacct records match it ({', '.join(keys)})", [],
                  "Find the one this push created in Intacct, set the local record's key to "
                  "it by hand, then retry.", counts)  # fmt: skip
        else:  # Intacct has what was sent then: compare the row with that version
            write.sent = link["sent"]
            _apply(connection, write, link["control_id"], link["intacct_object"], keys[0],
                   counts, found=True)  # fmt: skip
    return send


def _reentries(connection, hook, writes: list[Write], counts: PushCounts,
               done: set) -> list[Write]:  # fmt: skip
    """A payment a clerk deleted after its push was sent and entered again is not posted: it
    becomes a reconciliation error naming the deleted one and whether Intacct has it. A person
    who retries that error confirms they are the same payment: it takes over the deleted
    row's link (linked to Intacct's record if there is one, else sent)."""
    matches = push_links.reentries(connection, writes)
    if not matches:
        return writes
    keep = []
    for write in writes:
        link = matches.get(write.local_id) if push_links.linked(write) else None
        if link is None:
            keep.append(write)
            continue
        keys = [str(link["intacct_key"])] if link["intacct_key"] else push_links.look_up(
            hook, [link])[link["control_id"]]
        if link["confirmed"]:
            with connection, connection.cursor() as cursor:
                push_links.take_over(cursor, link, write.local_id)
            if len(keys) == 1:
                _apply(connection, write, write.function.control_id, link["intacct_object"],
                       keys[0], counts, found=True)  # fmt: skip
            else:
                keep.append(write)
            continue
        where = (f"Intacct has it as {link['intacct_object']} RECORDNO {', '.join(keys)}"
                 if keys else "Intacct does not have it (yet)")  # fmt: skip
        why = NotPushable(
            f"re-entry of payment {link['local_id']} (deleted after its push was sent; "
            f"reference {link['document_number']}, {link['amount']} on "
            f"{link['document_date']}): {where}; not posted",
            "If this is the same payment, retry this error (make errors ARGS=\"retry ID\"): it "
            "is linked to Intacct's record instead of being posted again. If it is a different "
            "payment, give it its own reference, then retry.",
        )  # fmt: skip
        _record_rejected(connection, write.object, [(write.local_id, write.label, why)], counts)
        done.add(write.step)
    return keep


def _record_rejected(connection, name: str, rejected: list, counts: PushCounts) -> None:
    if not rejected:
        return
    with connection, connection.cursor() as cursor:
        record_errors(
            cursor, name, "push",
            [Rejected(str(i), f"{label}: {why}", why.hint) for i, label, why in rejected],
        )  # fmt: skip
    counts.failed += len(rejected)
    counts.failed_ids += [str(i) for i, _, _ in rejected]
    for i, label, why in rejected:
        log.warning("push %s %s (%s) not sent: %s", name, i, label, why)


def _link_customers(connection, links: list, counts: PushCounts) -> None:
    """Customers that already exist in Intacct are linked, not created again."""
    for local_id, recordno, customer_id, sent in links:
        write = Write("customers", local_id, "link", None, f"customer {customer_id}",
                      digest=sent, link={"customer_id": customer_id})  # fmt: skip
        _apply(connection, write, f"link:CUSTOMER:customers-{local_id}-{recordno}", "CUSTOMER",
               str(recordno), counts)  # fmt: skip


def _settle(connection, settled: list[Write], counts: PushCounts) -> None:
    """Steps with nothing to send are recorded like a write, so they are planned only once."""
    for write in settled:
        intacct_object = OBJECTS[write.object].push.intacct_object  # type: ignore[union-attr]
        _apply(connection, write, f"local:{write.object}-{write.local_id}-{write.action}"
               f"{'-' + write.part if write.part else ''}", intacct_object, None, counts)


def _commit(connection, batch: list[Write], results: list, counts: PushCounts) -> list[Write]:
    """Record each result; returns the writes that failed."""
    failed = []
    for write, result in zip(batch, results, strict=True):
        key = result.key
        if result.ok and key is None and (write.object, write.action) in NEEDS_KEY:
            message = (
                f"{write.label}: Intacct recorded {write.function.action} but its key could "
                "not be found again"
            )
            _fail(connection, write, message, [], "The next push looks it up again; if this "
                  "stays, find the record in Intacct and link it by hand.", counts)  # fmt: skip
            failed.append(write)
        elif result.ok:
            counts.replayed += result.already_recorded
            if not _apply(connection, write, result.control_id,
                          write.function.object or "", key, counts):  # fmt: skip
                failed.append(write)
        else:
            error = result.error
            _fail(connection, write, f"{write.label}: {error.message}", error.errornos,
                  error.hint, counts)  # fmt: skip
            failed.append(write)
    return failed


def _apply(connection, write: Write, control_id: str, intacct_object: str, key: str | None,
           counts: PushCounts, *, found: bool = False) -> bool:  # fmt: skip
    """The pushes row, the key link and the error's resolution, in one transaction; a row
    edited since the push read it becomes a "changed while posting" error instead."""
    changes: list[str] = []
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute("SET LOCAL intacct_sync.pushing = 'on'")  # no NOTIFY for our own
            cursor.execute(
                "INSERT INTO intacct_sync.pushes (control_id, object, local_id, action, part,"
                " intacct_object, intacct_key, digest) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (control_id) DO NOTHING",
                (control_id, write.object, write.local_id, write.action, write.part,
                 intacct_object, key, write.digest),
            )  # fmt: skip
            statement = LINKS.get((write.object, write.action))
            if statement:
                cursor.execute(statement, {"id": write.local_id, "key": key, **write.link})
            resolve_errors(cursor, write.object, [str(write.local_id)], "push")
            push_links.resolve_unknown(cursor, write.object, write.local_id)
            if push_links.linked(write):
                changes = push_links.settle(cursor, write, control_id, key)
            if changes:
                record_errors(cursor, write.object, "push", [Rejected(
                    str(write.local_id),
                    f"{write.label}: changed while posting (Intacct key {key}): "
                    + "; ".join(changes),
                    "Intacct has the record as it was sent; this object is not updated after "
                    "posting. Make the same change in Intacct (or void the local record and "
                    "enter it again), then ignore this error.",
                )])  # fmt: skip
    except psycopg2.IntegrityError as error:
        message = (error.diag.message_primary or str(error)).strip()
        _fail(connection, write, f"{write.label}: posted to Intacct (key {key}) but could not "
              f"be linked: {message}", [], "Another local record is already linked to this "
              "Intacct record: merge the two local records, then retry.", counts)  # fmt: skip
        return False
    if changes:
        counts.changed += 1
        counts.failed_ids.append(str(write.local_id))
    if write.action == "link":
        counts.linked += 1
    elif found:
        counts.found += 1
    elif write.function is None:
        counts.settled += 1
    else:
        counts.posted += 1
    return True


def _fail(connection, write: Write, message: str, errornos: list[str], hint: str,
          counts: PushCounts) -> None:  # fmt: skip
    with connection, connection.cursor() as cursor:
        record_errors(
            cursor, write.object, "push", [Rejected(str(write.local_id), message, hint)],
            errornos,
        )  # fmt: skip
    counts.failed += 1
    counts.failed_ids.append(str(write.local_id))
    log.warning("push %s %s failed: %s (%s)", write.object, write.local_id, message, hint)


def _wake(connection, names: list[str]) -> None:
    """Records waiting for what was just posted are ready now: wake their push DAGs."""
    if not names:
        return
    with connection, connection.cursor() as cursor:
        for name in names:
            cursor.execute("SELECT pg_notify(%s, %s)", (NOTIFY_CHANNEL, name))
