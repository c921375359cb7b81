"""Tell someone when a sync fails or falls behind: an Airflow notifier posting JSON to a webhook.

The webhook is the Airflow connection `intacct_sync_alerts` (type http; its host is the URL,
e.g. a Slack or Teams incoming webhook, or any endpoint that takes JSON). Without that
connection the alert is only logged. Every task of the sync DAGs has it as
`on_failure_callback` (after its retries); the `plan` task sends a "behind" alert when the
object's last successful pull is older than `alert_after_hours` (intacct_sync_config).
"""

from __future__ import annotations

import logging
from typing import Any

from airflow.sdk import BaseNotifier
from airflow.sdk.exceptions import AirflowFailException

ALERTS_CONN_ID = "intacct_sync_alerts"
log = logging.getLogger(__name__)


class RefusedParameters(AirflowFailException):
    """A run refused for its own parameters (a typo in the Trigger form): it fails, but the
    person who triggered it is looking at it, so no alert is posted."""

    alert = False


class SyncAlertNotifier(BaseNotifier):
    """Post ``{"text", "dag_id", "run_id", "task_id", "kind"}`` to the alerts webhook."""

    template_fields = ("conn_id",)

    def __init__(self, conn_id: str = ALERTS_CONN_ID, kind: str = "failed",
                 text: str | None = None) -> None:  # fmt: skip
        super().__init__()
        self.conn_id = conn_id
        self.kind = kind
        self.text = text

    def notify(self, context: Any) -> None:
        if not getattr(context.get("exception"), "alert", True):
            log.info("not alerting: %s", context.get("exception"))
            return
        ti = context.get("ti") or context.get("task_instance")
        dag_id = getattr(ti, "dag_id", None) or getattr(context.get("dag"), "dag_id", "")
        task_id = getattr(ti, "task_id", "")
        run_id = context.get("run_id", "")
        text = self.text or (
            f"intacct-sync: {dag_id} failed in task {task_id} (run {run_id}): "
            f"{context.get('exception') or 'see the task log'}"
        )
        payload = {"text": text, "kind": self.kind, "dag_id": dag_id, "run_id": run_id,
                   "task_id": task_id}  # fmt: skip
        log.error("ALERT %s", text)
        url = _webhook_url(self.conn_id)
        if url is None:
            log.warning("no %s connection: the alert above was only logged", self.conn_id)
            return
        import requests

        response = requests.post(url, json=payload, timeout=15)
        if response.status_code >= 300:
            log.error("alert webhook answered HTTP %s", response.status_code)


def _webhook_url(conn_id: str) -> str | None:
    from airflow.sdk import BaseHook

    try:
        conn = BaseHook.get_connection(conn_id)
    except Exception:  # noqa: BLE001 - AirflowNotFoundException: no webhook configured
        return None
    host = conn.host or ""
    if host.startswith(("http://", "https://")):
        return host
    port = f":{conn.port}" if conn.port else ""
    return f"{conn.schema or 'https'}://{host}{port}"
