"""Issue 15: invoices and credit notes pulled from A/R, or from both sources, tie out with the
sandbox's own ground truth (totals and balances), each record counted once."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
from intacct_sync.intacct.hook import IntacctHook
from intacct_sync.mapping import ar_documents
from intacct_sync.monitoring import tieout
from intacct_sync.pull.loading import load
from intacct_sync.pull.map_and_load import map_and_load
from intacct_sync.pull.versions import stamp
from intacct_sync.sync_objects import OBJECTS, sourced

from tests.ground_truth import all_records
from tests.pull.test_pull_pipeline import COMPANY_TZ, _query, land

AR_OBJECTS = {"invoices": "ARINVOICE", "credit_notes": "ARADJUSTMENT"}
CENT = Decimal("0.01")


def _pull(run_id: str, connection, invoice_source: str) -> None:
    """Customers, then invoices and credit notes from each source `invoice_source` reads."""
    for name in ("customers", "invoices", "credit_notes"):
        for obj in sourced(name, invoice_source):
            landing = f"{run_id}-{obj.source}"  # one landing per source: RECORDNOs may collide
            land(landing, obj)
            map_and_load(connection, obj, landing, batch_size=400, company_tz=COMPANY_TZ)


def _active(server) -> set[str]:
    return {c["CUSTOMERID"] for c in all_records(server, object="CUSTOMER")
            if c["STATUS"] == "active"}  # fmt: skip


def _money(value, sign: int = 1) -> Decimal:
    return (sign * Decimal(str(value or 0))).quantize(CENT)


def _ar_truth(server, name: str, modulekeys: tuple[str, ...]) -> dict[int, tuple]:
    """RECORDNO → (total, paid, due) of the A/R records of active customers, local signs."""
    sign = -1 if name == "credit_notes" else 1
    return {
        int(r["RECORDNO"]): (_money(r["TRX_TOTALENTERED"], sign),
                             _money(r["TRX_TOTALPAID"], sign), _money(r["TRX_TOTALDUE"], sign))
        for r in all_records(server, object=AR_OBJECTS[name])
        if r["CUSTOMERID"] in _active(server) and r["MODULEKEY"] in modulekeys
    }  # fmt: skip


def _local(connection, name: str, source: str) -> dict[int, tuple]:
    return {
        int(recordno): (total, paid, due)
        for recordno, total, paid, due in _query(
            connection,
            f"SELECT intacct_recordno, total, total_paid, total_due FROM {OBJECTS[name].table}"
            " WHERE intacct_source = %s AND deleted_at IS NULL",
            source,
        )
    }


def test_accounts_receivable_mode_loads_ar_invoices_and_adjustments_with_balances(
    intacct_connection, clean_ar
):
    server = intacct_connection
    _pull("ar-mode", clean_ar, "accounts_receivable")
    for name in ("invoices", "credit_notes"):
        truth = _ar_truth(server, name, ("8.SO", "4.AR"))
        assert truth and any(v[1] for v in truth.values())  # paid ones are among them
        assert _local(clean_ar, name, "accounts_receivable") == truth
        assert _local(clean_ar, name, "order_entry") == {}
        [(lines,)] = _query(
            clean_ar,
            f"SELECT count(*) FROM {OBJECTS[name].child_table} l"
            f" JOIN {OBJECTS[name].table} d ON d.id = l.{OBJECTS[name].child_parent_column}",
        )
        assert lines >= len(truth)
        assert tieout.compute(IntacctHook(), clean_ar, name, "accounts_receivable")["ok"]
        assert not tieout.compute(IntacctHook(), clean_ar, name)["ok"]  # OE is not the truth


def test_both_mode_counts_each_order_entry_ar_record_once(intacct_connection, clean_ar):
    server = intacct_connection
    _pull("both-mode", clean_ar, "both")
    active = _active(server)
    for name, docparid in (("invoices", "Sales Invoice"), ("credit_notes", "Sales Return")):
        docs = {int(d["RECORDNO"]): d for d in all_records(
            server, object="SODOCUMENT", docparid=docparid) if d["CUSTVENDID"] in active}
        entered = _ar_truth(server, name, ("4.AR",))
        generated = _ar_truth(server, name, ("8.SO",))
        assert entered and generated
        assert set(_local(clean_ar, name, "order_entry")) == set(docs)
        assert _local(clean_ar, name, "accounts_receivable") == entered
        # An A/R record Order Entry generated is there once: as its document's ar_recordno.
        rows = _query(
            clean_ar,
            f"SELECT ar_recordno, count(*) FROM {OBJECTS[name].table}"
            " WHERE deleted_at IS NULL AND ar_recordno IS NOT NULL GROUP BY 1",
        )
        assert all(n == 1 for _, n in rows)
        linked = {int(k) for k, _ in rows}
        assert {int(d["PRRECORDKEY"]) for d in docs.values() if d["PRRECORDKEY"]} <= linked
        assert not set(generated) & set(_local(clean_ar, name, "accounts_receivable"))
        assert tieout.compute(IntacctHook(), clean_ar, name, "both")["ok"]


def test_a_document_and_an_ar_invoice_with_the_same_recordno_both_load(
    intacct_connection, clean_ar
):
    """SODOCUMENT and ARINVOICE RECORDNOs are separate number spaces. The seeded company has
    no shared number, so an A/R-entered invoice read from the sandbox is given the RECORDNO
    of a loaded Order Entry document before it is mapped and loaded."""
    server = intacct_connection
    _pull("both-collide", clean_ar, "both")
    oe = _local(clean_ar, "invoices", "order_entry")
    active = _active(server)
    ar_entered = sourced("invoices", "both")[1]
    [truth] = [r for r in all_records(server, object="ARINVOICE")
               if r["MODULEKEY"] == "4.AR" and r["CUSTOMERID"] in active][:1]
    hook = IntacctHook()  # the records as the wire carries them
    [record] = hook.read_by_query(
        "ARINVOICE", list(ar_entered.fields), f"RECORDNO = {truth['RECORDNO']}")
    lines = [dict(li, RECORDKEY=str(min(oe))) for li in hook.read_by_query(
        "ARINVOICEITEM", list(ar_entered.children.fields), f"RECORDKEY = {truth['RECORDNO']}")]
    assert int(record["RECORDNO"]) not in oe and lines
    mapped = ar_documents.map_records(
        pd.DataFrame([dict(record, RECORDNO=str(min(oe)))]), pd.DataFrame(lines))
    mapped.rows = stamp(mapped.rows, {str(min(oe)): None}, COMPANY_TZ)
    counts = load(clean_ar, ar_entered, mapped)

    assert (counts.inserted, counts.rejected) == (1, 0)
    assert _local(clean_ar, "invoices", "order_entry") == oe  # the document is untouched
    assert _local(clean_ar, "invoices", "accounts_receivable")[min(oe)] == _ar_truth(
        server, "invoices", ("4.AR",))[int(record["RECORDNO"])]
    [(n_lines,)] = _query(
        clean_ar, "SELECT count(*) FROM ar.invoice_lines l JOIN ar.invoices d ON d.id ="
        " l.invoice_id WHERE d.intacct_source = 'accounts_receivable' AND d.intacct_recordno"
        " = %s", min(oe))  # fmt: skip
    assert n_lines == len(lines)
