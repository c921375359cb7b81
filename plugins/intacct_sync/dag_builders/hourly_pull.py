"""The hourly pull: window → extract (→ heal, → reactivated) → map → load → deletes → finish
→ tieout, one task group the grid folds into a single square on runs that take another path."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import Asset, TaskGroup, task

from intacct_sync.dag_builders.runtime import INTACCT_CONN_ID, POSTGRES_CONN_ID, pulled
from intacct_sync.dag_builders.tie_out import build_tie_out

if TYPE_CHECKING:
    from intacct_sync.sync_objects import SyncObject


def build_hourly_pull(obj: SyncObject, asset: Asset) -> TaskGroup:
    """The tasks of an hourly (or "sync now", or backfill) pull of `obj`; `finish` publishes
    the counts on `asset`. Task ids stay unprefixed (`window`, `extract`, …)."""
    from intacct_sync.pull.extract import IntacctExtractOperator

    name = obj.name
    with TaskGroup(
        group_id="hourly_pull",
        prefix_group_id=False,
        tooltip="Intacct → Postgres: the records modified in this run's window",
    ) as group:
        @task
        def window(**context) -> dict[str, str]:
            """Decide the WHENMODIFIED window of this run."""
            from contextlib import closing

            from airflow.sdk.exceptions import AirflowSkipException

            from intacct_sync import sync_config
            from intacct_sync.db.ar_database import connect
            from intacct_sync.db.sync_state import cut_over, last_window_end, pull_window

            config = sync_config.load()
            overlap = timedelta(minutes=config.lookback_minutes)
            with closing(connect(POSTGRES_CONN_ID)) as connection:
                sync_start = cut_over(connection, name, "pull", config.sync_start.get(name))
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
                sync_start=sync_start,
            )
            if start and end <= start:
                raise AirflowSkipException(
                    f"nothing to read yet: the {name} sync starts at {sync_start} "
                    f"(sync_start in {sync_config.VARIABLE})"
                )
            return {
                "start": start.isoformat() if start else "",
                "end": end.isoformat(),
                "sync_start": sync_start.isoformat() if sync_start else "",
                "customer_source": config.customer_source,  # what this run's tasks read
            }

        @task(pool="intacct_api")
        def reactivated(**context) -> int:
            """Land documents skipped earlier whose customer is active now (design.md rule)."""
            from contextlib import closing

            from intacct_sync.db.ar_database import connect
            from intacct_sync.intacct.hook import IntacctHook
            from intacct_sync.pull.reactivation import land_reactivated

            with closing(connect(POSTGRES_CONN_ID)) as connection:
                return land_reactivated(
                    IntacctHook(INTACCT_CONN_ID), connection, obj, context["run_id"]
                )

        @task
        def map(**context) -> dict[str, int]:  # noqa: A001 - the task is called map
            """Map the landed records with pandas into staged batches."""
            from contextlib import closing

            from intacct_sync.db.ar_database import connect
            from intacct_sync.intacct.hook import IntacctHook
            from intacct_sync.pull.map_and_load import map_landed

            zone = IntacctHook(INTACCT_CONN_ID).company_timezone  # the connection, no call
            entry = pulled(obj, context["ti"].xcom_pull(task_ids="window"))
            with closing(connect(POSTGRES_CONN_ID)) as connection:
                return map_landed(connection, entry, context["run_id"], company_tz=zone)

        @task
        def load(**context) -> dict[str, Any]:
            """Upsert the staged batches; records the database rejects go to
            reconciliation_errors, the rest load."""
            from contextlib import closing

            from intacct_sync.db.ar_database import connect
            from intacct_sync.pull.map_and_load import load_staged

            hook = None
            if obj.balances:  # the A/R records the loaded payments touch are re-read
                from intacct_sync.intacct.hook import IntacctHook

                hook = IntacctHook(INTACCT_CONN_ID)
            entry = pulled(obj, context["ti"].xcom_pull(task_ids="window"))
            with closing(connect(POSTGRES_CONN_ID)) as connection:
                return load_staged(connection, entry, context["run_id"], hook).as_dict()

        @task(pool="intacct_api")
        def heal(window: dict[str, str], **context) -> dict[str, Any]:
            """Land what no window shows (intacct_sync/pull/healing.py): records of retried pull
            errors, and, every keyset_comparison_hours, what the comparison of keys and
            modification times finds missing or stale; soft-delete what Intacct lost."""
            from contextlib import closing

            from airflow.sdk.exceptions import AirflowFailException

            from intacct_sync import sync_config
            from intacct_sync.db.ar_database import connect
            from intacct_sync.intacct.hook import IntacctHook
            from intacct_sync.pull.deletes import MassDeleteRefused
            from intacct_sync.pull.healing import heal as land_healing

            every = timedelta(hours=sync_config.load().keyset_comparison_hours)
            with closing(connect(POSTGRES_CONN_ID)) as connection:
                try:
                    return land_healing(
                        IntacctHook(INTACCT_CONN_ID),
                        connection,
                        pulled(obj, window),
                        context["run_id"],
                        full_read=not window["start"],
                        every=every,
                        since=(
                            datetime.fromisoformat(window["sync_start"])
                            if window.get("sync_start") else None
                        ),
                    )
                except MassDeleteRefused as refused:
                    raise AirflowFailException(str(refused)) from refused

        @task(pool="intacct_api")
        def deletes(window: dict[str, str], healed: dict[str, Any]) -> dict[str, Any]:
            """Soft-delete records Intacct deleted in the window (AUDITHISTORY, else the
            comparison's key set)."""
            from contextlib import closing

            from intacct_sync.db.ar_database import connect
            from intacct_sync.intacct.hook import IntacctHook
            from intacct_sync.pull.deletes import apply_deletes

            start = datetime.fromisoformat(window["start"]) if window["start"] else None
            with closing(connect(POSTGRES_CONN_ID)) as connection:
                return {
                    **apply_deletes(
                        IntacctHook(INTACCT_CONN_ID),
                        connection,
                        pulled(obj, window),
                        start,
                        datetime.fromisoformat(window["end"]),
                        healed,
                    ),
                    "healed": healed,
                }

        @task(outlets=[asset])
        def finish(
            window: dict[str, str], extracted: dict, loaded: dict, deleted: dict, **context
        ) -> dict:
            """Advance the sync state and publish the counts on the object's asset."""
            from contextlib import closing

            from intacct_sync.db.ar_database import connect
            from intacct_sync.db.sync_state import record_success

            counts = {
                "extracted": extracted["records"],
                **loaded,
                "deleted": deleted["deleted"],
                "delete_method": deleted["method"],
                "healed": deleted.get("healed"),
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
        extract = IntacctExtractOperator(
            task_id="extract",
            object_name=name,
            intacct_object=obj.intacct_object,
            docparid=obj.docparid,
            fields=list(obj.fields),
            window_start="{{ ti.xcom_pull(task_ids='window')['start'] }}",
            window_end="{{ ti.xcom_pull(task_ids='window')['end'] }}",
            children=obj.children.spec() if obj.children else None,
            customer_source="{{ ti.xcom_pull(task_ids='window')['customer_source'] }}",
            intacct_conn_id=INTACCT_CONN_ID,
            postgres_conn_id=POSTGRES_CONN_ID,
        )
        mapped = map()
        loaded = load()
        healed = heal(the_window)
        deleted = deletes(the_window, healed)
        the_window >> extract >> mapped >> loaded >> deleted
        extract >> healed >> mapped
        if obj.skips_inactive_customers:
            extract >> reactivated() >> mapped
        finish(the_window, extract.output, loaded, deleted) >> build_tie_out(obj, "tieout")
    return group
