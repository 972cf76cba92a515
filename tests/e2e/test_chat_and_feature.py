"""Codebase chat and feature generation end to end.

Chat: the reply streams as `beastmode/chatDelta` notifications and `$/progress` reports, context
comes from the listed files and the active document, and sessions survive a server restart.
Feature generation: one WorkspaceEdit applied with workspace/applyEdit, and nothing at all
written when a path points outside the workspace.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient

from beastmode.registry import Registry
from tests.conftest import register
from tests.e2e.conftest import StartClient, open_document
from tests.fakes import FakeModelServer, Reply

SETTINGS = {"model": "custom:coder", "fallback": []}


@pytest.fixture
def coder(home_registry: Registry, fake: FakeModelServer) -> None:
    """One registered model on the fake server."""
    register(home_registry, "coder", fake.openai_chat_url, upstream_model="coder-7b")


async def run(client: LanguageClient, command: str, arguments: dict[str, Any]) -> Any:
    """Execute a workspace command with one object argument."""
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command, arguments=[arguments])
    )


def collect_chat_deltas(client: LanguageClient) -> list[dict[str, Any]]:
    """Record the `beastmode/chatDelta` notifications the server sends."""
    deltas: list[dict[str, Any]] = []

    @client.feature("beastmode/chatDelta")
    def chat_delta(params: Any) -> None:
        deltas.append({"sessionId": params.sessionId, "delta": params.delta})

    return deltas


async def test_chat_streams_deltas_and_progress_and_returns_markdown(
    coder: None, fake: FakeModelServer, start_client: StartClient, workspace: Path
) -> None:
    client = await start_client(settings=SETTINGS)
    deltas = collect_chat_deltas(client)
    helper = workspace / "helper.py"
    helper.write_text("def helper():\n    return 42\n")
    open_document(client, (workspace / "main.py").as_uri(), "from helper import helper\n")
    fake.script(Reply(chunks=["It returns ", "`42`", ", always."]))
    answer = await run(
        client,
        "beastmode.chat",
        {"sessionId": "s1", "message": "What does helper return?", "files": [helper.as_uri()]},
    )
    assert answer == {
        "sessionId": "s1",
        "reply": "It returns `42`, always.",
        "model": "custom:coder",
    }
    await asyncio.sleep(0.1)  # notifications sent before the response may still be in flight
    assert deltas == [
        {"sessionId": "s1", "delta": "It returns "},
        {"sessionId": "s1", "delta": "`42`"},
        {"sessionId": "s1", "delta": ", always."},
    ]
    (reports,) = client.progress_reports.values()
    messages = [r.message for r in reports if isinstance(r, types.WorkDoneProgressReport)]
    assert messages[-3:] == ["It returns", "It returns `42`", "It returns `42`, always."]
    prompt = fake.requests[0].json["messages"][-1]["content"]
    assert "File: helper.py" in prompt and "return 42" in prompt
    assert "Active document: main.py" in prompt
    assert prompt.endswith("Question:\nWhat does helper return?")


async def test_chat_history_survives_a_server_restart(
    coder: None, fake: FakeModelServer, start_client: StartClient
) -> None:
    first = await start_client(settings=SETTINGS)
    fake.script(Reply(text="Blue."), Reply(text="You asked about the sky."))
    await run(first, "beastmode.chat", {"sessionId": "sky", "message": "What colour is the sky?"})
    await first.shutdown_session()
    second = await start_client(settings=SETTINGS)
    answer = await run(second, "beastmode.chat", {"sessionId": "sky", "message": "What did I ask?"})
    assert answer["reply"] == "You asked about the sky."
    messages = [(m["role"], m["content"]) for m in fake.requests[1].json["messages"][1:]]
    assert messages == [
        ("user", "What colour is the sky?"),
        ("assistant", "Blue."),
        ("user", "What did I ask?"),
    ]


async def test_chat_with_the_local_engine_passes_on_the_routers_message(
    start_client: StartClient,
) -> None:
    client = await start_client(settings={"fallback": []})
    with pytest.raises(JsonRpcException, match="No model is configured"):
        await run(client, "beastmode.chat", {"sessionId": "s", "message": "hi"})


FEATURE_ANSWER = """I'll add a greeting module and use it.

