"""Secrets: a canary API key through a whole session is found only where it belongs.

The key is registered through `beastmode.registerModel` for a model on one fake ("own"); a second
model on another fake ("other", another port: another host as far as the client can tell) has no
key. The session completes, refactors, chats, tests the model, fails in ways whose error bodies
echo the key back (401 text, a 500 quoting the Authorization header, an in-stream error, a
redirect to the other host), falls back, and reads usage and the model list, with the server
logging at DEBUG. Afterwards the key may appear in exactly one place: the `Authorization`
header of requests to its own endpoint. Not in anything the server sent the editor, not in its
log, not in any file under the test's directories (database, WAL, key file, workspace), and
never in any request to the other host.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from tests.conftest import CANARY_KEY, private_environ
from tests.fakes import FakeModelServer, Fault, Reply
from tests.hardening.client import LspProcess, unhandled_errors

# Any recognisable piece of the key counts as a leak, not only the whole of it.
CANARY_PIECES = [CANARY_KEY, CANARY_KEY[10:26], CANARY_KEY[-16:]]
FIM_ANSWER = "return a + b"
CHAT_ANSWER = "```python\ndef add(a, b):\n    return a + b\n```"
SOURCE = "def add(a, b):\n    return a - b\n\n"


def _leaks(data: bytes | str) -> list[str]:
    text = data.decode("latin-1") if isinstance(data, bytes) else data
    return [piece for piece in CANARY_PIECES if piece in text]


def _inline_on_new_document(server: LspProcess, name: str) -> dict[str, Any]:
    uri = f"file:///ws/{name}.py"
    server.open(uri, "def add(a, b):\n    ")
    return server.response(server.inline(uri, 1, 4), timeout=20)


def _request_bytes(request: Any) -> bytes:
    headers = "\n".join(f"{k}: {v}" for k, v in request.headers.items())
    return f"{request.method} {request.path}\n{headers}\n\n".encode() + request.body


def test_canary_key_appears_only_in_the_header_sent_to_its_own_endpoint(tmp_path: Path) -> None:
    env = private_environ(tmp_path / "home")
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "calc.py").write_text(SOURCE)
    settings = {
        "model": "custom:secret",
        "fallback": ["custom:other"],
        "inline": {"debounceMs": 0},
        "timeouts": {"completionMs": 3000, "generationMs": 5000},
    }
    with FakeModelServer() as own, FakeModelServer() as other:
        other.default_reply = Reply(text=FIM_ANSWER)
        echo = f"Incorrect API key provided: {CANARY_KEY}. You can find your API key at ..."
        own.script(
            Reply(text=FIM_ANSWER),  # inline: fine
            Reply(text=CHAT_ANSWER),  # refactor code action: fine
            Reply(text="Sure: the answer."),  # chat command: fine
            Reply(status=500, error_message=f"upstream saw 'Authorization: Bearer {CANARY_KEY}'"),
            Reply(text="x" * 40, fault=Fault.IN_BAND_ERROR, error_message=echo),
            Reply(status=307, headers={"Location": other.openai_completions_url}),
            Reply(status=401, error_message=echo),  # testModel: rejected, key echoed
        )
        command = (sys.executable, "-m", "beastmode", "--log-level", "DEBUG")
        server = LspProcess(env, workspace, command=command, configuration=settings)
        try:
            server.initialize(workspace, settings)
            registered = server.command(
                "beastmode.registerModel",
                {
                    "model_name": "Secret",
                    "model_id": "secret",
                    "endpoint_url": own.openai_chat_url,
                    "completions_url": own.openai_completions_url,
                    "api_key": CANARY_KEY,
                },
            )
            assert registered["result"]["has_api_key"] is True
            refused = server.command(
                "beastmode.registerModel",
                {
                    "model_name": "Bad",
                    "model_id": "Bad Id",
                    "endpoint_url": own.openai_chat_url,
                    "api_key": CANARY_KEY,
                },
            )
            assert refused["error"]["code"] == -32602
            server.command(
                "beastmode.registerModel",
                {
                    "model_name": "Other",
                    "model_id": "other",
                    "endpoint_url": other.openai_chat_url,
                    "completions_url": other.openai_completions_url,
                },
            )
            server.notify("workspace/didChangeConfiguration", {"settings": settings})

            first = _inline_on_new_document(server, "first")
            assert first["result"]["items"][0]["insertText"] == FIM_ANSWER

            uri = (workspace / "calc.py").as_uri()
            server.open(uri, SOURCE)
            offered = server.request(
                "textDocument/codeAction",
                {
                    "textDocument": {"uri": uri},
                    "range": {
                        "start": {"line": 0, "character": 0},
                        "end": {"line": 2, "character": 0},
                    },
                    "context": {"diagnostics": []},
                },
            )
            refactor = next(
                a for a in offered["result"] if a["title"] == "BEAST MODE: Refactor selection"
            )
            resolved = server.request("codeAction/resolve", refactor, timeout=20)
            assert "edit" in resolved["result"]

            chat = server.command(
                "beastmode.chat", {"sessionId": "s1", "message": "what does add do?"}
            )
            assert chat["result"]["model"] == "custom:secret"

            fell_back = _inline_on_new_document(server, "second")  # 500 quoting the header
            assert fell_back["result"]["items"][0]["insertText"] == FIM_ANSWER
            _inline_on_new_document(server, "third")  # in-stream error echoing the key
            _inline_on_new_document(server, "fourth")  # a redirect to the other host

            tested = server.command("beastmode.testModel", {"model": "custom:secret"})
            assert tested["result"]["ok"] is False
            assert "Invalid API key" in tested["result"]["error"]
            cooled = _inline_on_new_document(server, "fifth")  # the bad key: skipped, fall back
            assert cooled["result"]["items"][0]["insertText"] == FIM_ANSWER
            server.command("beastmode.usage", {})
            listed = server.command("beastmode.listModels", {})
            assert {m["model_id"] for m in listed["result"]["models"]} == {"secret", "other"}
            assert unhandled_errors(server.stderr) == []
        finally:
            assert server.close() == 0

        own_requests = own.requests
        other_requests = other.requests

    assert len(own_requests) == 7
    for request in own_requests:
        assert request.headers["authorization"] == f"Bearer {CANARY_KEY}"
        without_header = {k: v for k, v in request.headers.items() if k != "authorization"}
        assert _leaks(json.dumps(without_header)) == []
        assert _leaks(request.path) == [] and _leaks(request.body) == []
    assert other_requests, "the fallback model was never used"
    for request in other_requests:
        assert "authorization" not in request.headers
        assert _leaks(_request_bytes(request)) == []

    sent_to_editor = json.dumps(server.received)
    assert _leaks(sent_to_editor) == []
    assert "[redacted]" in sent_to_editor  # the echoed key was there, and was caught
    assert _leaks(server.stderr) == []
    leaking_files = [
        str(path) for path in tmp_path.rglob("*") if path.is_file() and _leaks(path.read_bytes())
    ]
    assert leaking_files == []
