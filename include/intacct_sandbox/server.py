"""HTTP front end: the gateway at ``/ia/xml/xmlgw.phtml`` and the ``/_sandbox/`` JSON API."""

from __future__ import annotations

import gzip
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from . import config
from .companies import COMPANY_PREFIX, Companies, _Company, build_sandbox
from .config import CompanySpec
from .ground_truth import credentials
from .sandbox import Sandbox

MAX_BODY = 16 * 1024 * 1024
UNKNOWN_COMPANY = {"error": "unknown company"}


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

    def _route(self) -> tuple[_Company | None, str, str]:
        """(company, path within it, query): ``/companies/<id>/…`` or ``?company=<id>`` pick
        the company; un-prefixed paths without ``company`` mean the default company."""
        path, _, query = self.path.partition("?")
        companies = self.server.companies
        if path.startswith(COMPANY_PREFIX):
            company_id, _, rest = path[len(COMPANY_PREFIX):].partition("/")
            return companies.get(urllib.parse.unquote(company_id)), "/" + rest, query
        wanted = urllib.parse.parse_qs(query).get("company")
        if wanted and path.startswith("/_sandbox"):
            return companies.get(wanted[-1]), path, query
        return None, path, query

    def _control(self, method: str, company: _Company | None, path: str, query: str,
                 body: bytes) -> None:
        companies = self.server.companies
        if path.rstrip("/") == "/_sandbox/companies":
            self._json(*self._companies_endpoint(method, body))
            return
        target = company or companies.default()
        status, payload = target.ground_truth.handle(method, path, query, body)
        if status == 200 and path.rstrip("/") in ("/_sandbox", "/_sandbox/config"):
            payload.update(companies.describe(target.spec.company_id))
        self._json(status, payload)

    def _companies_endpoint(self, method: str, body: bytes) -> tuple[int, dict]:
        companies = self.server.companies
        if method == "GET":
            return 200, {"companies": [companies.describe(c) for c in companies.ids()]}
        try:
            spec = CompanySpec.from_json(json.loads(body or b"{}"))
            return 200, companies.add(spec)
        except (ValueError, TypeError, json.JSONDecodeError) as exc:
            return 400, {"error": str(exc)}

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        company, path, query = self._route()
        prefixed = self.path.startswith(COMPANY_PREFIX) or "company=" in query
        body = self._body()
        if prefixed and company is None:
            self._json(404, UNKNOWN_COMPANY)
        elif path == config.GATEWAY_PATH:
            target = company or self.server.companies.for_request(body)
            answer = target.sandbox.gateway.handle(body)
            if answer.status == 0:  # drop_response: hang up without a word
                self.close_connection = True
                return
            self._send(answer.status, answer.content_type, answer.body)
        elif path.startswith("/_sandbox"):
            self._control("POST", company, path, query, body)
        else:
            self._json(404, {"error": "not found"})

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        company, path, query = self._route()
        prefixed = self.path.startswith(COMPANY_PREFIX) or "company=" in query
        if prefixed and company is None:
            self._json(404, UNKNOWN_COMPANY)
        elif path.startswith("/_sandbox"):
            self._control("GET", company, path, query, b"")
        elif path == config.GATEWAY_PATH:
            # GET has been refused by the gateway since 15 Jan 2023 (protocol §1.1)
            self._send(405, "text/html", b"<html><body>Method Not Allowed</body></html>")
        else:
            self._json(404, {"error": "not found"})


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], companies: Companies) -> None:
        super().__init__(address, _Handler)
        self.companies = companies


class SandboxServer:
    """A running Intacct sandbox. ``port=0`` picks a free port.

    Extra keyword arguments: ``invoices``, ``customers``, ``adjustments``, ``history_days``
    (explicit counts); ``start_time`` (epoch), ``frozen_clock``; ``faults`` (list of
    ``NAME:every=N`` specs); ``latency_ms``, ``latency_jitter_ms``,
    ``session_invalidate_every``; and any SandboxOptions field (``max_concurrent``,
    ``concurrency_wait_seconds``, ``session_duration_seconds``, ``resultid_ttl_seconds``,
    ``resultid_max``, ``payment_batch_required``, ``late_commit_lag_seconds``, ``history_end``).

    ``companies``: more companies in the same process (CompanySpec or its JSON dict); each
    takes these same arguments as its defaults, overridden by its own ``settings``.
    """

    def __init__(self, seed: int = 1, scale: str = "small", port: int = 0,
                 host: str = "127.0.0.1", timezone: str = config.DEFAULT_TIMEZONE,
                 **kwargs: Any) -> None:
        extra = [c if isinstance(c, CompanySpec) else CompanySpec.from_json(c)
                 for c in kwargs.pop("companies", None) or []]
        settings = {"seed": seed, "scale": scale, "timezone": timezone, **kwargs}
        self.sandbox: Sandbox = build_sandbox(settings)
        self.companies = Companies(self.sandbox, settings)
        self.scale = scale
        self.host = host
        self._http = _HttpServer((host, port), self.companies)
        self.port = self._http.server_address[1]
        public_host = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104
        self.base_url = f"http://{public_host}:{self.port}"
        self.url = self.base_url + config.GATEWAY_PATH
        self.sandbox.gateway_url = self.url
        self.companies.base_url = self.base_url
        for spec in extra:
            self.companies.add(spec)
        self.credentials = credentials(self.url)
        self._thread: threading.Thread | None = None

    def company(self, company_id: str) -> dict:
        """Credentials, gateway URL and control URL of one company (KeyError if unknown)."""
        return self.companies.describe(company_id)

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
