"""The Trigger form's parameters and the schedule of an object's DAG (parse time: Airflow's
SDK and the registry only)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow.sdk import AssetOrTimeSchedule, AssetWatcher, CronDataIntervalTimetable, Param

from intacct_sync.dag_builders import assets
from intacct_sync.dag_builders.runtime import POSTGRES_CONN_ID
from intacct_sync.history.ranges import MAX_DAYS, OPTIONS

if TYPE_CHECKING:
    from intacct_sync.sync_objects import SyncObject

def params(obj: SyncObject) -> dict[str, Param]:
    """The Trigger form's "Initial data sync" section; empty dates mean an ordinary sync."""
    section = "Initial data sync"
    day = f"transaction date ({obj.history_field}), inclusive, as picked in the calendar"
    params = {
        "history_from": Param(
            None,
            type=["null", "string"],
            format="date",
            title="History from",
            description=f"First {day}. Leave both dates empty for an ordinary sync.",
            section=section,
        ),
        "history_to": Param(
            None,
            type=["null", "string"],
            format="date",
            title="History to",
            description=f"Last {day}; at most {MAX_DAYS} days after the first, not in the "
            "future. Longer history: make history queues one run per year.",
            section=section,
        ),
    }
    # `then` (the ranges queued after this one, intacct_sync/history/queue.py) is not a form field:
    # `make history` puts it in the run's conf, where history_request accepts it.
    for option in obj.history_options:
        spec = OPTIONS[option]
        params[option] = Param(
            spec.default,
            # Airflow's Trigger form marks a field required unless its type admits null
            # (FlexibleForm's isRequired, Airflow 3.x UI); "boolean" still picks the switch, and
            # comes first so a refusal reads "'yes' is not of type 'boolean', 'null'".
            type=["boolean", "null"],
            title=spec.title,
            description=spec.description,
            section=section,
        )
    return params


def schedule(obj: SyncObject):
    """Hourly; objects that push also run when their records become ready (LISTEN/NOTIFY)."""
    hourly = CronDataIntervalTimetable("0 * * * *", timezone="UTC")
    if obj.push is None:
        return hourly
    from intacct_sync.push.postgres_notify import PostgresNotifyTrigger
    from intacct_sync.sync_objects import NOTIFY_CHANNEL

    ready = assets.ready(
        obj.name,
        [
            AssetWatcher(
                name=f"{obj.name}_ready",
                trigger=PostgresNotifyTrigger(
                    postgres_conn_id=POSTGRES_CONN_ID, channel=NOTIFY_CHANNEL, payload=obj.name
                ),
            )
        ],
    )
    return AssetOrTimeSchedule(timetable=hourly, assets=ready)
