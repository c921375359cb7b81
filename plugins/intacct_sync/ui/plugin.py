"""Register the Intacct Sync page: the JSON API (a FastAPI app under /intacct-sync) and the
page itself as React apps inside the Airflow UI (Airflow >= 3.1) — a nav entry (Browse →
Intacct Sync) and a tab on every DAG (it shows the DAG's objects on intacct_* DAGs).

Both apps load the same bundle (web/dist/main.umd.js, served by the API app); the UI passes
the DAG id to the tab, which is how the page knows where it is. A root middleware refuses a
bad initial-sync range in the Trigger form before a run exists, and lets the Connections
list's Test button test an Intacct connection (request_checks.py).
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from intacct_sync.ui.app import URL_PREFIX, app
from intacct_sync.ui.request_checks import IntacctRequestChecks

NAME = "Intacct Sync"  # the bundle registers its component under this global name too
BUNDLE_URL = f"{URL_PREFIX}/static/main.js"


class IntacctSyncPlugin(AirflowPlugin):
    name = "intacct_sync"
    fastapi_apps = [{"app": app, "url_prefix": URL_PREFIX, "name": NAME}]
    react_apps = [
        {"name": NAME, "bundle_url": BUNDLE_URL, "url_route": "intacct-sync",
         "destination": "nav", "category": "browse"},
        {"name": NAME, "bundle_url": BUNDLE_URL, "url_route": "intacct-sync-dag",
         "destination": "dag"},
    ]  # fmt: skip
    fastapi_root_middlewares = [
        {"middleware": IntacctRequestChecks, "name": "intacct_sync_request_checks"},
    ]
