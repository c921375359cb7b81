"""Intacct sandbox: a local Sage Intacct XML Web Services gateway with seeded AR data.

Start it with ``python -m include.intacct_sandbox --port PORT --seed N`` or in-process::

    from include.intacct_sandbox import SandboxServer

    with SandboxServer(seed=1, scale="tiny") as sandbox:
        post_xml(sandbox.url, ...)
"""

from .server import SandboxServer

__all__ = ["SandboxServer"]
