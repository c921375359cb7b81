"""Customer identity and both-ways sync (issue 17, item 6): linking never overrides a
conflicting account number; a linked customer syncs both ways whichever side created it;
both changed → Intacct wins, recorded. Checked against the sandbox's records and write log,
and PostgreSQL."""

from __future__ import annotations

from tests.ground_truth import sandbox_get
from tests.pull.test_pull_pipeline import _pull


def _one(connection, sql: str, *params):
    with connection, connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _local(connection, customer_id: int) -> dict:
    row = _one(connection, "SELECT to_jsonb(c) FROM ar.customers c WHERE id = %s", customer_id)
    return row[0]


def _error(connection, customer_id: int):
    return _one(connection, "SELECT state, message FROM intacct_sync.reconciliation_errors"
                " WHERE object = 'customers' AND direction = 'push' AND record_id = %s",
                str(customer_id))  # fmt: skip


def _intacct(server, recordno) -> dict:
    return sandbox_get(server, "record", object="CUSTOMER", recordno=recordno)


def _edit_in_intacct(hook, recordno, **fields) -> None:
    """A person changes the customer in Intacct."""
    assert hook.update("CUSTOMER", f"person-{recordno}", {"RECORDNO": recordno, **fields}).ok


def _set_local(connection, customer_id: int, **values) -> None:
    """A person changes the customer in the AR platform."""
    with connection, connection.cursor() as cursor:
        for column, value in values.items():
            cursor.execute(f"UPDATE ar.customers SET {column} = %s WHERE id = %s",
                           (value, customer_id))  # fmt: skip


def _pulled(connection, intacct_customer) -> int:
    _pull("both-ways", connection, ("customers",))
    return _one(connection, "SELECT id FROM ar.customers WHERE intacct_recordno = %s",
                intacct_customer["RECORDNO"])[0]  # fmt: skip


# -- identity --------------------------------------------------------------------------------
def test_a_pull_never_links_a_name_match_over_a_conflicting_account_number(
    records, clean_ar, intacct_customer
):
    local = records.customer(intacct_customer["NAME"], account_number="ACC-NOT-THEIRS")
    _pull("conflict", clean_ar, ("customers",))
    row = _local(clean_ar, local)
    assert (row["intacct_recordno"], row["account_number"]) == (None, "ACC-NOT-THEIRS")
    state, message = _error(clean_ar, local)
    assert state == "open" and intacct_customer["CUSTOMERID"] in message
    assert "ACC-NOT-THEIRS" in message
    # The Intacct customer is loaded as its own row, nothing merged by guess.
    assert _one(clean_ar, "SELECT origin, account_number FROM ar.customers"
                " WHERE intacct_recordno = %s", intacct_customer["RECORDNO"]) == (
        "intacct", intacct_customer["CUSTOMERID"])  # fmt: skip


def test_a_push_never_links_a_name_match_over_a_conflicting_account_number(
    records, push, writes, clean_ar, intacct_customer
):
    local = records.customer(intacct_customer["NAME"], account_number="ACC-NOT-THEIRS")
    counts = push("customers")
    assert (counts.posted, counts.linked, counts.failed) == (0, 0, 1)
    assert writes() == []
    row = _local(clean_ar, local)
    assert (row["intacct_recordno"], row["account_number"]) == (None, "ACC-NOT-THEIRS")
    state, message = _error(clean_ar, local)
    assert state == "open" and intacct_customer["CUSTOMERID"] in message


# -- both ways -------------------------------------------------------------------------------
def test_an_intacct_edit_and_deactivation_reach_the_row_of_a_pushed_customer(
    records, push, writes, hook, clean_ar, intacct_connection
):
    local = records.customer("Both Ways Ltd", account_number="ACC-BOTH", email="a@both.example")
    assert push("customers").posted == 1
    recordno = _local(clean_ar, local)["intacct_recordno"]
    _edit_in_intacct(hook, recordno, STATUS="inactive",
                     DISPLAYCONTACT={"EMAIL1": "b@both.example"})  # fmt: skip
    writes()
    _pull("after-edit", clean_ar, ("customers",))
    row = _local(clean_ar, local)
    assert (row["origin"], row["status"], row["email"]) == ("local", "inactive", "b@both.example")
    assert row["account_number"] == "ACC-BOTH"
    counts = push("customers")  # the pulled change is not echoed back
    assert (counts.posted, counts.failed) == (0, 0) and writes() == []


