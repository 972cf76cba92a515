"""Size caps that hold while reading: endless SSE lines, compression bombs, the SSE line splitter."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from beastmode import errors
from beastmode.providers.anthropic import AnthropicProvider
from beastmode.providers.base import ChatRequest, Endpoint, Limits, Provider
from beastmode.providers.openai import OpenAIProvider
from beastmode.providers.sse import SSEParser
from tests.conftest import CANARY_KEY
from tests.fakes import FakeModelServer, Fault, Reply

CHAT = ChatRequest(messages=(("user", "write code"),), max_tokens=64)
CAP = 1_000_000


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


async def collect(provider: Provider, limits: Limits) -> str:
    return "".join([delta async for delta in provider.stream(CHAT, limits)])


@pytest.mark.parametrize("wire", ["openai", "anthropic"])
async def test_an_endless_data_line_ends_at_the_event_cap_not_the_deadline(
    wire: str, client: httpx.AsyncClient, fake: FakeModelServer
) -> None:
    fake.script(Reply(fault=Fault.ENDLESS_LINE))
    started = time.monotonic()
    with pytest.raises(errors.ResponseTooLarge, match="stream event is larger"):
        await collect(provider_for(wire, client, fake), Limits())
    # Well inside the 120 s deadline: the cap, not the clock, ended it.
    assert time.monotonic() - started < 30


def bomb(encoding: str, stream: bool) -> Reply:
    """40 MB of answer in a few tens of KB on the wire; streamed, or one JSON body."""
    if stream:
        return Reply(fault=Fault.OVERSIZED, oversize_bytes=40_000_000, content_encoding=encoding)
    answer = {"choices": [{"message": {"content": "x" * 40_000_000}}], "content": []}
    return Reply(raw_body=json.dumps(answer).encode(), content_encoding=encoding)


@pytest.mark.parametrize("wire", ["openai", "anthropic"])
@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
@pytest.mark.parametrize("stream", [True, False], ids=["stream", "json"])
async def test_a_compression_bomb_is_capped_after_decompression(
    wire: str, encoding: str, stream: bool, client: httpx.AsyncClient, fake: FakeModelServer
) -> None:
    fake.script(bomb(encoding, stream))
    with pytest.raises(errors.ResponseTooLarge, match="after decompression"):
        await collect(provider_for(wire, client, fake), Limits(max_response_bytes=CAP))


@pytest.mark.parametrize("wire", ["openai", "anthropic"])
@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_a_small_compressed_answer_is_read_whole(
    wire: str, encoding: str, client: httpx.AsyncClient, fake: FakeModelServer
) -> None:
    fake.script(Reply(text="def add(a, b):\n    return a + b\n" * 50, content_encoding=encoding))
    text = await collect(provider_for(wire, client, fake), Limits(max_response_bytes=CAP))
    assert text == "def add(a, b):\n    return a + b\n" * 50


async def test_an_encoding_we_did_not_ask_for_is_refused_clearly(
    client: httpx.AsyncClient, fake: FakeModelServer
) -> None:
    fake.script(Reply(headers={"Content-Encoding": "br"}))
    with pytest.raises(errors.MalformedResponse, match="Content-Encoding 'br'"):
        await collect(provider_for("openai", client, fake), Limits(max_response_bytes=CAP))
    assert fake.requests[0].headers["accept-encoding"] == "gzip, deflate"


def _events(parser: SSEParser, *pieces: bytes) -> list[tuple[str, str]]:
    return [(e.event, e.data) for piece in pieces for e in parser.feed(piece)]


def test_sse_lines_end_with_cr_lf_or_crlf_even_split_across_pieces() -> None:
    parser = SSEParser(1000)
    events = _events(
        parser,
        b"data: one\r",
        b"\n\r\nevent: named\rdata: two\r",
        b"data: three\n",
        b"\n: a comment\n\ndata:four\n\n",
    )
    assert events == [("message", "one"), ("named", "two\nthree"), ("message", "four")]


def test_sse_event_cap_counts_an_unfinished_line() -> None:
    parser = SSEParser(100)
    parser.feed(b"data: " + b"x" * 90)
    with pytest.raises(errors.ResponseTooLarge):
        parser.feed(b"x" * 20)


def test_sse_event_cap_counts_every_data_line_of_one_event() -> None:
    parser = SSEParser(100)
    parser.feed(b"data: " + b"x" * 40 + b"\n" + b"data: " + b"x" * 40 + b"\n")
    with pytest.raises(errors.ResponseTooLarge):
        parser.feed(b"data: " + b"x" * 40 + b"\n")
    fresh = SSEParser(100)
    assert len(fresh.feed((b"data: " + b"x" * 40 + b"\n\n") * 10)) == 10
