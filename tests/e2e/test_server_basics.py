"""The server starts, answers every request (malformed ones with InvalidParams), logs to stderr."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.conftest import StartClient
from tests.e2e.rawclient import RawClient


async def test_initialize_advertises_inline_completion_and_code_actions(
    client: LanguageClient,
) -> None:
    capabilities = client.init_result.capabilities  # type: ignore[attr-defined]
    assert capabilities.inline_completion_provider is not None
    assert capabilities.text_document_sync.change == types.TextDocumentSyncKind.Incremental


MALFORMED = [
    {"method": "textDocument/inlineCompletion", "params": None},
    {"method": "textDocument/inlineCompletion", "params": {"textDocument": {"uri": 5}}},
    {"method": "textDocument/codeAction", "params": {"textDocument": {"uri": "file:///x.py"}}},
    {"method": "textDocument/completion", "params": {"position": "here"}},
]


def test_malformed_requests_get_invalid_params_and_the_server_lives_on(
    server_env: dict[str, str], workspace: Path
) -> None:
    raw = RawClient(server_env, workspace)
    try:
        raw.initialize(workspace)
        for number, message in enumerate(MALFORMED):
            raw.send({"id": number, **message})
            assert raw.response(number)["error"]["code"] == -32602, message
        raw.send({"id": "unknown", "method": "beastmode/noSuchMethod", "params": {}})
        assert raw.response("unknown")["error"]["code"] == -32601
        raw.send_bytes(b"{not json")
        raw.send(
            {
                "method": "textDocument/didOpen",
                "params": {
                    "textDocument": {
                        "uri": "file:///w/a.py",
                        "languageId": "python",
                        "version": 1,
                        "text": "import os\n",
                    }
                },
            }
        )
        raw.send(
            {
                "id": "ok",
                "method": "textDocument/inlineCompletion",
                "params": {
                    "textDocument": {"uri": "file:///w/a.py"},
                    "position": {"line": 1, "character": 0},
                    "context": {"triggerKind": 1},
                },
            }
        )
        assert "result" in raw.response("ok")
    finally:
        raw.close()
    assert raw.process.returncode == 0


async def test_bad_settings_give_a_message_and_defaults(start_client: StartClient) -> None:
    client = await start_client(
        settings={"inline": {"debounceMs": "fast"}, "model": "custom:not-registered"}
    )
    wanted = (
        "beastmode.inline.debounceMs is invalid",
        "custom:not-registered, which is not registered",
    )
    for _ in range(100):
        messages = [m.message for m in client.messages]
        if all(any(w in m for m in messages) for w in wanted):
            break
        await asyncio.sleep(0.05)
    for fragment in wanted:
        assert any(fragment in m for m in messages), messages
    # Defaults replaced the bad value, and the server still answers.
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="beastmode.listModels", arguments=[{}])
    )
    assert result["models"] == []
