"""Layering rules from DESIGN.md, checked by parsing every module's imports."""

from __future__ import annotations

import ast
from pathlib import Path

import beastmode

PACKAGE = Path(beastmode.__file__).parent


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def modules() -> list[tuple[str, set[str]]]:
    return [(str(p.relative_to(PACKAGE)), imports_of(p)) for p in sorted(PACKAGE.rglob("*.py"))]


def test_only_lsp_imports_pygls_or_lsprotocol() -> None:
    offenders = [
        name
        for name, imported in modules()
        if not name.startswith("lsp/")
        and any(i.split(".")[0] in ("pygls", "lsprotocol") for i in imported)
    ]
    assert offenders == []


def test_layers_point_one_way() -> None:
    forbidden = {
        "providers/": (
            "beastmode.router",
            "beastmode.registry",
            "beastmode.usage",
            "beastmode.lsp",
        ),
        "registry/": ("beastmode.router", "beastmode.providers", "beastmode.lsp"),
        "router/": ("beastmode.lsp", "beastmode.completion", "beastmode.generation"),
        "completion/": ("beastmode.lsp", "beastmode.registry", "httpx"),
        "generation/": ("beastmode.lsp", "beastmode.registry", "httpx"),
        "usage/": ("beastmode.lsp", "beastmode.router"),
    }
    offenders = [
        (name, i)
        for name, imported in modules()
        for prefix, banned in forbidden.items()
        if name.startswith(prefix)
        for i in imported
        if i.startswith(banned)
    ]
    assert offenders == []


def test_every_module_has_a_docstring() -> None:
    missing = [
        str(p) for p in PACKAGE.rglob("*.py") if ast.get_docstring(ast.parse(p.read_text())) is None
    ]
    assert missing == []
