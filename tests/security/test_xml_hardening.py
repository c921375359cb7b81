"""XML hardening: external entities, parameter entities and entity-expansion bombs are
refused — by the response parser, by the hook over HTTP, and by the sandbox in requests —
quickly, without expanding anything, fetching anything or echoing a file's content."""

from __future__ import annotations

import resource
import time
import traceback
import urllib.request
from collections.abc import Callable

import pytest
from intacct_sync.intacct.errors import IntacctControlError, IntacctResponseError
from intacct_sync.intacct.hook import IntacctHook
from intacct_sync.intacct.xml_response import parse_response

from tests.ground_truth import all_records, sandbox_get
from tests.intacct import xmlbuild as X
from tests.intacct.conftest import FAST_RETRIES

pytestmark = pytest.mark.security

REFUSED = "Refused a response containing a DOCTYPE or entity declaration (never expanded)"
MARKER = "MARKER-FILE-CONTENT-7f3a9c"
# A comment longer than the 4 KiB the parser sniffs before parsing: the DTD must still be found.
PAD = "<!--" + "p" * 6000 + "-->"


def _dtds(secret_file: str, listener: str) -> dict[str, str]:
    """Every DTD declares or pulls in entity `x`, which the documents reference as &x;."""
    laughs = '<!ENTITY x0 "lollollollol">' + "".join(
        f'<!ENTITY x{i} "{f"&x{i - 1};" * 10}">' for i in range(1, 10)
    ) + '<!ENTITY x "&x9;">'  # 10**9 × 11 characters if expanded  # fmt: skip
    return {
        "external-file": f'<!DOCTYPE response [<!ENTITY x SYSTEM "file://{secret_file}">]>',
        "external-http": f'<!DOCTYPE response [<!ENTITY x SYSTEM "{listener}/entity">]>',
        "parameter-entity": (f'<!DOCTYPE response [<!ENTITY % p SYSTEM "{listener}/evil.dtd">'
                             " %p;]>"),
        "billion-laughs": f"<!DOCTYPE response [{laughs}]>",
        # One 100 kB entity referenced 20,000 times in the document: 2 GB if expanded.
        "quadratic-blowup": f'<!DOCTYPE response [<!ENTITY x "{"A" * 100_000}">]>',
    }


CASES = ["external-file", "external-http", "parameter-entity", "billion-laughs",
         "quadratic-blowup"]  # fmt: skip


def _hostile(document: bytes, dtd: str, *, padded: bool, references: int = 1) -> bytes:
    """`document` (its values hold "&x;") with `dtd` after the XML declaration."""
    head, rest = document.split(b"?>", 1)
    rest = rest.replace(b"&x;", b"&x;" * references)
    return head + b"?>" + (PAD if padded else "").encode() + dtd.encode() + rest


@pytest.fixture
def traps(tmp_path, recorder) -> tuple[dict[str, str], Callable[[], None]]:
    """The DTDs, and a check that neither the secret file nor the listener was read."""
    secret = tmp_path / "secret.txt"
    secret.write_text(MARKER)
    listener = recorder(script=[(200, b'<!ENTITY x "LEAKED-OVER-HTTP">')] * 5)
    base = listener.url.rsplit("/ia/", 1)[0]

    def nothing_fetched() -> None:
        assert listener.requests == [], "an entity was fetched over the network"

    return _dtds(str(secret), base), nothing_fetched


def _text_of(error: BaseException) -> str:
    info = error.to_dict() if hasattr(error, "to_dict") else {}
    return "".join(traceback.format_exception(error)) + repr(error) + repr(info)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- the response parser ---------------------------------------------------------------------
@pytest.mark.parametrize("padded", [False, True], ids=["at-start", "after-4kib-comment"])
@pytest.mark.parametrize("case", CASES)
def test_parser_refuses_entities_and_bombs_quickly_and_without_expanding(traps, case, padded):
    dtds, nothing_fetched = traps
    body = _hostile(X.session(session_id="&x;"), dtds[case], padded=padded,
                    references=20_000 if case == "quadratic-blowup" else 1)  # fmt: skip
    peak, started = _peak_rss_mb(), time.perf_counter()
    with pytest.raises(IntacctResponseError) as info:
        parse_response(body)
    assert time.perf_counter() - started < 1.0
    assert _peak_rss_mb() - peak < 64  # an expansion would need gigabytes
    assert (str(info.value), info.value.retryable) == (REFUSED, False)
    assert MARKER not in _text_of(info.value) and "LEAKED" not in _text_of(info.value)
    nothing_fetched()


def test_parser_refuses_a_utf16_bomb_the_byte_sniffing_cannot_see(traps):
    dtds, _ = traps
    document = ('<?xml version="1.0" encoding="UTF-16"?>' + PAD + dtds["billion-laughs"]
                + "<response><control><status>&x;</status></control></response>")  # fmt: skip
    with pytest.raises(IntacctResponseError) as info:
        parse_response(document.encode("utf-16"))
    assert (str(info.value), info.value.retryable) == (REFUSED, False)


# -- the hook over HTTP ----------------------------------------------------------------------
@pytest.mark.parametrize("case", CASES)
def test_hook_refuses_a_hostile_session_answer_once_without_retrying(
    traps, recorder, make_connection, case
):
    dtds, nothing_fetched = traps
    body = _hostile(X.session(session_id="&x;"), dtds[case], padded=True,
                    references=20_000 if case == "quadratic-blowup" else 1)  # fmt: skip
    gateway = recorder(script=[(200, body)] * FAST_RETRIES["retry_attempts"])
    hook = IntacctHook(make_connection("intacct_xxe", url=gateway.url), **FAST_RETRIES)
    started = time.perf_counter()
    with pytest.raises(IntacctResponseError) as info:
        hook.get_session()
    assert time.perf_counter() - started < 2.0
    assert (str(info.value), len(gateway.requests)) == (f"{REFUSED} [HTTP 200]", 1)
    text = _text_of(info.value)
    assert MARKER not in text and "LEAKED" not in text and "user-pass-secret" not in text
    nothing_fetched()


