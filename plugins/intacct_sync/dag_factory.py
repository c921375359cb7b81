"""Build the DAG of one registry object from one builder per path (intacct_sync/dag_builders/):

- every run starts with `plan`, which checks the parameters and picks the path;
- the hourly pull (task group `hourly_pull`): window → extract → map → load → deletes → finish;
- the push (`push`): local records → Intacct, hourly and within seconds of a record being
  ready (an asset-triggered run that only pushes);
- the initial data sync (task group `initial_sync`), when triggered with a history range.

DAG files call `sync_dag("invoices")` and nothing else, so every DAG follows the same
rules. Parse-time work is limited to Airflow's SDK and the registry; the hook, pandas and
the database are only touched inside tasks.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import dag

from intacct_sync.dag_builders import assets
from intacct_sync.dag_builders.docs import doc_md
from intacct_sync.dag_builders.hourly_pull import build_hourly_pull
from intacct_sync.dag_builders.initial_sync import build_initial_sync
from intacct_sync.dag_builders.plan import build_plan
from intacct_sync.dag_builders.push_path import build_push
from intacct_sync.dag_builders.runtime import INTACCT_CONN_ID, POSTGRES_CONN_ID
from intacct_sync.dag_builders.trigger_form import params, schedule
from intacct_sync.sync_objects import OBJECTS

__all__ = ["INTACCT_CONN_ID", "POSTGRES_CONN_ID", "sync_dag"]


def sync_dag(name: str):
    """The DAG of registry object `name`: hourly pull and push, event-driven push, history."""
    from intacct_sync.monitoring.notifiers import SyncAlertNotifier

    obj = OBJECTS[name]
    pulled = assets.pulled(name)
    pushed = assets.pushed(name)
    directions = [d for d, on in (("pull", obj.pulled), ("push", obj.push)) if on]

    @dag(
        dag_id=obj.dag_id,
        schedule=schedule(obj),
        start_date=datetime(2026, 1, 1, tzinfo=UTC),
        catchup=False,
        # An initial data sync may run for hours beside the hourly runs; concurrent hourly
        # runs are safe too (sync_state.record_success only extends a connected cursor), and
        # pushes of one object take turns (an advisory lock in intacct_sync/push/posting.py).
        max_active_runs=3,
        description=obj.description,
        params=params(obj) if obj.pulled else {},
        tags=["intacct", *directions, name],
        doc_md=doc_md(obj, pulled),
        default_args={
            "owner": "data-platform",
            # After a task's last retry: the alerts webhook (intacct_sync/monitoring/notifiers.py).
            "on_failure_callback": SyncAlertNotifier(),
            "retries": 3,
            "retry_delay": timedelta(minutes=1),
            "retry_exponential_backoff": True,
            "max_retry_delay": timedelta(minutes=15),
        },
    )
    def sync():
        planned = build_plan(obj)
        if obj.push is not None:
            planned >> build_push(obj, pushed)
        if obj.pulled:
            planned >> build_hourly_pull(obj, pulled)
            planned >> build_initial_sync(obj, pulled)

    return sync()
