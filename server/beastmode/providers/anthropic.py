"""Anthropic-compatible endpoints: the Messages API (`x-api-key`, `anthropic-version`).

`system` is top-level and `max_tokens` is required. A stream is complete only with `message_stop`;
an `error` event (e.g. `overloaded_error`) can arrive after HTTP 200 and is an error.
"""

from __future__ import annotations

from typing import Any

import httpx
from httpx_sse import ServerSentEvent

from beastmode.errors import (
    MalformedResponse,
    UpstreamServerError,
    UpstreamStreamError,
    truncate_upstream_message,
)
from beastmode.providers.base import (
    ChatRequest,
    Endpoint,
    FimRequest,
    Limits,
    ModelRequest,
    TextStream,
    TokenUsage,
)
from beastmode.providers.http import HTTPTextStream, parse_event_json, redact

ANTHROPIC_VERSION = "2023-06-01"


def messages_url(endpoint_url: str) -> str:
    """The Messages URL for a registered endpoint: a full `/messages` URL or a base URL."""
    url = endpoint_url.rstrip("/")
    if url.endswith("/messages"):
        return url
    if url.endswith("/v1"):
        return url + "/messages"
    return url + "/v1/messages"


class AnthropicDecoder:
    """Reads Anthropic Messages answers, streamed or whole."""

    def __init__(self, secret: str | None) -> None:
        self.usage: TokenUsage | None = None
        self.terminated = False
        self.exhausted = False
        self._secret = secret

    def feed(self, event: ServerSentEvent) -> str:
        """Text of one event; `message_stop` ends the stream; an `error` event raises."""
        kind = event.event
        if kind == "ping" or not event.data.strip():
            return ""
        data = parse_event_json(event)
        if not isinstance(data, dict):
            raise MalformedResponse("Stream event is not a JSON object")
        kind = kind if kind and kind != "message" else str(data.get("type", ""))
        if kind == "error":
            raise self._stream_error(data)
        if kind == "message_start":
            usage = (data.get("message") or {}).get("usage") or {}
            self.usage = TokenUsage(prompt_tokens=int(usage.get("input_tokens") or 0))
        elif kind == "message_delta":
            output = (data.get("usage") or {}).get("output_tokens")
            if output is not None:
                self.usage = self.usage or TokenUsage()
                self.usage.completion_tokens = int(output)
        elif kind == "content_block_delta":
            delta = data.get("delta") or {}
            if delta.get("type") == "text_delta":
                return str(delta.get("text", ""))
        elif kind == "message_stop":
            self.terminated = self.exhausted = True
        return ""

    def parse_body(self, data: Any) -> str:
        """Text of a non-streamed answer (the text blocks of `content`)."""
        if isinstance(data, dict) and data.get("type") == "error":
            raise self._stream_error(data)
        try:
            blocks = data["content"]
            text = "".join(b.get("text", "") for b in blocks if b.get("type", "text") == "text")
        except (KeyError, TypeError, AttributeError):
            raise MalformedResponse("Answer has no content[].text") from None
        usage = data.get("usage") or {}
        self.usage = TokenUsage(
            prompt_tokens=int(usage.get("input_tokens") or 0),
            completion_tokens=int(usage.get("output_tokens") or 0),
        )
        self.terminated = self.exhausted = True
        return text

    def _stream_error(self, data: dict[str, Any]) -> Exception:
        error = data.get("error") or {}
        kind = str(error.get("type", "error"))
        message = redact(truncate_upstream_message(str(error.get("message", ""))), self._secret)
        if kind == "overloaded_error":
            return UpstreamServerError(f"Model overloaded mid-stream ({kind}: {message})")
        return UpstreamStreamError(f"Model reported an error mid-stream ({kind}: {message})")


class AnthropicProvider:
    """Calls one Anthropic-compatible endpoint."""

    supports_fim = False

    def __init__(self, client: httpx.AsyncClient, endpoint: Endpoint) -> None:
        self._client = client
        self._endpoint = endpoint

    def __repr__(self) -> str:
        return f"AnthropicProvider(url={self._endpoint.url!r})"

    def stream(self, request: ModelRequest, limits: Limits) -> TextStream:
        """Start a streamed Messages request (a FIM request is sent as a plain user message)."""
        if isinstance(request, FimRequest):
            request = ChatRequest(
                messages=(("user", request.prompt),),
                max_tokens=request.max_tokens,
                temperature=request.temperature,
                stop=request.stop,
            )
        body: dict[str, Any] = {
            "model": self._endpoint.upstream_model,
            "messages": [{"role": role, "content": text} for role, text in request.messages],
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "stream": True,
        }
        if request.system:
            body["system"] = request.system
        stop = [s for s in request.stop if s.strip()]
        if stop:
            body["stop_sequences"] = stop
        headers = {
            "anthropic-version": ANTHROPIC_VERSION,
            "Accept": "text/event-stream",
            "Content-Type": "application/json",
        }
        if self._endpoint.api_key:
            headers["x-api-key"] = self._endpoint.api_key
        headers.update(dict(self._endpoint.extra_headers))
        http_request = self._client.build_request(
            "POST", messages_url(self._endpoint.url), json=body, headers=headers
        )
        prompt_text = (request.system or "") + "".join(text for _, text in request.messages)
        return HTTPTextStream(
            self._client,
            http_request,
            AnthropicDecoder(self._endpoint.api_key),
            limits,
            secret=self._endpoint.api_key,
            prompt_text=prompt_text,
        )
