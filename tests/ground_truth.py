"""Read the sandbox's own ground truth (`/_sandbox/…` JSON), never the hook's view of it."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request


def sandbox_get(server, path: str, **params) -> dict:
    url = f"{server.base_url}/_sandbox/{path}?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - loopback
        return json.load(response)


def sandbox_post(server, path: str, body: dict) -> dict:
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"{server.base_url}/_sandbox/{path}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        return json.load(response)


def all_records(server, **params) -> list[dict]:
    """Every record of an object from the sandbox's dump, page by page."""
    from include.localenv.demo import sandbox_records

    return sandbox_records(server.base_url, **params)
