"""Workspace commands end to end: success paths, bad arguments, and results without keys.

A bad argument gets an InvalidParams error naming the field; a model registered through the
command is then used by its `custom:<id>` reference.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pytest_lsp import LanguageClient

from beastmode.registry import Registry
from tests.conftest import CANARY_KEY, register
from tests.e2e.conftest import StartClient
from tests.fakes import FakeModelServer, Reply


async def run(client: LanguageClient, command: str, *arguments: Any) -> Any:
    """Execute a workspace command and return its result."""
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command, arguments=list(arguments))
    )


def registration(fake: FakeModelServer, model_id: str = "my-code-model") -> dict[str, Any]:
    """The product guide's registration body, pointing at the fake server."""
    return {
        "model_name": "My Code Model",
        "model_id": model_id,
        "endpoint_url": fake.openai_chat_url,
        "provider": "openai-compatible",
        "api_key": CANARY_KEY,
        "upstream_model": "qwen2.5-coder:7b",
        "context_window": 16384,
        "max_tokens": 2000,
    }


async def test_register_then_test_by_custom_ref_reaches_the_endpoint_with_the_key(
    client: LanguageClient, fake: FakeModelServer
) -> None:
    fake.script(Reply(text="ok"))
    stored = await run(client, "beastmode.registerModel", registration(fake))
    assert (stored["ref"], stored["model_id"], stored["has_api_key"]) == (
        "custom:my-code-model",
        "my-code-model",
        True,
    )
    result = await run(client, "beastmode.testModel", {"model": "custom:my-code-model"})
    assert (result["ok"], result["model"], result["reply"]) == (True, "custom:my-code-model", "ok")
    assert result["latency_ms"] > 0
    assert [(c["endpoint"], c["ok"]) for c in result["checks"]] == [("chat", True)]
    (request,) = fake.requests
    assert request.headers["authorization"] == f"Bearer {CANARY_KEY}"
    assert request.json["model"] == "qwen2.5-coder:7b"
    assert CANARY_KEY not in json.dumps([stored, result])


async def test_list_models_shows_registered_models_without_keys_and_local(
    home_registry: Registry, fake: FakeModelServer, start_client: StartClient
) -> None:
    register(home_registry, "alpha", fake.openai_chat_url)
    client = await start_client()
    listed = await run(client, "beastmode.listModels", {})
    assert [m["ref"] for m in listed["models"]] == ["custom:alpha"]
    assert listed["providers"] == [{"ref": "local", "kind": "local"}]
    assert "api_key" not in listed["models"][0]
    assert CANARY_KEY not in json.dumps(listed)


async def test_remove_model_then_it_is_gone(
    home_registry: Registry, fake: FakeModelServer, start_client: StartClient
) -> None:
    register(home_registry, "alpha", fake.openai_chat_url)
    client = await start_client()
    assert await run(client, "beastmode.removeModel", {"model_id": "alpha"}) == {"removed": True}
    assert (await run(client, "beastmode.listModels"))["models"] == []


async def test_test_model_reports_a_failing_model(client: LanguageClient) -> None:
    result = await run(client, "beastmode.testModel", {"model": "custom:nobody"})
    assert result["ok"] is False
    assert result["error"].startswith("Custom model not found: nobody")


async def test_set_default_model_routes_the_task_to_it(
    home_registry: Registry, fake: FakeModelServer, start_client: StartClient
) -> None:
    register(home_registry, "alpha", fake.openai_chat_url, upstream_model="alpha-up")
    register(home_registry, "beta", fake.openai_chat_url, upstream_model="beta-up")
    client = await start_client(settings={"fallback": []})
    assert await run(
        client, "beastmode.setDefaultModel", {"model": "custom:beta", "task": "chat"}
    ) == {
        "model": "custom:beta",
        "task": "chat",
    }
    await run(client, "beastmode.setDefaultModel", {"model": "custom:alpha"})
    fake.script(Reply(text="Hi."))
    answer = await run(client, "beastmode.chat", {"sessionId": "s", "message": "hello"})
    assert answer["model"] == "custom:beta"
    assert fake.requests[0].json["model"] == "beta-up"
    listed = await run(client, "beastmode.listModels")
    assert listed["defaults"] == {"chat": "custom:beta", "*": "custom:alpha"}


