"""TLS: plain http only on loopback, certificate verification always on and never
switchable off by a connection extra; an untrusted certificate is a clear, typed error."""

from __future__ import annotations

import json

import pytest
from intacct_sync.intacct.errors import IntacctCertificateError
from intacct_sync.intacct.hook import IntacctHook

from tests.intacct import xmlbuild as X
from tests.intacct.conftest import FAST_RETRIES

pytestmark = pytest.mark.security


def _connection(monkeypatch, conn_id: str, host: str, **extra: object) -> str:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({
        "conn_type": "intacct", "host": host, "login": "sender_x",
        "password": "sender-pass-secret",
        "extra": {"company_id": "COMPANY", "user_id": "ws_user",
                  "user_password": "user-pass-secret", "company_timezone": "UTC", **extra},
    }))  # fmt: skip
    return conn_id


@pytest.mark.parametrize("host", [
    "http://api.intacct.com/ia/xml/xmlgw.phtml",
    "http://10.1.2.3:8080/ia/xml/xmlgw.phtml",
    "http://127.0.0.1.evil.example/ia/xml/xmlgw.phtml",
    "http://localhost.evil.example/ia/xml/xmlgw.phtml",
])  # fmt: skip
def test_plain_http_to_a_non_loopback_host_is_refused_naming_the_connection(monkeypatch, host):
    hook = IntacctHook(_connection(monkeypatch, "intacct_plain", host))
    with pytest.raises(ValueError) as info:
        hook.config  # noqa: B018
    assert str(info.value) == (
        f"Intacct connection 'intacct_plain': endpoint {host} is not HTTPS; plain http is "
        "allowed only on loopback (127.0.0.1, localhost, ::1)")
    assert hook.test_connection() == (False, str(info.value))  # the UI's Test button says so


@pytest.mark.parametrize("host", [
    "http://127.0.0.1:18931/ia/xml/xmlgw.phtml",
    "http://127.0.0.2:18931/ia/xml/xmlgw.phtml",
    "http://localhost:18931/ia/xml/xmlgw.phtml",
    "http://[::1]:18931/ia/xml/xmlgw.phtml",
    "https://api.intacct.com/ia/xml/xmlgw.phtml",
    "api.intacct.com",  # no scheme: https is assumed
])  # fmt: skip
def test_loopback_may_use_http_and_everything_else_is_https(monkeypatch, host):
    config = IntacctHook(_connection(monkeypatch, "intacct_ok", host)).config
    assert config.endpoint_url.startswith(("https://", "http://127.", "http://localhost:",
                                           "http://[::1]:"))  # fmt: skip


@pytest.mark.parametrize("host", ["https://api.intacct.com/ia/xml/xmlgw.phtml",
                                  "http://127.0.0.1:18931/ia/xml/xmlgw.phtml"])
@pytest.mark.parametrize(("name", "value"), [("verify", False), ("verify", "false"),
                                             ("verify_ssl", False), ("verify", "/tmp/ca.pem")])
def test_an_extra_that_would_turn_verification_off_is_refused(monkeypatch, host, name, value):
    hook = IntacctHook(_connection(monkeypatch, "intacct_noverify", host, **{name: value}))
    with pytest.raises(ValueError) as info:
        hook.config  # noqa: B018
    assert str(info.value) == (
        f"Intacct connection 'intacct_noverify': extra {name}={value!r} is refused: TLS "
        "certificates are always verified (system CAs or REQUESTS_CA_BUNDLE) and verification "
        "cannot be turned off; remove the extra")


def test_verify_true_is_accepted_and_the_session_verifies(monkeypatch):
    hook = IntacctHook(_connection(monkeypatch, "intacct_verify", "https://api.intacct.com",
                                   verify=True))  # fmt: skip
    assert hook.get_conn().verify is True


def test_an_untrusted_certificate_is_a_clear_error_and_nothing_is_sent(
    monkeypatch, recorder, self_signed
):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    gateway = recorder(tls=self_signed.server_context())
    hook = IntacctHook(_connection(monkeypatch, "intacct_tls", gateway.url), **FAST_RETRIES)
    with pytest.raises(IntacctCertificateError) as info:
        hook.get_session()
    error = info.value
    assert str(error) == f"TLS certificate verification failed for {gateway.url}"
    assert "CERTIFICATE_VERIFY_FAILED" in error.errors[0].description
    assert not error.retryable and hook.api_calls["getAPISession"] == 1  # not retried
    assert gateway.requests == []  # the credentials never left the handshake
    ok, message = hook.test_connection()
    assert (ok, message) == (False, f"The TLS certificate of {gateway.url} failed "
                             "verification: check the URL; verification cannot be turned off.")


def test_the_same_server_is_reached_once_its_certificate_is_trusted(
    monkeypatch, recorder, self_signed
):
    """The failure above is certificate verification, not the server: trust the CA, and
    the same hook talks to it."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(self_signed.cert))
    gateway = recorder(tls=self_signed.server_context())
    gateway.script.append((200, X.session("SESSION-TLS-1", endpoint=gateway.url)))
    hook = IntacctHook(_connection(monkeypatch, "intacct_tls", gateway.url), **FAST_RETRIES)
    assert hook.get_session().session_id == "SESSION-TLS-1"
    [request] = gateway.requests
    assert b"<password>sender-pass-secret</password>" in request.body
