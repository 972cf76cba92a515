"""Code actions end to end: offered lazily, resolved into the exact edit, or run as commands.

No model is called until an action is picked; clients without resolve support get a command that
applies the edit with workspace/applyEdit. Also: progress, cancellation, per-task models, usage.
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
from tests.e2e.conftest import NEOVIM_LIKE, StartClient, open_document
from tests.fakes import FakeModelServer, Fault, Reply

SOURCE = """import math


def area(r):
    return math.pi*r*r


def total(xs):
    s = 0
    for x in xs:
        s += x
    return s
"""
REFACTORED_TOTAL = "def total(xs):\n    return sum(xs)\n"
DOCUMENTED_AREA = (
    'def area(r):\n    """Return the area of a circle of radius r."""\n    return math.pi*r*r\n'
)
GENERATED_TESTS = "from calc import area\n\n\ndef test_area():\n    assert area(1) > 3\n"
TOTAL_RANGE = types.Range(
    start=types.Position(line=7, character=0), end=types.Position(line=12, character=0)
)


def fenced(code: str, tag: str = "python") -> str:
    """A model answer with prose around a fenced block, as models write them."""
    return f"Here is the code:\n\n```{tag}\n{code}```\n\nThis keeps the behaviour."


@pytest.fixture
def models(home_registry: Registry, fake: FakeModelServer) -> dict[str, Any]:
    """Two registered models on the fake server, one for refactoring and one for tests."""
    register(home_registry, "coder", fake.openai_chat_url, upstream_model="coder-7b")
    register(home_registry, "tester", fake.openai_chat_url, upstream_model="tester-7b")
    return {"models": {"refactor": "custom:coder", "tests": "custom:tester"}, "fallback": []}


def read_code_actions_like_editors(client: LanguageClient) -> None:
    """Tell a CodeAction carrying a command from a bare Command by the type of `command`.

    lsprotocol's client-side hook reads any object with a `command` key as a Command, so a
    CodeAction with a command object came back as a Command with a stringified dict; editors
    check whether `command` is a string, and so does this.
    """
    converter = client.protocol._converter

    def structure(obj: Any, _: Any) -> types.Command | types.CodeAction:
        kind = types.Command if isinstance(obj.get("command"), str) else types.CodeAction
        return converter.structure(obj, kind)  # type: ignore[no-any-return]

    converter.register_structure_hook(types.Command | types.CodeAction, structure)


async def start_with_source(
    start_client: StartClient,
    workspace: Path,
    settings: dict[str, Any],
    capabilities: types.ClientCapabilities | None = None,
) -> tuple[LanguageClient, str]:
    """A started client with `calc.py` (SOURCE) open, on disk too."""
    client = await (
        start_client(settings=settings, capabilities=capabilities)
        if capabilities
        else start_client(settings=settings)
    )
    read_code_actions_like_editors(client)
    path = workspace / "calc.py"
    path.write_text(SOURCE)
    open_document(client, path.as_uri(), SOURCE)
    return client, path.as_uri()


async def code_actions(
    client: LanguageClient,
    uri: str,
    range_: types.Range,
    diagnostics: list[types.Diagnostic] | None = None,
    only: list[str] | None = None,
) -> list[types.CodeAction]:
    """Ask for the code actions at a place."""
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=range_,
            context=types.CodeActionContext(diagnostics=diagnostics or [], only=only),
        )
    )
    return [a for a in result or [] if isinstance(a, types.CodeAction)]


def at(line: int, character: int = 0) -> types.Range:
    """An empty range (a cursor)."""
    position = types.Position(line=line, character=character)
    return types.Range(start=position, end=position)


def only_edit(edit: types.WorkspaceEdit | None) -> tuple[str, int | None, list[types.TextEdit]]:
    """The one TextDocumentEdit of a WorkspaceEdit: uri, version, edits."""
    assert edit is not None and edit.document_changes is not None
    (change,) = edit.document_changes
    assert isinstance(change, types.TextDocumentEdit)
    edits = [e for e in change.edits if isinstance(e, types.TextEdit)]
    return change.text_document.uri, change.text_document.version, edits


UNDEFINED_NAME = types.Diagnostic(
    range=types.Range(
        start=types.Position(line=10, character=8), end=types.Position(line=10, character=9)
    ),
    message="undefined name 'y'",
    source="pyflakes",
)


# (cursor or selection, diagnostics, context.only, the actions offered)
OFFERS: list[tuple[types.Range, list[types.Diagnostic], list[str] | None, list[tuple[str, str]]]] = [
        (at(9, 4), [], None, [
            ("BEAST MODE: Refactor selection", "refactor.rewrite"),
            ("BEAST MODE: Add documentation", "refactor.rewrite"),
            ("BEAST MODE: Generate tests", "source.generateTests"),
        ]),
        (at(0, 0), [], None, [("BEAST MODE: Generate tests", "source.generateTests")]),
        (at(10, 8), [UNDEFINED_NAME], ["quickfix"], [("BEAST MODE: Fix with AI", "quickfix")]),
        (at(10, 8), [UNDEFINED_NAME], ["source"], [
            ("BEAST MODE: Generate tests", "source.generateTests"),
        ]),
]  # fmt: skip


async def test_actions_offered_by_context_without_calling_a_model(
    start_client: StartClient, workspace: Path, models: dict[str, Any], fake: FakeModelServer
) -> None:
    client, uri = await start_with_source(start_client, workspace, models)
    offered = []
    for place, diagnostics, only, _ in OFFERS:
        actions = await code_actions(client, uri, place, diagnostics, only)
        assert all(a.edit is None and a.data is not None for a in actions)
        offered.append([(a.title, a.kind) for a in actions])
    assert offered == [expected for *_, expected in OFFERS]
    assert fake.requests == []


async def test_refactor_resolves_to_the_enclosing_function_edit_with_progress(
    start_client: StartClient, workspace: Path, models: dict[str, Any], fake: FakeModelServer
) -> None:
    client, uri = await start_with_source(start_client, workspace, models)
    fake.script(Reply(text=fenced(REFACTORED_TOTAL)))
    (refactor,) = [a for a in await code_actions(client, uri, at(9, 4)) if "Refactor" in a.title]
    resolved = await client.code_action_resolve_async(refactor)
    assert only_edit(resolved.edit) == (
        uri,
        1,
        [types.TextEdit(range=TOTAL_RANGE, new_text=REFACTORED_TOTAL)],
    )
    assert fake.requests[0].json["model"] == "coder-7b"
    assert "def total(xs):" in fake.requests[0].json["messages"][-1]["content"]
    (reports,) = client.progress_reports.values()
    assert [type(r) for r in (reports[0], reports[-1])] == [
        types.WorkDoneProgressBegin,
        types.WorkDoneProgressEnd,
    ]
    assert reports[0].title == "BEAST MODE: refactoring" and reports[0].cancellable
    assert reports[-1].message == "Done"


async def test_docs_action_on_a_selection_replaces_exactly_the_selection(
    start_client: StartClient, workspace: Path, models: dict[str, Any], fake: FakeModelServer
) -> None:
    client, uri = await start_with_source(start_client, workspace, models)
    fake.script(Reply(text=fenced(DOCUMENTED_AREA)))
    selection = types.Range(
        start=types.Position(line=3, character=0), end=types.Position(line=5, character=0)
    )
    (docs,) = [a for a in await code_actions(client, uri, selection) if "documentation" in a.title]
    resolved = await client.code_action_resolve_async(docs)
    assert only_edit(resolved.edit) == (
        uri,
        1,
        [types.TextEdit(range=selection, new_text=DOCUMENTED_AREA)],
    )
    assert "PEP 257" in fake.requests[0].json["messages"][-1]["content"]


async def test_fix_action_sends_the_diagnostic_and_rewrites_the_function(
    start_client: StartClient, workspace: Path, models: dict[str, Any], fake: FakeModelServer
) -> None:
    client, uri = await start_with_source(start_client, workspace, models)
    fake.script(Reply(text=fenced(REFACTORED_TOTAL)))
    (fix,) = await code_actions(client, uri, at(10, 8), [UNDEFINED_NAME], ["quickfix"])
    resolved = await client.code_action_resolve_async(fix)
    assert only_edit(resolved.edit) == (
        uri,
        1,
        [types.TextEdit(range=TOTAL_RANGE, new_text=REFACTORED_TOTAL)],
    )
    prompt = fake.requests[0].json["messages"][-1]["content"]
    assert "- line 4: undefined name 'y' (pyflakes)" in prompt
    assert fake.requests[0].json["model"] == "coder-7b"


async def test_generate_tests_creates_tests_file_with_the_tests_model(
    start_client: StartClient, workspace: Path, models: dict[str, Any], fake: FakeModelServer
) -> None:
    client, uri = await start_with_source(start_client, workspace, models)
    fake.script(Reply(text=fenced(GENERATED_TESTS)))
    (tests,) = await code_actions(client, uri, at(4, 4), only=["source.generateTests"])
    resolved = await client.code_action_resolve_async(tests)
    test_uri = (workspace / "tests" / "test_calc.py").as_uri()
    origin = types.Position(line=0, character=0)
    assert resolved.edit is not None and resolved.edit.document_changes is not None
    assert list(resolved.edit.document_changes) == [
        types.CreateFile(
            uri=test_uri,
            options=types.CreateFileOptions(overwrite=False, ignore_if_exists=False),
        ),
        types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=test_uri),
            edits=(
                types.TextEdit(
                    range=types.Range(start=origin, end=origin), new_text=GENERATED_TESTS
                ),
            ),
        ),
    ]
    assert fake.requests[0].json["model"] == "tester-7b"


async def test_generate_tests_appends_to_an_existing_test_file(
    start_client: StartClient, workspace: Path, models: dict[str, Any], fake: FakeModelServer
) -> None:
    existing = "from calc import area\n\n\ndef test_area():\n    assert area(0) == 0\n"
    (workspace / "tests").mkdir()
    (workspace / "tests" / "test_calc.py").write_text(existing)
    client, uri = await start_with_source(start_client, workspace, models)
    fake.script(Reply(text=fenced(GENERATED_TESTS)))
    (tests,) = await code_actions(client, uri, at(4, 4), only=["source.generateTests"])
    resolved = await client.code_action_resolve_async(tests)
    end = types.Position(line=5, character=0)
    assert only_edit(resolved.edit) == (
        (workspace / "tests" / "test_calc.py").as_uri(),
        None,
        [
            types.TextEdit(
                range=types.Range(start=end, end=end),
                new_text="\n\ndef test_area_2():\n    assert area(1) > 3\n",
            )
        ],
    )
    assert "Existing test file:" in fake.requests[0].json["messages"][-1]["content"]


async def test_unusable_answers_are_reported_and_nothing_is_edited(
    start_client: StartClient, workspace: Path, models: dict[str, Any], fake: FakeModelServer
) -> None:
    client, uri = await start_with_source(start_client, workspace, models)
    fake.script(
        Reply(text="I cannot help with that request today."),
        Reply(text=""),
        Reply(status=400, error_message="bad model"),
    )
    errors = []
    for _ in range(3):
        (refactor,) = [
            a for a in await code_actions(client, uri, at(9, 4)) if "Refactor" in a.title
        ]
        with pytest.raises(JsonRpcException) as raised:
            await client.code_action_resolve_async(refactor)
        errors.append(raised.value.message)
    assert errors == [
        "The model's answer held no code, only prose: “I cannot help with that request today.”. "
        "Nothing was applied.",
        "The model returned an empty answer; nothing was applied. Try again, or pick another model.",
        "Custom model request failed: Invalid request format (HTTP 400: bad model)",
    ]
    assert client.applied_edits == []  # type: ignore[attr-defined]
    shown = [m.message for m in client.messages if m.type == types.MessageType.Error]
    assert shown == [f"BEAST MODE: {error}" for error in errors]


async def test_client_without_resolve_gets_a_command_that_applies_the_edit(
    start_client: StartClient, workspace: Path, models: dict[str, Any], fake: FakeModelServer
) -> None:
    client, uri = await start_with_source(start_client, workspace, models, NEOVIM_LIKE)
    fake.script(Reply(text=fenced(REFACTORED_TOTAL)))
    (refactor,) = [a for a in await code_actions(client, uri, at(9, 4)) if "Refactor" in a.title]
    assert refactor.data is None and refactor.command is not None
    assert refactor.command.command == "beastmode.refactor"
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command=refactor.command.command, arguments=refactor.command.arguments
        )
    )
    assert result == {"applied": True, "model": "custom:coder"}
    (applied,) = client.applied_edits  # type: ignore[attr-defined]
    assert only_edit(applied) == (
        uri,
        1,
        [types.TextEdit(range=TOTAL_RANGE, new_text=REFACTORED_TOTAL)],
    )


async def test_cancelling_an_action_command_aborts_the_model_request(
    start_client: StartClient, workspace: Path, models: dict[str, Any], fake: FakeModelServer
) -> None:
    client, uri = await start_with_source(start_client, workspace, models)
    fake.script(Reply(fault=Fault.HANG))
    arguments = [
        {
            "uri": uri,
            "range": {"start": {"line": 9, "character": 0}, "end": {"line": 12, "character": 0}},
        }
    ]
    future = asyncio.ensure_future(
        client.protocol.send_request_async(
            types.WORKSPACE_EXECUTE_COMMAND,
            types.ExecuteCommandParams(command="beastmode.refactor", arguments=arguments),
            msg_id="refactor-to-cancel",
        )
    )
    (request,) = await fake.wait_for_requests_async(1)
    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="refactor-to-cancel"))
    with pytest.raises(JsonRpcException, match="cancel"):
        await asyncio.wait_for(future, 5)
    assert await asyncio.to_thread(request.wait_finished, 5)
    assert request.client_disconnected
    assert client.applied_edits == []  # type: ignore[attr-defined]


async def test_actions_are_recorded_in_usage_under_their_task(
    start_client: StartClient, workspace: Path, models: dict[str, Any], fake: FakeModelServer
) -> None:
    client, uri = await start_with_source(start_client, workspace, models)
    fake.script(Reply(text=fenced(REFACTORED_TOTAL)), Reply(text=fenced(GENERATED_TESTS)))
    for title in ("Refactor", "Generate tests"):
        (action,) = [a for a in await code_actions(client, uri, at(9, 4)) if title in a.title]
        await client.code_action_resolve_async(action)
    report = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="beastmode.usage", arguments=[{}])
    )
    assert {row["task"]: row["ok"] for row in report["byTask"]} == {"refactor": 1, "tests": 1}
    assert {row["model"] for row in report["byModel"]} == {"custom:coder", "custom:tester"}


async def test_cancelling_the_progress_stops_the_resolve_and_its_model_request(
    start_client: StartClient, workspace: Path, models: dict[str, Any], fake: FakeModelServer
) -> None:
    client, uri = await start_with_source(start_client, workspace, models)
    fake.script(Reply(fault=Fault.HANG))
    (refactor,) = [a for a in await code_actions(client, uri, at(9, 4)) if "Refactor" in a.title]
    resolving = asyncio.ensure_future(client.code_action_resolve_async(refactor))
    (request,) = await fake.wait_for_requests_async(1)
    (token,) = client.progress_reports
    client.protocol.notify(
        types.WINDOW_WORK_DONE_PROGRESS_CANCEL, types.WorkDoneProgressCancelParams(token=token)
    )
    with pytest.raises(JsonRpcException, match="cancel"):
        await asyncio.wait_for(resolving, 5)
    assert await asyncio.to_thread(request.wait_finished, 5)
    assert request.client_disconnected
    assert client.progress_reports[token][-1] == types.WorkDoneProgressEnd(message="Cancelled")


async def test_action_commands_apply_their_edits_with_the_chosen_model(
    start_client: StartClient, workspace: Path, models: dict[str, Any], fake: FakeModelServer
) -> None:
    client, uri = await start_with_source(start_client, workspace, models)
    fake.script(*(Reply(text=fenced(code)) for code in
                  (REFACTORED_TOTAL, DOCUMENTED_AREA, REFACTORED_TOTAL, GENERATED_TESTS)))  # fmt: skip
    total = {"start": {"line": 7, "character": 0}, "end": {"line": 12, "character": 0}}
    area = {"start": {"line": 3, "character": 0}, "end": {"line": 5, "character": 0}}
    diagnostic = {"line": 10, "message": "undefined name 'y'"}
    results = [
        await run_command(client, "beastmode.refactor", {
            "uri": uri, "range": total, "instruction": "Use sum()", "model": "custom:tester"}),
        await run_command(client, "beastmode.addDocumentation", {"uri": uri, "range": area}),
        await run_command(client, "beastmode.fixWithAI", {"uri": uri, "diagnostics": [diagnostic]}),
        await run_command(client, "beastmode.generateTests", {"uri": uri}),
    ]  # fmt: skip
    test_uri = (workspace / "tests" / "test_calc.py").as_uri()
    assert results == [
        {"applied": True, "model": "custom:tester"},
        {"applied": True, "model": "custom:coder"},
        {"applied": True, "model": "custom:coder"},
        {"applied": True, "model": "custom:tester", "uri": test_uri},
    ]
    assert "Instruction: Use sum()" in fake.requests[0].json["messages"][-1]["content"]
    assert [r.json["model"] for r in fake.requests] == [
        "tester-7b",
        "coder-7b",
        "coder-7b",
        "tester-7b",
    ]
    edited = [
        only_edit(e)[0] if len(e.document_changes) == 1 else "create" for e in client.applied_edits
    ]  # type: ignore[attr-defined]
    assert edited == [uri, uri, uri, "create"]


async def run_command(client: LanguageClient, command: str, arguments: dict[str, Any]) -> Any:
    """Execute a workspace command with one object argument."""
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command, arguments=[arguments])
    )


async def test_code_too_large_for_the_model_is_not_sent_and_the_message_says_why(
    start_client: StartClient, workspace: Path, home_registry: Registry, fake: FakeModelServer
) -> None:
    register(home_registry, "small", fake.openai_chat_url, context_window=512, max_tokens=64)
    client = await start_client(settings={"models": {"refactor": "custom:small"}, "fallback": []})
    read_code_actions_like_editors(client)
    body = "".join(f"    total += value_{i} * weight_{i}  # step {i}\n" for i in range(200))
    source = f"def big(values):\n    total = 0\n{body}    return total\n"
    path = workspace / "big.py"
    path.write_text(source)
    open_document(client, path.as_uri(), source)
    (refactor,) = [
        a for a in await code_actions(client, path.as_uri(), at(5, 4)) if "Refactor" in a.title
    ]
    with pytest.raises(JsonRpcException) as raised:
        await client.code_action_resolve_async(refactor)
    assert "does not fit custom:small's context window of 512 tokens" in raised.value.message
    assert "select less code" in raised.value.message
    assert fake.requests == []
    assert client.applied_edits == []  # type: ignore[attr-defined]
