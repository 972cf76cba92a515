"""The language server process against LiteLLM's proxy: inline FIM, fall-through, chat, errors."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import FakeModelServer, Reply
from tests.hardening.client import LspProcess, unhandled_errors
from tests.interop.conftest import (
    BACKUP_TEXT,
    CHAT_TEXT,
    FIM_TEXT,
    GATEWAY_KEY,
    UPSTREAM_KEY,
    WRONG_KEY,
    rows_for,
)

StartServer = Callable[[dict[str, Any]], LspProcess]
REQUEST_FAILED = -32803
# Generous: the whole chain may wait on a busy machine without the local engine being cut off.
COMPLETION_MS = 20_000
COOLDOWN_WINDOW_SECONDS = 30.0
FIM_SOURCE = "def add(a, b):\n    \n\nprint(add(1, 2))\n"
# The local engine continues a line it has seen three times: `print(os.path.jo` -> `in(...`.
LOCAL_SOURCE = "import os\n\n" + "print(os.path.join('a', 'b'))\n" * 3 + "print(os.path.jo"


@pytest.fixture
def start_server(gateway_home: dict[str, str], workspace: Path) -> Iterator[StartServer]:
    """Start initialized servers with given settings; each is shut down after the test."""
    started: list[LspProcess] = []

    def start(settings: dict[str, Any]) -> LspProcess:
        server = LspProcess(gateway_home, workspace, configuration=settings)
        started.append(server)
        server.initialize(workspace, settings)
        return server

    yield start
    for server in started:
        server.close()
        assert not unhandled_errors(server.stderr), server.stderr


def completion_settings(model: str) -> dict[str, Any]:
    return {
        "model": model,
        "inline": {"debounceMs": 0},
        "timeouts": {"completionMs": COMPLETION_MS},
    }


def inline_text(server: LspProcess, uri: str, line: int, character: int) -> str | None:
    """Ask for an inline suggestion (invoked) and return its text, or None for no item."""
    answer = server.response(server.inline(uri, line, character), timeout=60)
    assert "result" in answer, answer
    items = answer["result"]["items"]
    return str(items[0]["insertText"]) if items else None


def flushed_rows(
    server: LspProcess, environ: dict[str, str], model_ref: str
) -> list[dict[str, Any]]:
    """The usage rows of one model once the server has written everything it queued."""
    assert "result" in server.command("beastmode.usage", {})
    return rows_for(environ, model_ref)


def test_inline_fim_through_completions_url(
    start_server: StartServer, gateway_home: dict[str, str], workspace: Path
) -> None:
    server = start_server(completion_settings("custom:gw-fim"))
    uri = (workspace / "calc.py").as_uri()
    server.open(uri, FIM_SOURCE)
    assert inline_text(server, uri, 1, 4) == FIM_TEXT
    [row] = flushed_rows(server, gateway_home, "custom:gw-fim")
    assert (row["task"], row["model_kind"], row["outcome"]) == ("completion", "custom", "ok")


def test_inline_from_an_anthropic_model_through_the_gateway(
    start_server: StartServer, gateway_home: dict[str, str], workspace: Path
) -> None:
    server = start_server(completion_settings("custom:gw-claude-fill"))
    uri = (workspace / "calc.py").as_uri()
    server.open(uri, FIM_SOURCE)
    assert inline_text(server, uri, 1, 4) == FIM_TEXT
    [row] = flushed_rows(server, gateway_home, "custom:gw-claude-fill")
    assert (row["task"], row["model_kind"], row["outcome"]) == ("completion", "custom", "ok")


def test_inline_suffix_reaches_the_upstream_through_the_gateway(
    start_server: StartServer, upstream: FakeModelServer, workspace: Path
) -> None:
    upstream.default_reply = Reply(text="return a + b\n\nprint(add(1, 2))")
    server = start_server(completion_settings("custom:gw-fim-upstream"))
    uri = (workspace / "calc.py").as_uri()
    server.open(uri, FIM_SOURCE)
    assert inline_text(server, uri, 1, 4) == "return a + b"
    [request] = upstream.requests
    assert (request.path, request.json["model"]) == ("/v1/completions", "upstream-fim")
    assert request.json["prompt"].endswith("def add(a, b):\n    ")
    assert request.json["suffix"].startswith("\n\nprint(add(1, 2))")
    assert request.headers["authorization"] == f"Bearer {UPSTREAM_KEY}"  # the gateway's own key


@pytest.mark.parametrize(
    ("model", "status"),
    [
        ("custom:gw-429", 429),
        ("custom:gw-500", 500),
        ("custom:gw-529", 529),
        ("custom:gw-fim-broken", 404),
        ("custom:gw-wrong-key", 400),
        ("custom:gw-unknown", 400),
    ],
)
def test_inline_falls_through_to_local_on_any_gateway_failure(
    start_server: StartServer,
    gateway_home: dict[str, str],
    workspace: Path,
    model: str,
    status: int,
) -> None:
    (workspace / "paths.py").write_text(LOCAL_SOURCE + "in('c', 'd'))\n")
    server = start_server(completion_settings(model))
    uri = (workspace / "dead.py").as_uri()
    server.open(uri, LOCAL_SOURCE)
    time.sleep(1.5)  # the local engine learns the open document once typing pauses
    text = inline_text(server, uri, 5, 16)
    failed = flushed_rows(server, gateway_home, model)
    answered = rows_for(gateway_home, "local")
    assert [(row["outcome"], row["http_status"]) for row in failed] == [("error", status)]
    assert [row["outcome"] for row in answered] == ["ok"], f"local was not asked after {model}"
    assert answered[0]["request_id"] == failed[0]["request_id"]
    assert text is not None and text.startswith("in(")


@pytest.mark.parametrize("model", ["custom:gw-unknown", "custom:gw-wrong-key"])
def test_a_model_failing_with_the_same_400_is_called_at_most_twice_per_cooldown_while_typing(
    start_server: StartServer, gateway_home: dict[str, str], workspace: Path, model: str
) -> None:
    server = start_server(completion_settings(model))
    uri = (workspace / "typing.py").as_uri()
    server.open(uri, "total = ")
    started = time.monotonic()
    for version, char in enumerate("price_sum1", start=2):
        column = len("total = ") + version - 2
        server.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [
                    {
                        "range": {
                            "start": {"line": 0, "character": column},
                            "end": {"line": 0, "character": column},
                        },
                        "text": char,
                    }
                ],
            },
        )
        answer = server.response(server.inline(uri, 0, column + 1, invoked=False), timeout=60)
        assert "result" in answer, answer
    windows = 1 + int((time.monotonic() - started) // COOLDOWN_WINDOW_SECONDS)
    calls = flushed_rows(server, gateway_home, model)
    assert calls and all(row["http_status"] == 400 for row in calls)
    assert len(calls) <= 2 * windows, f"{len(calls)} calls to a model failing with HTTP 400"


def test_chat_command_answers_and_falls_back_through_the_gateway(
    start_server: StartServer, gateway_home: dict[str, str]
) -> None:
    server = start_server({"fallback": ["custom:gw-backup"]})
    answered = server.command(
        "beastmode.chat", {"sessionId": "s1", "message": "Say hello", "model": "custom:gw-chat"}
    )
    assert answered["result"]["reply"] == CHAT_TEXT
    assert answered["result"]["model"] == "custom:gw-chat"
    fell_back = server.command(
        "beastmode.chat", {"sessionId": "s2", "message": "Say hello", "model": "custom:gw-500"}
    )
    assert fell_back["result"]["reply"] == BACKUP_TEXT
    assert fell_back["result"]["model"] == "custom:gw-backup"
    [failed] = flushed_rows(server, gateway_home, "custom:gw-500")
    assert (failed["task"], failed["http_status"], failed["error_kind"]) == (
        "chat",
        500,
        "server_error",
    )


@pytest.mark.parametrize(
    ("command", "arguments", "litellm_says"),
    [
        (
            "beastmode.chat",
            {"sessionId": "s", "message": "Say hello", "model": "custom:gw-unknown"},
            "Invalid model name passed in model=no-such-model",
        ),
        (
            "beastmode.chat",
            {"sessionId": "s", "message": "Say hello", "model": "custom:gw-wrong-key"},
            "No connected db",
        ),
        (
            "beastmode.generateFeature",
            {"featureRequest": "a hello module", "model": "custom:gw-wrong-key"},
            "No connected db",
        ),
    ],
    ids=["chat-unknown-model", "chat-wrong-key", "feature-wrong-key"],
)
def test_chat_and_generation_report_a_gateway_400(
    start_server: StartServer,
    gateway_home: dict[str, str],
    command: str,
    arguments: dict[str, Any],
    litellm_says: str,
) -> None:
    server = start_server({"fallback": ["custom:gw-backup"]})
    answer = server.command(command, arguments)
    error = answer.get("error")
    assert error is not None and error["code"] == REQUEST_FAILED, answer
    assert "HTTP 400" in error["message"] and litellm_says in error["message"]
    assert WRONG_KEY not in error["message"] and GATEWAY_KEY not in error["message"]
    assert flushed_rows(server, gateway_home, "custom:gw-backup") == []
    assert not server.applied_edits
