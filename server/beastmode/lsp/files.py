"""Workspace files as prompts see them: their current text and the name a prompt shows.

An open document's text is the editor's (unsaved edits included); any other file is read from
disk through the server's `WorkspaceGuard`, which refuses anything outside the workspace
folders, inside version-control data, not a regular file, or too large. A prompt names a file
inside the workspace by its path relative to the workspace root.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from beastmode.lsp.edits import FileText
from beastmode.lsp.server import uri_to_path

if TYPE_CHECKING:
    from beastmode.lsp.server import BeastModeServer


def file_text(ls: BeastModeServer, uri: str) -> FileText | None:
    """The text of `uri` as the editor has it (open document), else from disk, else None.

    Raises `PathRefusedError` when the guard refuses to read the file from disk.
    """
    document = ls.documents.get(uri)
    if document is not None:
        return FileText(uri, document.text, document.version)
    path = uri_to_path(uri)
    if path is None:
        return None
    text = ls.guard.read_text(path)
    return None if text is None else FileText(uri, text, None)


def shown_path(ls: BeastModeServer, uri: str) -> str:
    """How a prompt names a file: relative to the workspace when inside it."""
    path = uri_to_path(uri)
    if path is None:
        return uri
    if ls.workspace_root is not None and path.is_relative_to(ls.workspace_root):
        return path.relative_to(ls.workspace_root).as_posix()
    return str(path)
