"""Build an hourly pull DAG for one registry object: window → extract → load → finish.

DAG files call `pull_dag("invoices")` and nothing else, so every pull DAG follows the same
rules. Parse-time work is limited to Airflow's SDK and the registry; the hook, pandas and
the database are only touched inside tasks.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import Asset, CronDataIntervalTimetable, dag, task

from include.sync_objects import OBJECTS

POSTGRES_CONN_ID = "ar_postgres"
INTACCT_CONN_ID = "intacct_default"
CONFIG_VARIABLE = "intacct_sync_config"

DOC = """
### Intacct → Postgres: {name}

{description}

**Schedule:** hourly, with real one-hour data intervals. Each run reads Intacct records whose
`WHENMODIFIED` falls in its window: the data interval, widened back to the end of the last
successful sync and by the overlap (`lookback_minutes` in the `{variable}` variable, default
60) for late-committing batches. A manual run without parameters is "sync now": last
success → now. A backfill run re-pulls exactly its interval (plus the overlap).

**Tasks:** `window` (migrate the schema, compute the window) → `extract` (Intacct → landing
table via COPY, pool `intacct_api`) → `map` (pandas, into staged batches) → `load` (upsert
only rows that changed) →
`deletes` (AUDITHISTORY deletions in the window; without that permission a comparison of
the complete key set, at most every `keyset_comparison_hours` (24); soft delete) →
`finish` (advance `intacct_sync.sync_state`, emit the `{asset}` asset event with counts).

**When it fails:** read the failing task's log — Intacct errors name their error number and
a fix hint. Retrying is always safe: loads are idempotent upserts and a failed hour is
picked up by the next successful run. Records that cannot be loaded do not fail the run:
they are in `intacct_sync.reconciliation_errors` (object `{name}`, direction `pull`).
"""


def _config() -> dict[str, Any]:
    from airflow.sdk import Variable

    return Variable.get(CONFIG_VARIABLE, default={}, deserialize_json=True) or {}


def pull_dag(name: str):
    """The hourly pull DAG of registry object `name`."""
    from intacct_sync.operators.extract import IntacctExtractOperator

    obj = OBJECTS[name]
    asset = Asset(f"intacct://pull/{name}")

    @dag(
        dag_id=obj.dag_id,
        schedule=CronDataIntervalTimetable("0 * * * *", timezone="UTC"),
        start_date=datetime(2026, 1, 1, tzinfo=UTC),
        catchup=False,
        max_active_runs=1,
        tags=["intacct", "pull", name],
        doc_md=DOC.format(
            name=name, description=obj.description, variable=CONFIG_VARIABLE, asset=asset.uri
        ),
        default_args={
            "owner": "data-platform",
            "retries": 3,
            "retry_delay": timedelta(minutes=1),
            "retry_exponential_backoff": True,
            "max_retry_delay": timedelta(minutes=15),
        },
    )
    def pull():
        @task
        def window(**context) -> dict[str, str]:
            """Migrate the schema and decide the WHENMODIFIED window of this run."""
            from contextlib import closing

            from include import schema
            from include.ar_database import connect
            from include.sync_state import last_window_end, pull_window

            overlap = timedelta(minutes=int(_config().get("lookback_minutes", 60)))
            with closing(connect(POSTGRES_CONN_ID)) as connection:
                schema.migrate(connection)
                last_end = last_window_end(connection, name)
            run = context["dag_run"]
            start, end = pull_window(
                run_type=str(
                    run.run_type.value if hasattr(run.run_type, "value") else run.run_type
                ),
                interval_start=context.get("data_interval_start"),
                interval_end=context.get("data_interval_end"),
                last_window_end=last_end,
                now=datetime.now().astimezone(),
                overlap=overlap,
            )
            return {"start": start.isoformat() if start else "", "end": end.isoformat()}

        extract = IntacctExtractOperator(
            task_id="extract",
            object_name=name,
            intacct_object=obj.intacct_object,
            docparid=obj.docparid,
            fields=list(obj.fields),
            window_start="{{ ti.xcom_pull(task_ids='window')['start'] }}",
            window_end="{{ ti.xcom_pull(task_ids='window')['end'] }}",
            children=obj.children.spec() if obj.children else None,
            intacct_conn_id=INTACCT_CONN_ID,
            postgres_conn_id=POSTGRES_CONN_ID,
        )

        @task(pool="intacct_api")
        def reactivated(**context) -> int:
            """Land documents skipped earlier whose customer is active now (design.md rule)."""
            from contextlib import closing

            from intacct_sync.hooks.intacct import IntacctHook

            from include.ar_database import connect
            from include.reactivation import land_reactivated

            with closing(connect(POSTGRES_CONN_ID)) as connection:
                return land_reactivated(
                    IntacctHook(INTACCT_CONN_ID), connection, obj, context["run_id"]
                )

        @task
        def map(**context) -> dict[str, int]:  # noqa: A001 - the task is called map
            """Map the landed records with pandas into staged batches."""
            from contextlib import closing

            from include.ar_database import connect
            from include.pull import map_landed

            with closing(connect(POSTGRES_CONN_ID)) as connection:
                return map_landed(connection, obj, context["run_id"])

        @task
        def load(**context) -> dict[str, Any]:
            """Upsert the staged batches; records the database rejects go to
            reconciliation_errors, the rest load."""
            from contextlib import closing

            from include.ar_database import connect
            from include.pull import load_staged

            with closing(connect(POSTGRES_CONN_ID)) as connection:
                return load_staged(connection, obj, context["run_id"]).as_dict()

        @task(pool="intacct_api")
        def deletes(window: dict[str, str]) -> dict[str, Any]:
            """Soft-delete records Intacct deleted in the window (AUDITHISTORY, else key-set)."""
            from contextlib import closing

            from airflow.sdk.exceptions import AirflowFailException
            from intacct_sync.hooks.intacct import IntacctHook

            from include.ar_database import connect
            from include.deletes import MassDeleteRefused, apply_deletes

            start = datetime.fromisoformat(window["start"]) if window["start"] else None
            with closing(connect(POSTGRES_CONN_ID)) as connection:
                try:
                    return apply_deletes(
                        IntacctHook(INTACCT_CONN_ID),
                        connection,
                        obj,
                        start,
                        datetime.fromisoformat(window["end"]),
                        keyset_every=timedelta(
                            hours=float(_config().get("keyset_comparison_hours", 24))
                        ),
                    )
                except MassDeleteRefused as refused:
                    raise AirflowFailException(str(refused)) from refused

        @task(outlets=[asset])
        def finish(
            window: dict[str, str], extracted: dict, loaded: dict, deleted: dict, **context
        ) -> dict:
            """Advance the sync state and publish the counts on the object's asset."""
            from contextlib import closing

            from include.ar_database import connect
            from include.sync_state import record_success

            counts = {
                "extracted": extracted["records"],
                **loaded,
                "deleted": deleted["deleted"],
                "delete_method": deleted["method"],
            }
            start = datetime.fromisoformat(window["start"]) if window["start"] else None
            with closing(connect(POSTGRES_CONN_ID)) as connection:
                record_success(
                    connection,
                    name,
                    start,
                    datetime.fromisoformat(window["end"]),
                    context["run_id"],
                    counts,
                )
            context["outlet_events"][asset].extra = counts
            return counts

        the_window = window()
        mapped = map()
        loaded = load()
        deleted = deletes(the_window)
        the_window >> extract >> mapped >> loaded >> deleted
        if obj.skips_inactive_customers:
            extract >> reactivated() >> mapped
        finish(the_window, extract.output, loaded, deleted)

    return pull()
