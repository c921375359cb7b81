"""Wake a DAG when PostgreSQL sends a NOTIFY: event-driven scheduling through an asset watcher.

The AR database notifies channel ``intacct_push`` with an object name whenever a local record
becomes ready (a trigger in migration 0008). An ``AssetWatcher`` with this trigger turns each
burst of such notifications into one asset event, and the object's DAG, scheduled on that
asset or the hour, starts a push within seconds. A notification sent while nobody listens is
lost, which is why the hourly run sweeps up whatever is left.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

log = logging.getLogger(__name__)


class PostgresNotifyTrigger(BaseEventTrigger):
    """Yield an event for each burst of NOTIFY ``channel`` messages whose payload is
    ``payload``; the connection is re-opened (with backoff) if it drops.

    :param postgres_conn_id: the Airflow connection of the database that notifies.
    :param channel: the LISTEN channel.
    :param payload: the payload that concerns this watcher (others are ignored).
    :param debounce_seconds: how long a burst may last; it becomes one event.
    :param keepalive_seconds: how often an idle connection is checked.
    """

    def __init__(
        self,
        postgres_conn_id: str,
        channel: str,
        payload: str,
        debounce_seconds: float = 1.0,
        keepalive_seconds: float = 60.0,
    ) -> None:
        super().__init__()
        self.postgres_conn_id = postgres_conn_id
        self.channel = channel
        self.payload = payload
        self.debounce_seconds = debounce_seconds
        self.keepalive_seconds = keepalive_seconds

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "postgres_conn_id": self.postgres_conn_id,
                "channel": self.channel,
                "payload": self.payload,
                "debounce_seconds": self.debounce_seconds,
                "keepalive_seconds": self.keepalive_seconds,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        backoff = 1.0
        while True:
            try:
                connection = await self._connect()
            except Exception as error:  # noqa: BLE001 - the database may be restarting
                log.warning("LISTEN %s: cannot connect (%s); retry in %.0f s", self.channel,
                            error, backoff)  # fmt: skip
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 60.0)
                continue
            backoff = 1.0
            try:
                async for count in self._bursts(connection):
                    yield TriggerEvent({"object": self.payload, "notifications": count})
            except Exception as error:  # noqa: BLE001 - a dropped connection: listen again
                log.warning("LISTEN %s: connection lost (%s); reconnecting", self.channel, error)
            finally:
                connection.close()

    async def _connect(self):  # noqa: ANN202 - psycopg2 connection
        import psycopg2
        from airflow.sdk import BaseHook

        from intacct_sync.db.ar_database import connection_kwargs

        conn = await BaseHook.aget_connection(self.postgres_conn_id)
        kwargs = {**connection_kwargs(conn), "application_name": "intacct-sync-listen"}
        connection = await asyncio.to_thread(psycopg2.connect, **kwargs)
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f'LISTEN "{self.channel}"')
        log.info("LISTEN %s for %r", self.channel, self.payload)
        return connection

    async def _bursts(self, connection) -> AsyncIterator[int]:  # noqa: ANN001
        loop = asyncio.get_running_loop()
        readable = asyncio.Event()
        loop.add_reader(connection.fileno(), readable.set)
        try:
            while True:
                try:
                    await asyncio.wait_for(readable.wait(), self.keepalive_seconds)
                except TimeoutError:
                    with connection.cursor() as cursor:  # raises if the server went away
                        cursor.execute("SELECT 1")
                readable.clear()
                count = self._drain(connection)
                if count:
                    await asyncio.sleep(self.debounce_seconds)
                    yield count + self._drain(connection)
        finally:
            loop.remove_reader(connection.fileno())

    def _drain(self, connection) -> int:  # noqa: ANN001
        connection.poll()
        count = sum(1 for n in connection.notifies if n.payload == self.payload)
        connection.notifies.clear()
        return count