def test_hook_refuses_a_hostile_page_in_the_middle_of_a_read(traps, recorder, make_connection):
    dtds, nothing_fetched = traps
    gateway = recorder()
    page = X.page([{"RECORDNO": "1", "NAME": "placeholder"}]).replace(b"placeholder", b"&x;")
    gateway.script += [
        (200, X.session("SESSION-XXE-1", endpoint=gateway.url)),
        (200, _hostile(page, dtds["external-file"], padded=True)),
    ]
    hook = IntacctHook(make_connection("intacct_xxe", url=gateway.url), **FAST_RETRIES)
    with pytest.raises(IntacctResponseError) as info:
        list(hook.read_by_query("CUSTOMER", ["RECORDNO", "NAME"]))
    assert (str(info.value), len(gateway.requests)) == (f"{REFUSED} [HTTP 200]", 2)
    assert MARKER not in _text_of(info.value)
    nothing_fetched()


# -- the sandbox's request parser ------------------------------------------------------------
def _create_customer_request(creds: dict, dtd: str, name: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{dtd}<request><control>'
        f"<senderid>{creds['sender_id']}</senderid><password>{creds['sender_password']}"
        "</password><controlid>xxe</controlid><uniqueid>false</uniqueid>"
        "<dtdversion>3.0</dtdversion></control><operation><authentication><login>"
        f"<userid>{creds['user_id']}</userid><companyid>{creds['company_id']}</companyid>"
        f"<password>{creds['user_password']}</password></login></authentication><content>"
        '<function controlid="f1"><create><CUSTOMER><CUSTOMERID>XXE-1</CUSTOMERID>'
        f"<NAME>{name}</NAME></CUSTOMER></create></function></content></operation></request>"
    ).encode()


def _post(url: str, body: bytes) -> bytes:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "x-intacct-xml-request"})  # noqa: S310, E501
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
        return response.read()


@pytest.mark.sandbox(scale="tiny")
@pytest.mark.parametrize("case", CASES)
def test_sandbox_refuses_a_request_with_a_doctype_and_writes_nothing(
    traps, sandbox_server, case
):
    dtds, nothing_fetched = traps
    creds = sandbox_server.credentials
    started = time.perf_counter()
    answer = _post(sandbox_server.url, _create_customer_request(creds, dtds[case], "Ent &x; Ltd"))
    assert time.perf_counter() - started < 2.0
    with pytest.raises(IntacctControlError) as info:
        parse_response(answer).raise_for_status()
    assert info.value.errorno == "XL03000003"
    if case in ("external-file", "external-http", "parameter-entity"):
        assert "DOCTYPE is not allowed in a request." in info.value.description2
    assert MARKER.encode() not in answer and b"LEAKED" not in answer
    assert sandbox_get(sandbox_server, "writes")["writes"] == []
    nothing_fetched()
    # The same request without the DTD is valid: the DOCTYPE alone was the reason.
    ok = parse_response(_post(sandbox_server.url, _create_customer_request(creds, "", "Ent Ltd")))
    ok.raise_for_status()
    assert ok.results[0].ok
    names = [c["NAME"] for c in all_records(sandbox_server, object="CUSTOMER")
             if c["CUSTOMERID"] == "XXE-1"]  # fmt: skip
    assert names == ["Ent Ltd"]


# -- large text nodes and characters XML forbids (issue 15) -------------------------------------
def test_a_text_node_over_libxml2s_10_mb_limit_is_parsed_within_the_bound():
    from intacct_sync.intacct.xml_response import MAX_HUGE_RESPONSE_BYTES

    name = "n" * (11 * 1024 * 1024)
    [result] = parse_response(X.page([{"RECORDNO": "1", "NAME": name}])).results
    assert result.records[0]["NAME"] == name
    too_big = X.page([{"RECORDNO": "1", "NAME": "n" * (MAX_HUGE_RESPONSE_BYTES + 1)}])
    with pytest.raises(IntacctResponseError) as info:
        parse_response(too_big)
    assert f"the bound is {MAX_HUGE_RESPONSE_BYTES:,}" in str(info.value)
    assert not info.value.retryable  # the same read gives the same answer


@pytest.mark.parametrize("bad", ["\x0b", "\ufffe"], ids=["vertical-tab", "U+FFFE"])
def test_a_forbidden_character_in_a_complete_response_is_not_retried(bad):
    from intacct_sync.intacct.errors import IntacctUnreadableResponseError

    body = X.page([{"RECORDNO": "1", "NAME": f"a{bad}b"}])
    with pytest.raises(IntacctUnreadableResponseError) as info:
        parse_response(body)
    assert not info.value.retryable
    with pytest.raises(IntacctResponseError) as truncated:  # cut short: worth another try
        parse_response(body[:-20])
    assert truncated.value.retryable


def test_a_deeply_nested_huge_response_is_still_refused():
    deep = "<a>" * 300 + "x" * (11 * 1024 * 1024) + "</a>" * 300
    body = X.response(f"<result><status>success</status><data>{deep}</data></result>")
    with pytest.raises(IntacctResponseError):
        parse_response(body)
