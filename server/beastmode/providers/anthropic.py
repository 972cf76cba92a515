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
    ProviderError,
    UpstreamServerError,
    UpstreamStreamError,
)
from beastmode.providers.base import (
    ChatRequest,
    Endpoint,
    FimRequest,
    Limits,
    ModelRequest,
    ReportedUsage,
    TextStream,
)
from beastmode.providers.body import ACCEPT_ENCODING
from beastmode.providers.http import HTTPTextStream, parse_event_json, preview
from beastmode.providers.shapes import (
    AnthropicBlockDelta,
    AnthropicMessage,
    AnthropicMessageDelta,
    AnthropicMessageStart,
    AnthropicUsage,
    ErrorDetail,
    validate,
)
from beastmode.redaction import Redactor

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
    """Reads Anthropic Messages answers, streamed or whole, checking their shape."""

    def __init__(self, redactor: Redactor) -> None:
        self.usage = ReportedUsage()
        self.terminated = False
        self.exhausted = False
        self._redactor = redactor

    def feed(self, event: ServerSentEvent) -> str:
        """Text of one event; `message_stop` ends the stream; an `error` event raises."""
        kind = event.event
        if kind == "ping" or not event.data.strip():
            return ""
        data = parse_event_json(event, self._redactor)
        if not isinstance(data, dict):
            raise MalformedResponse("A stream event is not a JSON object; check the endpoint")
        kind = kind if kind and kind != "message" else str(data.get("type", ""))
        if kind == "error":
            raise self._stream_error(data)
        if kind == "message_start":
            start = validate(AnthropicMessageStart, data, "The message_start event")
            self._read_usage(start.message.usage)
        elif kind == "message_delta":
            self._read_usage(validate(AnthropicMessageDelta, data, "A message_delta event").usage)
        elif kind == "content_block_delta":
            delta = validate(AnthropicBlockDelta, data, "A content_block_delta event").delta
            if delta.type == "text_delta":
                return delta.text or ""
        elif kind == "message_stop":
            self.terminated = self.exhausted = True
        return ""

    def parse_body(self, data: Any) -> str:
        """Text of a non-streamed answer (the text blocks of `content`)."""
        if isinstance(data, dict) and data.get("type") == "error":
            raise self._stream_error(data)
        message = validate(AnthropicMessage, data, "The answer")
        self._read_usage(message.usage)
        self.terminated = self.exhausted = True
        return "".join(block.text or "" for block in message.content if block.type == "text")

    def _read_usage(self, usage: AnthropicUsage | None) -> None:
        """Take the counts given: `message_delta`'s are cumulative and may hold input too."""
        if usage is not None:
            # 0 input tokens is a placeholder (LiteLLM sends it before the real count).
            prompt = usage.input_tokens or None
            self.usage.report(prompt=prompt, completion=usage.output_tokens)

    def _stream_error(self, data: dict[str, Any]) -> ProviderError:
        error = data.get("error")
        detail = ErrorDetail.model_validate(error) if isinstance(error, dict) else ErrorDetail()
        kind = preview(str(detail.type), self._redactor, 60)
        message = preview(str(detail.message or ""), self._redactor)
        if kind == "overloaded_error":
            return UpstreamServerError(f"Model overloaded mid-stream ({kind}: {message})")
        return UpstreamStreamError(f"Model reported an error mid-stream ({kind}: {message})")


class AnthropicProvider:
    """Calls one Anthropic-compatible endpoint."""

    supports_fim = False

    def __init__(
        self, client: httpx.AsyncClient, endpoint: Endpoint, redactor: Redactor | None = None
    ) -> None:
        self._client = client
        self._endpoint = endpoint
        self._redactor = redactor or Redactor()
        self._redactor.add(endpoint.api_key)

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
            "Accept-Encoding": ACCEPT_ENCODING,
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
            AnthropicDecoder(self._redactor),
            limits,
            redactor=self._redactor,
            prompt_text=prompt_text,
        )
