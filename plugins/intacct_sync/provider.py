"""Provider metadata: registers the ``intacct`` connection type ("Sage Intacct").

Airflow 3.3 reads connection types only from installed distributions with an
``apache_airflow_provider`` entry point (``pyproject.toml`` points it here); the connection
form comes from the declarative ``conn-fields`` and ``ui-field-behaviour`` below, without
importing the hook. Keep this module free of heavy imports.
"""

from __future__ import annotations

from typing import Any

DEFAULT_ENDPOINT = "https://api.intacct.com/ia/xml/xmlgw.phtml"


def _string(label: str, description: str, *, default: str | None = None,
            sensitive: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": ["string", "null"]}
    if default is not None:
        schema["default"] = default
    if sensitive:
        schema["format"] = "password"  # Airflow masks fields with this format
    return {"label": label, "description": description, "schema": schema}


def _integer(label: str, description: str, *, default: int, minimum: int,
             maximum: int) -> dict[str, Any]:
    return {"label": label, "description": description,
            "schema": {"type": ["integer", "null"], "default": default,
                       "minimum": minimum, "maximum": maximum}}


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "intacct-sync",
        "name": "Sage Intacct (intacct-sync)",
        "description": "Sage Intacct XML gateway hook used by the intacct-sync project.",
        "integrations": [{
            "integration-name": "Sage Intacct",
            "external-doc-url": "https://developer.intacct.com/web-services/",
            "tags": ["service"],
        }],
        "hooks": [{
            "integration-name": "Sage Intacct",
            "python-modules": ["intacct_sync.intacct.hook"],
        }],
        "connection-types": [{
            "hook-class-name": "intacct_sync.intacct.hook.IntacctHook",
            "connection-type": "intacct",
            "hook-name": "Sage Intacct",
            "ui-field-behaviour": {
                "hidden-fields": ["schema", "port", "extra"],
                "relabeling": {
                    "host": "Endpoint URL",
                    "login": "Sender ID",
                    "password": "Sender password",
                },
                "placeholders": {
                    "host": DEFAULT_ENDPOINT,
                    "login": "Web Services sender id (from your Sage Intacct partner)",
                    "password": "Web Services sender password",
                },
            },
            "conn-fields": {
                "company_id": _string(
                    "Company ID",
                    "The Intacct company id you sign in with (Company > Company information)."),
                "user_id": _string(
                    "User ID", "The dedicated web services user of the company."),
                "user_password": _string(
                    "User password", "Password of the web services user.", sensitive=True),
                "entity_id": _string(
                    "Entity ID (optional)",
                    "Multi-entity companies: the entity (location id) to work in; "
                    "empty for the top level."),
                "company_timezone": _string(
                    "Company time zone",
                    "IANA time zone of the company (e.g. America/Los_Angeles): Intacct "
                    "timestamps such as WHENMODIFIED carry no zone."),
                "page_size": _integer(
                    "Page size", "Records per read page (readByQuery max 1000).",
                    default=1000, minimum=1, maximum=2000),
                "max_concurrent_requests": _integer(
                    "Max concurrent requests",
                    "Requests in flight per company (Intacct's default allowance is 2); "
                    "size the intacct_api pool to match.",
                    default=2, minimum=1, maximum=50),
            },
        }],
    }
