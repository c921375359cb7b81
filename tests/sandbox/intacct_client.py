"""A tiny, independent Intacct XML client for the sandbox tests (no code shared with plugins/)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from xml.sax.saxutils import escape

from lxml import etree

SENDER = ("intacct_sync_sandbox", "sandbox-sender-secret")
USER = ("ws_sync", "SANDBOX-AR", "sandbox-user-secret")
SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


@dataclass
class Answer:
    status: int
    headers: dict
    body: bytes

    @property
    def xml(self) -> etree._Element:
        return etree.fromstring(self.body, SAFE_PARSER)

    def results(self) -> list[etree._Element]:
        return self.xml.findall("operation/result")

    def result(self, i: int = 0) -> etree._Element:
        return self.results()[i]


def post(url: str, body: str | bytes, headers: dict | None = None) -> Answer:
    data = body.encode("utf-8") if isinstance(body, str) else body
    req = urllib.request.Request(url, data=data, method="POST",  # noqa: S310
                                 headers={"Content-Type": "application/xml", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 - local sandbox
            return Answer(resp.status, dict(resp.headers), resp.read())
    except urllib.error.HTTPError as err:
        return Answer(err.code, dict(err.headers), err.read())


def login_xml(user: tuple[str, str, str] = USER, locationid: str | None = None) -> str:
    loc = "" if locationid is None else f"<locationid>{locationid}</locationid>"
    return (f"<login><userid>{user[0]}</userid><companyid>{user[1]}</companyid>"
            f"<password>{user[2]}</password>{loc}</login>")


def envelope(functions: str, *, auth: str | None = None, sender: tuple[str, str] = SENDER,
             controlid: str = "req-1", uniqueid: str = "false", transaction: bool = False,
             whitespace: bool = True, session: str | None = None) -> str:
    if auth is None:
        auth = f"<sessionid>{session}</sessionid>" if session else login_xml()
    ws = "" if whitespace else "<includewhitespace>false</includewhitespace>"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<request><control><senderid>{sender[0]}</senderid><password>{sender[1]}</password>"
        f"<controlid>{controlid}</controlid><uniqueid>{uniqueid}</uniqueid>"
        f"<dtdversion>3.0</dtdversion>{ws}</control>"
        f'<operation transaction="{"true" if transaction else "false"}">'
        f"<authentication>{auth}</authentication><content>{functions}</content>"
        "</operation></request>")


def fn(body: str, controlid: str = "f1") -> str:
    return f'<function controlid="{escape(controlid)}">{body}</function>'


def read_by_query(obj: str, query: str = "", fields: str = "*", pagesize: int = 100,
                  docparid: str | None = None) -> str:
    doc = f"<docparid>{docparid}</docparid>" if docparid else ""
    return (f"<readByQuery><object>{obj}</object><fields>{fields}</fields>"
            f"<query>{escape(query)}</query><pagesize>{pagesize}</pagesize>{doc}</readByQuery>")


def records(data: etree._Element) -> list[dict]:
    """Record elements of a ``<data>`` as dicts of their leaf children."""
    out = []
    for rec in data:
        out.append({c.tag: (c.text or "") for c in rec if len(c) == 0})
    return out


def sandbox_json(base_url: str, path: str, payload: dict | None = None) -> dict:
    data = None if payload is None else json.dumps(payload).encode()
    req = urllib.request.Request(base_url + path, data=data, method="POST" if data else "GET",  # noqa: S310
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:  # noqa: S310
        return json.loads(resp.read())
