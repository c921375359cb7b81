"""The object registry: one entry per synced object drives its DAG, extract, mapping and load.

If two objects differ only in data, the difference belongs here, not in copied code
(design.md §5). Kept import-light: DAG files read it at parse time.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Children:
    """Records read per header after the headers are landed (lines, payment applications)."""

    intacct_object: str
    parent_field: str
    fields: tuple[str, ...]

    def spec(self) -> dict:
        """The plain-data form operators take (DAG serialization stores only plain data)."""
        return {
            "intacct_object": self.intacct_object,
            "parent_field": self.parent_field,
            "fields": list(self.fields),
        }


@dataclass(frozen=True)
class Balance:
    """An A/R object whose paid / due a pulled child row touches (intacct_sync/pull/balances.py)."""

    intacct_object: str  # ARINVOICE or ARADJUSTMENT, read by RECORDNO
    key_column: str  # the mapped child column holding its RECORDNO
    table: str  # the registry object whose rows (by ar_recordno) take the balance
    sign: int = 1  # credit memos are negative in A/R, positive locally


# The AR database's trigger (migration 0008) NOTIFYs this channel with the object's name when
# one of its records becomes ready to push; the DAGs' asset watchers LISTEN on it.
NOTIFY_CHANNEL = "intacct_push"


@dataclass(frozen=True)
class Push:
    """How local records of an object are posted to Intacct (intacct_sync/push/posting.py)."""

    intacct_object: str  # what a create makes: CUSTOMER, ARINVOICE, ARADJUSTMENT, ARPYMT
    after: tuple[str, ...] = ()  # objects posted first; their pushes wake this one


@dataclass(frozen=True)
class SyncObject:
    """How one AR object is pulled from Intacct, where it lands, and how it is pushed."""

    name: str
    intacct_object: str
    fields: tuple[str, ...]
    table: str
    mapping: str
    history_field: str
    description: str
    docparid: str | None = None
    children: Children | None = None
    child_table: str | None = None
    child_parent_column: str | None = None
    # Initial data sync choices (intacct_sync/history/ranges.py)
    history_options: tuple[str, ...] = ()
    balance_field: str | None = None  # what open_items_only filters on (> 0)
    push: Push | None = None
    pulled: bool = True  # convenience fees are push-only
    # The tie-out's amount: the Intacct field and the AR column that hold the record's total.
    total_field: str | None = None
    total_column: str | None = None
    # A/R records this object's children touch: refreshed in the same run (the A/R record is
    # the truth for paid and due; an Order Entry document does not change when paid).
    balances: tuple[Balance, ...] = ()
    # Invoices / credit notes: which Intacct source this entry reads (stored per row as
    # intacct_source), and the records of it that load ((field, value), see Read.filter).
    source: str = "order_entry"
    keep: tuple[str, str] | None = None

    @property
    def dag_id(self) -> str:
        return f"intacct_{self.name}"

    @property
    def source_clause(self) -> tuple[str, tuple[str, ...]]:
        """SQL (and its parameter) narrowing this object's table to the rows of its source:
        key sets and deletions of one source must not touch the other's rows (customers:
        CONTACT rows have a contact name, CUSTOMER rows none; their RECORDNOs are separate
        number spaces)."""
        if self.name in _READS:
            return " AND intacct_source = %s", (self.source,)
        if self.name == "customers":
            kind = "NOT NULL" if self.source == BILL_TO_CONTACT else "NULL"
            return f" AND intacct_contact_name IS {kind}", ()
        return "", ()

    @property
    def skips_inactive_customers(self) -> bool:
        """Only documents of active customers are imported (design.md, Customers)."""
        return self.table in ("ar.invoices", "ar.credit_notes")


_DIMENSIONS = ("LOCATIONID", "DEPARTMENTID", "PROJECTID", "CLASSID", "CONTRACTID")
_SO_HEADER = (
    "RECORDNO",
    "DOCNO",
    "DOCID",
    "PRRECORDKEY",
    "STATE",
    "CUSTVENDID",
    "CUSTVENDNAME",
    "CURRENCY",
    "MEGAENTITYID",
    "WHENCREATED",
    "WHENDUE",
    "TOTAL",
    "TRX_TOTAL",
    "TRX_TOTALPAID",
    "TRX_TOTALDUE",
    "MESSAGE",
    "BILLTO.CONTACTNAME",  # the local customer is the bill-to contact (customer_source)
    "WHENMODIFIED",
)
_SO_LINES = Children(
    "SODOCUMENTENTRY",
    "DOCHDRNO",
    (
        "RECORDNO",
        "DOCHDRNO",
        "LINE_NO",
        "ITEMID",
        "ITEMDESC",
        "QUANTITY",
        "UIPRICE",
        "UIVALUE",
        "TRX_VALUE",
        *_DIMENSIONS,
    ),
)

OBJECTS: dict[str, SyncObject] = {
    o.name: o
    for o in (
        SyncObject(
            name="customers",
            intacct_object="CUSTOMER",
            fields=(
                "RECORDNO",
                "CUSTOMERID",
                "NAME",
                "STATUS",
                "CURRENCY",
                "MEGAENTITYID",
                "DISPLAYCONTACT.EMAIL1",
                "BILLTO.MAILADDRESS.ADDRESS1",
                "BILLTO.MAILADDRESS.CITY",
                "BILLTO.MAILADDRESS.STATE",
                "BILLTO.MAILADDRESS.ZIP",
                "BILLTO.MAILADDRESS.COUNTRY",
                "WHENCREATED",
                "WHENMODIFIED",
            ),
            table="ar.customers",
            mapping="customers",
            history_field="WHENCREATED",
            history_options=("all_customers",),
            description="Intacct CUSTOMER records (active and inactive) into ar.customers.",
            push=Push("CUSTOMER"),
        ),
        SyncObject(
            name="invoices",
            intacct_object="SODOCUMENT",
            docparid="Sales Invoice",
            fields=_SO_HEADER,
            table="ar.invoices",
            mapping="sales_documents",
            child_table="ar.invoice_lines",
            child_parent_column="invoice_id",
            history_field="WHENCREATED",
            history_options=("open_items_only", "include_payments"),
            balance_field="TRX_TOTALDUE",
            total_field="TRX_TOTAL",
            total_column="total",
            description="Order Entry sales invoices (SODOCUMENT 'Sales Invoice') with lines.",
            balances=(Balance("ARINVOICE", "ar_recordno", "invoices"),),
            children=_SO_LINES,
            push=Push("ARINVOICE", after=("customers",)),
        ),
        SyncObject(
            name="credit_notes",
            intacct_object="SODOCUMENT",
            docparid="Sales Return",
            fields=_SO_HEADER,
            table="ar.credit_notes",
            mapping="sales_documents",
            child_table="ar.credit_note_lines",
            child_parent_column="credit_note_id",
            history_field="WHENCREATED",
            history_options=("open_items_only", "include_payments"),
            balance_field="TRX_TOTALDUE",
            total_field="TRX_TOTAL",
            total_column="total",
            description="Order Entry sales returns (SODOCUMENT 'Sales Return') with lines.",
            balances=(Balance("ARADJUSTMENT", "ar_recordno", "credit_notes", sign=-1),),
            children=_SO_LINES,
            push=Push("ARADJUSTMENT", after=("customers",)),
        ),
        SyncObject(
            name="payments",
            intacct_object="ARPYMT",
            fields=(
                "RECORDNO",
                "CUSTOMERID",
                "STATE",
                "CURRENCY",
                "MEGAENTITYID",
                "RECEIPTDATE",
                "TRX_TOTALENTERED",
                "PAYMENTMETHOD",
                "DOCNUMBER",
                "FINANCIALENTITY",
                "DESCRIPTION",
                "WHENMODIFIED",
            ),
            table="ar.payments",
            mapping="payments",
            child_table="ar.payment_applications",
            child_parent_column="payment_id",
            history_field="RECEIPTDATE",
            total_field="TRX_TOTALENTERED",
            total_column="amount",
            description="A/R payments (ARPYMT) with their applications to invoices and credits.",
            balances=(
                Balance("ARINVOICE", "intacct_target_key", "invoices"),
                Balance("ARADJUSTMENT", "intacct_credit_key", "credit_notes", sign=-1),
            ),
            push=Push(
                "ARPYMT", after=("customers", "invoices", "credit_notes", "convenience_fees")
            ),
            children=Children(
                "ARPYMTDETAIL",
                "PAYMENTKEY",
                (
                    "RECORDNO",
                    "PAYMENTKEY",
                    "RECORDKEY",
                    "ADJUSTMENTKEY",
                    "TRX_PAYMENTAMOUNT",
                    "TRX_ADJUSTMENTAMOUNT",
                ),
            ),
        ),
        SyncObject(
            name="convenience_fees",
            intacct_object="ARINVOICE",
            fields=(),
            table="ar.convenience_fees",
            mapping="convenience_fees",
            history_field="",
            description="Card surcharges collected with local payments (push only).",
            push=Push("ARINVOICE", after=("customers",)),
            pulled=False,
        ),
    )
}


# Where invoices and credit notes are read from (intacct_sync_config `invoice_source`).
# order_entry: SODOCUMENT "Sales Invoice" / "Sales Return" (the product spec's default);
# accounts_receivable: ARINVOICE / ARADJUSTMENT entered in A/R (companies without Order Entry);
# both: Order Entry documents, plus the A/R records entered in A/R (MODULEKEY 4.AR). An A/R
# record Order Entry generated (MODULEKEY 8.SO) is its OE document's PRRECORDKEY and is
# counted once, as that document.
INVOICE_SOURCES = ("order_entry", "accounts_receivable", "both")
AR_ENTERED = ("MODULEKEY", "4.AR")
_AR_HEADER = (
    "RECORDNO",
    "RECORDTYPE",
    "RECORDID",
    "STATE",
    "CUSTOMERID",
    "CUSTOMERNAME",
    "CURRENCY",
    "MEGAENTITYID",
    "WHENCREATED",
    "WHENDUE",
    "TRX_TOTALENTERED",
    "TRX_TOTALPAID",
    "TRX_TOTALDUE",
    "DESCRIPTION",
    "MODULEKEY",
    "BILLTO.CONTACTNAME",
    "WHENMODIFIED",
)
_AR_LINE_FIELDS = (
    "RECORDNO",
    "RECORDKEY",
    "LINE_NO",
    "ITEMID",
    "ENTRYDESCRIPTION",
    "TRX_AMOUNT",
    *_DIMENSIONS,
)


@dataclass(frozen=True)
class Read:
    """One Intacct source of an object's records; `source` is stored per row (intacct_source)
    because SODOCUMENT and ARINVOICE RECORDNOs are separate number spaces."""

    source: str
    intacct_object: str
    fields: tuple[str, ...]
    mapping: str
    children: Children
    docparid: str | None = None
    filter: tuple[str, str] | None = None  # (field, value): read only records with it


_READS: dict[str, dict[str, Read]] = {
    name: {
        "order_entry": Read(
            "order_entry", "SODOCUMENT", _SO_HEADER, "sales_documents", _SO_LINES, docparid
        ),
        "accounts_receivable": Read(
            "accounts_receivable",
            ar_object,
            _AR_HEADER,
            "ar_documents",
            Children(f"{ar_object}ITEM", "RECORDKEY", _AR_LINE_FIELDS),
        ),
    }
    for name, docparid, ar_object in (
        ("invoices", "Sales Invoice", "ARINVOICE"),
        ("credit_notes", "Sales Return", "ARADJUSTMENT"),
    )
}


# Where local customers come from (intacct_sync_config `customer_source`): CUSTOMER records, one
# local customer each, or the bill-to contacts of CUSTOMER records (CONTACTs; the sandbox
# holds a customer's contact list as the contact's CUSTOMERID), several local customers for
# one Intacct customer, identified by (intacct_customer_id, intacct_contact_name = CONTACTNAME)
# (migration 0018). Documents carry BILLTO.CONTACTNAME either way: the loader links them by
# (CUSTOMERID, BILLTO.CONTACTNAME) to a contact's row, else to the customer's own row
# (intacct_sync.customer_of, migration 0021), so only the customers pull depends on this.
CUSTOMER_SOURCES = ("customer", "bill_to_contact")
BILL_TO_CONTACT = "bill_to_contact"
_CONTACTS = replace(
    OBJECTS["customers"],
    intacct_object="CONTACT",
    fields=(
        "RECORDNO",
        "CONTACTNAME",
        "PRINTAS",
        "EMAIL1",
        "STATUS",
        "CUSTOMERID",
        "MEGAENTITYID",
        "MAILADDRESS.ADDRESS1",
        "MAILADDRESS.CITY",
        "MAILADDRESS.STATE",
        "MAILADDRESS.ZIP",
        "MAILADDRESS.COUNTRY",
        "WHENCREATED",
        "WHENMODIFIED",
    ),
    mapping="contacts",
    source=BILL_TO_CONTACT,
    description="Bill-to contacts of Intacct customers (CONTACT) into ar.customers, one local"
    " customer each (customer_source bill_to_contact).",
)


def reads(name: str, invoice_source: str = "order_entry") -> list[Read]:
    """What to read for object `name` under `invoice_source`, in load order (OE first)."""
    if invoice_source not in INVOICE_SOURCES:
        raise ValueError(f"invoice_source {invoice_source!r} is not one of {INVOICE_SOURCES}")
    sources = _READS.get(name)
    if sources is None:  # customers, payments: one source whatever the setting
        obj = OBJECTS[name]
        return [Read("intacct", obj.intacct_object, obj.fields, obj.mapping,
                     obj.children, obj.docparid)]  # type: ignore[arg-type]
    if invoice_source == "both":
        ar = sources["accounts_receivable"]
        return [sources["order_entry"], Read(ar.source, ar.intacct_object, ar.fields,
                                              ar.mapping, ar.children, filter=AR_ENTERED)]
    return [sources[invoice_source]]


def sourced(
    name: str, invoice_source: str = "order_entry", customer_source: str = "customer"
) -> list[SyncObject]:
    """The registry entry of `name` once per source it reads under `invoice_source` and
    `customer_source`: what extract, map and load run with (one registry; the source only
    swaps its Intacct side)."""
    obj = OBJECTS[name]
    if name == "customers":
        if customer_source not in CUSTOMER_SOURCES:
            raise ValueError(
                f"customer_source {customer_source!r} is not one of {CUSTOMER_SOURCES}")
        return [_CONTACTS if customer_source == BILL_TO_CONTACT else obj]
    if name not in _READS:
        return [obj]
    return [
        replace(obj, intacct_object=r.intacct_object, fields=r.fields, mapping=r.mapping,
                children=r.children, docparid=r.docparid, source=r.source, keep=r.filter,
                total_field="TRX_TOTAL" if r.source == "order_entry" else "TRX_TOTALENTERED",
                description=f"{obj.description} Source: {r.source}.")
        for r in reads(name, invoice_source)
    ]


def push_order() -> list[str]:
    """Pushed objects, each after the objects it waits for (the demo runs them in this order)."""
    order: list[str] = []
    pending = [o for o in OBJECTS.values() if o.push]
    while pending:
        ready = [o for o in pending if set(o.push.after) <= set(order)]  # type: ignore[union-attr]
        if not ready:
            raise ValueError(f"push.after forms a cycle among {[o.name for o in pending]}")
        order += [o.name for o in ready]
        pending = [o for o in pending if o not in ready]
    return order


def dependents(name: str) -> list[str]:
    """Objects whose push waits for records of `name` (woken when `name` posts)."""
    return [o.name for o in OBJECTS.values() if o.push and name in o.push.after]
