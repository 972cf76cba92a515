"""The server starts, answers every request (malformed ones with InvalidParams), logs to stderr."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.e2e.conftest import StartClient
from tests.e2e.rawclient import RawClient
from tests.fakes import closed_port


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


def test_tcp_mode_serves_the_same_protocol(server_env: dict[str, str], workspace: Path) -> None:
    port = closed_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "beastmode", "--tcp", f"127.0.0.1:{port}"],
        env=server_env,
        cwd=workspace,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(100):
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=5)
                break
            except ConnectionRefusedError:
                time.sleep(0.05)
        else:
            raise AssertionError("the server never listened")
        body = json.dumps(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {"processId": None, "rootUri": None, "capabilities": {}},
            }
        ).encode()
        sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        received = b""
        while b"serverInfo" not in received:
            chunk = sock.recv(65536)
            assert chunk, received
            received += chunk
        assert b'"name": "beastmode"' in received or b'"name":"beastmode"' in received
        sock.close()
    finally:
        process.kill()
        stdout, _ = process.communicate(timeout=10)
    assert stdout == b""  # stdout is never used for logs
