"""IntacctExtractOperator lands exactly the sandbox's records, once, whatever the window."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from intacct_sync.pull.extract import IntacctExtractOperator

from tests.ground_truth import sandbox_get

LA = ZoneInfo("America/Los_Angeles")


def _operator(**kwargs) -> IntacctExtractOperator:
    defaults = dict(
        task_id="extract",
        object_name="invoices",
        intacct_object="SODOCUMENT",
        docparid="Sales Invoice",
        fields=["DOCNO", "TOTAL", "STATE"],
        landing_run_id="run-1",
    )
    return IntacctExtractOperator(**{**defaults, **kwargs})


def _landed(connection, run_id="run-1") -> list[tuple[str, dict]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT recordno, payload FROM intacct_sync.raw_records WHERE run_id = %s", (run_id,)
        )
        return cursor.fetchall()


def test_full_extract_lands_every_sales_invoice_once(intacct_connection, ar_connection):
    summary = _operator().execute({})
    truth = sandbox_get(
        intacct_connection, "summary", object="SODOCUMENT", docparid="Sales Invoice"
    )
    rows = _landed(ar_connection)
    assert summary["records"] == len(rows) == truth["count"]
    assert len({recordno for recordno, _ in rows}) == len(rows)
    assert all(payload["DOCNO"] for _, payload in rows)


def test_rerunning_the_same_run_replaces_instead_of_duplicating(intacct_connection, ar_connection):
    _operator().execute({})
    first = sorted(r for r, _ in _landed(ar_connection))
    _operator().execute({})
    assert sorted(r for r, _ in _landed(ar_connection)) == first


def test_window_lands_every_record_modified_inside_it_and_none_far_outside(
    intacct_connection, ar_connection
):
    """A 90-day window that crosses the fall-back night: every record whose WHENMODIFIED (in
    either reading of a repeated hour) is inside the window lands; the bounds are at most the
    DST hour wider (xml_request.local_bounds), never narrower."""
    clock = sandbox_get(intacct_connection, "clock")
    end = datetime.fromisoformat(clock["iso"])
    start = end - timedelta(days=90)
    fmt = "%m/%d/%Y %H:%M:%S"
    margin = timedelta(hours=2)
    query = (
        f"WHENMODIFIED >= '{(start - margin).astimezone(LA).strftime(fmt)}'"
        f" AND WHENMODIFIED < '{(end + margin).astimezone(LA).strftime(fmt)}'"
    )
    truth = sandbox_get(
        intacct_connection,
        "records",
        object="SODOCUMENT",
        docparid="Sales Invoice",
        query=query,
        limit=10000,
    )

    def instants(record) -> list[datetime]:
        local = datetime.strptime(record["WHENMODIFIED"], fmt)
        return [local.replace(tzinfo=LA, fold=fold) for fold in (0, 1)]

    inside = {
        str(r["RECORDNO"]) for r in truth["records"]
        if any(start <= moment < end for moment in instants(r))
    }  # fmt: skip
    near = {
        str(r["RECORDNO"]) for r in truth["records"]
        if any(start - timedelta(hours=1) <= moment < end + timedelta(hours=1)
               for moment in instants(r))
    }  # fmt: skip
    summary = _operator(window_start=start.isoformat(), window_end=end.isoformat()).execute({})
    landed = {recordno for recordno, _ in _landed(ar_connection)}
    assert (
        0
        < summary["records"]
        < sandbox_get(intacct_connection, "summary", object="SODOCUMENT", docparid="Sales Invoice")[
            "count"
        ]
    )
    assert inside <= landed <= near


def test_naive_window_is_refused_before_any_call(intacct_connection, ar_connection):
    before = sandbox_get(intacct_connection, "faults")["calls"]
    with pytest.raises(ValueError, match="window_start='2026-01-01T00:00:00' has no time zone"):
        _operator(window_start="2026-01-01T00:00:00").execute({})
    assert sandbox_get(intacct_connection, "faults")["calls"] == before


@pytest.mark.sandbox(faults=["drop_response:every=3"])
def test_a_lost_readmore_answer_fails_the_extract_with_intacct_words_and_lands_nothing(
    intacct_connection, ar_connection, monkeypatch
):
    """Call 3 is the first readMore: Intacct moved its cursor on, the answer never came, so
    the retried readMore returns the page after. The extract says so in the hook's own error
    (not psycopg2's "COPY from stdin failed") and leaves nothing landed."""
    import json
    import os

    from intacct_sync.intacct import hook as hook_module
    from intacct_sync.intacct.errors import IntacctResponseError

    connection = json.loads(os.environ["AIRFLOW_CONN_INTACCT_DEFAULT"])
    connection["extra"]["page_size"] = 100
    monkeypatch.setenv("AIRFLOW_CONN_INTACCT_DEFAULT", json.dumps(connection))
    hook_module.reset_sessions()
    with pytest.raises(IntacctResponseError, match="readMore pages skipped or repeated records"):
        _operator().execute({})
    assert _landed(ar_connection) == []
