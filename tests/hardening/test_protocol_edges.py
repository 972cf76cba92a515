"""Pinned answers to the malformed messages the fuzzer found mishandled (fixed in lsp/protocol.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.hardening.client import LspProcess, unhandled_errors
from tests.hardening.conftest import StartServer

DOC = {"uri": "file:///ws/a.py", "languageId": "python", "version": 1, "text": "x = '😀'\n"}

# (message without a framing problem, the error code of its answer or None for a null result)
ANSWERED: list[tuple[str, dict[str, Any], int | None]] = [
    ("missing jsonrpc", {"id": "edge-1", "method": "textDocument/hover", "params": {}}, -32600),
    ("jsonrpc 1.0", {"jsonrpc": "1.0", "id": "edge-2", "method": "x", "params": {}}, -32600),
    ("method not a string", {"jsonrpc": "2.0", "id": "edge-3", "method": 12}, -32600),
    ("unknown method without params", {"jsonrpc": "2.0", "id": "edge-4", "method": "x/y"}, -32601),
    (
        "didOpen carrying an id",
        {
            "jsonrpc": "2.0",
            "id": "edge-5",
            "method": "textDocument/didOpen",
            "params": {"textDocument": DOC},
        },
        None,
    ),
    (
        "didChange to an unopened document, carrying an id",
        {
            "jsonrpc": "2.0",
            "id": "edge-6",
            "method": "textDocument/didChange",
            "params": {
                "textDocument": {"uri": "file:///ws/never.py", "version": 2},
                "contentChanges": [{"text": "y"}],
            },
        },
        None,
    ),
    (
        "inline completion with params of the wrong type",
        {
            "jsonrpc": "2.0",
            "id": "edge-7",
            "method": "textDocument/inlineCompletion",
            "params": [1],
        },
        -32602,
    ),
]


def _error_popups(server: LspProcess) -> list[str]:
    return [p["message"] for p in server.notifications("window/showMessage") if p["type"] == 1]


@pytest.fixture
def server(start_server: StartServer) -> LspProcess:
    """A started server."""
    return start_server({"inline": {"debounceMs": 0}})


@pytest.mark.parametrize(
    ("message", "code"), [(m, c) for _, m, c in ANSWERED], ids=[n for n, _, _ in ANSWERED]
)
def test_malformed_request_is_answered(
    server: LspProcess, message: dict[str, Any], code: int | None
) -> None:
    server.send(message, jsonrpc=False)
    answer = server.response(message["id"])
    if code is None:
        assert answer["result"] is None
    else:
        assert answer["error"]["code"] == code
    assert unhandled_errors(server.stderr) == []


def test_batch_requests_are_refused_one_by_one(server: LspProcess) -> None:
    batch = [{"jsonrpc": "2.0", "id": "b1", "method": "x"}, {"jsonrpc": "2.0", "method": "y"}]
    server.send_bytes(json.dumps(batch).encode())
    assert server.response("b1")["error"]["code"] == -32600
    assert unhandled_errors(server.stderr) == []


@pytest.mark.parametrize(
    "params",
    [{"id": {"a": 1}}, {"id": [1]}, {}, None],
    ids=["object id", "list id", "no id", "no params"],
)
def test_cancel_naming_no_request_is_ignored_quietly(
    server: LspProcess, params: dict[str, Any] | None
) -> None:
    server.notify("$/cancelRequest", params)
    server.notify("window/workDoneProgress/cancel", {"token": params})
    assert "error" in server.request("x/barrier")
    assert _error_popups(server) == []
    assert unhandled_errors(server.stderr) == []


def test_message_inside_settings_is_not_run_as_a_message(server: LspProcess) -> None:
    nested = {"jsonrpc": "2.0", "id": "inner", "method": "shutdown"}
    server.notify("workspace/didChangeConfiguration", {"settings": {"beastmode": nested}})
    assert "error" in server.request("x/barrier")
    assert not any(m.get("id") == "inner" for m in server.received)
    server.open(DOC["uri"], DOC["text"])
    answer = server.response(server.inline(DOC["uri"], 0, 6))  # inside the surrogate pair
    assert "result" in answer  # not shut down


def test_expected_request_failure_is_logged_without_traceback(
    server: LspProcess, workspace: Path
) -> None:
    answer = server.command("beastmode.setDefaultModel", {"model": "custom:ghost"})
    assert answer["error"]["code"] == -32602, answer
    assert "Traceback" not in server.stderr


@pytest.mark.parametrize("body", [b'{"jsonrpc":"2.0","method":"x","params":"\xff"}', b"{oops"])
def test_unparseable_body_gives_no_popup(server: LspProcess, body: bytes) -> None:
    server.send_bytes(body)
    assert "error" in server.request("x/barrier")
    assert server.alive()
    assert _error_popups(server) == []
