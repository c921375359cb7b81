"""Helpers the tasks of every path call at run time (never at parse time): the connection
ids, the run's history request, the checkpoint key, the mapped-task label."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from intacct_sync.history.ranges import HistoryRequest
    from intacct_sync.sync_objects import SyncObject

POSTGRES_CONN_ID = "ar_postgres"
INTACCT_CONN_ID = "intacct_default"


def history_request(obj: SyncObject, context) -> HistoryRequest | None:
    """The run's validated history parameters (no Intacct call: the connection is only read
    for the company's time zone, which decides what "today" is)."""
    from intacct_sync.history.ranges import history_request as validated
    from intacct_sync.intacct.hook import IntacctHook

    today = datetime.now(IntacctHook(INTACCT_CONN_ID).config.company_timezone).date()
    return validated(
        obj.dag_id,
        obj.history_options,
        context["dag_run"].conf or {},
        context["params"],
        today,
    )


def pulled(obj: SyncObject, window: dict[str, str]) -> SyncObject:
    """The registry entry this run of `obj` reads: customers are CUSTOMER or CONTACT records
    by the customer_source the run's `window` task read (the configuration is read by the
    run, never when the DAG file is parsed)."""
    from intacct_sync.sync_objects import sourced

    if obj.name != "customers":
        return obj
    return sourced(obj.name, customer_source=window.get("customer_source") or "customer")[0]


def run_key(context) -> str:
    """A history run's checkpoint key: run ids are unique only within one DAG."""
    return f"{context['dag'].dag_id}/{context['run_id']}"


def label_map_index(chunk: dict[str, Any]) -> None:
    """Name the mapped task instance after its chunk in the UI (map_index_template)."""
    from airflow.sdk import get_current_context

    get_current_context()["chunk_label"] = chunk["label"]


def run_type(context) -> str:
    """The run's type as a plain string ("scheduled", "manual", "asset_triggered", …)."""
    kind = context["dag_run"].run_type
    return str(getattr(kind, "value", kind))
