"""The Intacct Sync page's JSON API and its React bundle, mounted by the api-server under
/intacct-sync (the page itself is a React app inside the Airflow UI: plugin.py, web/).

Every route needs an authenticated Airflow user (the UI's `_token` cookie or a Bearer token;
none → 401). Requests that change something are POSTs with a JSON body, a custom header
(`X-Intacct-Sync: 1`, which a cross-site form cannot send) and, when the browser says where
it comes from, the same origin; triggering a DAG also needs the user's permission to run it.
Figures come from intacct_sync/monitoring/status.py, the same functions the tests read.
"""

from __future__ import annotations

from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from airflow.api_fastapi.core_api.security import GetUserDep, requires_authenticated
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, RedirectResponse
from pydantic import BaseModel, Field

URL_PREFIX = "/intacct-sync"
POSTGRES_CONN_ID = "ar_postgres"
INTACCT_CONN_ID = "intacct_default"
CSRF_HEADER = "X-Intacct-Sync"
BUNDLE = Path(__file__).resolve().parent / "web" / "dist" / "main.umd.js"
PROMISE_SECONDS = 3600  # each pull runs hourly: behind more than this breaks the promise

app = FastAPI(
    title="Intacct Sync",
    description="Sync status, reconciliation errors and actions of intacct-sync.",
    dependencies=[Depends(requires_authenticated())],
)


class ErrorIds(BaseModel):
    ids: list[int] = Field(min_length=1, max_length=1000)


def _connect():
    from intacct_sync.db.ar_database import connect

    return closing(connect(POSTGRES_CONN_ID))


def _object(name: str):
    from intacct_sync.sync_objects import OBJECTS

    if name not in OBJECTS:
        raise HTTPException(404, f"unknown object {name!r}; known: {', '.join(OBJECTS)}")
    return OBJECTS[name]


def _same_site(request: Request) -> None:
    """Refuse state changes a page on another site could have sent."""
    if request.headers.get(CSRF_HEADER) != "1":
        raise HTTPException(403, f"missing header {CSRF_HEADER}: 1")
    origin = request.headers.get("origin")
    if origin and origin.split("://", 1)[-1] != request.headers.get("host"):
        raise HTTPException(403, f"cross-site request from {origin} refused")


def _trigger(dag_id: str, user: Any, note: str) -> str:
    """A manual run of `dag_id`, as the user (who must be allowed to run it)."""
    from airflow.api.common.trigger_dag import trigger_dag
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import (
        DagAccessEntity,
        DagDetails,
    )
    from airflow.exceptions import DagNotFound
    from airflow.utils.types import DagRunTriggeredByType

    allowed = get_auth_manager().is_authorized_dag(
        method="POST", access_entity=DagAccessEntity.RUN, details=DagDetails(id=dag_id),
        user=user,
    )  # fmt: skip
    if not allowed:
        raise HTTPException(403, f"not allowed to trigger {dag_id}")
    try:
        run = trigger_dag(dag_id, triggered_by=DagRunTriggeredByType.UI,
                          triggering_user_name=user.get_name(), note=note)  # fmt: skip
    except DagNotFound:
        raise HTTPException(404, f"DAG {dag_id} is not loaded") from None
    return run.run_id if run else ""