def test_a_local_edit_of_a_pulled_customer_is_pushed_as_an_update(
    push, writes, clean_ar, intacct_connection, intacct_customer
):
    local = _pulled(clean_ar, intacct_customer)
    assert push("customers").posted == 0 and writes() == []  # in sync: nothing to send
    _set_local(clean_ar, local, email="new@pulled.example")
    counts = push("customers")
    assert (counts.posted, counts.failed) == (1, 0)
    [update] = writes()
    assert (update["function"], update["payload"]["CUSTOMER"]["RECORDNO"]) == (
        "update", str(intacct_customer["RECORDNO"]))  # fmt: skip
    record = _intacct(intacct_connection, intacct_customer["RECORDNO"])
    assert record["DISPLAYCONTACT.EMAIL1"] == "new@pulled.example"
    assert push("customers").posted == 0 and writes() == []
    _pull("after-push", clean_ar, ("customers",))  # Intacct's new version is ours
    assert _local(clean_ar, local)["email"] == "new@pulled.example"


def test_both_changed_before_a_push_intacct_wins_and_it_is_recorded(
    push, writes, hook, clean_ar, intacct_connection, intacct_customer
):
    local = _pulled(clean_ar, intacct_customer)
    _set_local(clean_ar, local, email="local@conflict.example")
    _edit_in_intacct(hook, intacct_customer["RECORDNO"],
                     DISPLAYCONTACT={"EMAIL1": "intacct@conflict.example"})  # fmt: skip
    writes()
    counts = push("customers")
    assert (counts.posted, counts.failed) == (0, 1)
    assert writes() == []  # Intacct's change is not overwritten
    state, message = _error(clean_ar, local)
    assert state == "open" and "local@conflict.example" in message
    assert "intacct@conflict.example" in message and "Intacct's version is kept" in message
    _pull("after-conflict", clean_ar, ("customers",))
    assert _local(clean_ar, local)["email"] == "intacct@conflict.example"
    record = _intacct(intacct_connection, intacct_customer["RECORDNO"])
    assert record["DISPLAYCONTACT.EMAIL1"] == "intacct@conflict.example"
    assert push("customers").posted == 0 and writes() == []


def test_both_changed_before_a_pull_intacct_wins_and_it_is_recorded(
    push, writes, hook, clean_ar, intacct_connection, intacct_customer
):
    local = _pulled(clean_ar, intacct_customer)
    _set_local(clean_ar, local, name="Local Rename Co")
    _edit_in_intacct(hook, intacct_customer["RECORDNO"], NAME="Intacct Rename Co")
    _pull("conflict-pull", clean_ar, ("customers",))
    assert _local(clean_ar, local)["name"] == "Intacct Rename Co"
    state, message = _error(clean_ar, local)
    assert state == "open" and "Local Rename Co" in message and "Intacct Rename Co" in message
    writes()
    assert push("customers").posted == 0 and writes() == []


def test_a_local_change_waits_for_its_push_when_intacct_did_not_change(
    push, writes, clean_ar, intacct_connection, intacct_customer
):
    """A pull that sees Intacct's unchanged version must not undo a local change the push
    has not sent yet."""
    local = _pulled(clean_ar, intacct_customer)
    _set_local(clean_ar, local, email="pending@local.example")
    with clean_ar, clean_ar.cursor() as cursor:  # as if Intacct's record were new to the pull
        cursor.execute("UPDATE ar.customers SET row_hash = NULL WHERE id = %s", (local,))
    _pull("pending", clean_ar, ("customers",))
    assert _local(clean_ar, local)["email"] == "pending@local.example"
    assert _error(clean_ar, local) is None
    writes()
    assert push("customers").posted == 1
    record = _intacct(intacct_connection, intacct_customer["RECORDNO"])
    assert record["DISPLAYCONTACT.EMAIL1"] == "pending@local.example"
