"""Bill-to contacts as the customer source, pull side (issue 17, item 6): under
customer_source bill_to_contact the customers pull reads CONTACT records into ar.customers,
one local customer per bill-to contact, and pulled documents link to the local customer of
their (CUSTOMERID, BILLTO.CONTACTNAME). Checked against the sandbox's own records."""

from __future__ import annotations

from intacct_sync.pull.map_and_load import map_and_load
from intacct_sync.pull.reactivation import reactivated_recordnos
from intacct_sync.sync_objects import OBJECTS, sourced

from tests.ground_truth import all_records, sandbox_post
from tests.pull.test_pull_pipeline import COMPANY_TZ, _query, land

CONTACTS = sourced("customers", customer_source="bill_to_contact")[0]


def _pull(connection, run_id: str, obj) -> object:
    """The hourly extract (a full read), map and load of one registry entry."""
    land(run_id, obj)
    return map_and_load(connection, obj, run_id, batch_size=400, company_tz=COMPANY_TZ)


def _bill_to_contacts(server) -> dict[tuple[str, str], dict]:
    """(CUSTOMERID, CONTACTNAME) → the CONTACT, for the contacts on a customer's list."""
    return {(c["CUSTOMERID"], c["CONTACTNAME"]): c
            for c in all_records(server, object="CONTACT") if c.get("CUSTOMERID")}  # fmt: skip


def _local_customers(connection) -> dict[tuple[str, str], tuple]:
    rows = _query(connection, "SELECT intacct_customer_id, intacct_contact_name, id,"
                  " intacct_recordno, name, email, status FROM ar.customers"
                  " WHERE deleted_at IS NULL")  # fmt: skip
    return {(r[0], r[1]): r[2:] for r in rows}


def _bill_invoice_to(server, invoice: dict, contact: str) -> None:
    """A person sets the invoice's bill-to contact in Intacct (WHENMODIFIED moves)."""
    sandbox_post(server, "edit", {"object": "SODOCUMENT", "recordno": invoice["RECORDNO"],
                                  "set": {"BILLTO.CONTACTNAME": contact}})  # fmt: skip


def test_the_registry_reads_contacts_only_under_bill_to_contact():
    assert sourced("customers") == [OBJECTS["customers"]]
    assert (CONTACTS.intacct_object, CONTACTS.table, CONTACTS.mapping) == (
        "CONTACT",
        "ar.customers",
        "contacts",
    )
    for name in ("invoices", "credit_notes"):  # documents name their bill-to contact always
        assert all("BILLTO.CONTACTNAME" in o.fields for o in sourced(name, "both"))


def test_two_bill_to_contacts_of_one_customer_pull_into_two_local_customers(
    intacct_connection, clean_ar
):
    server = intacct_connection
    truth = _bill_to_contacts(server)
    assert len([k for k in truth if k[0] == "C-00001"]) == 2  # Billing West, Billing East

    counts = _pull(clean_ar, "contacts-1", CONTACTS)
    assert (counts.inserted, counts.rejected) == (len(truth), 0)
    local = _local_customers(clean_ar)
    assert set(local) == set(truth)  # one local customer per bill-to contact, no CUSTOMER row
    for key, contact in truth.items():
        _, recordno, name, email, status = local[key]
        assert (recordno, name, email, status) == (
            int(contact["RECORDNO"]), contact["PRINTAS"], contact["EMAIL1"],
            contact["STATUS"])  # fmt: skip
    assert local[("C-00001", "Billing West")][0] != local[("C-00001", "Billing East")][0]

    again = _pull(clean_ar, "contacts-2", CONTACTS)  # a second run rewrites nothing
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, len(truth))
    assert _local_customers(clean_ar) == local


