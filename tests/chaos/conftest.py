"""The fault-injection suite: what the sandbox holds (its own ground truth) against what
PostgreSQL ended with, row for row, after syncs under faults, kills and restarts."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

import pytest

from tests.ground_truth import all_records, sandbox_get, sandbox_post

PULLED = ("customers", "invoices", "credit_notes", "payments")
DOCPARID = {"invoices": "Sales Invoice", "credit_notes": "Sales Return"}
AR_RECORD = {"invoices": ("ARINVOICE", 1), "credit_notes": ("ARADJUSTMENT", -1)}
# Every way the gateway fails, each on a schedule of its own (every 11th call, every 13th, …):
# together they fail almost half of all calls, and each one fires in even a short test.
FAULTS = {"http_429": 11, "too_many_operations": 13, "http_502": 17, "http_503": 19,
          "http_524": 23, "drop_response": 29, "html_error": 31, "truncated_xml": 37,
          "offline": 41, "invalid_session": 43}  # fmt: skip


def faults_on(server) -> None:
    sandbox_post(server, "faults", {name: {"every": n} for name, n in FAULTS.items()})


def faults_off(server) -> dict[str, int]:
    """Switch the faults off; how often each fired."""
    fired = sandbox_get(server, "faults")["schedules"]
    sandbox_post(server, "faults", {"clear": True})
    return {name: fired[name]["fired"] for name in FAULTS}


def _money(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def truth_rows(server, names=PULLED, optional: dict | None = None) -> dict[str, dict[int, tuple]]:
    """Per object, RECORDNO → the values the AR tables must hold, from the sandbox's dumps.

    Documents of inactive customers are imported only while the customer is active
    (design.md, Customers): they go to `optional[name]` — not required, but when they are in
    the table their values must be right."""
    customers = all_records(server, object="CUSTOMER")
    active = {c["CUSTOMERID"] for c in customers if c["STATUS"] == "active"}
    optional = {} if optional is None else optional
    rows: dict[str, dict[int, tuple]] = {}
    if "customers" in names:
        rows["customers"] = {int(c["RECORDNO"]): (c["CUSTOMERID"], c["NAME"], c["STATUS"])
                             for c in customers}  # fmt: skip
    lines: dict[int, list] = defaultdict(lambda: [0, Decimal(0)])
    if any(n in names for n in DOCPARID):
        for line in all_records(server, object="SODOCUMENTENTRY"):
            entry = lines[int(line["DOCHDRNO"])]
            entry[0] += 1
            entry[1] += _money(line["TRX_VALUE"])
    for name, docparid in DOCPARID.items():
        if name in names:
            rows[name], optional[name] = {}, {}
            # Paid and due are the A/R record's (design: the A/R record is the truth); a
            # document without one (a draft) has its own.
            ar_object, sign = AR_RECORD[name]
            balances = {int(r["RECORDNO"]): (sign * _money(r["TRX_TOTALPAID"]),
                                             sign * _money(r["TRX_TOTALDUE"]))
                        for r in all_records(server, object=ar_object)}  # fmt: skip
            for d in all_records(server, object="SODOCUMENT", docparid=docparid):
                key = int(d["RECORDNO"])
                paid_due = balances.get(int(d["PRRECORDKEY"] or 0)) or (
                    _money(d["TRX_TOTALPAID"]), _money(d["TRX_TOTALDUE"]))
                values = (d["DOCNO"], d["STATE"], _money(d["TRX_TOTAL"]), *paid_due,
                          *lines[key])
                (rows if d["CUSTVENDID"] in active else optional)[name][key] = values
    if "payments" in names:
        details: dict[int, list] = defaultdict(lambda: [0, Decimal(0)])
        for detail in all_records(server, object="ARPYMTDETAIL"):
            entry = details[int(detail["PAYMENTKEY"])]
            entry[0] += 1
            entry[1] += _money(detail.get("TRX_PAYMENTAMOUNT")) + _money(
                detail.get("TRX_ADJUSTMENTAMOUNT"))
        rows["payments"] = {
            int(p["RECORDNO"]): (p["STATE"], _money(p["TRX_TOTALENTERED"]),
                                 *details[int(p["RECORDNO"])])
            for p in all_records(server, object="ARPYMT")
        }  # fmt: skip
    return rows


_DATABASE = {
    "customers": "SELECT intacct_recordno, intacct_customer_id, name, status FROM ar.customers"
                 " WHERE origin = 'intacct' AND deleted_at IS NULL",
    "invoices": "SELECT d.intacct_recordno, d.number, d.state, d.total, d.total_paid,"
                " d.total_due, count(l.line_no), coalesce(sum(l.amount), 0) FROM ar.invoices d"
                " LEFT JOIN ar.invoice_lines l"
                " ON l.invoice_id = d.id WHERE d.origin = 'intacct' AND d.deleted_at IS NULL"
                " GROUP BY d.id",
    "credit_notes": "SELECT d.intacct_recordno, d.number, d.state, d.total, d.total_paid,"
                    " d.total_due, count(l.line_no), coalesce(sum(l.amount), 0)"
                    " FROM ar.credit_notes d"
                    " LEFT JOIN ar.credit_note_lines l ON l.credit_note_id = d.id"
                    " WHERE d.origin = 'intacct' AND d.deleted_at IS NULL GROUP BY d.id",
    "payments": "SELECT p.intacct_recordno, p.state, p.amount, count(a.line_no),"
                " coalesce(sum(a.amount + a.credit_amount), 0) FROM ar.payments p"
                " LEFT JOIN ar.payment_applications a ON a.payment_id = p.id"
                " WHERE p.origin = 'intacct' AND p.deleted_at IS NULL GROUP BY p.id",
}  # fmt: skip


def database_rows(connection, names=PULLED) -> dict[str, dict[int, tuple]]:
    """The same values from the AR tables."""
    rows = {}
    with connection, connection.cursor() as cursor:
        for name in names:
            cursor.execute(_DATABASE[name])
            found = cursor.fetchall()
            rows[name] = {int(r[0]): tuple(_money(v) if isinstance(v, Decimal) else v
                                           for v in r[1:]) for r in found}  # fmt: skip
            assert len(rows[name]) == len(found), f"{name}: a RECORDNO is in the table twice"
    return rows


def assert_mirrors(server, connection, names=PULLED) -> dict[str, int]:
    """PostgreSQL equals the sandbox's truth row for row; returns the row counts compared."""
    optional: dict[str, dict[int, tuple]] = {}
    truth, held = truth_rows(server, names, optional), database_rows(connection, names)
    problems = []
    for name in names:
        allowed = {**optional.get(name, {}), **truth[name]}
        missing = sorted(set(truth[name]) - set(held[name]))
        extra = sorted(set(held[name]) - set(allowed))
        different = [(k, allowed[k], held[name][k]) for k in sorted(held[name])
                     if k in allowed and allowed[k] != held[name][k]]  # fmt: skip
        if missing or extra or different:
            problems.append(f"{name}: {len(missing)} missing {missing[:5]}, {len(extra)} extra "
                            f"{extra[:5]}, {len(different)} different {different[:3]}")
    assert not problems, "PostgreSQL does not mirror the sandbox:\n" + "\n".join(problems)
    return {name: len(truth[name]) for name in names}


