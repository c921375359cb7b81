"""Bad-input catalogue, connection fields of `intacct_default` (Admin → Connections).

Each mistake is named with the connection, the field and the fix — by the connection form's
Test button (test_connection) and by a run, which fails in `plan` on its first try: a
connection mistake cannot heal by retrying. Nothing is sent to Intacct, nothing is written.
(The plain-http / TLS rules for non-loopback endpoints belong to the security suite.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from intacct_sync.intacct.errors import IntacctConnectionConfigError
from intacct_sync.intacct.hook import IntacctHook

from tests.bad_input.conftest import (
    assert_refused_in_plan,
    database_state,
    intacct_calls,
    run_dag,
)

pytestmark = pytest.mark.bad_input

WHERE = "Intacct connection 'intacct_default': "


@dataclass(frozen=True)
class Case:
    fields: dict = field(default_factory=dict)  # None removes the field
    message: str = ""


CASES = [
    pytest.param(Case({"company_id": None}, "company_id is missing"),
                 id="connection-missing-company-id"),
    pytest.param(Case({"user_id": ""}, "user_id is missing"), id="connection-empty-user-id"),
    pytest.param(Case({"user_password": None}, "user_password is missing"),
                 id="connection-missing-user-password"),
    pytest.param(Case({"password": None}, "sender password (password) is missing"),
                 id="connection-missing-sender-password"),
    pytest.param(
        Case({"company_timezone": None},
             "company_timezone is missing; set this extra field to the company's IANA time"
             " zone, e.g. America/New_York (WHENMODIFIED carries no zone)"),
        id="connection-missing-timezone",
    ),
    pytest.param(
        Case({"company_timezone": "Pacific Time"},
             "company_timezone 'Pacific Time' is not an IANA time zone; give the company's"
             " zone, e.g. America/New_York"),
        id="connection-timezone-not-iana",
    ),
    pytest.param(
        Case({"page_size": 5000},
             "page_size=5000 must be a whole number from 1 to 2000 (records per read call)"),
        id="connection-page-size-too-large",
    ),
    pytest.param(
        Case({"page_size": "lots"},
             "page_size='lots' must be a whole number from 1 to 2000 (records per read call)"),
        id="connection-page-size-not-a-number",
    ),
    pytest.param(
        Case({"max_concurrent_requests": 0},
             "max_concurrent_requests=0 must be a whole number of at least 1 (requests in"
             " flight at once; Intacct's standard allowance is 2)"),
        id="connection-max-concurrent-requests-0",
    ),
    pytest.param(
        Case({"host": "https://api.intacct .com/ia/xml/xmlgw.phtml"},
             "endpoint URL 'https://api.intacct .com/ia/xml/xmlgw.phtml' is not a URL; give"
             " it as https://api.intacct.com/ia/xml/xmlgw.phtml"),
        id="connection-malformed-endpoint-url",
    ),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_a_bad_connection_field_is_named_and_the_run_refuses_it_at_once(
    case: Case, intacct_conn_fields, intacct_connection, clean_ar, capfd
):
    intacct_conn_fields(**case.fields)
    before, calls = database_state(clean_ar), intacct_calls(intacct_connection)
    message = WHERE + case.message

    with pytest.raises(IntacctConnectionConfigError) as refused:
        IntacctHook("intacct_default").config  # noqa: B018 - reading it validates it
    assert str(refused.value) == message
    assert IntacctHook("intacct_default").test_connection() == (False, message)

    outcome = run_dag("customers", capfd)

    assert_refused_in_plan(outcome, f"intacct_customers: {message}")
    assert intacct_calls(intacct_connection) == calls
    assert database_state(clean_ar) == before
