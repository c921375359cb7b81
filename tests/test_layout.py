"""The layout's rules, checked: what ships never leans on what exists for tests and the demo.

The product is the package plugins/intacct_sync; include/ holds the development-only tools
(the Intacct sandbox and the local environment). A product import of include/ would make a
deployment depend on test code; a sandbox import of the product would let one bug sit on both
sides of the wire and pass every test.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ROOT / "plugins" / "intacct_sync"
SANDBOX = ROOT / "include" / "intacct_sandbox"
MAX_LINES = 500
# A module over MAX_LINES says why in its docstring with this phrase.
OVER_REASON = "Over 500 lines because"


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth (function-level imports included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def offenders(folder: Path, forbidden: str) -> dict[str, set[str]]:
    bad: dict[str, set[str]] = {}
    for path in sorted(folder.rglob("*.py")):
        hits = {m for m in imported_modules(path) if m.split(".")[0] == forbidden}
        if hits:
            bad[str(path.relative_to(ROOT))] = hits
    return bad


def test_the_product_never_imports_the_development_tools() -> None:
    assert offenders(PRODUCT, "include") == {}


def test_the_sandbox_shares_no_code_with_the_product() -> None:
    assert offenders(SANDBOX, "intacct_sync") == {}


def test_include_holds_only_the_development_tools() -> None:
    """New product code belongs in the package; include/ is for tests and the demo."""
    entries = {p.name for p in (ROOT / "include").iterdir() if p.name != "__pycache__"}
    assert entries <= {"__init__.py", "README.md", "intacct_sandbox", "localenv"}


def test_dag_files_only_call_the_factory() -> None:
    """dags/ stays thin: each file imports the factory and nothing else of the product."""
    for path in sorted((ROOT / "dags").glob("*.py")):
        product = {m for m in imported_modules(path) if m.startswith("intacct_sync")}
        assert product <= {"intacct_sync.dag_factory"}, (path.name, product)
        # Airflow's safe mode skips a file that does not mention both "airflow" and "dag".
        text = path.read_text(encoding="utf-8").lower()
        assert "airflow" in text and "dag" in text, path.name


def test_no_product_module_is_long_without_saying_why() -> None:
    long = {}
    for path in sorted(PRODUCT.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        lines = text.count("\n")
        docstring = ast.get_docstring(ast.parse(text)) or ""
        if lines > MAX_LINES and OVER_REASON not in docstring:
            long[str(path.relative_to(ROOT))] = lines
    assert long == {}