@pytest.fixture
def quick_retries(monkeypatch):
    """The hook's backoff in tenths of seconds instead of seconds (its retries, their count
    and what is retried stay as they are): the suite must stay within a few minutes."""
    from intacct_sync.intacct.hook import IntacctHook

    original = IntacctHook.__init__

    def init(self, *args, **kwargs):
        kwargs.setdefault("retry_initial_wait", 0.1)
        kwargs.setdefault("retry_max_wait", 0.5)
        original(self, *args, **kwargs)

    monkeypatch.setattr(IntacctHook, "__init__", init)


def pull_dag(name: str):
    """The object's DAG from the dags folder, with retries seconds apart instead of minutes
    (Airflow's own retry machinery still decides; dag.test() waits out the delay)."""
    from tests.dags.test_pull_dags import _dag

    dag = _dag(name)
    for task in dag.tasks:
        task.retry_delay = timedelta(seconds=1)
        task.max_retry_delay = timedelta(seconds=2)
    return dag


def run_until_success(name: str, attempts: int = 4) -> int:
    """Run the object's DAG like the hourly schedule would until a run succeeds; returns the
    number of failed runs before it."""
    dag = pull_dag(name)
    for failed in range(attempts):
        run = dag.test()
        if str(run.state) in ("success", "DagRunState.SUCCESS"):
            return failed
    pytest.fail(f"{dag.dag_id}: no successful run in {attempts} attempts")
