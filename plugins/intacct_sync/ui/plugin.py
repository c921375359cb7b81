"""Register the Intacct Sync page: a FastAPI app under /intacct-sync and a nav entry (Browse
→ Intacct Sync) that shows it inside the Airflow UI."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from intacct_sync.ui.app import URL_PREFIX, app


class IntacctSyncPlugin(AirflowPlugin):
    name = "intacct_sync"
    fastapi_apps = [{"app": app, "url_prefix": URL_PREFIX, "name": "Intacct Sync"}]
    external_views = [
        {
            "name": "Intacct Sync",
            "href": f"{URL_PREFIX}/",
            "url_route": "intacct-sync",
            "destination": "nav",
            "category": "browse",
        }
    ]
