"""The push: local records → Intacct, one task (`push`, pool `intacct_api`) on hourly and
asset-triggered runs; no group, since a group of one task adds a click and saves nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from intacct_sync.dag_builders.runtime import INTACCT_CONN_ID, POSTGRES_CONN_ID

if TYPE_CHECKING:
    from airflow.sdk import Asset

    from intacct_sync.sync_objects import SyncObject


def build_push(obj: SyncObject, pushed: Asset):
    """The `push` task of `obj`; it publishes what it posted on `pushed`."""
    from intacct_sync.push.operator import IntacctPushOperator

    return IntacctPushOperator(
        task_id="push",
        object_name=obj.name,
        outlets=[pushed],
        intacct_conn_id=INTACCT_CONN_ID,
        postgres_conn_id=POSTGRES_CONN_ID,
    )
