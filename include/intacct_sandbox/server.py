"""HTTP front end: the gateway at ``/ia/xml/xmlgw.phtml`` and the ``/_sandbox/`` JSON API."""

from __future__ import annotations

import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from . import config
from .config import SandboxOptions
from .ground_truth import GroundTruth, credentials
from .sandbox import Sandbox, resolve_scale

MAX_BODY = 16 * 1024 * 1024
_OPTION_NAMES = {f for f in SandboxOptions.__dataclass_fields__ if f != "extra"}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HttpServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        if len(body) > 2048 and "gzip" in (self.headers.get("Accept-Encoding") or ""):
            body = gzip.compress(body, compresslevel=1)
            encoded = True
        else:
            encoded = False
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if encoded:
            self.send_header("Content-Encoding", "gzip")
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ValueError("request too large")
        return self.rfile.read(length) if length else b""

    def _json(self, status: int, payload: dict) -> None:
        self._send(status, "application/json", json.dumps(payload, default=str).encode())

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        path, _, query = self.path.partition("?")
        body = self._body()
        if path == config.GATEWAY_PATH:
            answer = self.server.sandbox.gateway.handle(body)
            if answer.status == 0:  # drop_response: hang up without a word
                self.close_connection = True
                return
            self._send(answer.status, answer.content_type, answer.body)
        elif path.startswith("/_sandbox"):
            self._json(*self.server.ground_truth.handle("POST", path, query, body))
        else:
            self._json(404, {"error": "not found"})

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        path, _, query = self.path.partition("?")
        if path.startswith("/_sandbox"):
            self._json(*self.server.ground_truth.handle("GET", path, query, b""))
        elif path == config.GATEWAY_PATH:
            # GET has been refused by the gateway since 15 Jan 2023 (protocol §1.1)
            self._send(405, "text/html", b"<html><body>Method Not Allowed</body></html>")
        else:
            self._json(404, {"error": "not found"})


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], sandbox: Sandbox) -> None:
        super().__init__(address, _Handler)
        self.sandbox = sandbox
        self.ground_truth = GroundTruth(sandbox)


class SandboxServer:
    """A running Intacct sandbox. ``port=0`` picks a free port.

    Extra keyword arguments: ``invoices``, ``customers``, ``adjustments``, ``history_days``
    (explicit counts); ``start_time`` (epoch), ``frozen_clock``; ``faults`` (list of
    ``NAME:every=N`` specs); ``latency_ms``, ``latency_jitter_ms``,
    ``session_invalidate_every``; and any SandboxOptions field (``max_concurrent``,
    ``concurrency_wait_seconds``, ``session_duration_seconds``, ``resultid_ttl_seconds``,
    ``resultid_max``, ``payment_batch_required``, ``late_commit_lag_seconds``, ``history_end``).
    """

    def __init__(self, seed: int = 1, scale: str = "small", port: int = 0,
                 host: str = "127.0.0.1", timezone: str = config.DEFAULT_TIMEZONE,
                 **kwargs: Any) -> None:
        spec = resolve_scale(scale, kwargs.pop("invoices", None), kwargs.pop("customers", None),
                             kwargs.pop("adjustments", None), kwargs.pop("history_days", None))
        options = SandboxOptions(**{k: kwargs.pop(k) for k in list(kwargs)
                                    if k in _OPTION_NAMES})
        latency = kwargs.pop("latency_ms", 0.0)
        jitter = kwargs.pop("latency_jitter_ms", 0.0)
        invalidate_every = kwargs.pop("session_invalidate_every", 0)
        self.sandbox = Sandbox(seed, spec, timezone, kwargs.pop("start_time", None),
                               kwargs.pop("frozen_clock", False), options,
                               kwargs.pop("faults", None), kwargs.pop("quiet", True))
        if kwargs:
            raise TypeError(f"unknown SandboxServer options: {', '.join(kwargs)}")
        self.sandbox.faults.latency_ms = float(latency)
        self.sandbox.faults.latency_jitter_ms = float(jitter)
        self.sandbox.faults.session_invalidate_every = int(invalidate_every)
        self.scale = scale
        self.host = host
        self._http = _HttpServer((host, port), self.sandbox)
        self.port = self._http.server_address[1]
        public_host = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104
        self.base_url = f"http://{public_host}:{self.port}"
        self.url = self.base_url + config.GATEWAY_PATH
        self.sandbox.gateway_url = self.url
        self.credentials = credentials(self.url)
        self._thread: threading.Thread | None = None

    def start(self) -> SandboxServer:
        self._thread = threading.Thread(target=self._http.serve_forever, args=(0.05,),
                                        name="intacct-sandbox",
                                        daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._http.serve_forever(0.1)

    def stop(self) -> None:
        if self._thread is not None:
            self._http.shutdown()
        self._http.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
