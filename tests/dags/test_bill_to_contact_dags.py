"""customer_source bill_to_contact with the pulls on (issue 17, item 6): the customers DAG
decides at run time what it reads (the configuration is read by the run, not when the DAG
file is parsed), and its next run brings a contact's edit; run with dag.test() against the
sandbox over HTTP and a real database."""

from __future__ import annotations

from tests.conftest import sync_config_json
from tests.dags.test_pull_dags import _dag, _query
from tests.ground_truth import all_records, sandbox_post

BILL_TO_CONTACT = sync_config_json(customer_source="bill_to_contact")


def _ok(run) -> bool:
    return str(run.state) in ("success", "DagRunState.SUCCESS")


def _contacts(connection) -> dict[tuple[str, str], tuple]:
    return {(r[0], r[1]): r[2:] for r in _query(
        connection, "SELECT intacct_customer_id, intacct_contact_name, id, email"
        " FROM ar.customers WHERE deleted_at IS NULL")}  # fmt: skip


def test_the_customers_dag_pulls_bill_to_contacts_and_their_edits(
    intacct_connection, clean_ar, monkeypatch
):
    from intacct_sync.intacct.hook import IntacctHook, WriteFunction

    server = intacct_connection
    customers = _dag("customers")  # parsed under the default configuration (customer)
    monkeypatch.setenv("AIRFLOW_VAR_INTACCT_SYNC_CONFIG", BILL_TO_CONTACT)
    [west_invoice, *_] = [d for d in all_records(server, object="SODOCUMENT",
                                                 docparid="Sales Invoice")
                          if d["CUSTVENDID"] == "C-00001"]  # fmt: skip
    sandbox_post(server, "edit", {"object": "SODOCUMENT", "recordno": west_invoice["RECORDNO"],
                                  "set": {"BILLTO.CONTACTNAME": "Billing West"}})  # fmt: skip

    assert _ok(customers.test())
    truth = {(c["CUSTOMERID"], c["CONTACTNAME"]): c
             for c in all_records(server, object="CONTACT") if c.get("CUSTOMERID")}  # fmt: skip
    local = _contacts(clean_ar)
    assert set(local) == set(truth)  # CONTACTs, not CUSTOMERs
    assert {k for k in local if k[0] == "C-00001"} == {
        ("C-00001", "Billing West"),
        ("C-00001", "Billing East"),
    }
    assert _ok(_dag("invoices").test())
    assert _query(
        clean_ar,
        "SELECT customer_id FROM ar.invoices WHERE intacct_recordno = %s",
        int(west_invoice["RECORDNO"]),
    ) == [(local[("C-00001", "Billing West")][0],)]

    # A person edits a contact in Intacct: the next run of the same DAG brings it.
    east = truth[("C-00001", "Billing East")]
    [edited] = IntacctHook("intacct_default").write_batch([WriteFunction(
        "update", "CONTACT", "test-edit-east",
        {"RECORDNO": str(east["RECORDNO"]), "EMAIL1": "ap-east@billing.example"},
        version="1")])  # fmt: skip
    assert edited.ok
    assert _ok(customers.test())
    after = _contacts(clean_ar)
    assert after[("C-00001", "Billing East")] == (
        local[("C-00001", "Billing East")][0],
        "ap-east@billing.example",
    )
    assert set(after) == set(truth)  # the same rows, none added
    [(counts,)] = _query(clean_ar, "SELECT last_counts FROM intacct_sync.sync_state"
                         " WHERE object = 'customers' AND direction = 'pull'")  # fmt: skip
    assert counts["updated"] == 1