def test_invoices_link_to_the_local_customer_of_their_bill_to_contact(intacct_connection, clean_ar):
    server = intacct_connection
    invoices = [d for d in all_records(server, object="SODOCUMENT", docparid="Sales Invoice")
                if d["CUSTVENDID"] == "C-00001"]  # fmt: skip
    west, east, *others = invoices
    assert others  # the rest name the customer's own bill-to, which is no contact of its list
    _bill_invoice_to(server, west, "Billing West")
    _bill_invoice_to(server, east, "Billing East")

    # The documents first (the DAGs run independently): they wait for their contact.
    _pull(clean_ar, "docs-1", OBJECTS["invoices"])
    waiting = _query(clean_ar, "SELECT intacct_recordno, customer_key, contact_key FROM"
                     " intacct_sync.skipped_records WHERE object = 'invoices'"
                     " AND customer_key = 'C-00001'")  # fmt: skip
    assert {(r[0], r[2]) for r in waiting} >= {
        (int(west["RECORDNO"]), "Billing West"),
        (int(east["RECORDNO"]), "Billing East"),
    }
    _pull(clean_ar, "contacts", CONTACTS)
    # Once their contacts are local customers, the reactivation brings them in.
    back = set(reactivated_recordnos(clean_ar, OBJECTS["invoices"]))
    assert {str(west["RECORDNO"]), str(east["RECORDNO"])} <= back
    assert not {str(d["RECORDNO"]) for d in others} & back

    _pull(clean_ar, "docs-2", OBJECTS["invoices"])
    local = _local_customers(clean_ar)
    linked = dict(_query(clean_ar, "SELECT intacct_recordno, customer_id FROM ar.invoices"
                         " WHERE intacct_customer_id = 'C-00001'"))  # fmt: skip
    assert linked == {
        int(west["RECORDNO"]): local[("C-00001", "Billing West")][0],
        int(east["RECORDNO"]): local[("C-00001", "Billing East")][0],
    }
    assert _query(
        clean_ar,
        "SELECT intacct_contact_name FROM ar.invoices WHERE intacct_recordno = %s",
        int(west["RECORDNO"]),
    ) == [("Billing West",)]

    # A payment names no contact: it belongs to the contact whose invoices it pays.
    billed = {str(west["PRRECORDKEY"]): "Billing West", str(east["PRRECORDKEY"]): "Billing East"}
    expected = {}
    for payment in all_records(server, object="ARPYMT", query="CUSTOMERID = 'C-00001'"):
        details = all_records(
            server, object="ARPYMTDETAIL", query=f"PAYMENTKEY = {payment['RECORDNO']}"
        )
        contacts = {billed.get(str(d.get("RECORDKEY"))) for d in details}
        one = contacts.pop() if len(contacts) == 1 else None
        expected[int(payment["RECORDNO"])] = local[("C-00001", one)][0] if one else None
    assert set(expected.values()) >= {local[("C-00001", "Billing West")][0], None}
    _pull(clean_ar, "payments", OBJECTS["payments"])
    assert dict(_query(clean_ar, "SELECT intacct_recordno, customer_id FROM ar.payments"
                       " WHERE intacct_customer_id = 'C-00001'")) == expected  # fmt: skip


def test_customer_mode_links_documents_to_the_customer_whatever_their_bill_to(
    intacct_connection, clean_ar
):
    server = intacct_connection
    [first, *_] = [d for d in all_records(server, object="SODOCUMENT", docparid="Sales Invoice")
                   if d["CUSTVENDID"] == "C-00001"]  # fmt: skip
    _bill_invoice_to(server, first, "Billing West")
    _pull(clean_ar, "customers", OBJECTS["customers"])
    _pull(clean_ar, "docs", OBJECTS["invoices"])
    [(customer,)] = _query(clean_ar, "SELECT id FROM ar.customers"
                           " WHERE intacct_customer_id = 'C-00001'")  # fmt: skip
    assert set(
        _query(
            clean_ar, "SELECT customer_id FROM ar.invoices WHERE intacct_customer_id = 'C-00001'"
        )
    ) == {(customer,)}


def test_an_initial_sync_of_all_customers_reads_the_bill_to_contacts(intacct_connection, clean_ar):
    """The history path too (all_customers): its chunk keeps the run's customer_source."""
    import logging

    from intacct_sync.history.chunks import extract_chunk, load_chunk, plan_chunks
    from intacct_sync.history.ranges import HistoryRequest
    from intacct_sync.intacct.hook import IntacctHook

    request = HistoryRequest(None, None, {"all_customers": True})
    [chunk] = plan_chunks(OBJECTS["customers"], request, "bill_to_contact")
    log = logging.getLogger(__name__)
    hook = IntacctHook()
    extract_chunk(hook, clean_ar, "contacts-history", chunk, log)
    loaded = load_chunk(clean_ar, "contacts-history", chunk, log, hook=hook)
    truth = _bill_to_contacts(intacct_connection)
    assert loaded["inserted"] == len(truth)
    assert set(_local_customers(clean_ar)) == set(truth)
    [customers] = plan_chunks(OBJECTS["customers"], request)  # the default: CUSTOMER records
    assert "customer_source" not in customers
