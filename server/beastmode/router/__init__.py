"""The model router: resolve references, fall back along a chain, cool down failing models.

Names are loaded on first use (PEP 562), so importing a light part such as `router.refs` or
`router.chains` does not pull in httpx: the language server answers `initialize` sooner.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from beastmode.router.catalog import ModelCatalog, ModelInfo
    from beastmode.router.chains import TASKS, build_chain
    from beastmode.router.refs import ModelRef, parse_ref
    from beastmode.router.router import RoutedResult, RoutedStream, Router, TestResult
    from beastmode.router.timeouts import Timeouts

_HOMES = {
    "ModelCatalog": "catalog",
    "ModelInfo": "catalog",
    "TASKS": "chains",
    "build_chain": "chains",
    "ModelRef": "refs",
    "parse_ref": "refs",
    "RoutedResult": "router",
    "RoutedStream": "router",
    "Router": "router",
    "TestResult": "router",
    "Timeouts": "timeouts",
}

__all__ = [
    "TASKS",
    "ModelCatalog",
    "ModelInfo",
    "ModelRef",
    "RoutedResult",
    "RoutedStream",
    "Router",
    "TestResult",
    "Timeouts",
    "build_chain",
    "parse_ref",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'beastmode.router' has no attribute {name!r}")
    return getattr(importlib.import_module(f"beastmode.router.{home}"), name)
