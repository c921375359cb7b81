"""The sandbox's ground-truth endpoints (`/_sandbox/…`, JSON) over HTTP, by base URL: what the
demo, the benchmarks and the tests read and switch, never through the hook."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from typing import Any


def _root(base_url: str, company: str | None) -> str:
    """The control API of one company (None: the sandbox's default company)."""
    if company is None:
        return f"{base_url}/_sandbox"
    return f"{base_url}/companies/{urllib.parse.quote(company, safe='')}/_sandbox"


def get(base_url: str, path: str, company: str | None = None, **params: Any) -> dict:
    url = f"{_root(base_url, company)}/{path}?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - loopback
        return json.load(response)


def post(base_url: str, path: str, body: dict, company: str | None = None) -> dict:
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"{_root(base_url, company)}/{path}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        return json.load(response)


def records(base_url: str, company: str | None = None, **params: Any) -> list[dict]:
    """Every record of an object from the sandbox's dump, page by page."""
    found: list[dict] = []
    while True:
        page = get(base_url, "records", company, **params, offset=len(found), limit=10000)
        found += page["records"]
        if len(found) >= page["total"] or not page["records"]:
            return found
