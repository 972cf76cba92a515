"""The Python API (`beastmode.api.BeastMode`) against LiteLLM's proxy: answers, fallback, usage."""

from __future__ import annotations

import pytest

from beastmode.api import BeastMode
from beastmode.errors import BeastModeError
from tests.fakes import FakeModelServer, Reply
from tests.interop.conftest import (
    BACKUP_TEXT,
    CHAT_TEXT,
    CLAUDE_TEXT,
    GATEWAY_KEY,
    UPSTREAM_TEXT,
    UPSTREAM_USAGE,
    WRONG_KEY,
    rows_for,
    usage_rows,
)


async def chat(environ: dict[str, str], model: str, fallback: list[str] | None = None) -> object:
    async with BeastMode(environ) as beast:
        return await beast.chat("Say hello", model=model, fallback=fallback or [])


async def test_openai_chat_streams_an_answer_with_reported_usage(
    gateway_home: dict[str, str],
) -> None:
    reply = await chat(gateway_home, "custom:gw-chat")
    assert (reply.text, reply.model, reply.fell_back) == (CHAT_TEXT, "custom:gw-chat", False)
    [row] = usage_rows(gateway_home)
    assert (row["task"], row["model_kind"], row["outcome"]) == ("chat", "custom", "ok")
    assert row["prompt_tokens"] > 0 and row["completion_tokens"] > 0
    assert row["tokens_estimated"] == 0  # LiteLLM reports usage in its last chunk


async def test_anthropic_chat_answered_as_plain_json_records_its_usage(
    gateway_home: dict[str, str],
) -> None:
    # LiteLLM answers a mocked /v1/messages with one JSON body even when asked to stream.
    reply = await chat(gateway_home, "custom:gw-claude")
    assert (reply.text, reply.model) == (CLAUDE_TEXT, "custom:gw-claude")
    [row] = usage_rows(gateway_home)
    assert (row["model_kind"], row["outcome"], row["tokens_estimated"]) == ("custom", "ok", 0)
    assert row["prompt_tokens"] > 0 and row["completion_tokens"] > 0


async def test_anthropic_stream_takes_prompt_tokens_from_message_delta(
    gateway_home: dict[str, str], upstream: FakeModelServer
) -> None:
    # LiteLLM's translated stream says input_tokens: 0 in message_start and gives the
    # upstream's real count in message_delta.usage.
    reply = await chat(gateway_home, "custom:gw-claude-stream")
    assert reply.text == UPSTREAM_TEXT
    assert upstream.requests[-1].json["model"] == "upstream-chat"
    [row] = usage_rows(gateway_home)
    assert (row["prompt_tokens"], row["completion_tokens"]) == UPSTREAM_USAGE
    assert row["tokens_estimated"] == 0


async def test_anthropic_stream_uses_the_gateway_count_when_the_upstream_sends_none(
    gateway_home: dict[str, str], upstream: FakeModelServer
) -> None:
    # Without upstream usage LiteLLM counts the tokens itself, again only in message_delta.
    upstream.default_reply = Reply(text=UPSTREAM_TEXT, usage=None)
    reply = await chat(gateway_home, "custom:gw-claude-stream")
    assert reply.text == UPSTREAM_TEXT
    [row] = usage_rows(gateway_home)
    assert row["prompt_tokens"] > 0 and row["completion_tokens"] > 0
    assert row["tokens_estimated"] == 0


@pytest.mark.parametrize(
    ("failing", "status", "error_kind"),
    [
        ("custom:gw-429", 429, "rate_limited"),
        ("custom:gw-500", 500, "server_error"),
        ("custom:gw-529", 529, "server_error"),
    ],
)
async def test_chat_falls_back_to_the_next_model_on_gateway_errors(
    gateway_home: dict[str, str], failing: str, status: int, error_kind: str
) -> None:
    reply = await chat(gateway_home, failing, fallback=["custom:gw-backup"])
    assert (reply.text, reply.model, reply.fell_back) == (BACKUP_TEXT, "custom:gw-backup", True)
    failed, answered = usage_rows(gateway_home)
    assert (failed["model_ref"], failed["outcome"]) == (failing, "error")
    assert (failed["http_status"], failed["error_kind"]) == (status, error_kind)
    assert (answered["model_ref"], answered["outcome"]) == ("custom:gw-backup", "ok")
    assert failed["request_id"] == answered["request_id"]


@pytest.mark.parametrize(
    ("model", "litellm_says"),
    [
        ("custom:gw-wrong-key", "No connected db"),  # LiteLLM without a database: HTTP 400
        ("custom:gw-unknown", "Invalid model name passed in model=no-such-model"),
        ("custom:gw-claude-unknown", "Invalid model name passed in model=no-such-model"),
    ],
)
async def test_chat_reports_a_gateway_400_without_falling_back(
    gateway_home: dict[str, str], model: str, litellm_says: str
) -> None:
    with pytest.raises(BeastModeError) as raised:
        await chat(gateway_home, model, fallback=["custom:gw-backup"])
    message = str(raised.value)
    assert "HTTP 400" in message and litellm_says in message
    assert WRONG_KEY not in message and GATEWAY_KEY not in message
    [row] = usage_rows(gateway_home)  # the backup model was not asked
    assert (row["model_ref"], row["outcome"], row["http_status"]) == (model, "error", 400)
    assert row["error_kind"] == "invalid_request"


async def test_model_test_checks_chat_and_completions_endpoints(
    gateway_home: dict[str, str],
) -> None:
    async with BeastMode(gateway_home) as beast:
        result = await beast.test("custom:gw-fim")
    assert result.ok, result.error
    checks = {("chat" if "chat" in c.endpoint else "completions"): c for c in result.checks}
    assert len(result.checks) == 2 and set(checks) == {"chat", "completions"}
    assert all(c.ok and c.error is None and c.latency_ms >= 0 for c in result.checks)


async def test_model_test_fails_when_only_the_fim_endpoint_is_broken(
    gateway_home: dict[str, str],
) -> None:
    async with BeastMode(gateway_home) as beast:
        result = await beast.test("custom:gw-fim-broken")
    assert not result.ok
    [chat_check] = [c for c in result.checks if "chat" in c.endpoint]
    [fim_check] = [c for c in result.checks if "chat" not in c.endpoint]
    assert chat_check.ok and chat_check.error is None
    assert not fim_check.ok and "HTTP 404" in (fim_check.error or "")
    assert rows_for(gateway_home, "custom:gw-fim-broken")
