"""Push: post an object's ready local records to Intacct and record what happened."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import closing
from typing import Any

from airflow.sdk import BaseOperator

from intacct_sync.intacct import POOL_NAME


class IntacctPushOperator(BaseOperator):
    """Post the ready local records of registry object `object_name` (intacct_sync/push/posting.py).

    Every write carries uniqueid=true and a control id derived from the record and action,
    so re-running this task after a timeout cannot create a second record in Intacct. One
    failing record does not fail the others: it becomes a reconciliation error, and the task
    returns the counts (posted, linked, replayed, failed, waiting), which also go on the
    task's outlet assets.
    """

    template_fields: Sequence[str] = ("object_name",)

    def __init__(
        self,
        *,
        object_name: str,
        intacct_conn_id: str = "intacct_default",
        postgres_conn_id: str = "ar_postgres",
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("pool", POOL_NAME)
        super().__init__(**kwargs)
        self.object_name = object_name
        self.intacct_conn_id = intacct_conn_id
        self.postgres_conn_id = postgres_conn_id

    def execute(self, context: Any) -> dict[str, Any]:
        from intacct_sync import sync_config
        from intacct_sync.db.ar_database import connect
        from intacct_sync.db.sync_state import record_push
        from intacct_sync.intacct.hook import IntacctHook
        from intacct_sync.push.posting import push_object

        with closing(connect(self.postgres_conn_id)) as connection:
            counts = push_object(
                IntacctHook(self.intacct_conn_id), connection, self.object_name,
                sync_config.load(),
            )  # fmt: skip
            record_push(connection, self.object_name, context["run_id"], counts.as_dict())
        if counts.failed:
            self.log.warning(
                "%s record(s) of %s failed; see intacct_sync.reconciliation_errors (make "
                "errors): local ids %s", counts.failed, self.object_name,
                ", ".join(counts.failed_ids[:20]),
            )  # fmt: skip
        for outlet in self.outlets:
            context["outlet_events"][outlet].extra = counts.as_dict()
        return counts.as_dict()
