"""Read the sandbox's own ground truth (`/_sandbox/…` JSON), never the hook's view of it."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request


def sandbox_get(server, path: str, **params) -> dict:
    url = f"{server.base_url}/_sandbox/{path}?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - loopback
        return json.load(response)