async def test_usage_command_reports_calls_by_task(
    client: LanguageClient, fake: FakeModelServer
) -> None:
    await run(client, "beastmode.registerModel", registration(fake))
    fake.script(Reply(text="ok"))
    await run(client, "beastmode.testModel", {"model": "custom:my-code-model"})
    report = await run(client, "beastmode.usage", {"since": "2000-01-01"})
    assert set(report) >= {"summary", "byModel", "markdown"}
    assert [(row["task"], row["ok"]) for row in report["byTask"]] == [("model-test", 1)]
    assert report["summary"]["customShare"] == 1.0


async def test_did_accept_completion_answers_null(client: LanguageClient) -> None:
    assert await run(client, "beastmode.didAcceptCompletion", {"id": "abc123"}) is None


BAD_ARGUMENTS: list[tuple[str, Any, str]] = [
        ("beastmode.registerModel", {"model_name": "x", "model_id": "Bad Id",
                                     "endpoint_url": "http://127.0.0.1:1/v1"}, "model_id"),
        ("beastmode.registerModel", {"model_name": "x", "model_id": "x"}, "endpoint_url"),
        ("beastmode.listModels", {"verbose": True}, "verbose: unknown field"),
        ("beastmode.removeModel", {}, "model_id: Field required"),
        ("beastmode.removeModel", {"model_id": "ghost"}, "model_id: Custom model not found: ghost"),
        ("beastmode.testModel", {"model": "gpt-4"}, "model:"),
        ("beastmode.setDefaultModel", {"model": "local", "task": "cooking"}, "task:"),
        ("beastmode.setDefaultModel", {"model": "custom:ghost"}, "model: Custom model not found"),
        ("beastmode.chat", {"message": "hi"}, "sessionId: Field required"),
        ("beastmode.chat", {"sessionId": "s", "message": ""}, "message:"),
        ("beastmode.chat", {"sessionId": "s", "message": "hi", "files": ["file:///nope/x.py"]},
         "files.0: cannot read"),
        ("beastmode.generateFeature", {"model": "local"}, "featureRequest: Field required"),
        ("beastmode.refactor", {"uri": "file:///x.py"}, "range: Field required"),
        ("beastmode.refactor", {"uri": "file:///x.py", "range": {"start": {"line": -1, "character": 0},
                                "end": {"line": 0, "character": 0}}}, "range.start.line"),
        ("beastmode.generateTests", {"range": None}, "uri: Field required"),
        ("beastmode.addDocumentation", {}, "uri: Field required"),
        ("beastmode.fixWithAI", {"uri": 5}, "uri:"),
        ("beastmode.usage", {"since": "last tuesday"}, "since: must be an ISO date"),
        ("beastmode.didAcceptCompletion", {}, "id: Field required"),
        ("beastmode.didAcceptCompletion", "abc", "the argument must be an object"),
]  # fmt: skip


async def test_bad_arguments_get_invalid_params_naming_the_field(client: LanguageClient) -> None:
    # One server for the whole matrix: a server start per case would cost a second each.
    wrong: list[tuple[str, str, str]] = []
    for command, arguments, field in BAD_ARGUMENTS:
        try:
            await run(client, command, arguments)
        except JsonRpcInvalidParams as exc:
            if field not in exc.message:
                wrong.append((command, field, exc.message))
        else:
            wrong.append((command, field, "no error"))
    assert wrong == []


async def test_two_arguments_are_refused(client: LanguageClient) -> None:
    with pytest.raises(JsonRpcInvalidParams, match="takes one object argument, got 2"):
        await run(client, "beastmode.usage", {}, {})
