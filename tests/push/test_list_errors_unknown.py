"""`make errors` (list_errors' defaults) must show a push whose outcome is unknown (issue 17)."""

from __future__ import annotations

from intacct_sync.db.reconciliation import list_errors, main
from intacct_sync.push.links import UNKNOWN


def test_default_states_show_outcome_unknown(clean_ar, ar_database_dsn, capsys):
    connection = clean_ar
    with connection, connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO intacct_sync.reconciliation_errors"
            " (object, direction, record_id, message, hint, state)"
            " VALUES ('invoices', 'push', '990017', 'create sent, no answer', 'wait', %s)",
            (UNKNOWN,),
        )
    rows = list_errors(connection, object_name="invoices")
    assert [(r["record_id"], r["state"]) for r in rows] == [("990017", UNKNOWN)]
    # `make errors` (the CLI's `list` with no --state) shows it too.
    assert main(["--dsn", ar_database_dsn, "list", "--object", "invoices"]) == 0
    assert "record 990017" in capsys.readouterr().out
