"""Build the DAG of one registry object: hourly pull (window → extract → load → finish) and
push (local records → Intacct), a push within seconds when the AR database says a record is
ready, or, when triggered with a history range, the initial data sync in month chunks.

DAG files call `sync_dag("invoices")` and nothing else, so every DAG follows the same
rules. Parse-time work is limited to Airflow's SDK and the registry; the hook, pandas and
the database are only touched inside tasks.

Over 500 lines because every path is still built in one function; splitting it into one
builder per path is issue 19's next step.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import (
    Asset,
    AssetOrTimeSchedule,
    AssetWatcher,
    CronDataIntervalTimetable,
    Param,
    dag,
    task,
    task_group,
)

from intacct_sync.history.ranges import MAX_DAYS, OPTIONS, THEN_KEY
from intacct_sync.sync_config import VARIABLE as CONFIG_VARIABLE
from intacct_sync.sync_objects import OBJECTS, SyncObject

if TYPE_CHECKING:
    from intacct_sync.history.ranges import HistoryRequest

log = logging.getLogger(__name__)

POSTGRES_CONN_ID = "ar_postgres"
INTACCT_CONN_ID = "intacct_default"

PUSH_DOC = """
### Postgres → Intacct: {name}

Local records (`origin = 'local'`) are posted to Intacct as `{intacct_object}` by the `push`
task (pool `intacct_api`): within seconds of becoming ready — the AR database sends
`NOTIFY intacct_push, '{name}'`, an asset watcher on `{ready}` starts an asset-triggered run
that only pushes — and in every hourly run, which sweeps up anything left behind. Every write
carries `uniqueid=true` and a control id derived from the record and the action, so a retry
after a timeout never creates a second record. Records Intacct rejects do not fail the run:
they are in `intacct_sync.reconciliation_errors` (object `{name}`, direction `push`) with the
Intacct error numbers and a fix hint; `make errors` lists, retries and ignores them.
"""

DOC = """
### Intacct → Postgres: {name}

{description}

**Schedule:** hourly, with real one-hour data intervals. Each run reads Intacct records whose
`WHENMODIFIED` falls in its window: the data interval, widened back to the end of the last
successful sync and by the overlap (`lookback_minutes` in the `{variable}` variable, default
60) for late-committing batches. A manual run without parameters is "sync now": last
success → now. A backfill run re-pulls exactly its interval (plus the overlap).

