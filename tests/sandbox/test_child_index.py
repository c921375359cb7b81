"""Children selected by parent keys use the child index; objects can be denied to the user."""

from __future__ import annotations

from datetime import datetime

import pytest

from include.intacct_sandbox import SandboxServer

from .intacct_client import envelope, fn, post, read_by_query, records, sandbox_json


def _keys(sandbox: SandboxServer, obj: str, query: str) -> list[str]:
    body = read_by_query(obj, query, "RECORDNO", pagesize=1000)
    return sorted(r["RECORDNO"] for r in records(
        post(sandbox.url, envelope(fn(body))).result().find("data")))


@pytest.mark.parametrize(("child", "parent", "field"), [
    ("SODOCUMENTENTRY", "SODOCUMENT", "DOCHDRNO"),
    ("ARPYMTDETAIL", "ARPYMT", "PAYMENTKEY"),
    ("ARINVOICEITEM", "ARINVOICE", "RECORDKEY"),
])
def test_parent_key_filter_matches_a_full_scan(sandbox: SandboxServer, child, parent, field):
    sandbox_json(sandbox.base_url, "/_sandbox/activity", {"steps": 30})  # overlay records too
    parents = sandbox_json(sandbox.base_url, f"/_sandbox/records?object={parent}&limit=40")
    keys = ", ".join(str(p["RECORDNO"]) for p in parents["records"])
    indexed = _keys(sandbox, child, f"{field} IN ({keys})")
    # The OR term stops the index from being used: the same answer by scanning every record.
    scanned = _keys(sandbox, child, f"{field} IN ({keys}) OR RECORDNO = -1")
    assert indexed == scanned
    assert len(indexed) >= len(parents["records"]) > 0


def test_denied_object_answers_permission_failure(sandbox: SandboxServer):
    sandbox_json(sandbox.base_url, "/_sandbox/faults", {"deny_objects": ["AUDITHISTORY"]})
    denied = post(sandbox.url, envelope(fn(read_by_query("AUDITHISTORY", "", "RECORDNO"))))
    assert denied.result().findtext("status") == "failure"
    assert "do not have permission" in denied.result().findtext("errormessage/error/description2")
    allowed = post(sandbox.url, envelope(fn(read_by_query("CUSTOMER", "", "RECORDNO"))))
    assert allowed.result().findtext("status") == "success"
    sandbox_json(sandbox.base_url, "/_sandbox/faults", {"deny_objects": []})
    again = post(sandbox.url, envelope(fn(read_by_query("AUDITHISTORY", "", "RECORDNO"))))
    assert again.result().findtext("status") == "success"


@pytest.mark.parametrize(("obj", "field"), [
    ("SODOCUMENT", "WHENCREATED"),
    ("ARPYMT", "RECEIPTDATE"),
    ("ARPYMT", "WHENCREATED"),
    ("CUSTOMER", "WHENCREATED"),
])
def test_a_sorted_date_range_matches_a_full_scan(sandbox: SandboxServer, obj, field):
    """Ranges on creation / transaction dates are bisected like WHENMODIFIED ranges; the
    answer must be the one a scan of every record gives (also with changed records)."""
    sandbox_json(sandbox.base_url, "/_sandbox/activity", {"steps": 40})
    sample = sandbox_json(sandbox.base_url, f"/_sandbox/records?object={obj}&offset=20&limit=60")
    days = sorted(  # the gateway prints dates as MM/DD/YYYY
        datetime.strptime(r[field][:10], "%m/%d/%Y") for r in sample["records"] if r.get(field)
    )
    low, high = (d.strftime("%m/%d/%Y") for d in (days[0], days[-1]))
    for query, at_least in (
        (f"{field} >= '{low}' AND {field} < '{high}'", 10),
        # a literal with a time, compared with a date: the date part counts
        (f"{field} >= '{low} 10:00:00' AND {field} <= '{high} 09:00:00'", 10),
        (f"{field} = '{high} 10:00:00'", 0),
    ):
        indexed = _keys(sandbox, obj, query)
        scanned = _keys(sandbox, obj, f"({query}) OR RECORDNO = -1")
        assert indexed == scanned, query
        assert len(indexed) >= at_least, query
