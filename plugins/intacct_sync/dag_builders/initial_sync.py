"""The initial data sync: chunks → one mapped `history` group per month (extract_chunk →
load_chunk) → history_done → history_tieout (and → next_range → queue_next), one task group
of its own so hourly runs show it as a single skipped square."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from airflow.sdk import Asset, TaskGroup, task, task_group

from intacct_sync.dag_builders.runtime import (
    INTACCT_CONN_ID,
    POSTGRES_CONN_ID,
    history_request,
    label_map_index,
    run_key,
)
from intacct_sync.dag_builders.tie_out import build_tie_out
from intacct_sync.history.ranges import THEN_KEY

if TYPE_CHECKING:
    from intacct_sync.sync_objects import SyncObject

log = logging.getLogger(__name__)


def build_initial_sync(obj: SyncObject, asset: Asset) -> TaskGroup:
    """The tasks of a history run of `obj` (triggered with a date range); `history_done`
    publishes the summed counts on `asset`. Task ids stay unprefixed (`chunks`, …)."""
    with TaskGroup(
        group_id="initial_sync",
        prefix_group_id=False,
        tooltip="Intacct → Postgres: a range of history, one month per mapped group",
    ) as group:
        @task
        def chunks(**context) -> list[dict[str, Any]]:
            """The initial data sync's month chunks (they become the mapped `history` groups)."""
            from intacct_sync import sync_config
            from intacct_sync.history.chunks import plan_chunks

            planned = plan_chunks(obj, history_request(obj, context),
                                  sync_config.load().customer_source)  # fmt: skip
            labels = ", ".join(c["label"] for c in planned)
            log.info("%s: %s chunks: %s", obj.dag_id, len(planned), labels)
            return planned

        @task(
            pool="intacct_api",
            # Hourly extracts go first when a pool slot frees up (their weight is higher).
            priority_weight=1,
            weight_rule="absolute",
            map_index_template="{{ chunk_label }}",
        )
        def extract_chunk(chunk: dict[str, Any], **context) -> dict[str, Any]:
            """Read one month of history from Intacct into the landing table (checkpointed)."""
            from contextlib import closing

            from intacct_sync.db.ar_database import connect
            from intacct_sync.history.chunks import extract_chunk as extract
            from intacct_sync.intacct.hook import IntacctHook

            label_map_index(chunk)
            with closing(connect(POSTGRES_CONN_ID)) as connection:
                return extract(
                    IntacctHook(INTACCT_CONN_ID), connection, run_key(context), chunk, log
                )

        @task(map_index_template="{{ chunk_label }}")
        def load_chunk(chunk: dict[str, Any], extracted: dict[str, Any], **context) -> dict:
            """Map and load one landed month; the chunk is then done for good."""
            from contextlib import closing

            from intacct_sync.db.ar_database import connect
            from intacct_sync.history.chunks import load_chunk as load_landed
            from intacct_sync.intacct.hook import IntacctHook

            label_map_index(chunk)
            hook = IntacctHook(INTACCT_CONN_ID)
            with closing(connect(POSTGRES_CONN_ID)) as connection:
                return {
                    "extracted": extracted.get("records", 0),
                    **load_landed(connection, run_key(context), chunk, log, hook=hook),
                }

        @task_group
        def history(chunk: dict[str, Any]) -> None:
            load_chunk(chunk, extract_chunk(chunk))

        @task(outlets=[asset])
        def history_done(**context) -> dict[str, Any]:
            """Sum the chunks up per object and publish the counts on the object's asset."""
            from contextlib import closing

            from intacct_sync.db.ar_database import connect
            from intacct_sync.history.chunks import run_summary

            with closing(connect(POSTGRES_CONN_ID)) as connection:
                summary = run_summary(connection, run_key(context))
            log.info("%s: initial data sync done: %s", obj.dag_id, summary)
            context["outlet_events"][asset].extra = {"history": True, **summary}
            return summary

        @task.short_circuit
        def next_range(**context) -> dict[str, Any] | None:
            """The conf of the next queued range, if any: long history runs one range at a
            time, so queued history runs never hold the DAG's max_active_runs."""
            request = history_request(obj, context)
            if not request or not request.then:
                return None
            (start, end), *rest = request.then
            return {
                **request.options,
                "history_from": start.isoformat(),
                "history_to": end.isoformat(),
                THEN_KEY: [[a.isoformat(), b.isoformat()] for a, b in rest],
            }

        @task
        def queue_next(conf: dict[str, Any], **context) -> None:
            """Trigger this DAG again for the next range. Airflow's TriggerDagRunOperator does
            the work, built here when the task runs: importing it at parse time loads
            airflow.models and SQLAlchemy's models (most of a DAG file's parse cost)."""
            from airflow.providers.standard.operators.trigger_dagrun import (
                TriggerDagRunOperator,
            )

            TriggerDagRunOperator(
                task_id="queue_next", trigger_dag_id=obj.dag_id, conf=conf
            ).execute(context)

        following = next_range()
        done = history_done()
        history.expand(chunk=chunks()) >> done >> following
        done >> build_tie_out(obj, "history_tieout")  # beside next_range: not short-circuited
        queue_next(following)
    return group