**Tasks:** `plan` (check the parameters, migrate the schema, choose the path) → `window`
(compute the window) → `extract` (Intacct → landing
table via COPY, pool `intacct_api`) → `map` (pandas, into staged batches) → `load` (upsert
only rows that changed) →
`heal` (beside `extract`: records of retried pull errors, and every
`keyset_comparison_hours` (24) a comparison of Intacct's keys and modification times with
the local rows, which lands what is missing or stale and soft-deletes what Intacct lost) →
`deletes` (AUDITHISTORY deletions in the window; without that permission the comparison's) →
`finish` (advance `intacct_sync.sync_state`, emit the `{asset}` asset event with counts).

**Initial data sync:** trigger with the *Initial data sync* parameters (a range of
{history_field} dates, at most 366 days) to pull history instead: `chunks` cuts the range into
months, each month is a mapped `history` group (`extract_chunk` in pool `intacct_api`, then
`load_chunk`), checkpointed in `intacct_sync.history_chunks`, and `history_done` sums them
up. Clearing or retrying the run redoes only unfinished months; the hourly cursor is never
touched. Longer history: `make history` queues one run per year.

**When it fails:** read the failing task's log — Intacct errors name their error number and
a fix hint. Retrying is always safe: loads are idempotent upserts and a failed hour is
picked up by the next successful run. Records that cannot be loaded do not fail the run:
they are in `intacct_sync.reconciliation_errors` (object `{name}`, direction `pull`).
"""


def _params(obj: SyncObject) -> dict[str, Param]:
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
            type="boolean",
            title=spec.title,
            description=spec.description,
            section=section,
        )
    return params


def _history_request(obj: SyncObject, context) -> HistoryRequest | None:
    """The run's validated history parameters (no Intacct call: the connection is only read
    for the company's time zone, which decides what "today" is)."""
    from intacct_sync.history.ranges import history_request
    from intacct_sync.intacct.hook import IntacctHook

    today = datetime.now(IntacctHook(INTACCT_CONN_ID).config.company_timezone).date()
    return history_request(
        obj.dag_id,
        obj.history_options,
        context["dag_run"].conf or {},
        context["params"],
        today,
    )


def _alert_if_behind(connection, name: str, limit_hours: float, context) -> None:
    """Tell someone (the alerts webhook) when the last successful pull is too old."""
    from intacct_sync.db.sync_state import hours_since_success
    from intacct_sync.monitoring.notifiers import SyncAlertNotifier

    hours = hours_since_success(connection, name)
    if hours is not None and hours > limit_hours:
        SyncAlertNotifier(
            kind="behind",
            text=f"intacct-sync: the {name} pull is {hours:.1f} h behind (no successful pull "
            f"since; alert_after_hours is {limit_hours:g})",
        ).notify(context)


def _run_key(context) -> str:
    """A history run's checkpoint key: run ids are unique only within one DAG."""
    return f"{context['dag'].dag_id}/{context['run_id']}"


def _label_map_index(chunk: dict[str, Any]) -> None:
    """Name the mapped task instance after its chunk in the UI (map_index_template)."""
    from airflow.sdk import get_current_context

    get_current_context()["chunk_label"] = chunk["label"]


def _schedule(obj: SyncObject):
    """Hourly; objects that push also run when their records become ready (LISTEN/NOTIFY)."""
    hourly = CronDataIntervalTimetable("0 * * * *", timezone="UTC")
    if obj.push is None:
        return hourly
    from intacct_sync.push.postgres_notify import PostgresNotifyTrigger
    from intacct_sync.sync_objects import NOTIFY_CHANNEL

    ready = Asset(
        f"intacct://push-ready/{obj.name}",
        watchers=[
            AssetWatcher(
                name=f"{obj.name}_ready",
                trigger=PostgresNotifyTrigger(
                    postgres_conn_id=POSTGRES_CONN_ID, channel=NOTIFY_CHANNEL, payload=obj.name
                ),
            )
        ],
    )
    return AssetOrTimeSchedule(timetable=hourly, assets=ready)


def _doc(obj: SyncObject, asset: Asset) -> str:
    parts = []
    if obj.pulled:
        parts.append(
            DOC.format(
                name=obj.name,
                description=obj.description,
                variable=CONFIG_VARIABLE,
                asset=asset.uri,
                history_field=obj.history_field,
            )
        )
    if obj.push:
        parts.append(
            PUSH_DOC.format(
                name=obj.name,
                intacct_object=obj.push.intacct_object,
                ready=f"intacct://push-ready/{obj.name}",
            )
        )
    return "\n".join(parts)


def sync_dag(name: str):
    """The DAG of registry object `name`: hourly pull and push, event-driven push."""
    from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator

    from intacct_sync.monitoring.notifiers import SyncAlertNotifier
    from intacct_sync.pull.extract import IntacctExtractOperator
    from intacct_sync.push.operator import IntacctPushOperator

    obj = OBJECTS[name]
    asset = Asset(f"intacct://pull/{name}")
    pushed = Asset(f"intacct://push/{name}")
    directions = [d for d, on in (("pull", obj.pulled), ("push", obj.push)) if on]

    @dag(
        dag_id=obj.dag_id,
        schedule=_schedule(obj),
        start_date=datetime(2026, 1, 1, tzinfo=UTC),
        catchup=False,
        # An initial data sync may run for hours beside the hourly runs; concurrent hourly
        # runs are safe too (sync_state.record_success only extends a connected cursor), and
        # pushes of one object take turns (an advisory lock in intacct_sync/push/posting.py).
        max_active_runs=3,
        description=obj.description,
        params=_params(obj) if obj.pulled else {},
        tags=["intacct", *directions, name],
        doc_md=_doc(obj, asset),
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
        @task.branch
        def plan(**context) -> list[str]:
            """Refuse bad parameters before any Intacct call, migrate the schema, and choose:
            the initial data sync, or the hourly pull and push, or (when a record became
            ready) the push alone."""
            from contextlib import closing

            from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

            from intacct_sync import sync_config
            from intacct_sync.db import schema
            from intacct_sync.db.ar_database import connect
            from intacct_sync.history.ranges import HistoryRangeError
            from intacct_sync.intacct.errors import IntacctConnectionConfigError
            from intacct_sync.intacct.hook import IntacctHook
            from intacct_sync.monitoring.notifiers import RefusedParameters

            try:
                config = sync_config.load()
                IntacctHook(INTACCT_CONN_ID).config  # noqa: B018 - a bad field fails here
                request = _history_request(obj, context) if obj.pulled else None
            except HistoryRangeError as refused:
                # A person's mistake in the Trigger form: the run fails, nobody is paged.
                raise RefusedParameters(f"{obj.dag_id}: {refused}") from None
            except (sync_config.SyncConfigError, IntacctConnectionConfigError) as refused:
                # Mistakes in configuration or connection: every run fails until fixed, so
                # the alert goes out; retrying cannot help.
                raise AirflowFailException(f"{obj.dag_id}: {refused}") from refused
            kind = context["dag_run"].run_type
            run_type = str(getattr(kind, "value", kind))
            if request:  # an initial data sync only pulls
                paths = ["chunks"] if config.pull[name] else []
            else:
                pull_on = obj.pulled and config.pull[name] and run_type != "asset_triggered"
                push_on = obj.push is not None and config.push[name]
                paths = ["window"] * pull_on + ["push"] * push_on
            if not paths:
                raise AirflowSkipException(
                    f"nothing to do: {name} is off for this run (pull.{name} / push.{name} in "
                    f"{sync_config.VARIABLE})"
                )
            with closing(connect(POSTGRES_CONN_ID)) as connection:
                schema.migrate(connection)
                if "window" in paths:
                    _alert_if_behind(connection, name, config.alert_after_hours, context)
            return paths

        planned = plan()
        if obj.push is not None:
            planned >> IntacctPushOperator(
                task_id="push",
                object_name=name,
                outlets=[pushed],
                intacct_conn_id=INTACCT_CONN_ID,
                postgres_conn_id=POSTGRES_CONN_ID,
            )
        if not obj.pulled:
            return

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
            }

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
            with closing(connect(POSTGRES_CONN_ID)) as connection:
                return map_landed(connection, obj, context["run_id"], company_tz=zone)

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
            with closing(connect(POSTGRES_CONN_ID)) as connection:
                return load_staged(connection, obj, context["run_id"], hook).as_dict()

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
                        obj,
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
                        obj,
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

        @task
        def chunks(**context) -> list[dict[str, Any]]:
            """The initial data sync's month chunks (they become the mapped `history` groups)."""
            from intacct_sync.history.chunks import plan_chunks

            planned = plan_chunks(obj, _history_request(obj, context))
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

            _label_map_index(chunk)
            with closing(connect(POSTGRES_CONN_ID)) as connection:
                return extract(
                    IntacctHook(INTACCT_CONN_ID), connection, _run_key(context), chunk, log
                )

        @task(map_index_template="{{ chunk_label }}")
        def load_chunk(chunk: dict[str, Any], extracted: dict[str, Any], **context) -> dict:
            """Map and load one landed month; the chunk is then done for good."""
            from contextlib import closing

            from intacct_sync.db.ar_database import connect
            from intacct_sync.history.chunks import load_chunk as load_landed
            from intacct_sync.intacct.hook import IntacctHook

            _label_map_index(chunk)
            hook = IntacctHook(INTACCT_CONN_ID)
            with closing(connect(POSTGRES_CONN_ID)) as connection:
                return {
                    "extracted": extracted.get("records", 0),
                    **load_landed(connection, _run_key(context), chunk, log, hook=hook),
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
                summary = run_summary(connection, _run_key(context))
            log.info("%s: initial data sync done: %s", obj.dag_id, summary)
            context["outlet_events"][asset].extra = {"history": True, **summary}
            return summary

        @task.short_circuit
        def next_range(**context) -> dict[str, Any] | None:
            """The conf of the next queued range, if any: long history runs one range at a
            time, so queued history runs never hold the DAG's max_active_runs."""
            request = _history_request(obj, context)
            if not request or not request.then:
                return None
            (start, end), *rest = request.then
            return {
                **request.options,
                "history_from": start.isoformat(),
                "history_to": end.isoformat(),
                THEN_KEY: [[a.isoformat(), b.isoformat()] for a, b in rest],
            }

        the_window = window()
        the_chunks = chunks()
        planned >> [the_window, the_chunks]
        following = next_range()
        history.expand(chunk=the_chunks) >> history_done() >> following
        following >> TriggerDagRunOperator(
            task_id="queue_next", trigger_dag_id=obj.dag_id, conf=following
        )
        mapped = map()
        loaded = load()
        healed = heal(the_window)
        deleted = deletes(the_window, healed)
        the_window >> extract >> mapped >> loaded >> deleted
        extract >> healed >> mapped
        if obj.skips_inactive_customers:
            extract >> reactivated() >> mapped
        finish(the_window, extract.output, loaded, deleted)

    return sync()
