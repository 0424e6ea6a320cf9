"""The domain layer imports only the standard library (import-linter guards the rest)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[2] / "src" / "domain"


def _imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_domain_modules_import_only_stdlib_and_domain() -> None:
    files = sorted(DOMAIN.rglob("*.py"))
    assert files, "the domain package has modules"
    offenders = {
        f"{path.relative_to(DOMAIN)}: {root}"
        for path in files
        for root in _imported_roots(path)
        if root not in sys.stdlib_module_names and root not in {"domain", "__future__"}
    }
    assert offenders == set()
