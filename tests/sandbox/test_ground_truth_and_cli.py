"""Ground-truth API, determinism, scale and the command line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from include.intacct_sandbox import SandboxServer

from .intacct_client import envelope, fn, post, read_by_query, sandbox_json

ROOT = Path(__file__).resolve().parents[2]


def test_summary_ties_out_with_the_gateway(sandbox: SandboxServer) -> None:
    for obj in ("CUSTOMER", "ARINVOICE", "ARADJUSTMENT", "ARPYMT", "ARPYMTDETAIL",
                "SODOCUMENT", "SODOCUMENTENTRY"):
        truth = sandbox_json(sandbox.base_url, f"/_sandbox/summary?object={obj}")
        data = post(sandbox.url, envelope(fn(read_by_query(obj, "", "RECORDNO", 1)))
                    ).result().find("data")
        assert int(data.get("totalcount")) == truth["count"] > 0
        assert sum(b["count"] for b in truth["by_entity"].values()) == truth["count"]
        assert sum(b["count"] for b in truth["by_state"].values()) == truth["count"]
    inv = sandbox_json(sandbox.base_url, "/_sandbox/summary?object=ARINVOICE")
    assert set(inv["by_state"]) >= {"Posted", "Paid", "Partially Paid", "Reversed", "Reversal",
                                    "Draft"}
    assert set(inv["by_currency"]) >= {"USD", "EUR", "GBP", "CAD"}
    assert inv["TRX_TOTALENTERED"] == pytest.approx(
        inv["TRX_TOTALPAID"] + inv["TRX_TOTALDUE"])
    e200 = sandbox_json(sandbox.base_url, "/_sandbox/summary?object=ARINVOICE&entity=E200")
    assert e200["count"] == inv["by_entity"]["E200"]["count"]
    si = sandbox_json(sandbox.base_url,
                      "/_sandbox/summary?object=SODOCUMENT&docparid=Sales%20Return")
    assert set(si["by_state"]) == {"Closed"}


def test_invoice_and_line_totals_agree(sandbox: SandboxServer) -> None:
    inv = sandbox_json(sandbox.base_url, "/_sandbox/summary?object=ARINVOICE")
    lines = sandbox_json(sandbox.base_url, "/_sandbox/summary?object=ARINVOICEITEM")
    assert inv["TOTALENTERED"] == pytest.approx(lines["AMOUNT"], abs=0.05 * inv["count"])
    assert inv["TRX_TOTALENTERED"] == pytest.approx(lines["TRX_AMOUNT"])


def test_records_dump_paging_and_filters(sandbox: SandboxServer) -> None:
    page = sandbox_json(sandbox.base_url, "/_sandbox/records?object=ARINVOICE&offset=10&limit=5"
                        "&query=CURRENCY%20%3D%20'EUR'")
    assert len(page["records"]) == 5 and page["offset"] == 10
    assert {r["CURRENCY"] for r in page["records"]} == {"EUR"}
    since = sandbox_json(sandbox.base_url, "/_sandbox/records?object=ARINVOICE&limit=1"
                         "&since=01/01/2099%2000:00:00")
    assert since["total"] == 0


def test_unknown_endpoint_and_object(sandbox: SandboxServer) -> None:
    import urllib.error

    with pytest.raises(urllib.error.HTTPError) as err:
        sandbox_json(sandbox.base_url, "/_sandbox/summary?object=NOPE")
    assert err.value.code == 404


def test_same_seed_same_data_different_seed_different_data() -> None:
    start = 1_790_000_000.0
    dumps = []
    for seed in (5, 5, 6):
        with SandboxServer(seed=seed, scale="tiny", start_time=start) as sb:
            dumps.append(sandbox_json(sb.base_url, "/_sandbox/records?object=ARINVOICE&limit=50"))
    assert dumps[0] == dumps[1]
    assert dumps[0] != dumps[2]


def test_largest_scale_starts_in_seconds() -> None:
    t0 = time.perf_counter()
    with SandboxServer(seed=1, scale="large") as sb:
        started = time.perf_counter() - t0
        truth = sandbox_json(sb.base_url, "/_sandbox/config")["base_counts"]
        assert truth["ARINVOICE"] == 1_000_000
        t1 = time.perf_counter()
        data = post(sb.url, envelope(fn(read_by_query(
            "ARINVOICE", "WHENMODIFIED >= '01/01/2026 00:00:00' AND WHENMODIFIED < "
            "'01/02/2026 00:00:00'", "RECORDNO,WHENMODIFIED", 1000)))).result().find("data")
        assert 0 < int(data.get("totalcount")) < 5000
        assert time.perf_counter() - t1 < 2.0  # a window over 1M rows is bisected, not scanned
    assert started < 5.0


def test_explicit_counts() -> None:
    with SandboxServer(seed=2, scale="tiny", invoices=200, customers=7) as sb:
        counts = sandbox_json(sb.base_url, "/_sandbox/config")["base_counts"]
        assert (counts["ARINVOICE"], counts["CUSTOMER"]) == (200, 7)


def test_cli_help_and_startup_line() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    helptext = subprocess.run([sys.executable, "-m", "include.intacct_sandbox", "--help"],
                              cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    for option in ("--port", "--seed", "--scale", "--invoices", "--timezone", "--fault",
                   "--max-concurrent", "--latency-ms", "--resultid-ttl"):
        assert option in helptext.stdout
    proc = subprocess.Popen([sys.executable, "-m", "include.intacct_sandbox", "--port", "0",
                             "--seed", "3", "--scale", "tiny"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, text=True)
    try:
        line = json.loads(proc.stdout.readline())  # type: ignore[union-attr]
        assert list(line) == ["url", "sender_id", "sender_password", "company_id", "user_id",
                              "user_password", "entity_ids"]
        assert line["url"].endswith("/ia/xml/xmlgw.phtml")
        assert line["entity_ids"] == ["E100", "E200", "E300"]
        assert post(line["url"], envelope(fn("<getAPISession/>"))).result().findtext(
            "status") == "success"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)


def test_credentials_attribute(sandbox: SandboxServer) -> None:
    assert sandbox.credentials == {
        "url": sandbox.url, "sender_id": "intacct_sync_sandbox",
        "sender_password": "sandbox-sender-secret", "company_id": "SANDBOX-AR",
        "user_id": "ws_sync", "user_password": "sandbox-user-secret",
        "entity_ids": ["E100", "E200", "E300"]}
    assert sandbox.url == f"http://127.0.0.1:{sandbox.port}/ia/xml/xmlgw.phtml"
    assert sandbox.base_url == f"http://127.0.0.1:{sandbox.port}"
