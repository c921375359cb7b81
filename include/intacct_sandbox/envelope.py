"""Request parsing and response envelopes of the XML gateway (protocol §1–§2, F01–F10).

Responses are written as text rather than through a tree: record pages are the hot path, and
the layout (element order, empty elements, ``includewhitespace``) must match the fixtures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from .formatting import xml_attr, xml_text

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                          remove_blank_text=False, load_dtd=False)


@dataclass
class IntacctError:
    errorno: str
    description: str = ""
    description2: str = ""
    correction: str = ""


class ControlFailure(Exception):
    """The whole request is refused at the control level (no operation runs)."""

    def __init__(self, errors: list[IntacctError]) -> None:
        super().__init__(errors[0].description2 or errors[0].description)
        self.errors = errors


@dataclass
class FunctionCall:
    controlid: str
    name: str
    element: etree._Element


@dataclass
class Operation:
    transaction: bool
    login: dict[str, str | None] | None
    sessionid: str | None
    functions: list[FunctionCall] = field(default_factory=list)


@dataclass
class Request:
    senderid: str
    password: str
    controlid: str
    uniqueid: str
    dtdversion: str
    includewhitespace: bool
    operations: list[Operation]

    @property
    def unique(self) -> bool:
        return self.uniqueid.strip().lower() != "false"


@dataclass
class ControlEcho:
    """What the control block echoes even when the request could not be parsed."""

    senderid: str = ""
    controlid: str = ""
    uniqueid: str = "false"
    dtdversion: str = "3.0"
    pretty: bool = True


def _text(el: etree._Element | None) -> str:
    return (el.text or "") if el is not None else ""


def _sniff(body: bytes) -> ControlEcho:
    text = body.decode("utf-8", "replace")
    echo = ControlEcho()
    for name in ("senderid", "controlid", "uniqueid", "dtdversion"):
        match = re.search(rf"<{name}>([^<]*)</{name}>", text)
        if match:
            setattr(echo, name, match.group(1))
    echo.pretty = "<includewhitespace>false</includewhitespace>" not in text
    return echo


def parse_request(body: bytes) -> Request:
    """Parse and validate a request; raises ControlFailure with XL03000003 if it is invalid."""
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        errors = []
        for entry in exc.error_log or []:  # type: ignore[union-attr]
            errors.append(IntacctError(
                "XL03000003", "", f"XML Parse schema error: Fatal Error {entry.type}: "
                f"{entry.message.strip()}. Line: {entry.line}, column: {entry.column}.", ""))
        if not errors:
            errors.append(IntacctError("XL03000003", "", f"XML Parse schema error: {exc}", ""))
        raise ControlFailure(errors[:2]) from None

    def schema_error(message: str) -> ControlFailure:
        return ControlFailure([IntacctError("XL03000003", "", f"XML Parse schema error: {message}",
                                            "")])

    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        # Entities are never expanded, but a request that declares them is refused outright.
        raise schema_error("DOCTYPE is not allowed in a request.")
    if root.tag != "request":
        raise schema_error(f"Element '{root.tag}': No matching global declaration available "
                           "for the validation root.")
    control = root.find("control")
    if control is None or control.find("senderid") is None or control.find("controlid") is None:
        raise schema_error("Element 'request': Missing child element(s). Expected is ( control ).")
    operations: list[Operation] = []
    for op_el in root.findall("operation"):
        auth = op_el.find("authentication")
        if auth is None:
            raise schema_error("Element 'operation': Missing child element(s). "
                               "Expected is ( authentication ).")
        login_el = auth.find("login")
        login = None
        if login_el is not None:
            loc = login_el.find("locationid")
            login = {
                "userid": _text(login_el.find("userid")),
                "companyid": _text(login_el.find("companyid")),
                "password": _text(login_el.find("password")),
                "locationid": None if loc is None else (loc.text or ""),
            }
        session = auth.find("sessionid")
        if login is None and session is None:
            raise schema_error("Element 'authentication': Missing child element(s). "
                               "Expected is one of ( login, sessionid ).")
        op = Operation(transaction=op_el.get("transaction", "false").lower() == "true",
                       login=login, sessionid=None if session is None else _text(session))
        for content in op_el.findall("content"):
            for fn in content.findall("function"):
                children = [c for c in fn if isinstance(c.tag, str)]
                if len(children) != 1:
                    raise schema_error("Element 'function': expected exactly one child.")
                if not fn.get("controlid"):
                    raise schema_error("Element 'function': The attribute 'controlid' is "
                                       "required but missing.")
                op.functions.append(FunctionCall(fn.get("controlid", ""), children[0].tag,
                                                 children[0]))
        operations.append(op)
    if not operations:
        raise schema_error("Element 'request': Missing child element(s). Expected is "
                           "( operation ).")
    iw = _text(control.find("includewhitespace")).strip().lower()
    uniqueid_el = control.find("uniqueid")
    return Request(
        senderid=_text(control.find("senderid")), password=_text(control.find("password")),
        controlid=_text(control.find("controlid")),
        uniqueid="true" if uniqueid_el is None else _text(uniqueid_el),
        dtdversion=_text(control.find("dtdversion")) or "3.0",
        includewhitespace=iw != "false", operations=operations)


def echo_of(request: Request) -> ControlEcho:
    return ControlEcho(request.senderid, request.controlid, request.uniqueid,
                       request.dtdversion, request.includewhitespace)


class XmlOut:
    """Minimal indenting writer; ``pretty=False`` gives compact XML (includewhitespace=false)."""

    def __init__(self, pretty: bool = True) -> None:
        self.pretty = pretty
        self.parts: list[str] = ['<?xml version="1.0" encoding="UTF-8"?>']
        self.depth = 0

    def _nl(self) -> str:
        return "\n" + "    " * self.depth if self.pretty else ""

    @property
    def indent(self) -> str | None:
        return "    " * self.depth if self.pretty else None

    def open(self, tag: str, attrs: dict[str, str] | None = None) -> None:
        attr = "".join(f' {k}="{xml_attr(v)}"' for k, v in (attrs or {}).items())
        self.parts.append(f"{self._nl()}<{tag}{attr}>")
        self.depth += 1

    def close(self, tag: str) -> None:
        self.depth -= 1
        self.parts.append(f"{self._nl()}</{tag}>")

    def leaf(self, tag: str, text: str = "", attrs: dict[str, str] | None = None,
             empty_short: bool = False) -> None:
        attr = "".join(f' {k}="{xml_attr(v)}"' for k, v in (attrs or {}).items())
        if empty_short and not text:
            self.parts.append(f"{self._nl()}<{tag}{attr}/>")
        else:
            self.parts.append(f"{self._nl()}<{tag}{attr}>{xml_text(text)}</{tag}>")

    def raw(self, text: str) -> None:
        self.parts.append(text)

    def text(self) -> str:
        if self.pretty:
            self.parts.append("\n")
        return "".join(self.parts)


def write_control(out: XmlOut, status: str, echo: ControlEcho | None) -> None:
    out.open("control")
    out.leaf("status", status)
    if echo is not None:
        out.leaf("senderid", echo.senderid)
        out.leaf("controlid", echo.controlid)
        out.leaf("uniqueid", echo.uniqueid)
        out.leaf("dtdversion", echo.dtdversion)
    out.close("control")


def write_errors(out: XmlOut, errors: list[IntacctError], bare: bool = False) -> None:
    out.open("errormessage")
    for err in errors:
        out.open("error")
        out.leaf("errorno", err.errorno)
        out.leaf("description", err.description)
        if not bare:
            out.leaf("description2", err.description2)
            out.leaf("correction", err.correction)
        out.close("error")
    out.close("errormessage")


def control_failure_xml(errors: list[IntacctError], echo: ControlEcho) -> str:
    """F05/F06: control status failure, errormessage directly under response."""
    out = XmlOut(echo.pretty)
    out.open("response")
    write_control(out, "failure", echo)
    write_errors(out, errors)
    out.close("response")
    return out.text()


def gateway_error_xml(errorno: str, description: str) -> str:
    """F10 / GW-0011 shape: bare control (status only), error without description2."""
    out = XmlOut(True)
    out.open("response")
    write_control(out, "failure", None)
    write_errors(out, [IntacctError(errorno, description)], bare=True)
    out.close("response")
    return out.text()
