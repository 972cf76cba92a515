"""Workspace commands (`workspace/executeCommand`) from DESIGN.md's table."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from beastmode.lsp.server import BeastModeServer


def register(server: BeastModeServer) -> None:
    """Register the workspace command handlers on `server`."""
