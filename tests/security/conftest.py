"""Fixtures of the security suite.

* ``recorder``: a real HTTP server on loopback that records every request (path, headers,
  body) and either answers from a script or forwards to an upstream gateway (the sandbox),
  so tests see exactly what the hook puts on the wire;
* ``self_signed``: a certificate for 127.0.0.1 that no CA vouches for (TLS tests);
* the hook tests' connection factory and the UI tests' api-server fixtures, reused as is.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.intacct.conftest import make_connection  # noqa: F401 - fixture
from tests.ui.conftest import airflow, failing_customer  # noqa: F401 - fixtures

GATEWAY_PATH = "/ia/xml/xmlgw.phtml"


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Recorder:
    """A loopback HTTP(S) server that records requests; answers from `script` (status, body)
    in order, else forwards to `upstream`, rewriting the upstream's URL in the answer to its
    own so the session endpoint Intacct hands out points back here too."""

    script: list[tuple[int, bytes]] = field(default_factory=list)
    upstream: str | None = None
    tls: ssl.SSLContext | None = None
    requests: list[Seen] = field(default_factory=list)

    def start(self) -> Recorder:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                self._answer(b"")

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                self._answer(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

            def _answer(self, body: bytes) -> None:
                recorder.requests.append(Seen(self.command, self.path, dict(self.headers), body))
                status, answer = recorder._reply(body)
                self.send_response(status)
                self.send_header("Content-Type", "text/xml; charset=utf-8")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if self.tls is not None:
            self._server.socket = self.tls.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self._server.server_address[1]}{GATEWAY_PATH}"

    def _reply(self, body: bytes) -> tuple[int, bytes]:
        if self.script:
            return self.script.pop(0)
        if self.upstream is None:
            return 404, b"nothing scripted"
        request = urllib.request.Request(  # noqa: S310 - loopback sandbox
            self.upstream, data=body, headers={"Content-Type": "application/xml"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                status, answer = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, answer = error.code, error.read()
        return status, answer.replace(self.upstream.encode(), self.url.encode())


@pytest.fixture
def recorder() -> Iterator[Callable[..., Recorder]]:
    """Factory: recorder(script=[(200, b"...")], upstream=url, tls=context) → started."""
    started: list[Recorder] = []

    def start(**kwargs: object) -> Recorder:
        server = Recorder(**kwargs).start()  # type: ignore[arg-type]
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context


@pytest.fixture(scope="session")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for 127.0.0.1 (valid name and dates, untrusted issuer)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=7))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))  # fmt: skip
    return Certificate(folder / "cert.pem", folder / "key.pem")
