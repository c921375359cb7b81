"""Read the sandbox's own ground truth (`/_sandbox/…` JSON), never the hook's view of it."""

from __future__ import annotations

from include.localenv import sandbox_api


def sandbox_get(server, path: str, **params) -> dict:
    return sandbox_api.get(server.base_url, path, **params)


def sandbox_post(server, path: str, body: dict) -> dict:
    return sandbox_api.post(server.base_url, path, body)


def all_records(server, **params) -> list[dict]:
    """Every record of an object from the sandbox's dump, page by page."""
    return sandbox_api.records(server.base_url, **params)
