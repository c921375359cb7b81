"""The assets of an object's DAG, in one place and one group, so the Assets page lists them
together. Their names stay their URIs: Airflow identifies an asset by (name, uri), so a new
name is a new asset, inactive until the scheduler retires the old one, and every task that
publishes it fails meanwhile ("inactive assets in its outlets")."""

from __future__ import annotations

from airflow.sdk import Asset

GROUP = "intacct_sync"


def pulled(name: str) -> Asset:
    """Updated by each pull that finishes (hourly, backfill or history): its counts."""
    return Asset(f"intacct://pull/{name}", group=GROUP)


def pushed(name: str) -> Asset:
    """Updated by each push: what was posted, failed or left for later."""
    return Asset(f"intacct://push/{name}", group=GROUP)


def ready(name: str, watchers: list) -> Asset:
    """Watched: a NOTIFY from the AR database that a local record is ready to push."""
    return Asset(f"intacct://push-ready/{name}", group=GROUP, watchers=watchers)
