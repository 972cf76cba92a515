"""Code actions: refactor, generate tests, add documentation, fix with AI (resolved lazily)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from beastmode.lsp.server import BeastModeServer


def register(server: BeastModeServer) -> None:
    """Register the code action handlers on `server`."""
