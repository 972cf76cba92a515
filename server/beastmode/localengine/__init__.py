"""The `local` model: an offline, statistical rest-of-line completion engine.

It learns from the documents the editor sends and from the workspace's source files
(`scan_workspace`, the only part that reads files), and proposes the rest of the current line
only when confident. No endpoint, no key, no download. See `engine.py` for the memory bound.
"""

from beastmode.localengine.decode import DecodeParams
from beastmode.localengine.engine import DEFAULT_MAX_ENTRIES, EngineStats, LocalEngine, Suggestion
from beastmode.localengine.workspace import ScanResult, scan_workspace

__all__ = [
    "DEFAULT_MAX_ENTRIES",
    "DecodeParams",
    "EngineStats",
    "LocalEngine",
    "ScanResult",
    "Suggestion",
    "scan_workspace",
]
