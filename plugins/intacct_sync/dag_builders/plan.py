"""The first task of every run: refuse bad parameters, migrate the schema, choose the path."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow.sdk import task

from intacct_sync.dag_builders.runtime import (
    INTACCT_CONN_ID,
    POSTGRES_CONN_ID,
    history_request,
    run_type,
)

if TYPE_CHECKING:
    from intacct_sync.sync_objects import SyncObject

# The first task of each path: what `plan` returns to run that path.
HOURLY_PULL = "window"
INITIAL_SYNC = "chunks"
PUSH = "push"


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


def build_plan(obj: SyncObject):
    """The branch task `plan`: the initial data sync, or the hourly pull and push, or (when a
    record became ready) the push alone."""
    name = obj.name

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
            request = history_request(obj, context) if obj.pulled else None
        except HistoryRangeError as refused:
            # A person's mistake in the Trigger form: the run fails, nobody is paged.
            raise RefusedParameters(f"{obj.dag_id}: {refused}") from None
        except (sync_config.SyncConfigError, IntacctConnectionConfigError) as refused:
            # Mistakes in configuration or connection: every run fails until fixed, so
            # the alert goes out; retrying cannot help.
            raise AirflowFailException(f"{obj.dag_id}: {refused}") from refused
        if request:  # an initial data sync only pulls
            paths = [INITIAL_SYNC] if config.pull[name] else []
        else:
            pull_on = obj.pulled and config.pull[name] and run_type(context) != "asset_triggered"
            push_on = obj.push is not None and config.push[name]
            paths = [HOURLY_PULL] * pull_on + [PUSH] * push_on
        if not paths:
            raise AirflowSkipException(
                f"nothing to do: {name} is off for this run (pull.{name} / push.{name} in "
                f"{sync_config.VARIABLE})"
            )
        with closing(connect(POSTGRES_CONN_ID)) as connection:
            schema.migrate(connection)
            if HOURLY_PULL in paths:
                _alert_if_behind(connection, name, config.alert_after_hours, context)
        return paths

    return plan()
