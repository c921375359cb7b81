"""The asset watcher's trigger: a local record that becomes ready is one event for its
object; drafts, Intacct-origin rows and the push's own key links are not."""

from __future__ import annotations

import asyncio

from intacct_sync.push.postgres_notify import PostgresNotifyTrigger
from intacct_sync.sync_objects import NOTIFY_CHANNEL

from include.localenv.local_records import Line


def _events(trigger: PostgresNotifyTrigger, act, wait: float) -> list[dict]:
    """Run the trigger, do `act()` once it listens, and collect events for `wait` seconds."""

    async def main() -> list[dict]:
        events: list[dict] = []
        stream = trigger.run()

        async def collect() -> None:
            async for event in stream:
                events.append(event.payload)

        task = asyncio.create_task(collect())
        await asyncio.sleep(1.0)  # connected and listening
        await asyncio.to_thread(act)
        await asyncio.sleep(wait)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return events

    return asyncio.run(main())


def _trigger(payload: str) -> PostgresNotifyTrigger:
    return PostgresNotifyTrigger("ar_postgres", NOTIFY_CHANNEL, payload, debounce_seconds=0.3)


def test_a_ready_local_invoice_wakes_the_invoices_watcher_once(records, clean_ar):
    customer = records.customer("Notify Co")

    def act() -> None:
        records.document("invoices", customer, "N-1", [Line("1")], state="draft")  # no event
        ready = records.document("invoices", customer, "N-2", [Line("1")])
        records.set_state("invoices", ready, "sent")  # same burst: one event
        with clean_ar, clean_ar.cursor() as cursor:
            cursor.execute(
                "INSERT INTO ar.invoices (origin, number, state, currency)"
                " VALUES ('intacct', 'SO-1', 'Pending', 'USD')"
            )
            cursor.execute("SET LOCAL intacct_sync.pushing = 'on'")  # the push linking keys
            cursor.execute("UPDATE ar.invoices SET ar_recordno = 7 WHERE number = 'N-2'")

    events = _events(_trigger("invoices"), act, wait=1.5)
    assert events == [{"object": "invoices", "notifications": 2}]


def test_other_objects_do_not_wake_it_and_it_serializes_for_the_triggerer(records):
    trigger = _trigger("payments")
    events = _events(trigger, lambda: records.customer("Another Co"), wait=1.0)
    assert events == []
    classpath, kwargs = trigger.serialize()
    assert classpath == "intacct_sync.push.postgres_notify.PostgresNotifyTrigger"
    assert PostgresNotifyTrigger(**kwargs).serialize() == (classpath, kwargs)
