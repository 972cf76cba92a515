"""The wire formats the fake model server speaks: OpenAI chat, OpenAI completions, Anthropic.

Pure functions from a `Reply` to response bodies and SSE events; the server decides which parts
to send (all of them, or a faulty subset).
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import Any

from tests.fakes.script import Reply

FAKE_MODEL = "fake-model"
MALFORMED_BODY = b'{"id": "broken", "choices": [{"message": <not json>'
HTML_PAGE = (
    "<html>\r\n<head><title>{status}</title></head>\r\n<body>\r\n"
    "<center><h1>{status}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


class WireFormat(enum.Enum):
    """Which API a request path belongs to."""

    OPENAI_CHAT = "openai_chat"
    OPENAI_COMPLETIONS = "openai_completions"
    ANTHROPIC = "anthropic"


def wire_format_for(path: str) -> WireFormat | None:
    """The wire format served at `path` (query string ignored), or None for an unknown path."""
    path = path.split("?", 1)[0].rstrip("/")
    if path.endswith("/chat/completions"):
        return WireFormat.OPENAI_CHAT
    if path.endswith("/completions"):
        return WireFormat.OPENAI_COMPLETIONS
    if path.endswith("/messages"):
        return WireFormat.ANTHROPIC
    return None


@dataclass(frozen=True)
class StreamPlan:
    """A well-formed SSE stream cut into the parts faults pick from."""

    preamble: list[bytes]
    deltas: list[bytes]
    epilogue: list[bytes]


_OPENAI_ERROR_TYPES = {
    400: ("invalid_request_error", None, "Invalid request"),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided"),
    403: ("permission_error", None, "You are not allowed to use this model"),
    404: ("invalid_request_error", "model_not_found", "The model does not exist"),
    429: ("rate_limit_error", "rate_limit_exceeded", "Rate limit reached"),
    529: ("overloaded_error", None, "Overloaded"),
}
_ANTHROPIC_ERROR_TYPES = {
    400: ("invalid_request_error", "Invalid request"),
    401: ("authentication_error", "invalid x-api-key"),
    403: (
        "permission_error",
        "Your API key does not have permission to use the specified resource",
    ),
    404: ("not_found_error", "Not found"),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes"),
    429: ("rate_limit_error", "Number of request tokens has exceeded your rate limit"),
    529: ("overloaded_error", "Overloaded"),
}


def dumps(value: Any) -> bytes:
    """Compact JSON as UTF-8 bytes."""
    return json.dumps(value, separators=(",", ":")).encode()


def error_body(fmt: WireFormat | None, status: int, message: str | None) -> dict[str, Any]:
    """The JSON error body an API of `fmt` sends with `status`."""
    if fmt is WireFormat.ANTHROPIC:
        kind, default = _ANTHROPIC_ERROR_TYPES.get(
            status, ("api_error", "Internal server error") if status >= 500 else ("error", "Error")
        )
        return {"type": "error", "error": {"type": kind, "message": message or default}}
    fallback = (
        ("server_error", None, "The server had an error processing your request")
        if status >= 500
        else ("invalid_request_error", None, "Request failed")
    )
    kind, code, default = _OPENAI_ERROR_TYPES.get(status, fallback)
    return {"error": {"message": message or default, "type": kind, "param": None, "code": code}}


def html_page(status: int, reason: str) -> bytes:
    """An nginx-style HTML error page."""
    return HTML_PAGE.format(status=f"{status} {reason}").encode()


def request_model(request_json: Any) -> str:
    """The `model` the request named, or a stand-in."""
    if isinstance(request_json, dict) and isinstance(request_json.get("model"), str):
        return str(request_json["model"])
    return FAKE_MODEL


def include_usage(request_json: Any) -> bool:
    """Whether an OpenAI request asked for the usage chunk (`stream_options.include_usage`)."""
    if not isinstance(request_json, dict):
        return False
    options = request_json.get("stream_options")
    return isinstance(options, dict) and options.get("include_usage") is True


def anthropic_stop_reason(finish_reason: str) -> str:
    """Map an OpenAI-style finish reason to Anthropic's stop_reason."""
    return {"stop": "end_turn", "length": "max_tokens"}.get(finish_reason, finish_reason)


def json_body(fmt: WireFormat, reply: Reply, request_json: Any, reply_id: str) -> dict[str, Any]:
    """The non-streamed success body."""
    model = request_model(request_json)
    text = reply.full_text()
    if fmt is WireFormat.ANTHROPIC:
        body: dict[str, Any] = {
            "id": reply_id,
            "type": "message",
            "role": "assistant",
            "content": [{"type": "text", "text": text}],
            "model": model,
            "stop_reason": anthropic_stop_reason(reply.finish_reason),
            "stop_sequence": None,
        }
        if reply.usage is not None:
            body["usage"] = {"input_tokens": reply.usage[0], "output_tokens": reply.usage[1]}
        return body
    if fmt is WireFormat.OPENAI_CHAT:
        choice: dict[str, Any] = {
            "index": 0,
            "message": {"role": "assistant", "content": text},
            "finish_reason": reply.finish_reason,
        }
        obj = "chat.completion"
    else:
        choice = {"index": 0, "text": text, "logprobs": None, "finish_reason": reply.finish_reason}
        obj = "text_completion"
    body = {"id": reply_id, "object": obj, "created": 0, "model": model, "choices": [choice]}
    if reply.usage is not None:
        body["usage"] = _openai_usage(reply.usage)
    return body


