"""OpenAI-compatible endpoints: `/chat/completions`, and `/completions` with `suffix` for FIM.

Works with OpenAI itself and the servers that copy its format (vLLM, Ollama, llama.cpp, LM Studio,
TGI). Streams with `stream_options.include_usage` so token counts are exact when the server
reports them; a stream must end with `[DONE]` or a `finish_reason`, else it was cut.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
from httpx_sse import ServerSentEvent

from beastmode.errors import MalformedResponse, UpstreamStreamError
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
from beastmode.providers.shapes import OpenAIAnswer, OpenAIChunk, OpenAIUsage, validate
from beastmode.redaction import Redactor


def chat_url(endpoint_url: str) -> str:
    """The chat URL for a registered endpoint: a full `/chat/completions` URL or a base URL."""
    url = endpoint_url.rstrip("/")
    if url.endswith("/chat/completions"):
        return url
    if urlsplit(url).path in ("", "/"):
        url += "/v1"
    return url + "/chat/completions"


class OpenAIDecoder:
    """Reads OpenAI chat and completions answers, streamed or whole, checking their shape."""

    def __init__(self, redactor: Redactor) -> None:
        self.usage = ReportedUsage()
        self.terminated = False
        self.exhausted = False
        self._redactor = redactor

    def feed(self, event: ServerSentEvent) -> str:
        """Text of one `data:` chunk; `[DONE]` ends the stream; an `error` chunk raises."""
        if event.data.strip() == "[DONE]":
            self.terminated = self.exhausted = True
            return ""
        data = parse_event_json(event, self._redactor)
        if isinstance(data, dict) and "error" in data:
            raise UpstreamStreamError(f"Model reported an error mid-stream: {self._error(data)}")
        chunk = validate(OpenAIChunk, data, "A stream chunk")
        self._read_usage(chunk.usage)
        text = ""
        for choice in chunk.choices or ():
            piece = choice.delta.content if choice.delta is not None else choice.text
            text += piece or ""
            if choice.finish_reason:
                self.terminated = True
        return text

    def parse_body(self, data: Any) -> str:
        """Text of a non-streamed answer (`message.content` or `text` of the first choice)."""
        if isinstance(data, dict) and "error" in data:
            raise UpstreamStreamError(f"Model reported an error: {self._error(data)}")
        answer = validate(OpenAIAnswer, data, "The answer")
        if not answer.choices:
            raise MalformedResponse("The answer has no choices; check the endpoint")
        choice = answer.choices[0]
        self._read_usage(answer.usage)
        self.terminated = self.exhausted = True
        return choice.message.text() if choice.message is not None else choice.text or ""

    def _read_usage(self, usage: OpenAIUsage | None) -> None:
        if usage is not None:
            self.usage.report(prompt=usage.prompt_tokens, completion=usage.completion_tokens)

    def _error(self, data: dict[str, Any]) -> str:
        error = data.get("error")
        message = error.get("message") if isinstance(error, dict) else error
        return preview(str(message), self._redactor)


class OpenAIProvider:
    """Calls one OpenAI-compatible endpoint."""

    def __init__(
        self, client: httpx.AsyncClient, endpoint: Endpoint, redactor: Redactor | None = None
    ) -> None:
        self._client = client
        self._endpoint = endpoint
        self._redactor = redactor or Redactor()
        self._redactor.add(endpoint.api_key)
        self.supports_fim = endpoint.completions_url is not None

    def __repr__(self) -> str:
        return f"OpenAIProvider(url={self._endpoint.url!r})"

    def stream(self, request: ModelRequest, limits: Limits) -> TextStream:
        """Start a streamed chat or FIM request."""
        if isinstance(request, FimRequest) and self._endpoint.completions_url:
            url = self._endpoint.completions_url
            body = self._fim_body(request)
            prompt_text = request.prompt + (request.suffix or "")
        else:
            url = chat_url(self._endpoint.url)
            chat = request if isinstance(request, ChatRequest) else _fim_as_chat(request)
            body = self._chat_body(chat)
            prompt_text = (chat.system or "") + "".join(text for _, text in chat.messages)
        headers = {
            "Accept": "text/event-stream",
            "Accept-Encoding": ACCEPT_ENCODING,
            "Content-Type": "application/json",
        }
        if self._endpoint.api_key:
            headers["Authorization"] = f"Bearer {self._endpoint.api_key}"
        headers.update(dict(self._endpoint.extra_headers))
        http_request = self._client.build_request("POST", url, json=body, headers=headers)
        return HTTPTextStream(
            self._client,
            http_request,
            OpenAIDecoder(self._redactor),
            limits,
            redactor=self._redactor,
            prompt_text=prompt_text,
        )

    def _chat_body(self, request: ChatRequest) -> dict[str, Any]:
        messages: list[dict[str, str]] = []
        if request.system:
            messages.append({"role": "system", "content": request.system})
        messages.extend({"role": role, "content": text} for role, text in request.messages)
        body: dict[str, Any] = {
            "model": self._endpoint.upstream_model,
            "messages": messages,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if request.stop:
            body["stop"] = list(request.stop[:4])
        return body

    def _fim_body(self, request: FimRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self._endpoint.upstream_model,
            "prompt": request.prompt,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if request.suffix is not None:
            body["suffix"] = request.suffix
        if request.stop:
            body["stop"] = list(request.stop[:4])
        return body


def _fim_as_chat(request: FimRequest) -> ChatRequest:
    """A FIM request sent to a chat-only endpoint: ask for the continuation plainly."""
    return ChatRequest(
        messages=(("user", request.prompt),),
        max_tokens=request.max_tokens,
        temperature=request.temperature,
        stop=request.stop,
    )