def _latest_runs(dag_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The newest run of each DAG: its state and id (for links)."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import func, select

    with create_session() as session:
        newest = (
            select(DagRun.dag_id, func.max(DagRun.run_after).label("run_after"))
            .where(DagRun.dag_id.in_(dag_ids)).group_by(DagRun.dag_id).subquery()
        )  # fmt: skip
        rows = session.execute(
            select(DagRun.dag_id, DagRun.run_id, DagRun.state, DagRun.run_type).join(
                newest, (DagRun.dag_id == newest.c.dag_id)
                & (DagRun.run_after == newest.c.run_after))
        ).all()  # fmt: skip
    return {r.dag_id: {"run_id": r.run_id, "state": str(r.state), "run_type": str(r.run_type)}
            for r in rows}  # fmt: skip


def status_payload() -> dict[str, Any]:
    from intacct_sync.monitoring import status as monitoring

    now = datetime.now(UTC)
    with _connect() as connection:
        objects = monitoring.status(connection, now)
        hours = monitoring.per_hour(connection, now)
    runs = _latest_runs(sorted({o["dag_id"] for o in objects}))
    for o in objects:
        o["latest_run"] = runs.get(o["dag_id"])
    return {"generated_at": now.isoformat(), "objects": objects, "per_hour": hours,
            "promise_seconds": PROMISE_SECONDS, "alert_after_seconds": _alert_after_seconds()}


def _config():
    """The sync configuration (intacct_sync_config); a bad or unreadable one, the defaults
    (the runs refuse it with its message: the page still shows what it can)."""
    from intacct_sync.sync_config import VARIABLE, SyncConfig, parse

    try:
        from airflow.models import Variable

        return parse(Variable.get(VARIABLE, default_var=None))
    except Exception:  # noqa: BLE001 - see the docstring
        return SyncConfig()


def _alert_after_seconds() -> int:
    """When a pull counts as late enough to alert (intacct_sync_config, default 3 h)."""
    return round(_config().alert_after_hours * 3600)


@app.get("/api/status")
def get_status() -> dict[str, Any]:
    """Status per object and direction, and records synced per hour (72 h)."""
    return status_payload()


@app.get("/api/errors")
def get_errors(
    object: str | None = None,  # noqa: A002 - the query parameter is called object
    state: list[str] = Query(default=["open", "retrying"]),  # noqa: B008
    errorno: str | None = None,
    direction: Literal["pull", "push"] | None = None,
    q: str | None = Query(default=None, max_length=200),
    sort: Literal["last_seen", "first_seen", "id", "object", "record", "attempts",
                  "state"] = "last_seen",
    order: Literal["asc", "desc"] = "desc",
    limit: int = Query(default=500, ge=1, le=1000),
    offset: int = Query(default=0, ge=0),
) -> dict[str, Any]:
    """One page of errors (newest first unless sorted), how many match, and per state."""
    from intacct_sync.monitoring.status import ERROR_STATES, error_page

    unknown = set(state) - set(ERROR_STATES)
    if unknown:
        raise HTTPException(422, f"unknown state(s) {sorted(unknown)}; known: {ERROR_STATES}")
    with _connect() as connection:
        return error_page(connection, object_name=object or None, direction=direction,
                          states=tuple(state), errorno=errorno or None, search=q or None,
                          sort=sort, descending=order == "desc", limit=limit,
                          offset=offset)  # fmt: skip


@app.post("/api/errors/retry", dependencies=[Depends(_same_site)])
def retry_errors(body: ErrorIds, user: GetUserDep) -> dict[str, Any]:
    """Re-queue the records and trigger their objects' DAGs (once per object)."""
    from intacct_sync.db.reconciliation import retry

    done, objects = _each(body.ids, retry)
    runs = {name: _trigger(_object(name).dag_id, user, f"retry of {len(done)} error(s)")
            for name in sorted(objects)}  # fmt: skip
    return {"retried": done, "triggered": runs}


@app.post("/api/errors/ignore", dependencies=[Depends(_same_site)])
def ignore_errors(body: ErrorIds) -> dict[str, Any]:
    from intacct_sync.db.reconciliation import ignore

    done, _ = _each(body.ids, ignore)
    return {"ignored": done}


def _each(ids: list[int], act) -> tuple[list[int], set[str]]:  # noqa: ANN001
    import psycopg2

    done, objects = [], set()
    with _connect() as connection:
        for error_id in ids:
            try:
                objects.add(act(connection, error_id))
            except psycopg2.Error as error:
                raise HTTPException(409, error.diag.message_primary or str(error)) from None
            done.append(error_id)
    return done, objects


@app.post("/api/sync-now/{name}", dependencies=[Depends(_same_site)])
def sync_now(name: str, user: GetUserDep) -> dict[str, str]:
    """A manual run without parameters: picks up from the last successful sync."""
    dag_id = _object(name).dag_id
    return {"dag_id": dag_id, "run_id": _trigger(dag_id, user, "sync now (Intacct Sync page)")}


@app.post("/api/tieout/{name}", dependencies=[Depends(_same_site)])
def tie_out(name: str) -> dict[str, Any]:
    """Count and sum per entity in Intacct and in Postgres, now (reads every record of the
    configured invoice source); every successful run stores one too (its `tieout` task)."""
    from intacct_sync.intacct.hook import IntacctHook
    from intacct_sync.monitoring.tieout import compute

    if not _object(name).pulled:
        raise HTTPException(400, f"{name} is not pulled: nothing to tie out")
    with _connect() as connection:
        return compute(IntacctHook(INTACCT_CONN_ID), connection, name,
                       _config().invoice_source)  # fmt: skip


@app.get("/static/main.js")
def bundle() -> FileResponse:
    """The page's React bundle (built from web/, committed), loaded by the Airflow UI."""
    return FileResponse(BUNDLE, media_type="text/javascript",
                        headers={"Cache-Control": "no-cache"})  # fmt: skip


@app.get("/")
def page() -> RedirectResponse:
    """The page lives inside the Airflow UI now (Browse → Intacct Sync)."""
    return RedirectResponse("/plugin/intacct-sync", status_code=307)
