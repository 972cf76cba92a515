"""The real server with each editor's default settings: no message, and the chosen model answers."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from beastmode.registry import Registry
from tests.conftest import register
from tests.e2e.conftest import NEOVIM_LIKE, StartClient, open_document
from tests.e2e.editor_defaults import neovim_defaults, vscode_defaults
from tests.fakes import FakeModelServer, Reply

URI = "file:///workspace/calc.py"


def settings_messages(client: LanguageClient) -> list[str]:
    """Every showMessage or logMessage the server sent about settings."""
    texts = [m.message for m in client.messages] + [m.message for m in client.log_messages]
    return [text for text in texts if "etting" in text]


async def suggestion(client: LanguageClient, uri: str = URI) -> str | None:
    open_document(client, uri, "def add(a, b):\n    ")
    result = await client.text_document_inline_completion_async(
        types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=1, character=4),
            context=types.InlineCompletionContext(
                trigger_kind=types.InlineCompletionTriggerKind.Automatic
            ),
        )
    )
    return result.items[0].insert_text if result and result.items else None


@pytest.mark.parametrize("delivery", ["initializationOptions", "workspace/configuration"])
async def test_vscode_defaults_with_a_model_give_that_models_suggestion_and_no_message(
    start_client: StartClient, home_registry: Registry, fake: FakeModelServer, delivery: str
) -> None:
    register(home_registry, "coder", fake.openai_chat_url, api_key=None)
    fake.default_reply = Reply(text="<COMPLETION>return a + b</COMPLETION>")
    settings: dict[str, Any] = {**vscode_defaults(), "model": "custom:coder"}
    # Every default kept but the deadline: on a loaded machine the model's first token can take
    # longer than the default's 1.5 s share, and `local` would answer instead.
    settings["timeouts"] = {**settings["timeouts"], "completionMs": 20_000}
    if delivery == "initializationOptions":
        client = await start_client(settings=settings)
    else:
        client = await start_client(configuration=settings)
    for attempt in range(50):  # workspace/configuration is pulled after `initialized`
        # A document of its own each time: an earlier answer would come back from the cache.
        answer = await suggestion(client, f"file:///workspace/calc{attempt}.py")
        if answer == "return a + b":
            break
        await asyncio.sleep(0.1)
    assert answer == "return a + b"
    assert fake.requests
    await asyncio.sleep(0.2)  # let any late message arrive
    assert settings_messages(client) == []


async def test_neovim_defaults_are_accepted_without_a_message(start_client: StartClient) -> None:
    defaults = neovim_defaults()
    if defaults is None:
        pytest.skip("Neovim is not installed")
    client = await start_client(settings=defaults, capabilities=NEOVIM_LIKE)
    await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="beastmode.listModels", arguments=[{}])
    )
    assert settings_messages(client) == []


async def test_a_bad_setting_keeps_the_model_chosen_beside_it(
    start_client: StartClient, home_registry: Registry, fake: FakeModelServer
) -> None:
    register(home_registry, "coder", fake.openai_chat_url, api_key=None)
    fake.default_reply = Reply(text="<COMPLETION>return a + b</COMPLETION>")
    client = await start_client(
        settings={
            "model": "custom:coder",
            "inline": {"debounceMs": "fast", "multiline": "x"},
            "timeouts": {"completionMs": 20_000},  # a loaded machine must not make local answer
        }
    )
    assert await suggestion(client) == "return a + b"
    for _ in range(100):
        if len(settings_messages(client)) >= 2:
            break
        await asyncio.sleep(0.05)
    problems = settings_messages(client)
    assert any("inline.debounceMs is invalid" in p for p in problems), problems
    assert any("inline.multiline is invalid" in p for p in problems), problems
