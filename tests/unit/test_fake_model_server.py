"""The scripted loopback model server, seen from a plain httpx client."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes import FakeModelServer, Fault, RecordedRequest, Reply, closed_port

ROOT = Path(__file__).resolve().parents[2]
OPENAI_ERROR_500 = {
    "error": {
        "message": "The server had an error processing your request",
        "type": "server_error",
        "param": None,
        "code": None,
    }
}


@pytest.fixture
def server() -> Iterator[FakeModelServer]:
    with FakeModelServer() as fake:
        yield fake


def url(server: FakeModelServer, api: str) -> str:
    return {
        "chat": server.openai_chat_url,
        "completions": server.openai_completions_url,
        "anthropic": server.anthropic_url,
    }[api]


def sse_events(text: str) -> list[tuple[str | None, str]]:
    """(event name, data) pairs of an SSE body."""
    events = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        fields = dict(line.split(": ", 1) for line in block.split("\n"))
        events.append((fields.get("event"), fields["data"]))
    return events


def streamed_text(api: str, events: list[tuple[str | None, str]]) -> str:
    """The text deltas of a stream joined, in the place each API puts them."""
    parts = []
    for _, data in events:
        if data == "[DONE]":
            continue
        obj = json.loads(data)
        if api == "anthropic":
            if obj["type"] == "content_block_delta":
                parts.append(obj["delta"]["text"])
        elif obj["choices"]:
            choice = obj["choices"][0]
            parts.append(choice["delta"].get("content", "") if api == "chat" else choice["text"])
    return "".join(parts)


def reply_text(server: FakeModelServer) -> str:
    content: str = httpx.post(server.openai_chat_url, json={}).json()["choices"][0]["message"][
        "content"
    ]
    return content


# -- wire formats ------------------------------------------------------------------------------


def test_openai_chat_non_stream_body(server: FakeModelServer) -> None:
    response = httpx.post(server.openai_chat_url, json={"model": "qwen", "messages": []})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "id": "chatcmpl-fake-1",
        "object": "chat.completion",
        "created": 0,
        "model": "qwen",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello from the fake model"},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
    }


def test_openai_completions_non_stream_body(server: FakeModelServer) -> None:
    server.script(Reply(text="    return a + b", finish_reason="length", usage=(3, 4)))
    response = httpx.post(server.openai_completions_url, json={"prompt": "def f(", "suffix": ")"})
    assert response.json() == {
        "id": "cmpl-fake-1",
        "object": "text_completion",
        "created": 0,
        "model": "fake-model",
        "choices": [
            {"index": 0, "text": "    return a + b", "logprobs": None, "finish_reason": "length"}
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7},
    }
    assert server.requests[0].json == {"prompt": "def f(", "suffix": ")"}


def test_anthropic_non_stream_body(server: FakeModelServer) -> None:
    response = httpx.post(server.anthropic_url, json={"model": "claude", "max_tokens": 5})
    assert response.json() == {
        "id": "msg_fake_1",
        "type": "message",
        "role": "assistant",
        "content": [{"type": "text", "text": "Hello from the fake model"}],
        "model": "claude",
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 11, "output_tokens": 7},
    }


@pytest.mark.parametrize("api", ["chat", "completions", "anthropic"])
def test_usage_none_leaves_usage_out(server: FakeModelServer, api: str) -> None:
    server.script(Reply(usage=None))
    assert "usage" not in httpx.post(url(server, api), json={}).json()


@pytest.mark.parametrize("api", ["chat", "completions"])
@pytest.mark.parametrize("include_usage", [True, False])
def test_openai_stream_ends_with_finish_usage_and_done(
    server: FakeModelServer, api: str, include_usage: bool
) -> None:
    server.script(Reply(chunks=["def ", "add", "(a, b):"]))
    body = {"stream": True, "stream_options": {"include_usage": include_usage}}
    response = httpx.post(url(server, api), json=body)
    assert response.headers["content-type"] == "text/event-stream"
    events = sse_events(response.text)
    assert streamed_text(api, events) == "def add(a, b):"
    assert events[-1] == (None, "[DONE]")
    chunks = [json.loads(data) for _, data in events[:-1]]
    finish = chunks[-2] if include_usage else chunks[-1]
    assert finish["choices"][0]["finish_reason"] == "stop"
    assert all(
        c["choices"][0]["finish_reason"] is None for c in chunks if c is not finish and c["choices"]
    )
    if include_usage:
        assert chunks[-1]["choices"] == []
        assert chunks[-1]["usage"] == {
            "prompt_tokens": 11,
            "completion_tokens": 7,
            "total_tokens": 18,
        }
    else:
        assert all("usage" not in c for c in chunks)


def test_openai_chat_stream_deltas_are_four_character_pieces_by_default(
    server: FakeModelServer,
) -> None:
    server.script(Reply(text="abcdefghij"))
    events = sse_events(httpx.post(server.openai_chat_url, json={"stream": True}).text)
    deltas = [json.loads(d)["choices"][0]["delta"] for _, d in events[:-1]]
    assert deltas == [
        {"role": "assistant", "content": ""},
        {"content": "abcd"},
        {"content": "efgh"},
        {"content": "ij"},
        {},
    ]


def test_anthropic_stream_event_sequence(server: FakeModelServer) -> None:
    server.script(Reply(chunks=["Hi", " there"], usage=(5, 2)))
    response = httpx.post(server.anthropic_url, json={"stream": True, "model": "claude"})
    events = sse_events(response.text)
    assert [name for name, _ in events] == [
        "message_start",
        "content_block_start",
        "ping",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert all(json.loads(data)["type"] == name for name, data in events)
    assert streamed_text("anthropic", events) == "Hi there"
    assert json.loads(events[0][1])["message"]["usage"] == {"input_tokens": 5, "output_tokens": 1}
    assert json.loads(events[-2][1]) == {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
        "usage": {"output_tokens": 2},
    }


@pytest.mark.parametrize(
    ("path", "object_name"),
    [
        ("/openai/v1/chat/completions", "chat.completion"),
        ("/v1/completions?x=1", "text_completion"),
        ("/anthropic/v1/messages", "message"),
    ],
)
def test_path_suffix_selects_wire_format(
    server: FakeModelServer, path: str, object_name: str
) -> None:
    body = httpx.post(server.base_url + path, json={}).json()
    assert body.get("object", body.get("type")) == object_name


def test_unknown_path_is_404_and_leaves_script_alone(server: FakeModelServer) -> None:
    server.script(Reply(text="scripted"))
    response = httpx.post(server.base_url + "/v1/embeddings", json={})
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "No route for POST /v1/embeddings"
    assert reply_text(server) == "scripted"


# -- errors and faults -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("api", "status", "expected"),
    [
        (
            "chat",
            401,
            {
                "error": {
                    "message": "bad key",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "invalid_api_key",
                }
            },
        ),
        (
            "chat",
            500,
            {"error": {"message": "bad key", "type": "server_error", "param": None, "code": None}},
        ),
        (
            "anthropic",
            529,
            {"type": "error", "error": {"type": "overloaded_error", "message": "bad key"}},
        ),
        (
            "anthropic",
            403,
            {"type": "error", "error": {"type": "permission_error", "message": "bad key"}},
        ),
    ],
)
def test_error_status_has_wire_format_error_body(
    server: FakeModelServer, api: str, status: int, expected: dict[str, Any]
) -> None:
    server.script(Reply(status=status, error_message="bad key"))
    response = httpx.post(url(server, api), json={"stream": True})
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert response.json() == expected


@pytest.mark.parametrize("retry_after", ["2", "Wed, 21 Oct 2015 07:28:00 GMT"])
def test_extra_headers_are_sent(server: FakeModelServer, retry_after: str) -> None:
    server.script(Reply(status=429, headers={"Retry-After": retry_after}))
    response = httpx.post(server.openai_chat_url, json={})
    assert (response.status_code, response.headers["retry-after"]) == (429, retry_after)


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("fault", [Fault.RESET_BEFORE_RESPONSE, Fault.RESET_MID_STREAM])
def test_reset_faults_raise_read_error(server: FakeModelServer, fault: Fault, stream: bool) -> None:
    server.script(Reply(fault=fault))
    lines: list[str] = []
    with (
        pytest.raises(httpx.ReadError),
        httpx.stream("POST", server.openai_chat_url, json={"stream": stream}) as response,
    ):
        lines.extend(response.iter_lines())
    if fault is Fault.RESET_MID_STREAM and stream:
        assert 'data: {"id"' in lines[0]


@pytest.mark.parametrize("api", ["chat", "anthropic"])
def test_truncated_stream_ends_cleanly_without_terminator(
    server: FakeModelServer, api: str
) -> None:
    server.script(Reply(chunks=["a", "b", "c", "d"], fault=Fault.TRUNCATED_STREAM))
    response = httpx.post(url(server, api), json={"stream": True})
    events = sse_events(response.text)
    assert response.status_code == 200
    assert streamed_text(api, events) == "ab"
    last_name, last_data = events[-1]
    if api == "anthropic":
        assert last_name == "content_block_delta"
    else:
        assert last_data != "[DONE]"
        assert json.loads(last_data)["choices"][0]["finish_reason"] is None


def test_truncated_non_stream_body_is_a_protocol_error(server: FakeModelServer) -> None:
    server.script(Reply(fault=Fault.TRUNCATED_STREAM))
    with pytest.raises(httpx.RemoteProtocolError, match="without sending complete message body"):
        httpx.post(server.openai_chat_url, json={})


@pytest.mark.parametrize("api", ["chat", "anthropic"])
def test_malformed_json_fault(server: FakeModelServer, api: str) -> None:
    server.script(Reply(fault=Fault.MALFORMED_JSON), Reply(fault=Fault.MALFORMED_JSON))
    with pytest.raises(json.JSONDecodeError):
        httpx.post(url(server, api), json={}).json()
    events = sse_events(httpx.post(url(server, api), json={"stream": True}).text)
    assert [data for _, data in events if not _is_json(data)] == [
        '{"id": "broken", "choices": [{"message": <not json>'
    ]
    assert events[-1][0 if api == "anthropic" else 1] in ("message_stop", "[DONE]")


def _is_json(data: str) -> bool:
    try:
        json.loads(data)
    except ValueError:
        return data == "[DONE]"
    return True


@pytest.mark.parametrize(("status", "expected"), [(200, 502), (503, 503)])
def test_html_error_page(server: FakeModelServer, status: int, expected: int) -> None:
    server.script(Reply(status=status, fault=Fault.HTML_ERROR_PAGE))
    response = httpx.post(server.anthropic_url, json={"stream": True})
    assert response.status_code == expected
    assert response.headers["content-type"] == "text/html"
    assert response.text.startswith("<html>")


def test_in_band_error_openai_sends_error_then_done(server: FakeModelServer) -> None:
    server.script(Reply(chunks=["a", "b"], fault=Fault.IN_BAND_ERROR))
    events = sse_events(httpx.post(server.openai_chat_url, json={"stream": True}).text)
    assert streamed_text("chat", events[:-2]) == "a"
    assert json.loads(events[-2][1]) == OPENAI_ERROR_500
    assert events[-1] == (None, "[DONE]")


def test_in_band_error_anthropic_sends_overloaded_error_event(server: FakeModelServer) -> None:
    server.script(Reply(fault=Fault.IN_BAND_ERROR))
    events = sse_events(httpx.post(server.anthropic_url, json={"stream": True}).text)
    assert events[-1] == (
        "error",
        '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
    )
    assert "message_stop" not in [name for name, _ in events]


@pytest.mark.parametrize("stream", [False, True])
def test_oversized_body_reaches_requested_size(server: FakeModelServer, stream: bool) -> None:
    server.script(Reply(fault=Fault.OVERSIZED, oversize_bytes=3_000_000))
    response = httpx.post(server.openai_chat_url, json={"stream": stream})
    assert 3_000_000 <= len(response.content) < 3_100_000


def test_hang_times_out_and_sees_the_client_leave(server: FakeModelServer) -> None:
    server.script(Reply(fault=Fault.HANG))
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(server.openai_chat_url, json={}, timeout=0.2)
    request = server.requests[0]
    assert request.wait_finished(1.0)
    assert request.client_disconnected


def test_stop_releases_a_hanging_request() -> None:
    fake = FakeModelServer().start()
    fake.script(Reply(fault=Fault.HANG))
    client = threading.Thread(target=lambda: _swallow(fake.openai_chat_url), daemon=True)
    client.start()
    request = fake.wait_for_requests(1)[0]
    fake.stop()
    client.join(2)
    assert request.wait_finished(0) and not client.is_alive()


def _swallow(target: str) -> None:
    with contextlib.suppress(httpx.HTTPError):
        httpx.post(target, json={}, timeout=5)


def test_connection_to_closed_port_is_refused() -> None:
    with pytest.raises(httpx.ConnectError):
        httpx.post(f"http://127.0.0.1:{closed_port()}/v1/chat/completions", json={})


# -- timing and disconnects --------------------------------------------------------------------


def test_delay_before_headers_and_chunk_interval(server: FakeModelServer) -> None:
    server.script(Reply(chunks=["a", "b", "c"], delay_before_headers=0.15, chunk_interval=0.1))
    start = time.monotonic()
    with httpx.stream("POST", server.openai_chat_url, json={"stream": True}) as response:
        headers_at = time.monotonic()
        arrivals = [
            time.monotonic() for line in response.iter_lines() if '"delta":{"content"' in line
        ]
    assert headers_at - start >= 0.15
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert len(gaps) == 2 and all(0.09 <= gap < 1.0 for gap in gaps), gaps  # never early


@pytest.mark.parametrize(
    "reply",
    [
        Reply(fault=Fault.HANG),
        Reply(chunk_interval=5.0),
        Reply(delay_before_headers=5.0),
    ],
    ids=["hang", "drip", "delay"],
)
async def test_cancelled_client_is_noticed_within_milliseconds(
    server: FakeModelServer, reply: Reply
) -> None:
    server.script(reply)

    async def consume(client: httpx.AsyncClient) -> None:
        async with client.stream("POST", server.openai_chat_url, json={"stream": True}) as response:
            async for _ in response.aiter_lines():
                pass

    async with httpx.AsyncClient() as client:
        task = asyncio.create_task(consume(client))
        request = (await server.wait_for_requests_async(1))[0]
        await asyncio.sleep(0.05)
        cancelled_at = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert await asyncio.to_thread(request.wait_finished, 1.0)
    assert request.client_disconnected
    assert request.finished_at is not None
    # Long before the reply's natural end (5 s or never); the bound leaves room for a loaded
    # machine, the milliseconds themselves are what scripts/bench_inline.py reports.
    assert request.finished_at - cancelled_at < 1.0


def test_finished_at_set_when_response_completes(server: FakeModelServer) -> None:
    httpx.post(server.anthropic_url, json={"stream": True})
    request = server.requests[0]
    assert request.wait_finished(1.0)
    assert request.finished_at is not None and request.finished_at >= request.received_at
    assert not request.client_disconnected


# -- scripting ---------------------------------------------------------------------------------


def test_script_is_consumed_in_order_then_default(server: FakeModelServer) -> None:
    server.script(Reply(text="one"), Reply(text="two"))
    server.default_reply = Reply(text="fallback")
    assert [reply_text(server) for _ in range(3)] == ["one", "two", "fallback"]


def test_responder_overrides_script_and_reset_restores_defaults(server: FakeModelServer) -> None:
    server.script(Reply(text="queued"))
    server.set_responder(lambda request: Reply(text=f"echo {request.path}"))
    assert reply_text(server) == "echo /v1/chat/completions"
    server.reset()
    assert server.requests == []
    assert reply_text(server) == "Hello from the fake model"


def test_recorded_request_keeps_headers_and_body(server: FakeModelServer) -> None:
    httpx.post(server.anthropic_url, json={"max_tokens": 3}, headers={"X-Api-Key": "sk-canary"})
    request: RecordedRequest = server.requests[0]
    assert (request.method, request.path) == ("POST", "/v1/messages")
    assert request.headers["x-api-key"] == "sk-canary"
    assert (request.body, request.json) == (b'{"max_tokens":3}', {"max_tokens": 3})


def test_wait_for_requests_times_out_with_count(server: FakeModelServer) -> None:
    with pytest.raises(TimeoutError, match=r"expected 1 requests within 0\.05s, got 0"):
        server.wait_for_requests(1, timeout=0.05)


async def test_concurrent_async_requests_overlap(server: FakeModelServer) -> None:
    server.default_reply = Reply(delay_before_headers=0.3)
    start = time.monotonic()
    async with httpx.AsyncClient() as client:
        responses = await asyncio.gather(
            *(client.post(server.anthropic_url, json={"n": i}) for i in range(10))
        )
    assert time.monotonic() - start < 1.0
    assert [r.status_code for r in responses] == [200] * 10
    recorded = await server.wait_for_requests_async(10)
    assert sorted(r.body for r in recorded) == sorted(f'{{"n":{i}}}'.encode() for i in range(10))


def test_cli_prints_ready_and_serves() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.model_server", "--text", "from the cli"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready, base_url = process.stdout.readline().split()
        assert ready == "READY"
        body = httpx.post(base_url + "/v1/messages", json={}).json()
        assert body["content"] == [{"type": "text", "text": "from the cli"}]
    finally:
        process.kill()
        process.wait()
