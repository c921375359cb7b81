"""The Intacct Sync page on a real api-server (+ dag-processor), over HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from contextlib import suppress
from urllib.parse import quote

import pytest
from intacct_sync.push.posting import push_object
from intacct_sync.sync_config import parse

from include.localenv.airflow_services import AirflowServiceError, AirflowServices
from include.localenv.local_records import LocalRecords

PAGE = "/intacct-sync"


@pytest.fixture
def airflow(intacct_connection, clean_ar):
    """api-server and dag-processor on this test's sandbox and AR database."""
    with AirflowServices(("api-server", "dag-processor")) as services:
        services.wait_for_dag("intacct_customers")
        before = {r["dag_run_id"] for r in services.dag_runs("intacct_customers")}
        yield services
        for run in services.dag_runs("intacct_customers"):  # runs the page triggered
            if run["dag_run_id"] not in before:
                with suppress(AirflowServiceError):
                    path = f"/api/v2/dags/intacct_customers/dagRuns/{quote(run['dag_run_id'])}"
                    services.delete(path)


def call(airflow, method: str, path: str, body: dict | None = None, *, token: bool = True,
         headers: dict | None = None) -> tuple[int, object]:  # fmt: skip
    """(status, parsed body) of a request to the page's app."""
    request = urllib.request.Request(  # noqa: S310 - loopback
        airflow.base_url + PAGE + path, method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {}),
                 **({"Authorization": f"Bearer {airflow.token()}"} if token else {})},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        raw, status = error.read(), error.code
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode()


@pytest.fixture
def failing_customer(clean_ar, intacct_connection) -> int:
    """A local customer Intacct rejects (bad e-mail): one open push error."""
    bad = LocalRecords(clean_ar).customer("Bad Mail Ltd", account_number="UI-1", email="nope")
    assert push_object(_hook(), clean_ar, "customers", parse(None)).failed == 1
    return bad


def _hook():
    from intacct_sync.intacct.hook import IntacctHook

    return IntacctHook(retry_initial_wait=0.01)
