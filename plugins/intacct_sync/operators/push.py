"""Push: send a batch of writes to Intacct and return each record's outcome."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow.sdk import BaseOperator

from intacct_sync.hooks.intacct import POOL_NAME, IntacctHook, WriteFunction


class IntacctPushOperator(BaseOperator):
    """Write `functions` (dicts with WriteFunction's fields) in as few requests as allowed.

    Every write carries uniqueid=true and a control id derived from the record and action,
    so re-running this task after a timeout cannot create a second record in Intacct. One
    failing record does not fail the others: the task returns per-record outcomes (small,
    secret-free dicts) and fails only when `fail_on_error` is set and something failed.
    """

    template_fields: Sequence[str] = ("functions",)

    def __init__(
        self,
        *,
        functions: Sequence[Mapping[str, Any]] | str,
        transaction: bool = False,
        fail_on_error: bool = False,
        intacct_conn_id: str = "intacct_default",
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("pool", POOL_NAME)
        super().__init__(**kwargs)
        self.functions = functions
        self.transaction = transaction
        self.fail_on_error = fail_on_error
        self.intacct_conn_id = intacct_conn_id

    def execute(self, context: Any) -> list[dict[str, Any]]:
        if isinstance(self.functions, str):
            raise TypeError(
                "functions must render to a list of dicts (use render_template_as_native_obj)"
            )
        writes = [WriteFunction(**dict(f)) for f in self.functions]
        results = IntacctHook(self.intacct_conn_id).write_batch(
            writes, transaction=self.transaction
        )
        outcomes = [r.to_dict() for r in results]
        failed = [o for o in outcomes if o["status"] != "success"]
        self.log.info(
            "pushed %s writes: %s ok, %s failed",
            len(outcomes),
            len(outcomes) - len(failed),
            len(failed),
        )
        for outcome in failed:
            self.log.warning(
                "record %s failed: %s", outcome["record_id"], (outcome["error"] or {}).get("hint")
            )
        if failed and self.fail_on_error:
            raise RuntimeError(f"{len(failed)} of {len(outcomes)} writes failed")
        return outcomes
