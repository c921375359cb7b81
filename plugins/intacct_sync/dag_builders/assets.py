"""The assets of an object's DAG, in one place and one group, so the Assets page lists them
together under readable names.

URIs use the private `x-intacct` scheme: Airflow normalises any other scheme through every
installed provider's URI handlers, which imports `airflow.models` and SQLAlchemy at parse
time (about a third of a DAG file's parse cost, bench/bench_parse.py). Airflow identifies an
asset by (name, uri); these pairs replaced the earlier (`intacct://…`, `intacct://…`) ones
together, so no new asset shares a name or a URI with an old one (the old ones simply stop
being referenced; an upgrade of a running deployment was not tried).
"""

from __future__ import annotations

from airflow.sdk import Asset

GROUP = "intacct_sync"
SCHEME = "x-intacct"


def pulled(name: str) -> Asset:
    """Updated by each pull that finishes (hourly, backfill or history): its counts."""
    return Asset(name=f"{name} pulled from Intacct", uri=f"{SCHEME}://pull/{name}", group=GROUP)


def pushed(name: str) -> Asset:
    """Updated by each push: what was posted, failed or left for later."""
    return Asset(name=f"{name} pushed to Intacct", uri=f"{SCHEME}://push/{name}", group=GROUP)


def ready(name: str, watchers: list) -> Asset:
    """Watched: a NOTIFY from the AR database that a local record is ready to push."""
    return Asset(name=f"{name} ready to push", uri=f"{SCHEME}://push-ready/{name}",
                 group=GROUP, watchers=watchers)  # fmt: skip
