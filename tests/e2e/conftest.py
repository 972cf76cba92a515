"""pytest-lsp fixtures: the real `python -m beastmode` over stdio, with a private home.

`client` is a started, initialized client with VS Code-like capabilities (inline completion
declared); tests that need other capabilities or settings use `start_client` directly.
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient
from pytest_lsp.client import make_test_lsp_client

from beastmode.registry import Registry
from tests.fakes import FakeModelServer

StartClient = Callable[..., Coroutine[Any, Any, LanguageClient]]

VSCODE_LIKE = types.ClientCapabilities(
    workspace=types.WorkspaceClientCapabilities(
        configuration=True,
        apply_edit=True,
        workspace_folders=True,
        did_change_configuration=types.DidChangeConfigurationClientCapabilities(
            dynamic_registration=True
        ),
        execute_command=types.ExecuteCommandClientCapabilities(),
        workspace_edit=types.WorkspaceEditClientCapabilities(
            document_changes=True,
            resource_operations=[types.ResourceOperationKind.Create],
        ),
    ),
    text_document=types.TextDocumentClientCapabilities(
        synchronization=types.TextDocumentSyncClientCapabilities(),
        inline_completion=types.InlineCompletionClientCapabilities(),
        completion=types.CompletionClientCapabilities(
            completion_item=types.ClientCompletionItemOptions(snippet_support=True)
        ),
        code_action=types.CodeActionClientCapabilities(
            code_action_literal_support=types.ClientCodeActionLiteralOptions(
                code_action_kind=types.ClientCodeActionKindOptions(
                    value_set=[
                        types.CodeActionKind.QuickFix,
                        types.CodeActionKind.RefactorRewrite,
                        types.CodeActionKind.Source,
                        "source.generateTests",
                    ]
                )
            ),
            resolve_support=types.ClientCodeActionResolveOptions(properties=["edit"]),
            data_support=True,
        ),
    ),
    window=types.WindowClientCapabilities(
        work_done_progress=True, show_message=types.ShowMessageRequestClientCapabilities()
    ),
)

NEOVIM_LIKE = types.ClientCapabilities(
    workspace=types.WorkspaceClientCapabilities(
        configuration=True, apply_edit=True, workspace_folders=True
    ),
    text_document=types.TextDocumentClientCapabilities(
        synchronization=types.TextDocumentSyncClientCapabilities(),
        completion=types.CompletionClientCapabilities(
            completion_item=types.ClientCompletionItemOptions(snippet_support=False)
        ),
        code_action=types.CodeActionClientCapabilities(
            code_action_literal_support=types.ClientCodeActionLiteralOptions(
                code_action_kind=types.ClientCodeActionKindOptions(
                    value_set=["", "quickfix", "refactor", "source"]
                )
            ),
        ),
    ),
    window=types.WindowClientCapabilities(work_done_progress=True),
)


@pytest.fixture
def home_registry(server_env: dict[str, str]) -> Registry:
    """The registry the server process will use (write to it before starting the client)."""
    return Registry.open(server_env)


@pytest.fixture
async def start_client(server_env: dict[str, str], workspace: Path) -> AsyncIterator[StartClient]:
    """Start `python -m beastmode` and initialize it with given capabilities and settings."""
    clients: list[LanguageClient] = []

    async def start(
        *,
        settings: dict[str, Any] | None = None,
        capabilities: types.ClientCapabilities = VSCODE_LIKE,
        configuration: dict[str, Any] | None = None,
    ) -> LanguageClient:
        client = make_test_lsp_client()
        await client.start_io(sys.executable, "-m", "beastmode", env=server_env, cwd=str(workspace))
        client.set_configuration(configuration or {}, section="beastmode")

        @client.feature(types.WORKSPACE_APPLY_EDIT)
        def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
            client.applied_edits.append(params.edit)  # type: ignore[attr-defined]
            return types.ApplyWorkspaceEditResult(applied=True)

        client.applied_edits = []  # type: ignore[attr-defined]
        client.init_result = await client.initialize_session(  # type: ignore[attr-defined]
            types.InitializeParams(
                capabilities=capabilities,
                root_uri=workspace.as_uri(),
                workspace_folders=[types.WorkspaceFolder(uri=workspace.as_uri(), name="workspace")],
                initialization_options=settings or {},
            )
        )
        clients.append(client)
        return client

    yield start
    for client in clients:
        try:
            await client.shutdown_session()
        except Exception:
            await client.stop()


@pytest.fixture
async def client(start_client: StartClient) -> LanguageClient:
    """A started server with VS Code-like capabilities and default settings."""
    return await start_client()


def open_document(client: LanguageClient, uri: str, text: str, language: str = "python") -> None:
    """Send didOpen."""
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id=language, version=1, text=text
            )
        )
    )


__all__ = ["NEOVIM_LIKE", "VSCODE_LIKE", "FakeModelServer", "open_document", "os"]