File: src/greet.py
```python
def greet(name):
    return f"Hello, {name}!"
```

File: app.py
```python
from src.greet import greet

print(greet("world"))
```
"""


async def test_feature_is_applied_as_one_edit_creating_and_replacing_files(
    coder: None, fake: FakeModelServer, start_client: StartClient, workspace: Path
) -> None:
    (workspace / "app.py").write_text('print("hi")\n')
    client = await start_client(settings=SETTINGS)
    fake.script(Reply(text=FEATURE_ANSWER))
    result = await run(client, "beastmode.generateFeature", {"featureRequest": "Add a greeting"})
    greet_uri, app_uri = (workspace / "src" / "greet.py").as_uri(), (workspace / "app.py").as_uri()
    assert result == {"files": [greet_uri, app_uri], "applied": True, "model": "custom:coder"}
    (edit,) = client.applied_edits  # type: ignore[attr-defined]
    origin = types.Position(line=0, character=0)
    assert list(edit.document_changes) == [
        types.CreateFile(
            uri=greet_uri, options=types.CreateFileOptions(overwrite=False, ignore_if_exists=False)
        ),
        types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=greet_uri),
            edits=(
                types.TextEdit(
                    range=types.Range(start=origin, end=origin),
                    new_text='def greet(name):\n    return f"Hello, {name}!"\n',
                ),
            ),
        ),
        types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=app_uri),
            edits=(
                types.TextEdit(
                    range=types.Range(start=origin, end=types.Position(line=1, character=0)),
                    new_text='from src.greet import greet\n\nprint(greet("world"))\n',
                ),
            ),
        ),
    ]
    prompt = fake.requests[0].json["messages"]
    assert "app.py" in prompt[-1]["content"] and "Add a greeting" in prompt[-1]["content"]
    report = await run(client, "beastmode.usage", {})
    assert [(row["task"], row["ok"]) for row in report["byTask"]] == [("feature", 1)]


UNSAFE_ANSWERS = [
    ("File: ok.py\n```python\nx = 1\n```\nFile: ../evil.py\n```python\nboom()\n```\n",
     "../evil.py"),
    ("File: /tmp/evil.py\n```python\nboom()\n```\n", "/tmp/evil.py"),
    ("File: sub/../../evil.py\n```python\nboom()\n```\n", "sub/../../evil.py"),
]  # fmt: skip


async def test_feature_with_a_path_outside_the_workspace_writes_nothing(
    coder: None, fake: FakeModelServer, start_client: StartClient, workspace: Path
) -> None:
    client = await start_client(settings=SETTINGS)
    fake.script(*(Reply(text=answer) for answer, _ in UNSAFE_ANSWERS))
    errors = []
    for _ in UNSAFE_ANSWERS:
        with pytest.raises(JsonRpcException) as raised:
            await run(client, "beastmode.generateFeature", {"featureRequest": "Add evil"})
        errors.append(raised.value.message)
    assert errors == [
        f"Refused to write files outside the workspace (nothing was written): {refused}"
        for _, refused in UNSAFE_ANSWERS
    ]
    assert client.applied_edits == []  # type: ignore[attr-defined]
    assert sorted(p.name for p in workspace.parent.rglob("*.py")) == []


async def test_feature_answer_without_files_is_reported(
    coder: None, fake: FakeModelServer, start_client: StartClient
) -> None:
    client = await start_client(settings=SETTINGS)
    fake.script(Reply(text="Sure! You should add a greeting function."))
    with pytest.raises(JsonRpcException, match="named no files"):
        await run(client, "beastmode.generateFeature", {"featureRequest": "Add a greeting"})
    assert client.applied_edits == []  # type: ignore[attr-defined]
