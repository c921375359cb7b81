"""Two requests to the api-server the plugin looks at before Airflow does (a root middleware,
the plugin's `fastapi_root_middlewares`), both for the UI's own forms:

- `POST /api/v2/dags/<intacct DAG>/dagRuns` (the Trigger form, REST clients): Airflow checks
  each Param on its own (JSON schema), so it cannot see that history_from and history_to are
  two years apart. A bad initial-sync range is answered 400 with the one-line message the
  `plan` task gives (intacct_sync/history/ranges.py is the one rule), which the form shows,
  before a run exists. What it cannot judge (unreadable body, no connection to tell "today")
  goes through, and `plan` still refuses it; the CLI and backfills do not pass here.
- `POST /api/v2/connections/test` of a Sage Intacct connection: the Connections list's Test
  button (Airflow 3.3.2) sends `port: 0` for a connection without a port (`Number(null)`),
  which the API refuses as "another endpoint" before the hook is asked. An Intacct
  connection has no port (the endpoint URL carries it), so that 0 is dropped.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

TRIGGER = re.compile(r"/api/v2/dags/(?P<dag_id>intacct_[^/]+)/dagRuns/?$")
CONNECTION_TEST = re.compile(r"/api/v2/connections/test/?$")
INTACCT_CONN_ID = "intacct_default"


def refusal(dag_id: str, body: bytes) -> str | None:
    """The message refusing this trigger request's conf, or None to let it through."""
    from intacct_sync.history.ranges import HistoryRangeError, history_request
    from intacct_sync.sync_objects import OBJECTS

    obj = next((o for o in OBJECTS.values() if o.dag_id == dag_id and o.pulled), None)
    conf = _json(body).get("conf")
    if obj is None or not isinstance(conf, dict):
        return None
    try:
        from intacct_sync.intacct.hook import IntacctHook

        today = datetime.now(IntacctHook(INTACCT_CONN_ID).config.company_timezone).date()
    except Exception:  # noqa: BLE001 - no readable connection: plan decides, with its message
        return None
    try:
        history_request(dag_id, obj.history_options, conf, {}, today)
    except HistoryRangeError as refused:
        return f"{dag_id}: {refused}"
    return None


def connection_test_body(body: bytes) -> bytes:
    """The Test request of an Intacct connection without the list's made-up port 0."""
    data = _json(body)
    if data.get("conn_type") != "intacct" or data.get("port") not in (0, "0"):
        return body
    del data["port"]
    return json.dumps(data).encode()


def _json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return {}  # not JSON: the API answers it
    return data if isinstance(data, dict) else {}


class IntacctRequestChecks:
    """Pure ASGI middleware: reads the body of those two requests only, and hands it on
    (unchanged, or without the port) when it has nothing to refuse."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        post = scope["type"] == "http" and scope.get("method") == "POST"
        path = scope.get("path", "") if post else ""
        trigger, test = TRIGGER.search(path), CONNECTION_TEST.search(path)
        if not (trigger or test):
            await self.app(scope, receive, send)
            return
        chunks, message = [], {"more_body": True}
        while message.get("more_body"):
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunks.append(message.get("body", b""))
        body = b"".join(chunks)
        if trigger:
            import anyio.to_thread

            said = await anyio.to_thread.run_sync(refusal, trigger["dag_id"], body)
            if said:
                await _answer(send, 400, {"detail": said})
                return
        else:
            body = connection_test_body(body)
            scope = {**scope, "headers": [
                (k, str(len(body)).encode() if k == b"content-length" else v)
                for k, v in scope.get("headers", [])]}  # fmt: skip
        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def _answer(send: Any, status: int, payload: dict[str, Any]) -> None:
    answer = json.dumps(payload).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(answer)).encode())]})  # fmt: skip
    await send({"type": "http.response.body", "body": answer})
