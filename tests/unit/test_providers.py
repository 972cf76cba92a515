"""Wire formats against the loopback fake: success, streaming, usage, each fault, deadlines."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from beastmode import errors
from beastmode.providers.anthropic import AnthropicProvider, messages_url
from beastmode.providers.base import ChatRequest, Endpoint, FimRequest, Limits, Provider
from beastmode.providers.http import parse_retry_after
from beastmode.providers.openai import OpenAIProvider, chat_url
from tests.conftest import CANARY_KEY
from tests.fakes import FakeModelServer, Fault, Reply, closed_port

CHAT = ChatRequest(messages=(("user", "write code"),), system="be brief", max_tokens=64)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False) as http:
        yield http


def openai(client: httpx.AsyncClient, url: str, **kw: object) -> OpenAIProvider:
    return OpenAIProvider(
        client, Endpoint(url=url, upstream_model="qwen", api_key=CANARY_KEY, **kw)
    )  # type: ignore[arg-type]


def anthropic(client: httpx.AsyncClient, url: str) -> AnthropicProvider:
    return AnthropicProvider(client, Endpoint(url=url, upstream_model="claude", api_key=CANARY_KEY))


async def collect(
    provider: Provider, request: ChatRequest | FimRequest, limits: Limits | None = None
) -> tuple[str, object]:
    stream = provider.stream(request, limits or Limits())
    parts = [delta async for delta in stream]
    return "".join(parts), stream.usage


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://h/v1/chat/completions", "https://h/v1/chat/completions"),
        ("http://localhost:11434/v1", "http://localhost:11434/v1/chat/completions"),
        ("http://localhost:8000", "http://localhost:8000/v1/chat/completions"),
        ("http://localhost:8000/", "http://localhost:8000/v1/chat/completions"),
    ],
)
def test_openai_chat_url(given: str, expected: str) -> None:
    assert chat_url(given) == expected


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://api.anthropic.com", "https://api.anthropic.com/v1/messages"),
        ("https://h/v1", "https://h/v1/messages"),
        ("https://h/v1/messages", "https://h/v1/messages"),
    ],
)
def test_anthropic_messages_url(given: str, expected: str) -> None:
    assert messages_url(given) == expected


async def test_openai_chat_streams_text_and_reads_usage(
    fake: FakeModelServer, client: httpx.AsyncClient
) -> None:
    fake.script(Reply(text="def add(a, b):\n    return a + b", usage=(21, 9)))
    text, usage = await collect(openai(client, fake.openai_chat_url), CHAT)
    assert text == "def add(a, b):\n    return a + b"
    assert (usage.prompt_tokens, usage.completion_tokens, usage.estimated) == (21, 9, False)  # type: ignore[attr-defined]
    body = fake.requests[0].json
    assert body["model"] == "qwen" and body["stream"] is True
    assert body["messages"][0] == {"role": "system", "content": "be brief"}
    assert body["stream_options"] == {"include_usage": True}
    assert fake.requests[0].headers["authorization"] == f"Bearer {CANARY_KEY}"


async def test_usage_is_estimated_when_the_endpoint_omits_it(
    fake: FakeModelServer, client: httpx.AsyncClient
) -> None:
    fake.script(Reply(text="x" * 35, usage=None))
    _, usage = await collect(openai(client, fake.openai_chat_url), CHAT)
    assert usage.estimated and usage.completion_tokens == 10 and usage.prompt_tokens > 0  # type: ignore[attr-defined]


async def test_openai_fim_sends_prompt_and_suffix_to_the_completions_endpoint(
    fake: FakeModelServer, client: httpx.AsyncClient
) -> None:
    fake.script(Reply(text="a + b"))
    provider = openai(client, fake.openai_chat_url, completions_url=fake.openai_completions_url)
    assert provider.supports_fim
    text, _ = await collect(
        provider, FimRequest(prompt="def add(a, b):\n    return ", suffix="\n", stop=("\n",))
    )
    assert text == "a + b"
    request = fake.requests[0]
    assert request.path == "/v1/completions"
    assert request.json["prompt"].endswith("return ") and request.json["suffix"] == "\n"
    assert request.json["stop"] == ["\n"]


async def test_openai_non_streamed_json_answer_is_accepted(
    fake: FakeModelServer, client: httpx.AsyncClient
) -> None:
    # Some servers ignore "stream": true and answer with one JSON body.
    fake.set_responder(lambda req: Reply(text="whole answer"))
    provider = openai(client, fake.openai_chat_url)
    http_request = client.build_request(
        "POST", fake.openai_chat_url, json={"model": "m", "messages": []}
    )
    response = await client.send(http_request)
    assert response.json()["choices"][0]["message"]["content"] == "whole answer"
    text, _ = await collect(provider, CHAT)
    assert text == "whole answer"


async def test_anthropic_messages_stream(fake: FakeModelServer, client: httpx.AsyncClient) -> None:
    fake.script(Reply(text="fn main() {}", usage=(30, 4)))
    text, usage = await collect(anthropic(client, fake.base_url), CHAT)
    assert text == "fn main() {}"
    assert (usage.prompt_tokens, usage.completion_tokens) == (30, 4)  # type: ignore[attr-defined]
    request = fake.requests[0]
    assert request.path == "/v1/messages"
    assert request.headers["x-api-key"] == CANARY_KEY
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in request.headers
    assert request.json["system"] == "be brief"
    assert request.json["max_tokens"] == 64
    assert request.json["messages"] == [{"role": "user", "content": "write code"}]


FAULTS = [
    # (reply, expected error class, fragment of the message)
    (
        Reply(status=401, error_message="Incorrect API key provided"),
        errors.AuthenticationFailed,
        "Invalid API key (HTTP 401: Incorrect API key provided)",
    ),
    (
        Reply(status=403, error_message="forbidden"),
        errors.AuthenticationFailed,
        "HTTP 403: forbidden",
    ),
    (
        Reply(status=404, error_message="model 'qwen' not found"),
        errors.EndpointNotFound,
        "HTTP 404: model 'qwen' not found",
    ),
    (
        Reply(status=400, error_message="messages: field required"),
        errors.InvalidRequest,
        "Invalid request format (HTTP 400: messages: field required)",
    ),
    (Reply(status=429, headers={"Retry-After": "7"}), errors.RateLimited, "HTTP 429"),
    (Reply(status=500), errors.UpstreamServerError, "HTTP 500"),
    (Reply(status=503), errors.UpstreamServerError, "HTTP 503"),
    (Reply(status=529), errors.UpstreamServerError, "overloaded"),
    (Reply(fault=Fault.MALFORMED_JSON), errors.MalformedResponse, "not JSON"),
    (Reply(fault=Fault.HTML_ERROR_PAGE), errors.UpstreamServerError, "HTML error page"),
    (Reply(fault=Fault.TRUNCATED_STREAM, text="x" * 40), errors.StreamInterrupted, "truncated"),
    (Reply(fault=Fault.RESET_MID_STREAM, text="x" * 40), errors.StreamInterrupted, "broke"),
    (Reply(fault=Fault.RESET_BEFORE_RESPONSE), errors.StreamInterrupted, "broke"),
    (Reply(fault=Fault.IN_BAND_ERROR, text="x" * 40), errors.ProviderError, "mid-stream"),
    (
        Reply(fault=Fault.OVERSIZED, oversize_bytes=3_000_000),
        errors.ResponseTooLarge,
        "larger than",
    ),
]


@pytest.mark.parametrize("wire", ["openai", "anthropic"])
@pytest.mark.parametrize(
    ("reply", "expected", "fragment"),
    FAULTS,
    ids=[f"{r.fault.value if r.fault else r.status}" for r, _, _ in FAULTS],
)
async def test_faults_map_to_typed_errors(
    fake: FakeModelServer,
    client: httpx.AsyncClient,
    wire: str,
    reply: Reply,
    expected: type[Exception],
    fragment: str,
) -> None:
    fake.script(reply)
    provider = (
        openai(client, fake.openai_chat_url)
        if wire == "openai"
        else anthropic(client, fake.base_url)
    )
    with pytest.raises(expected) as caught:
        await collect(provider, CHAT, Limits(max_response_bytes=1_000_000, total_seconds=10))
    message = str(caught.value)
    assert message.startswith("Custom model request failed: ")
    assert fragment.lower() in message.lower()
    assert CANARY_KEY not in message


async def test_retry_after_is_carried_in_seconds_and_http_date(
    fake: FakeModelServer, client: httpx.AsyncClient
) -> None:
    when = time.time() + 30
    fake.script(
        Reply(status=429, headers={"Retry-After": "12"}),
        Reply(
            status=429,
            headers={
                "Retry-After": httpx._utils.format_date(when)
                if hasattr(httpx._utils, "format_date")
                else __import__("email.utils").utils.formatdate(when, usegmt=True)
            },
        ),
    )
    provider = openai(client, fake.openai_chat_url)
    with pytest.raises(errors.RateLimited) as first:
        await collect(provider, CHAT)
    with pytest.raises(errors.RateLimited) as second:
        await collect(provider, CHAT)
    assert first.value.retry_after == 12
    assert second.value.retry_after is not None and 25 <= second.value.retry_after <= 31


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after("3") == 3
    assert parse_retry_after("0.5") == 0.5
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480 - 60) == 60
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


async def test_connection_refused_is_a_connect_error(client: httpx.AsyncClient) -> None:
    provider = openai(client, f"http://127.0.0.1:{closed_port()}/v1")
    with pytest.raises(errors.ConnectError, match=r"Cannot connect to 127\.0\.0\.1"):
        await collect(provider, CHAT)


async def test_slow_drip_ends_at_the_total_deadline(
    fake: FakeModelServer, client: httpx.AsyncClient
) -> None:
    # Each chunk arrives well within any per-read timeout, but the whole answer would take 6 s.
    fake.script(Reply(text="x" * 60, chunk_interval=0.4))
    started = time.monotonic()
    with pytest.raises(errors.DeadlineExceeded, match="total deadline"):
        await collect(
            openai(client, fake.openai_chat_url),
            CHAT,
            Limits(total_seconds=1.0, first_token_seconds=1.0),
        )
    assert time.monotonic() - started < 1.5
    assert fake.requests[0].wait_finished(2) and fake.requests[0].client_disconnected


async def test_hang_ends_at_the_first_token_deadline(
    fake: FakeModelServer, client: httpx.AsyncClient
) -> None:
    fake.script(Reply(fault=Fault.HANG))
    started = time.monotonic()
    with pytest.raises(errors.DeadlineExceeded, match="time-to-first-token"):
        await collect(
            openai(client, fake.openai_chat_url),
            CHAT,
            Limits(total_seconds=10, first_token_seconds=0.5),
        )
    assert time.monotonic() - started < 5.0  # the first-token deadline, not the total, ended it


async def test_cancelling_the_caller_closes_the_upstream_connection_at_once(
    fake: FakeModelServer, client: httpx.AsyncClient
) -> None:
    fake.script(Reply(text="x" * 200, chunk_interval=0.1))
    provider = openai(client, fake.openai_chat_url)
    task = asyncio.create_task(collect(provider, CHAT))
    await asyncio.sleep(0.3)
    cancelled_at = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    request = fake.requests[0]
    assert request.wait_finished(2) and request.client_disconnected
    # Closed long before the reply's natural end (generous bound: the machine may be loaded).
    assert request.finished_at is not None and request.finished_at - cancelled_at < 1.0


async def test_closing_a_stream_early_closes_the_connection(
    fake: FakeModelServer, client: httpx.AsyncClient
) -> None:
    fake.script(Reply(text="line one\nline two\n" * 20, chunk_interval=0.02))
    stream = openai(client, fake.openai_chat_url).stream(CHAT, Limits())
    async for delta in stream:
        if delta:
            break
    closed_at = time.monotonic()
    await stream.aclose()
    request = fake.requests[0]
    assert request.wait_finished(2) and request.client_disconnected
    assert request.finished_at is not None and request.finished_at - closed_at < 1.0


async def test_a_finished_stream_leaves_its_connection_for_reuse(
    fake: FakeModelServer, client: httpx.AsyncClient
) -> None:
    provider = openai(client, fake.openai_chat_url)
    for _ in range(3):
        text, _ = await collect(provider, CHAT)
        assert text == "Hello from the fake model"
    assert [r.connection_id for r in fake.requests] == [1, 1, 1]


async def test_a_stream_closed_early_is_not_reused(
    fake: FakeModelServer, client: httpx.AsyncClient
) -> None:
    fake.script(Reply(text="x" * 400, chunk_interval=0.01))
    stream = openai(client, fake.openai_chat_url).stream(CHAT, Limits())
    async for _ in stream:
        break
    await stream.aclose()
    await collect(openai(client, fake.openai_chat_url), CHAT)
    assert [r.connection_id for r in fake.requests] == [1, 2]
