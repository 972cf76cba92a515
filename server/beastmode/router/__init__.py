"""The model router: resolve references, fall back along a chain, cool down failing models."""

from beastmode.router.catalog import ModelCatalog, ModelInfo
from beastmode.router.chains import TASKS, build_chain
from beastmode.router.refs import ModelRef, parse_ref
from beastmode.router.router import RoutedResult, RoutedStream, Router, TestResult, Timeouts

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
