"""Issue 15: where invoices and credit notes are read from is configuration (`invoice_source`).

The choice is data in the registry (intacct_sync/sync_objects.py, `reads`), validated once in
intacct_sync/sync_config.py; these tests pin both halves through their public functions.
"""

from __future__ import annotations

import pytest
from intacct_sync import sync_config
from intacct_sync.sync_objects import INVOICE_SOURCES, reads


def test_default_is_order_entry_and_reads_what_it_read_before():
    assert sync_config.parse(None).invoice_source == "order_entry"
    assert sync_config.parse('{"sync_start": "beginning"}').invoice_source == "order_entry"
    [invoices] = reads("invoices", "order_entry")
    [credits] = reads("credit_notes", "order_entry")
    assert (invoices.source, invoices.intacct_object, invoices.docparid) == (
        "order_entry", "SODOCUMENT", "Sales Invoice")
    assert (credits.intacct_object, credits.docparid) == ("SODOCUMENT", "Sales Return")
    assert invoices.filter is None


def test_accounts_receivable_reads_ar_invoices_and_adjustments():
    config = sync_config.parse('{"invoice_source": "accounts_receivable"}')
    [invoices] = reads("invoices", config.invoice_source)
    [credits] = reads("credit_notes", config.invoice_source)
    assert (invoices.source, invoices.intacct_object, invoices.docparid) == (
        "accounts_receivable", "ARINVOICE", None)
    assert credits.intacct_object == "ARADJUSTMENT"
    assert invoices.children.intacct_object == "ARINVOICEITEM"
    assert credits.children.intacct_object == "ARADJUSTMENTITEM"
    assert invoices.filter is None  # every A/R invoice: none has an OE document read instead


def test_both_reads_order_entry_then_only_ar_entered_records():
    """An A/R invoice Order Entry generated (MODULEKEY 8.SO) is counted once: as its OE doc."""
    for name in ("invoices", "credit_notes"):
        oe, ar = reads(name, "both")
        assert (oe.source, ar.source) == ("order_entry", "accounts_receivable")
        assert oe.filter is None
        assert ar.filter == ("MODULEKEY", "4.AR")


@pytest.mark.parametrize("value", ["AR", "", 3, None, ["both"]])
def test_a_bad_invoice_source_names_the_key_and_the_choices(value):
    with pytest.raises(sync_config.SyncConfigError) as caught:
        sync_config.parse({"invoice_source": value})
    assert str(caught.value) == (
        f"intacct_sync_config: invoice_source={value!r}: choose order_entry,"
        " accounts_receivable or both"
    )
    assert INVOICE_SOURCES == ("order_entry", "accounts_receivable", "both")
