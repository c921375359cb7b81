"""Write functions: generic create/update/delete and the legacy AR functions (§6).

Generic and legacy payloads are normalised into the same header/line shape and validated by
one set of rules, so ``create`` of ARINVOICE and ``create_invoice`` fail the same way. Errors
stack specific → generic with BL01001973 last, as Intacct does (F29).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from lxml import etree

from .envelope import IntacctError
from .formatting import Stamp, UtcStamp, parse_date_literal
from .function_context import FunctionContext, Result
from .object_definitions import OBJECTS, lookup_object
from .seed_data import (
    BANK_ACCOUNTS,
    CLASSES,
    CONTRACTS,
    DEPARTMENTS,
    ENTITIES,
    GL_ACCOUNTS,
    ITEMS,
    PAYMENT_METHODS,
    PROJECTS,
    RATES,
    TERMS,
    UNDEPOSITED_ACCOUNT,
)

CENT = Decimal("0.01")
VENDORS = {"V-100": "Office Depot"}
EMPLOYEES = {"EMP-1": "Jane Doe"}
WAREHOUSES = {"WH-01": "Main warehouse"}
ALLOCATIONS = {"ALLOC-50-50": "Split US/EMEA"}
REVREC_TEMPLATES = {"Straight line 12m", "Milestones"}
PAYMENT_METHOD_ALIASES = {m.lower(): m for m in (*PAYMENT_METHODS, "Online Charge Card")}
PAYMENT_METHOD_ALIASES.update({"check": "Printed Check", "ach": "EFT"})


class WriteError(Exception):
    def __init__(self, *errors: IntacctError) -> None:
        super().__init__(errors[0].description2)
        self.errors = list(errors)


def bl(text: str, correction: str = "") -> IntacctError:
    return IntacctError("BL01001973", "", text, correction)


def could_not_create(label: str) -> IntacctError:
    return bl(f"Could not create {label} record!")


def _t(el: etree._Element | None, *names: str) -> str:
    """First non-empty child text among ``names`` (case-insensitive tag match)."""
    if el is None:
        return ""
    wanted = {n.lower() for n in names}
    for child in el:
        text = (child.text or "").strip() if isinstance(child.tag, str) else ""
        if text and child.tag.lower() in wanted:
            return text
    return ""


def _child(el: etree._Element, *names: str) -> etree._Element | None:
    wanted = {n.lower() for n in names}
    for child in el:
        if isinstance(child.tag, str) and child.tag.lower() in wanted:
            return child
    return None


def _amount(text: str, what: str) -> Decimal:
    try:
        return Decimal(text).quantize(CENT)
    except InvalidOperation:
        raise WriteError(IntacctError("BL03000018", "", f"Illegal format for {what} : {text}.",
                                      "")) from None


def _legacy_date(el: etree._Element | None) -> dt.date | None:
    if el is None:
        return None
    if len(el):
        try:
            return dt.date(int(_t(el, "year")), int(_t(el, "month")), int(_t(el, "day")))
        except ValueError:
            raise WriteError(bl("Invalid date specified.")) from None
    return _generic_date(el.text or "")


def _generic_date(text: str) -> dt.date | None:
    if not text.strip():
        return None
    parsed = parse_date_literal(text)
    if parsed is None:
        raise WriteError(IntacctError("BL03000018", "", f"Illegal format for date : {text}.", ""))
    return parsed.date() if isinstance(parsed, dt.datetime) else parsed


@dataclass
class Line:
    account: str
    amount: Decimal
    memo: str = ""
    dims: dict[str, str] = field(default_factory=dict)
    revrec: dict[str, object] = field(default_factory=dict)
    allocation: str = ""


@dataclass
class ArDocument:
    kind: str  # "invoice" | "adjustment"
    customerid: str
    date: dt.date | None
    due: dt.date | None = None
    term: str = ""
    number: str = ""
    docnumber: str = ""
    description: str = ""
    currency: str = ""
    action: str = "Submit"
    lines: list[Line] = field(default_factory=list)
    billto_contact: str = ""  # create_invoice <billto><contactname>: a bill-to contact


DIMENSIONS = {  # line key -> (label in errors, valid values)
    "locationid": ("Location", ENTITIES), "departmentid": ("Department", DEPARTMENTS),
    "projectid": ("Project", PROJECTS), "classid": ("Class", CLASSES), "itemid": ("Item", ITEMS),
    "contractid": ("Contract", CONTRACTS), "vendorid": ("Vendor", VENDORS),
    "employeeid": ("Employee", EMPLOYEES), "warehouseid": ("Warehouse", WAREHOUSES),
}
_GENERIC_LINE_DIMS = {"LOCATIONID": "locationid", "DEPARTMENTID": "departmentid",
                      "PROJECTID": "projectid", "CLASSID": "classid", "ITEMID": "itemid",
                      "CONTRACTID": "contractid", "VENDORID": "vendorid",
                      "EMPLOYEEID": "employeeid", "WAREHOUSEID": "warehouseid",
                      "CUSTOMERID": "customerid"}


def parse_legacy_document(el: etree._Element, kind: str) -> ArDocument:
    items_tag = "invoiceitems" if kind == "invoice" else "aradjustmentitems"
    doc = ArDocument(
        kind=kind, customerid=_t(el, "customerid"),
        date=_legacy_date(_child(el, "datecreated")), due=_legacy_date(_child(el, "datedue")),
        term=_t(el, "termname"),
        number=_t(el, "invoiceno") if kind == "invoice" else _t(el, "adjustmentno"),
        docnumber=_t(el, "ponumber", "invoiceno") if kind == "invoice" else _t(el, "invoiceno"),
        description=_t(el, "description"), currency=_t(el, "currency"),
        action=_t(el, "action") or "Submit",
        billto_contact=_t(_child(el, "billto"), "contactname"))
    items = _child(el, items_tag)
    for li in (items if items is not None else []):
        if not isinstance(li.tag, str):
            continue
        line = Line(account=_t(li, "glaccountno", "accountlabel"),
                    amount=_amount(_t(li, "amount") or "0", "amount"), memo=_t(li, "memo"),
                    allocation=_t(li, "allocationid"))
        for key in (*DIMENSIONS, "customerid"):
            if _t(li, key):
                line.dims[key] = _t(li, key)
        line.revrec = {"template": _t(li, "revrectemplate"),
                       "account": _t(li, "defrevaccount"),
                       "start": _legacy_date(_child(li, "revrecstartdate")),
                       "end": _legacy_date(_child(li, "revrecenddate"))}
        doc.lines.append(line)
    return doc


def parse_generic_document(el: etree._Element, kind: str) -> ArDocument:
    items_tag = "ARINVOICEITEMS" if kind == "invoice" else "ARADJUSTMENTITEMS"
    doc = ArDocument(
        kind=kind, customerid=_t(el, "CUSTOMERID"),
        date=_generic_date(_t(el, "WHENCREATED", "WHENPOSTED")),
        due=_generic_date(_t(el, "WHENDUE")), term=_t(el, "TERMNAME"),
        number=_t(el, "RECORDID", "INVOICENO") if kind == "invoice" else _t(el, "RECORDID",
                                                                             "ADJUSTMENTNO"),
        docnumber=_t(el, "DOCNUMBER"), description=_t(el, "DESCRIPTION"),
        currency=_t(el, "CURRENCY"), action=_t(el, "ACTION") or "Submit")
    items = _child(el, items_tag)
    for li in (items if items is not None else []):
        if not isinstance(li.tag, str):
            continue
        line = Line(account=_t(li, "ACCOUNTNO", "ACCOUNTLABEL", "GLACCOUNTNO"),
                    amount=_amount(_t(li, "TRX_AMOUNT", "AMOUNT") or "0", "amount"),
                    memo=_t(li, "ENTRYDESCRIPTION", "MEMO"), allocation=_t(li, "ALLOCATION"))
        for tag, key in _GENERIC_LINE_DIMS.items():
            if _t(li, tag):
                line.dims[key] = _t(li, tag)
        line.revrec = {"template": _t(li, "REVRECTEMPLATE"),
                       "account": _t(li, "DEFERREDREVACCTNO", "DEFERREDREVACCOUNT"),
                       "start": _generic_date(_t(li, "REVRECSTARTDATE")),
                       "end": _generic_date(_t(li, "REVRECENDDATE"))}
        doc.lines.append(line)
    return doc


class ArWriter:
    """Validation and the effects of AR writes on the store."""

    def __init__(self, ctx: FunctionContext) -> None:
        self.ctx = ctx
        self.store = ctx.store

    def get(self, name: str, key: str) -> dict | None:
        """The record with RECORDNO `key` as this session sees it: a record of another entity
        does not exist for an entity session, so every write answers it with its not-found
        error (README "Multi-entity")."""
        return self.ctx.visible(self.store.get(name, int(key))) if key.isdigit() else None

    def find_by_id(self, name: str, value: str) -> dict | None:
        return self.ctx.visible(self.store.find_by_id(name, value)) if value else None

    # ------------------------------------------------------------------ customers
    def customer(self, customerid: str, label: str) -> dict:
        cust = self.find_by_id("CUSTOMER", customerid)
        if cust is None:
            raise WriteError(bl(f"Invalid Customer '{customerid}' specified."),
                             could_not_create(label))
        return cust

    def create_customer(self, el: etree._Element) -> dict:
        fields = flatten(el)
        customerid = fields.pop("CUSTOMERID", "")
        name = fields.get("NAME", "")
        if not name:
            raise WriteError(bl("Required field Name is missing."), could_not_create("customer"))
        if customerid and self.store.find_by_id("CUSTOMER", customerid) is not None:
            raise WriteError(
                IntacctError("BL34000061", "",
                             f"Another Customer with the given value(s) {customerid}  already "
                             "exists", "Use a unique value instead."),
                could_not_create("customer"), bl("Error while saving the Customer info"))
        for key, value in fields.items():
            if key.endswith((".EMAIL1", ".EMAIL2")) and value and not re.fullmatch(
                    r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
                    raise WriteError(
                        IntacctError("BL03000018", "", "Illegal format for Contactversion : "
                                     f"Primary Email Address {value}.", ""),
                        bl("Validate contactversion record failed!"),
                        could_not_create("contactversion"))
        currency = fields.get("CURRENCY") or "USD"
        if currency not in RATES:
            raise WriteError(bl(f"Invalid Currency '{currency}' specified."),
                             could_not_create("customer"))
        rn = self.store.allocate("CUSTOMER")
        if not customerid:  # document sequence numbering
            customerid = f"C-{rn:07d}"
        entity = self.ctx.entity
        record = {**fields, "CUSTOMERID": customerid, "CURRENCY": currency,
                  "STATUS": (fields.get("STATUS") or "active").lower(), "RECORDNO": rn,
                  "ONHOLD": fields.get("ONHOLD", "false").lower() == "true",
                  "ONETIME": fields.get("ONETIME", "false").lower() == "true",
                  "MEGAENTITYID": entity or None,
                  "MEGAENTITYKEY": ENTITIES[entity][1] if entity else None,
                  "MEGAENTITYNAME": ENTITIES[entity][0] if entity else None}
        return self.store.insert("CUSTOMER", record, self.ctx.now())

    def create_contact(self, el: etree._Element) -> dict:
        """A CONTACT on a customer's bill-to contact list (sandbox: CUSTOMERID, contacts.py);
        CONTACTNAME is unique in the company."""
        fields = flatten(el)
        name = fields.get("CONTACTNAME", "")
        if not name:
            raise WriteError(bl("Required field Contact Name is missing."),
                             could_not_create("contact"))
        if self.store.find_by_id("CONTACT", name) is not None:
            raise WriteError(
                IntacctError("BL34000061", "", f"Another Contact with the given value(s) {name}"
                             "  already exists", "Use a unique value instead."),
                could_not_create("contact"))
        customer = self.customer(fields.get("CUSTOMERID", ""), "Contact")
        record = {k: v for k, v in fields.items() if k in OBJECTS["CONTACT"].field_set}
        record.update({"CUSTOMERID": customer["CUSTOMERID"],
                       "PRINTAS": fields.get("PRINTAS") or name,
                       "STATUS": (fields.get("STATUS") or "active").lower(),
                       "RECORDNO": self.store.allocate("CONTACT")})
        return self.store.insert("CONTACT", record, self.ctx.now())

    # ------------------------------------------------------------------ invoices & adjustments
    def create_document(self, doc: ArDocument) -> dict:
        label = "Invoice" if doc.kind == "invoice" else "Adjustment"
        name = "ARINVOICE" if doc.kind == "invoice" else "ARADJUSTMENT"
        cust = self.customer(doc.customerid, label)
        if doc.date is None:
            raise WriteError(bl("Required field Date is missing."), could_not_create(label))
        if doc.number and self.store.find_by_id(name, doc.number) is not None:
            raise WriteError(bl(f"A transaction with the number '{doc.number}' already exists.",
                                "Use a unique number."), could_not_create(label))
        if not doc.lines:
            raise WriteError(bl("At least one line item is required."), could_not_create(label))
        currency = doc.currency or cust["CURRENCY"] or "USD"
        if currency not in RATES:
            raise WriteError(bl(f"Invalid Currency '{currency}' specified."),
                             could_not_create(label))
        term = doc.term or cust.get("TERMNAME") or "N30"
        if term not in TERMS:
            raise WriteError(bl(f"Invalid Term '{term}' specified."), could_not_create(label))
        entity = self.ctx.entity
        for line in doc.lines:
            self._validate_line(line, label, entity)
        entity = entity or doc.lines[0].dims.get("locationid") or cust["MEGAENTITYID"] or "E100"
        total = sum((ln.amount for ln in doc.lines), Decimal(0))
        rate = RATES[currency]
        now = self.ctx.now()
        rn = self.store.allocate(name)
        draft = doc.action.lower() == "draft"
        number = doc.number or (f"INV-A{rn:07d}" if doc.kind == "invoice" else f"CM-A{rn:07d}")
        header = {
            "RECORDNO": rn, "RECORDTYPE": "ri" if doc.kind == "invoice" else "ra",
            "RECORDID": number, ("INVOICENO" if doc.kind == "invoice" else "ADJUSTMENTNO"): number,
            "STATE": "Draft" if draft else "Posted", "RAWSTATE": "D" if draft else "A",
            "CUSTOMERID": cust["CUSTOMERID"], "CUSTOMERNAME": cust["NAME"],
            "CUSTREC": cust["RECORDNO"], "DOCNUMBER": doc.docnumber or None,
            "DESCRIPTION": doc.description or None, "TERMNAME": term,
            "WHENCREATED": doc.date, "WHENPOSTED": None if draft else doc.date,
            "WHENDUE": doc.due or doc.date + dt.timedelta(days=TERMS[term]),
            "BASECURR": "USD", "CURRENCY": currency, "EXCHANGE_RATE": rate,
            "TRX_TOTALENTERED": total, "TRX_TOTALPAID": Decimal(0), "TRX_TOTALDUE": total,
            "TOTALENTERED": (total * rate).quantize(CENT), "TOTALPAID": Decimal(0),
            "TOTALDUE": (total * rate).quantize(CENT), "MODULEKEY": "4.AR",
            "SYSTEMGENERATED": "F", "PRBATCH": f"Receivables: {doc.date:%Y/%m/%d} Batch",
            "MEGAENTITYID": entity, "MEGAENTITYKEY": ENTITIES[entity][1],
            "MEGAENTITYNAME": ENTITIES[entity][0],
        }
        for prefix in ("BILLTO", "SHIPTO"):
            for key, value in cust.items():
                if key.startswith(prefix + "."):
                    header[key] = value
        if doc.billto_contact:  # the bill-to contact the invoice names (of the customer)
            header["BILLTO.CONTACTNAME"] = header["BILLTOCONTACTNAME"] = doc.billto_contact
        child_name = name + "ITEM"
        child_keys = []
        for n, line in enumerate(doc.lines):
            crn = self.store.allocate(child_name)
            loc = line.dims.get("locationid") or entity
            rec = {
                "RECORDNO": crn, "RECORDKEY": rn, "LINE_NO": n + 1, "ACCOUNTNO": line.account,
                "ACCOUNTTITLE": GL_ACCOUNTS.get(line.account), "OFFSETGLACCOUNTNO": "1200",
                "ENTRY_DATE": doc.date, "TRX_AMOUNT": line.amount,
                "AMOUNT": (line.amount * rate).quantize(CENT),
                "ENTRYDESCRIPTION": line.memo or None,
                "LOCATIONID": loc, "LOCATIONNAME": ENTITIES[loc][0],
                "CURRENCY": currency, "BASECURR": "USD", "EXCHANGE_RATE": rate,
                "STATE": header["STATE"], "RECORDTYPE": header["RECORDTYPE"],
                "CUSTOMERID": line.dims.get("customerid") or cust["CUSTOMERID"],
                "ALLOCATION": line.allocation or None,
                "REVRECTEMPLATE": line.revrec.get("template") or None,
                "DEFERREDREVACCTNO": line.revrec.get("account") or None,
                "REVRECSTARTDATE": line.revrec.get("start"),
                "REVRECENDDATE": line.revrec.get("end"),
                "MEGAENTITYID": entity, "MEGAENTITYKEY": ENTITIES[entity][1],
                "MEGAENTITYNAME": ENTITIES[entity][0],
            }
            for key, (_, values) in DIMENSIONS.items():
                if key in line.dims and key != "locationid":
                    rec[key.upper()] = line.dims[key]
                    name_field = key.upper().replace("ID", "NAME")
                    value = values[line.dims[key]]
                    rec[name_field] = value[0] if isinstance(value, tuple) else value
            self.store.insert(child_name, rec, now)
            child_keys.append(crn)
        self.store.attach_children(name, rn, child_keys)
        return self.store.insert(name, header, now)

    def _validate_line(self, line: Line, label: str, entity: str) -> None:
        if not line.account and not line.allocation:
            raise WriteError(bl("Required field GL Account is missing."), could_not_create(label))
        if line.account and line.account not in GL_ACCOUNTS:
            raise WriteError(bl(f"Invalid GL Account '{line.account}' specified."),
                             could_not_create(label))
        for key, value in line.dims.items():
            if key == "customerid":
                if self.find_by_id("CUSTOMER", value) is None:
                    raise WriteError(bl(f"Invalid Customer '{value}' specified."),
                                     could_not_create(label))
                continue
            dim_label, values = DIMENSIONS[key]
            if value not in values or (key == "locationid" and entity and value != entity):
                raise WriteError(IntacctError("BL01001973", "", f"Invalid {dim_label} "
                                              f"'{value}' specified.", ""),
                                 could_not_create(label))
        if line.allocation and line.allocation not in ALLOCATIONS:
            raise WriteError(bl(f"Invalid Allocation '{line.allocation}' specified."),
                             could_not_create(label))
        template = line.revrec.get("template")
        if template and template not in REVREC_TEMPLATES:
            raise WriteError(bl(f"Invalid Revenue Recognition Template '{template}' specified."),
                             could_not_create(label))
        account = line.revrec.get("account")
        if account and account not in GL_ACCOUNTS:
            raise WriteError(bl(f"Invalid Deferred Revenue Account '{account}' specified."),
                             could_not_create(label))

    # ------------------------------------------------------------------ payments
    def create_payment(self, *, customerid: str, method: str, bank: str, undeposited: str,
                       batch: str, currency: str, received: dt.date | None, docnumber: str,
                       amount: Decimal | None, applications: list[tuple[str, str, Decimal]],
                       draft: bool = False, recordtype: str = "rp",
                       description: str = "", overpayment: dict[str, str] | None = None) -> dict:
        """applications: (kind 'invoice'|'credit', key, amount in transaction currency);
        overpayment: dimensions of the part left unapplied (locationid, departmentid)."""
        cust = self.customer(customerid, "ARPayment")
        overpayment = {k: v for k, v in (overpayment or {}).items() if v}
        for key, value in overpayment.items():
            dim_label, values = DIMENSIONS[key]
            if value not in values:
                raise WriteError(IntacctError("BL01001973", "", f"Invalid {dim_label} '{value}' "
                                              "specified.", ""), could_not_create("ARPayment"))
        currency = currency or cust["CURRENCY"] or "USD"
        canonical = PAYMENT_METHOD_ALIASES.get(method.lower()) if method else None
        if canonical is None:
            raise WriteError(bl(f"Invalid payment method '{method}'.",
                                "Use Printed Check, Cash, EFT, Credit Card, Online Charge Card "
                                "or Online ACH Debit."), could_not_create("ARPayment"))
        if self.ctx.options.payment_batch_required and not batch or not (bank or undeposited
                                                                          or batch):
            raise WriteError(bl("Please provide a payment batch key."),
                             could_not_create("ARPayment"))
        if undeposited:
            if undeposited != UNDEPOSITED_ACCOUNT:
                raise WriteError(bl(f"Invalid Undeposited Funds Account '{undeposited}' "
                                    "specified."), could_not_create("ARPayment"))
            if currency != "USD":
                raise WriteError(IntacctError(
                    "BL02000051", "", "You cannot make payment for foreign currency invoice for "
                    f"payment method \"{canonical}\" using Undeposited Fund Account.",
                    "Use a bank account in the invoice currency."), could_not_create("ARPayment"))
        if bank and bank not in BANK_ACCOUNTS.values():
            raise WriteError(bl(f"Invalid Bank Account '{bank}' specified."),
                             could_not_create("ARPayment"))
        if received is None:
            raise WriteError(bl("Required field Receipt Date is missing."),
                             could_not_create("ARPayment"))
        now = self.ctx.now()
        resolved = []
        cash = Decimal(0)
        for kind, key, amt in applications:
            if amt <= 0:
                raise WriteError(bl("Amount must be a positive number. Intacct requires positive "
                                    "value."), could_not_create("ARPayment"))
            target_name = "ARINVOICE" if kind == "invoice" else "ARADJUSTMENT"
            target = self.get(target_name, key)
            if target is None:
                raise WriteError(IntacctError("DL03000005", "",
                                              f"No record exits for the invoicekey {key}", ""),
                                 could_not_create("ARPayment"))
            if target["CUSTOMERID"] != cust["CUSTOMERID"] or target["CURRENCY"] != currency:
                raise WriteError(bl(f"The transaction {key} does not belong to customer "
                                    f"{customerid} in currency {currency}."),
                                 could_not_create("ARPayment"))
            due = abs(target["TRX_TOTALDUE"] or Decimal(0))
            if target["STATE"] in ("Draft", "Reversed", "Reversal") or amt > due:
                raise WriteError(bl(f"The amount {amt} exceeds the amount due {due} on "
                                    f"transaction {key}."), could_not_create("ARPayment"))
            resolved.append((kind, target_name, target, amt))
            if kind == "invoice":
                cash += amt
        credits = sum((a for k, _, _, a in resolved if k == "credit"), Decimal(0))
        cash -= credits
        total = amount if amount is not None else cash
        entity = self.ctx.entity or (resolved[0][2]["MEGAENTITYID"] if resolved else
                                     cust["MEGAENTITYID"] or "E100")
        rate = RATES[currency]
        rn = self.store.allocate("ARPYMT")
        state = "D" if draft else "C"
        payment = {
            "RECORDNO": rn, "RECORDTYPE": recordtype, "FINANCIALENTITY": bank or None,
            "UNDEPOSITEDACCOUNTNO": undeposited or None,
            "PRBATCHKEY": int(batch) if batch.isdigit() else None, "PRBATCH": batch or None,
            "STATE": state, "DISPLAYSTATE": "Draft" if draft else "Complete",
            "PAYMENTMETHOD": canonical, "CUSTOMERID": cust["CUSTOMERID"],
            "CUSTOMERNAME": cust["NAME"], "PAYERNAME": cust["NAME"],
            "DOCNUMBER": docnumber or None, "DESCRIPTION": description or None,
            "WHENCREATED": received, "RECEIPTDATE": received, "PAYMENTDATE": received,
            "WHENPAID": None if draft else received, "BASECURR": "USD", "CURRENCY": currency,
            "EXCHANGE_RATE": rate, "TRX_TOTALENTERED": total, "TRX_TOTALPAID": total,
            "TRX_TOTALDUE": Decimal(0), "TOTALENTERED": (total * rate).quantize(CENT),
            "TOTALPAID": (total * rate).quantize(CENT), "TOTALDUE": Decimal(0),
            "BILLTOPAYTONAME": cust["NAME"], "CLEARED": "F",
            "OVERPAYMENTAMOUNT": max(total - cash, Decimal(0)),
            "OVERPAYMENTLOCATIONID": overpayment.get("locationid"),
            "OVERPAYMENTDEPARTMENTID": overpayment.get("departmentid"),
            "MEGAENTITYID": entity, "MEGAENTITYKEY": ENTITIES[entity][1],
            "MEGAENTITYNAME": ENTITIES[entity][0],
        }
        detail_keys = []
        credit_pool = [r for r in resolved if r[0] == "credit"]
        for kind, _name, target, amt in resolved:
            if kind != "invoice":
                continue
            drn = self.store.allocate("ARPYMTDETAIL")
            detail = {"RECORDNO": drn, "PAYMENTKEY": rn, "PAYMENTDATE": received,
                      "RECORDKEY": target["RECORDNO"], "CURRENCY": currency, "BASECURR": "USD",
                      "STATE": state, "MEGAENTITYID": entity}
            applied_credit = Decimal(0)
            if credit_pool:
                _, _, adj, credit_amt = credit_pool.pop(0)
                applied_credit = min(credit_amt, amt)
                detail.update({"ADJUSTMENTKEY": adj["RECORDNO"],
                               "TRX_ADJUSTMENTAMOUNT": applied_credit,
                               "ADJUSTMENTAMOUNT": (applied_credit * rate).quantize(CENT)})
                if not draft:
                    self._apply(adj, -applied_credit, received, now)
            detail["TRX_PAYMENTAMOUNT"] = amt - applied_credit
            detail["PAYMENTAMOUNT"] = ((amt - applied_credit) * rate).quantize(CENT)
            self.store.insert("ARPYMTDETAIL", detail, now)
            detail_keys.append(drn)
            if not draft:
                self._apply(target, amt, received, now)
        self.store.attach_children("ARPYMT", rn, detail_keys)
        return self.store.insert("ARPYMT", payment, now)

    def _apply(self, target: dict, amount: Decimal, when: dt.date | None, now: int) -> None:
        """Change TOTALPAID/TOTALDUE/STATE of an invoice or adjustment (and bump WHENMODIFIED)."""
        name = "ARINVOICE" if target["RECORDTYPE"] == "ri" else "ARADJUSTMENT"
        paid = (target.get("TRX_TOTALPAID") or Decimal(0)) + amount
        total = target.get("TRX_TOTALENTERED") or Decimal(0)
        due = total - paid
        rate = target.get("EXCHANGE_RATE") or Decimal(1)
        state = "Posted" if paid == 0 else "Paid" if due == 0 else "Partially Paid"
        # _APPLIED: once a payment or credit touched a document, Intacct only reverses it,
        # even after the application itself was reversed (delete refuses it).
        self.store.update(name, target["RECORDNO"], {
            "_APPLIED": True, "TRX_TOTALPAID": paid, "TRX_TOTALDUE": due,
            "TOTALPAID": (paid * rate).quantize(CENT),
            "TOTALDUE": (due * rate).quantize(CENT), "STATE": state,
            "WHENPAID": when if state == "Paid" else None}, now)

    def reverse_payment(self, key: str, when: dt.date | None, description: str) -> dict:
        pay = self.get("ARPYMT", key)
        if pay is None:
            raise WriteError(bl(f"Cannot find arpayment with key '{key}' to reverse."))
        if pay["STATE"] != "C":
            raise WriteError(bl(f"The payment {key} cannot be reversed in state "
                                f"{pay.get('DISPLAYSTATE') or pay['STATE']}."))
        now = self.ctx.now()
        when = when or self.ctx.tz.local_date(now)
        details = self.store.children("ARPYMT", pay["RECORDNO"])
        rn = self.store.allocate("ARPYMT")
        neg = {k: -v for k, v in pay.items()
               if k in ("TRX_TOTALENTERED", "TRX_TOTALPAID", "TOTALENTERED", "TOTALPAID")}
        reversal = {**{k: v for k, v in pay.items() if not k.startswith("_")}, **neg,
                    "RECORDNO": rn, "STATE": "V", "DISPLAYSTATE": "Voided",
                    "WHENCREATED": when, "RECEIPTDATE": when, "PAYMENTDATE": when,
                    "DESCRIPTION": description or "Reversal", "AUWHENCREATED": UtcStamp(now)}
        detail_keys = []
        for d in details:
            drn = self.store.allocate("ARPYMTDETAIL")
            nd = {**d, "RECORDNO": drn, "PAYMENTKEY": rn, "STATE": "V"}
            for f in ("TRX_PAYMENTAMOUNT", "PAYMENTAMOUNT", "TRX_ADJUSTMENTAMOUNT",
                      "ADJUSTMENTAMOUNT"):
                if nd.get(f) is not None:
                    nd[f] = -nd[f]
            self.store.insert("ARPYMTDETAIL", nd, now)
            self.store.update("ARPYMTDETAIL", d["RECORDNO"], {"STATE": "V"}, now)
            detail_keys.append(drn)
            inv = self.store.get("ARINVOICE", d["RECORDKEY"]) if d.get("RECORDKEY") else None
            applied = (d.get("TRX_PAYMENTAMOUNT") or 0) + (d.get("TRX_ADJUSTMENTAMOUNT") or 0)
            if inv is not None and applied:
                self._apply(inv, -Decimal(applied), None, now)
            adj = self.store.get("ARADJUSTMENT", d["ADJUSTMENTKEY"]) if d.get(
                "ADJUSTMENTKEY") else None
            if adj is not None and d.get("TRX_ADJUSTMENTAMOUNT"):
                self._apply(adj, Decimal(d["TRX_ADJUSTMENTAMOUNT"]), None, now)
        self.store.attach_children("ARPYMT", rn, detail_keys)
        self.store.update("ARPYMT", pay["RECORDNO"], {"STATE": "V", "DISPLAYSTATE": "Voided"},
                          now)
        return self.store.insert("ARPYMT", reversal, now)

    def reverse_document(self, name: str, key: str, when: dt.date | None,
                         description: str) -> dict:
        doc = self.get(name, key)
        label = "invoice" if name == "ARINVOICE" else "aradjustment"
        if doc is None:
            raise WriteError(bl(f"Cannot find {label} with key '{key}' to reverse."))
        if doc["STATE"] in ("Reversed", "Reversal", "Draft"):
            raise WriteError(bl(f"The {label} {key} cannot be reversed in state {doc['STATE']}."))
        if doc.get("TRX_TOTALPAID"):
            raise WriteError(bl(f"The {label} {key} has payments applied. Reverse the payments "
                                "first."))
        now = self.ctx.now()
        when = when or self.ctx.tz.local_date(now)
        rn = self.store.allocate(name)
        neg_fields = ("TRX_TOTALENTERED", "TRX_TOTALDUE", "TOTALENTERED", "TOTALDUE")
        reversal = {**doc, **{f: -doc[f] for f in neg_fields if doc.get(f) is not None},
                    "RECORDNO": rn, "STATE": "Reversal", "RECORDID": None,
                    "WHENCREATED": when, "WHENPOSTED": when,
                    "DESCRIPTION": description or f"Reversal of {doc.get('RECORDID') or key}",
                    "AUWHENCREATED": UtcStamp(now)}
        reversal.pop("INVOICENO", None)
        child_keys = []
        for line in self.store.children(name, doc["RECORDNO"]):
            crn = self.store.allocate(name + "ITEM")
            nl = {**line, "RECORDNO": crn, "RECORDKEY": rn, "STATE": "Reversal",
                  "TRX_AMOUNT": -line["TRX_AMOUNT"], "AMOUNT": -line["AMOUNT"]}
            self.store.insert(name + "ITEM", nl, now)
            child_keys.append(crn)
        self.store.attach_children(name, rn, child_keys)
        self.store.update(name, doc["RECORDNO"], {"STATE": "Reversed", "TRX_TOTALDUE": Decimal(0),
                                                  "TOTALDUE": Decimal(0)}, now)
        return self.store.insert(name, reversal, now)

    def delete(self, name: str, key: str) -> None:
        obj_label = name.lower()
        rec = self.get(name, key)
        if rec is None and name in ("CUSTOMER",):
            rec = self.find_by_id(name, key)
        if rec is None:
            raise WriteError(bl(f"Cannot find {obj_label} with key '{key}' to delete."))
        if name in ("ARINVOICE", "ARADJUSTMENT"):
            if rec.get("MODULEKEY") == "8.SO":
                raise WriteError(bl(f"The {obj_label} {key} was created in Order Entry and can "
                                    "only be changed there."))
            if rec.get("TRX_TOTALPAID"):
                raise WriteError(bl(f"The {obj_label} {key} has payments applied and cannot be "
                                    "deleted."))
            if rec.get("_APPLIED"):
                raise WriteError(bl(f"The {obj_label} {key} has had payments applied and cannot "
                                    "be deleted; reverse it instead."))
        if name == "ARPYMT" and rec.get("STATE") != "D":
            raise WriteError(bl(f"Only draft payments can be deleted; reverse payment {key} "
                                "instead."))
        self.store.delete(name, rec["RECORDNO"], self.ctx.now())


def flatten(el: etree._Element, prefix: str = "") -> dict[str, str]:
    """``<DISPLAYCONTACT><MAILADDRESS><CITY>`` → ``DISPLAYCONTACT.MAILADDRESS.CITY``."""
    out: dict[str, str] = {}
    for child in el:
        if not isinstance(child.tag, str):
            continue
        key = f"{prefix}{child.tag.upper()}"
        if len(child):
            out.update(flatten(child, key + "."))
        else:
            out[key] = (child.text or "").strip()
    return out


# ---------------------------------------------------------------------- function handlers
def _objects_data(ctx: FunctionContext, created: list[tuple[str, dict]]) -> str:
    nl = (lambda d: "\n" + "    " * d) if ctx.pretty else (lambda d: "")
    records = []
    for name, rec in created:
        obj = lookup_object(name)
        id_field = obj.id_field if obj else None
        inner = f"{nl(5)}<RECORDNO>{rec['RECORDNO']}</RECORDNO>"
        if id_field and id_field in rec:
            inner += f"{nl(5)}<{id_field}>{rec.get(id_field) or ''}</{id_field}>"
        records.append(f"{nl(4)}<{name.lower()}>{inner}{nl(4)}</{name.lower()}>")
    if not records:
        return f'{nl(3)}<data listtype="objects" count="0"/>'
    return (f'{nl(3)}<data listtype="objects" count="{len(records)}">{"".join(records)}'
            f"{nl(3)}</data>")


def generic_create(ctx: FunctionContext, el: etree._Element, controlid: str) -> Result:
    writer = ArWriter(ctx)
    created: list[tuple[str, dict]] = []
    for obj_el in el:
        if not isinstance(obj_el.tag, str):
            continue
        name = obj_el.tag.upper()
        try:
            if name == "CUSTOMER":
                rec = writer.create_customer(obj_el)
            elif name in ("ARINVOICE", "ARADJUSTMENT"):
                rec = writer.create_document(parse_generic_document(
                    obj_el, "invoice" if name == "ARINVOICE" else "adjustment"))
            elif name == "ARPYMT":
                rec = _generic_payment(writer, obj_el)
            elif name == "CONTACT":
                rec = writer.create_contact(obj_el)
            else:
                raise WriteError(bl(f"Object definition {name} not found"))
        except WriteError as exc:
            return Result.failure("create", controlid, *exc.errors,
                                  data=_objects_data(ctx, created))
        created.append((name, rec))
    return Result("success", "create", controlid, data=_objects_data(ctx, created))


def _generic_payment(writer: ArWriter, el: etree._Element) -> dict:
    apps: list[tuple[str, str, Decimal]] = []
    details = _child(el, "ARPYMTDETAILS")
    for d in (details if details is not None else []):
        if not isinstance(d.tag, str):
            continue
        if _t(d, "RECORDKEY"):
            apps.append(("invoice", _t(d, "RECORDKEY"),
                         _amount(_t(d, "TRX_PAYMENTAMOUNT") or "0", "amount")
                         + _amount(_t(d, "TRX_ADJUSTMENTAMOUNT") or "0", "amount")))
        if _t(d, "ADJUSTMENTKEY"):
            apps.append(("credit", _t(d, "ADJUSTMENTKEY"),
                         _amount(_t(d, "TRX_ADJUSTMENTAMOUNT") or "0", "amount")))
    header_amount = _t(el, "TRX_TOTALENTERED", "PAYMENTAMOUNT", "TRX_PAYMENTAMOUNT")
    return writer.create_payment(
        customerid=_t(el, "CUSTOMERID"), method=_t(el, "PAYMENTMETHOD"),
        bank=_t(el, "FINANCIALENTITY"), undeposited=_t(el, "UNDEPOSITEDACCOUNTNO"),
        batch=_t(el, "PRBATCHKEY", "PRBATCH"), currency=_t(el, "CURRENCY"),
        received=_generic_date(_t(el, "RECEIPTDATE", "PAYMENTDATE")),
        docnumber=_t(el, "DOCNUMBER"),
        amount=_amount(header_amount, "amount") if header_amount else None, applications=apps,
        draft=_t(el, "ACTION").lower() == "draft", description=_t(el, "DESCRIPTION"))


def generic_update(ctx: FunctionContext, el: etree._Element, controlid: str) -> Result:
    updated: list[tuple[str, dict]] = []
    for obj_el in el:
        if not isinstance(obj_el.tag, str):
            continue
        name = obj_el.tag.upper()
        fields = flatten(obj_el)
        key = fields.pop("RECORDNO", "")
        obj = lookup_object(name)
        rec = None
        if obj is not None and obj.writable:
            writer = ArWriter(ctx)
            if key.isdigit():
                rec = writer.get(name, key)
            elif obj.id_field and fields.get(obj.id_field):
                rec = writer.find_by_id(name, fields[obj.id_field])
        if rec is None:
            return Result.failure("update", controlid, bl(
                f"Cannot find {name.lower()} with key '{key or fields.get('CUSTOMERID', '')}' "
                "to update."), data=_objects_data(ctx, updated))
        if name == "ARPYMT" and rec.get("STATE") != "D":
            return Result.failure("update", controlid, bl(
                "Only draft payments can be updated."), data=_objects_data(ctx, updated))
        changes: dict[str, object] = {}
        for field_name, value in fields.items():
            if field_name in obj.field_set:  # type: ignore[union-attr]
                changes[field_name] = value or None
        if "STATUS" in changes and changes["STATUS"]:
            changes["STATUS"] = str(changes["STATUS"]).lower()
        updated.append((name, ctx.store.update(name, rec["RECORDNO"], changes, ctx.now())))
    return Result("success", "update", controlid, data=_objects_data(ctx, updated))


def generic_delete(ctx: FunctionContext, el: etree._Element, controlid: str) -> Result:
    name = _t(el, "object").upper()
    obj = lookup_object(name)
    writer = ArWriter(ctx)
    try:
        if obj is None or not obj.writable:
            raise WriteError(bl(f"Object definition {name} not found"))
        for key in [k.strip() for k in _t(el, "keys").split(",") if k.strip()]:
            writer.delete(name, key)
    except WriteError as exc:
        return Result.failure("delete", controlid, *exc.errors)
    return Result("success", "delete", controlid)


def _legacy(function: str):  # noqa: ANN202 - decorator factory
    """Legacy functions answer ``<key>`` directly under ``<result>`` (F30)."""
    def wrap(body):  # noqa: ANN001, ANN202
        def handler(ctx: FunctionContext, el: etree._Element, controlid: str) -> Result:
            try:
                key = body(ArWriter(ctx), el)
            except WriteError as exc:
                return Result.failure(function, controlid, *exc.errors)
            return Result("success", function, controlid, key=None if key is None else str(key))
        return handler
    return wrap


@_legacy("create_invoice")
def create_invoice(w: ArWriter, el: etree._Element) -> int:
    return w.create_document(parse_legacy_document(el, "invoice"))["RECORDNO"]


@_legacy("create_aradjustment")
def create_aradjustment(w: ArWriter, el: etree._Element) -> int:
    return w.create_document(parse_legacy_document(el, "adjustment"))["RECORDNO"]


@_legacy("create_arpayment")
def create_arpayment(w: ArWriter, el: etree._Element) -> int:
    apps = [("invoice", _t(i, "invoicekey"), _amount(_t(i, "amount") or "0", "amount"))
            for i in el if isinstance(i.tag, str) and i.tag == "arpaymentitem"]
    amount = _t(el, "paymentamount")
    return w.create_payment(
        customerid=_t(el, "customerid"), method=_t(el, "paymentmethod"),
        bank=_t(el, "bankaccountid"), undeposited=_t(el, "undepfundsacct"),
        batch=_t(el, "batchkey"), currency=_t(el, "currency"),
        received=_legacy_date(_child(el, "datereceived")), docnumber=_t(el, "refid"),
        amount=_amount(amount, "paymentamount") if amount else None,
        applications=apps, overpayment={"locationid": _t(el, "overpaylocid"),
                                        "departmentid": _t(el, "overpaydeptid")})["RECORDNO"]


@_legacy("apply_arpayment")
def apply_arpayment(w: ArWriter, el: etree._Element) -> int:
    """Apply a credit (credit memo, advance/overpayment or negative invoice) to invoices."""
    key = _t(el, "arpaymentkey")
    source = None
    source_name = ""
    for name in ("ARADJUSTMENT", "ARPYMT", "ARINVOICE"):
        source = w.get(name, key)
        if source is not None:
            source_name = name
            break
    if source is None:
        raise WriteError(bl(f"Cannot find the payment or credit with key '{key}' to apply."))
    items = _child(el, "arpaymentitems")
    apps = [("invoice", _t(i, "invoicekey"), _amount(_t(i, "amount") or "0", "amount"))
            for i in (items if items is not None else []) if isinstance(i.tag, str)]
    if source_name == "ARADJUSTMENT":
        total = sum((a for _, _, a in apps), Decimal(0))
        apps.append(("credit", key, total))
    when = _legacy_date(_child(el, "paymentdate")) or w.ctx.tz.local_date(w.ctx.now())
    return w.create_payment(
        customerid=source["CUSTOMERID"], method="Cash", bank="", undeposited="",
        batch=str(source.get("PRBATCHKEY") or "1"), currency=source.get("CURRENCY") or "",
        received=when, docnumber="", amount=Decimal(0), applications=apps, recordtype="ro",
        description=_t(el, "memo"))["RECORDNO"]


@_legacy("reverse_arpayment")
def reverse_arpayment(w: ArWriter, el: etree._Element) -> int:
    return w.reverse_payment(el.get("key", ""), _legacy_date(_child(el, "datereversed")),
                             _t(el, "description"))["RECORDNO"]


@_legacy("reverse_invoice")
def reverse_invoice(w: ArWriter, el: etree._Element) -> int:
    return w.reverse_document("ARINVOICE", el.get("key", ""),
                              _legacy_date(_child(el, "datereversed")),
                              _t(el, "description"))["RECORDNO"]


@_legacy("reverse_aradjustment")
def reverse_aradjustment(w: ArWriter, el: etree._Element) -> int:
    return w.reverse_document("ARADJUSTMENT", el.get("key", ""),
                              _legacy_date(_child(el, "datereversed")),
                              _t(el, "description"))["RECORDNO"]


@_legacy("delete_invoice")
def delete_invoice(w: ArWriter, el: etree._Element) -> None:
    w.delete("ARINVOICE", el.get("key", ""))


@_legacy("delete_aradjustment")
def delete_aradjustment(w: ArWriter, el: etree._Element) -> None:
    w.delete("ARADJUSTMENT", el.get("key", ""))


WRITE_FUNCTIONS = {
    "create": generic_create, "update": generic_update, "delete": generic_delete,
    "create_invoice": create_invoice, "create_aradjustment": create_aradjustment,
    "create_arpayment": create_arpayment, "apply_arpayment": apply_arpayment,
    "reverse_arpayment": reverse_arpayment, "reverse_invoice": reverse_invoice,
    "reverse_aradjustment": reverse_aradjustment, "delete_invoice": delete_invoice,
    "delete_aradjustment": delete_aradjustment,
}

_ = (Stamp,)  # WHENMODIFIED of writes is stamped by the store