def _openai_usage(usage: tuple[int, int]) -> dict[str, int]:
    prompt, completion = usage
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def sse(data: Any, event: str | None = None) -> bytes:
    """One SSE event: an optional `event:` line and one `data:` line (JSON unless bytes/str)."""
    if isinstance(data, bytes):
        payload = data
    elif isinstance(data, str):
        payload = data.encode()
    else:
        payload = dumps(data)
    head = f"event: {event}\n".encode() if event else b""
    return head + b"data: " + payload + b"\n\n"


def stream_plan(
    fmt: WireFormat, reply: Reply, request_json: Any, reply_id: str, deltas: list[str]
) -> StreamPlan:
    """The complete, well-formed stream for `deltas`."""
    model = request_model(request_json)
    if fmt is WireFormat.ANTHROPIC:
        return _anthropic_plan(reply, model, reply_id, deltas)
    return _openai_plan(fmt, reply, model, reply_id, deltas, include_usage(request_json))


def _openai_plan(
    fmt: WireFormat,
    reply: Reply,
    model: str,
    reply_id: str,
    deltas: list[str],
    with_usage: bool,
) -> StreamPlan:
    chat = fmt is WireFormat.OPENAI_CHAT
    obj = "chat.completion.chunk" if chat else "text_completion"

    def chunk(choices: list[dict[str, Any]]) -> bytes:
        return sse(
            {"id": reply_id, "object": obj, "created": 0, "model": model, "choices": choices}
        )

    def choice(text: str | None, finish: str | None) -> dict[str, Any]:
        if chat:
            delta = {} if text is None else {"content": text}
            return {"index": 0, "delta": delta, "finish_reason": finish}
        return {"index": 0, "text": text or "", "logprobs": None, "finish_reason": finish}

    preamble = []
    if chat:
        role = {"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}
        preamble.append(chunk([role]))
    epilogue = [chunk([choice(None, reply.finish_reason)])]
    if with_usage and reply.usage is not None:
        usage_chunk = {"id": reply_id, "object": obj, "created": 0, "model": model, "choices": []}
        usage_chunk["usage"] = _openai_usage(reply.usage)
        epilogue.append(sse(usage_chunk))
    epilogue.append(OPENAI_DONE)
    return StreamPlan(preamble, [chunk([choice(d, None)]) for d in deltas], epilogue)


OPENAI_DONE = sse("[DONE]")


def _anthropic_plan(reply: Reply, model: str, reply_id: str, deltas: list[str]) -> StreamPlan:
    message: dict[str, Any] = {
        "id": reply_id,
        "type": "message",
        "role": "assistant",
        "content": [],
        "model": model,
        "stop_reason": None,
        "stop_sequence": None,
    }
    if reply.usage is not None:
        message["usage"] = {"input_tokens": reply.usage[0], "output_tokens": 1}
    preamble = [
        sse({"type": "message_start", "message": message}, "message_start"),
        sse(
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
            "content_block_start",
        ),
        sse({"type": "ping"}, "ping"),
    ]
    events = [
        sse(
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": d}},
            "content_block_delta",
        )
        for d in deltas
    ]
    message_delta: dict[str, Any] = {
        "type": "message_delta",
        "delta": {"stop_reason": anthropic_stop_reason(reply.finish_reason), "stop_sequence": None},
    }
    if reply.usage is not None:
        message_delta["usage"] = {"output_tokens": reply.usage[1]}
    epilogue = [
        sse({"type": "content_block_stop", "index": 0}, "content_block_stop"),
        sse(message_delta, "message_delta"),
        sse({"type": "message_stop"}, "message_stop"),
    ]
    return StreamPlan(preamble, events, epilogue)


def in_band_error(fmt: WireFormat, message: str | None) -> list[bytes]:
    """What a server sends when it fails after a 200 stream has begun.

    OpenAI-compatible servers (vLLM) send `data: {"error": ...}` and then `[DONE]`, so a client
    must notice the error itself rather than rely on a missing terminator; Anthropic sends an
    `error` event and closes.
    """
    if fmt is WireFormat.ANTHROPIC:
        body = {
            "type": "error",
            "error": {"type": "overloaded_error", "message": message or "Overloaded"},
        }
        return [sse(body, "error")]
    error = error_body(fmt, 500, message)
    return [sse(error), OPENAI_DONE]


def malformed_event(fmt: WireFormat) -> bytes:
    """An SSE event whose data line is not JSON."""
    event = "content_block_delta" if fmt is WireFormat.ANTHROPIC else None
    return sse(MALFORMED_BODY, event)
