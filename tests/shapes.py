"""Hostile workspace shapes for tests: trees deeper than Python's recursion limit."""

from __future__ import annotations

import os
from pathlib import Path


def make_deep_tree(root: Path, levels: int, leaf: str = "bottom.py") -> Path:
    """`root/d/d/.../d` (`levels` deep) with a file at the bottom; made without recursion."""
    path = root
    path.mkdir(parents=True, exist_ok=True)
    for _ in range(levels):
        path = path / "d"
        path.mkdir()
    (path / leaf).write_text("x = 1\n")
    return path


def remove_deep_tree(root: Path) -> None:
    """Remove what `make_deep_tree` made (shutil.rmtree recurses, and would fail on it)."""
    deepest = root
    while (deepest / "d").is_dir():
        deepest = deepest / "d"
    for name in os.listdir(deepest):
        os.unlink(deepest / name)
    while deepest != root:
        deepest.rmdir()
        deepest = deepest.parent
