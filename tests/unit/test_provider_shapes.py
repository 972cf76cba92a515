"""Every upstream answer checked by shape; token counts clamped, missing halves estimated."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from beastmode import errors
from beastmode.providers.anthropic import AnthropicProvider
from beastmode.providers.base import (
    MAX_TOKENS_PER_CALL,
    ChatRequest,
    Endpoint,
    Limits,
    Provider,
    ReportedUsage,
    TokenUsage,
    settle_usage,
    tokens_for_chars,
)
from beastmode.providers.openai import OpenAIProvider
from tests.conftest import CANARY_KEY
from tests.fakes import FakeModelServer, Reply
from tests.fakes.wire import sse

CHAT = ChatRequest(messages=(("user", "write code"),), system="be brief", max_tokens=64)
PROMPT_TOKENS = tokens_for_chars(len("be brief" + "write code"))
OK_CHOICE = '"choices":[{"message":{"content":"ok"}}]'


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False) as http:
        yield http


def provider_for(wire: str, client: httpx.AsyncClient, fake: FakeModelServer) -> Provider:
    if wire == "openai":
        endpoint = Endpoint(url=fake.openai_chat_url, upstream_model="m", api_key=CANARY_KEY)
        return OpenAIProvider(client, endpoint)
    endpoint = Endpoint(url=fake.base_url, upstream_model="m", api_key=CANARY_KEY)
    return AnthropicProvider(client, endpoint)


async def answer(provider: Provider) -> tuple[str, TokenUsage | None]:
    stream = provider.stream(CHAT, Limits(total_seconds=10))
    text = "".join([delta async for delta in stream])
    return text, stream.usage


WRONG_SHAPES: list[tuple[str, bytes]] = [
    ("openai", b'{"choices": [1]}'),
    ("openai", b'{"choices": "abc"}'),
    ("openai", b'{"choices": [{"message": "hello"}]}'),
    ("openai", b'{"choices": [{"message": {"content": 5}}]}'),
    ("openai", b'{"choices": []}'),
    ("openai", b"[1, 2, 3]"),
    ("openai", b'{"choices": [{"message": {"content": "ok"}}], "usage": "lots"}'),
    (
        "openai",
        b'{"choices": [{"message": {"content": "ok"}}], "usage": {"prompt_tokens": "lots"}}',
    ),
    ("anthropic", b'{"content": "hello"}'),
    ("anthropic", b'{"content": [1]}'),
    ("anthropic", b'{"content": [{"type": "text", "text": ["a"]}]}'),
    ("anthropic", b'{"message": "hello"}'),
    ("anthropic", b'{"content": [], "usage": {"input_tokens": "lots"}}'),
]


@pytest.mark.parametrize(("wire", "body"), WRONG_SHAPES, ids=[b.decode() for _, b in WRONG_SHAPES])
async def test_json_of_the_wrong_shape_is_a_malformed_answer(
    wire: str, body: bytes, client: httpx.AsyncClient, fake: FakeModelServer
) -> None:
    fake.script(Reply(raw_body=body))
    with pytest.raises(errors.MalformedResponse) as caught:
        await answer(provider_for(wire, client, fake))
    assert "shape" in str(caught.value) or "no choices" in str(caught.value)


WRONG_EVENTS: list[tuple[str, list[bytes]]] = [
    ("openai", [sse({"choices": [1]})]),
    ("openai", [sse({"choices": "abc"})]),
    ("openai", [sse({"choices": [{"delta": "hello"}]})]),
    ("openai", [sse({"choices": [{"delta": {"content": 5}}]})]),
    ("openai", [sse([1])]),
    ("anthropic", [sse({"type": "message_start", "message": "hello"}, "message_start")]),
    ("anthropic", [sse({"type": "content_block_delta", "delta": "x"}, "content_block_delta")]),
    (
        "anthropic",
        [sse({"type": "content_block_delta", "delta": {"type": "text_delta", "text": 7}})],
    ),
    ("anthropic", [sse({"type": "message_delta", "usage": "lots"}, "message_delta")]),
    ("anthropic", [sse("[1]", "message_delta")]),
]


@pytest.mark.parametrize(
    ("wire", "events"), WRONG_EVENTS, ids=[e[0].decode()[:60] for _, e in WRONG_EVENTS]
)
async def test_stream_events_of_the_wrong_shape_are_a_malformed_answer(
    wire: str, events: list[bytes], client: httpx.AsyncClient, fake: FakeModelServer
) -> None:
    fake.script(Reply(raw_events=events))
    with pytest.raises(errors.MalformedResponse):
        await answer(provider_for(wire, client, fake))


ABSURD_COUNTS = ["1e999", "-1e999", str(10**400), "-5", str(MAX_TOKENS_PER_CALL + 1)]


@pytest.mark.parametrize("count", ABSURD_COUNTS)
async def test_absurd_token_counts_are_replaced_by_an_estimate(
    count: str, client: httpx.AsyncClient, fake: FakeModelServer
) -> None:
    usage = f'"usage": {{"prompt_tokens": {count}, "completion_tokens": 3}}'
    fake.script(Reply(raw_body=f"{{{OK_CHOICE}, {usage}}}".encode()))
    text, got = await answer(provider_for("openai", client, fake))
    assert text == "ok"
    assert got == TokenUsage(prompt_tokens=PROMPT_TOKENS, completion_tokens=3, estimated=True)


def test_settle_usage_keeps_reported_counts_and_estimates_the_missing_half() -> None:
    assert settle_usage(ReportedUsage(20, 5), 35, 10) == TokenUsage(20, 5, estimated=False)
    assert settle_usage(ReportedUsage(None, 5), 35, 10) == TokenUsage(10, 5, estimated=True)
    assert settle_usage(ReportedUsage(0, 5), 35, 10) == TokenUsage(10, 5, estimated=True)
    assert settle_usage(ReportedUsage(20, None), 35, 7) == TokenUsage(20, 2, estimated=True)
    assert settle_usage(ReportedUsage(20, 0), 35, 0) == TokenUsage(20, 0, estimated=False)
    assert settle_usage(None, 35, 7) == TokenUsage(10, 2, estimated=True)
    absurd = ReportedUsage()
    absurd.report(prompt=float("inf"), completion=10**30)
    assert absurd == ReportedUsage(None, None, absurd=True)
    assert settle_usage(absurd, 35, 7) == TokenUsage(10, 2, estimated=True)


def _anthropic_stream(start_input: int, delta_usage: dict[str, Any]) -> list[bytes]:
    message = {"type": "message", "content": [], "usage": {"input_tokens": start_input}}
    return [
        sse({"type": "message_start", "message": message}, "message_start"),
        sse(
            {"type": "content_block_delta", "delta": {"type": "text_delta", "text": "hello"}},
            "content_block_delta",
        ),
        sse({"type": "message_delta", "delta": {}, "usage": delta_usage}, "message_delta"),
        sse({"type": "message_stop"}, "message_stop"),
    ]


async def test_anthropic_input_tokens_are_read_from_message_delta(
    client: httpx.AsyncClient, fake: FakeModelServer
) -> None:
    # LiteLLM's translated stream: 0 in message_start, the real count in message_delta.
    fake.script(Reply(raw_events=_anthropic_stream(0, {"input_tokens": 25, "output_tokens": 7})))
    text, usage = await answer(provider_for("anthropic", client, fake))
    assert text == "hello"
    assert usage == TokenUsage(prompt_tokens=25, completion_tokens=7, estimated=False)


async def test_a_stream_reporting_only_output_tokens_estimates_the_prompt(
    client: httpx.AsyncClient, fake: FakeModelServer
) -> None:
    fake.script(Reply(raw_events=_anthropic_stream(0, {"output_tokens": 7})))
    _, usage = await answer(provider_for("anthropic", client, fake))
    assert usage == TokenUsage(prompt_tokens=PROMPT_TOKENS, completion_tokens=7, estimated=True)


async def test_openai_usage_with_only_completion_tokens_estimates_the_prompt(
    client: httpx.AsyncClient, fake: FakeModelServer
) -> None:
    body = {"choices": [{"message": {"content": "ok"}}], "usage": {"completion_tokens": 1}}
    fake.script(Reply(raw_body=json.dumps(body).encode()))
    _, usage = await answer(provider_for("openai", client, fake))
    assert usage == TokenUsage(prompt_tokens=PROMPT_TOKENS, completion_tokens=1, estimated=True)


async def test_extra_fields_and_content_parts_are_accepted(
    client: httpx.AsyncClient, fake: FakeModelServer
) -> None:
    body = {
        "choices": [
            {
                "message": {
                    "content": [{"type": "text", "text": "o"}, {"type": "text", "text": "k"}]
                },
                "logprobs": {"anything": [1, 2]},
            }
        ],
        "system_fingerprint": {"nested": True},
    }
    fake.script(Reply(raw_body=json.dumps(body).encode()))
    text, _ = await answer(provider_for("openai", client, fake))
    assert text == "ok"
