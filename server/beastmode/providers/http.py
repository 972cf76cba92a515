"""The HTTP machinery every remote provider shares.

One streaming call runs as an async generator (`_attempt`) wrapped by `HTTPTextStream`, which
enforces the deadlines from outside: each step waits at most until the first-token deadline (before
any text) or the total deadline (after), so a server that drips a token every half second still ends
on time, which httpx's per-read timeout alone would not do. Bodies are read under size caps
(`providers.body`, `providers.sse`). httpx errors become ours in `translate_errors`; upstream error
bodies become the guide's messages in `status_error`. Every text built from upstream bytes passes
through the `Redactor` before it goes into an error, since endpoints echo keys back.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import re
import time
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx
from httpx_sse import ServerSentEvent

from beastmode.errors import (
    AuthenticationFailed,
    ConnectError,
    DeadlineExceeded,
    EndpointNotFound,
    EndpointRedirected,
    InvalidRequest,
    MalformedResponse,
    ProviderError,
    RateLimited,
    StreamInterrupted,
    TransportError,
    UpstreamServerError,
    truncate_upstream_message,
)
from beastmode.providers.base import Limits, ReportedUsage, TokenUsage, settle_usage
from beastmode.providers.body import body_pieces, read_body, read_preview
from beastmode.providers.sse import aiter_events
from beastmode.redaction import Redactor

DRAIN_SECONDS = 0.25
ERROR_PREVIEW_BYTES = 64_000
MAX_EVENT_BYTES = 1_000_000
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


class WireDecoder(Protocol):
    """Turns one wire format's events and bodies into text; one instance per call."""

    usage: ReportedUsage
    terminated: bool  # the answer finished properly: the stream may end now
    exhausted: bool  # nothing more will come: stop reading

    def feed(self, event: ServerSentEvent) -> str:
        """Return the text carried by one SSE event; raise ProviderError for in-band errors."""
        ...

    def parse_body(self, data: Any) -> str:
        """Return the text of a whole (non-streamed) JSON answer."""
        ...


def preview(text: str, redactor: Redactor, limit: int = 300) -> str:
    """Upstream text fit to quote in a message: secrets removed first, then shortened."""
    return truncate_upstream_message(redactor.redact(text), limit)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header in seconds or HTTP-date form, or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = datetime.now(UTC).timestamp() if now is None else now
    return max(0.0, when.timestamp() - current)


def upstream_error_text(body: bytes, content_type: str, redactor: Redactor) -> str:
    """The upstream's own message from a body (JSON, HTML or text): one line, secrets removed."""
    stripped = body.strip()
    if not stripped:
        return ""
    if "html" in content_type or stripped[:1] == b"<":
        title = _TITLE.search(stripped)
        text = preview(title.group(1).decode("utf-8", "replace"), redactor) if title else ""
        return f"HTML error page: {text}" if text else "HTML error page"
    try:
        data = json.loads(stripped)
    except ValueError:
        return preview(stripped.decode("utf-8", "replace"), redactor)
    message: Any = None
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict):
            message = error.get("message") or error.get("type")
        elif isinstance(error, str):
            message = error
        message = message or data.get("message") or data.get("detail")
    return preview(str(message if message is not None else data), redactor)


def status_error(
    status: int, detail_text: str, retry_after: float | None, location: str = ""
) -> ProviderError:
    """Map an HTTP status of 300 or more and the upstream's message to our error tree."""
    detail = f"HTTP {status}: {detail_text}" if detail_text else f"HTTP {status}"
    if status < 400:
        target = f" to {location}" if location else ""
        return EndpointRedirected(
            f"Endpoint redirected ({detail}){target}: redirects are not followed, so that the key "
            "goes only where it was registered; register the URL of the API itself",
            status=status,
        )
    if status in (401, 403):
        return AuthenticationFailed(f"Invalid API key ({detail})", status=status)
    if status == 404:
        return EndpointNotFound(f"Endpoint or model not found ({detail})", status=status)
    if status == 429:
        return RateLimited(f"Rate limited ({detail})", status=status, retry_after=retry_after)
    if status == 408:
        return DeadlineExceeded(f"Upstream timed out ({detail})", status=status)
    if status == 529:
        return UpstreamServerError(f"Model overloaded ({detail})", status=status)
    if status >= 500:
        return UpstreamServerError(f"Upstream server error ({detail})", status=status)
    return InvalidRequest(f"Invalid request format ({detail})", status=status)


@contextmanager
def translate_errors(url: str, redactor: Redactor) -> Iterator[None]:
    """Turn httpx's exceptions into ours; every message leaves with secrets redacted."""
    host = redactor.redact(urlsplit(url).netloc)
    try:
        yield
    except ProviderError as exc:
        exc.redact_with(redactor.redact)  # the last word: whatever a decoder quoted
        raise
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise ConnectError(f"Cannot connect to {host} ({redactor.redact(str(exc))})") from None
    except httpx.TimeoutException as exc:
        raise DeadlineExceeded(f"Timed out talking to {host} ({type(exc).__name__})") from None
    except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
        reason = redactor.redact(str(exc)) or type(exc).__name__
        raise StreamInterrupted(f"Connection to {host} broke ({reason})") from None
    except httpx.HTTPError as exc:
        raise TransportError(
            f"HTTP error talking to {host} ({redactor.redact(str(exc))})"
        ) from None


class HTTPTextStream:
    """One streaming call under a first-token deadline, a total deadline and a size cap."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        request: httpx.Request,
        decoder: WireDecoder,
        limits: Limits,
        *,
        redactor: Redactor,
        prompt_text: str,
    ) -> None:
        self.usage: TokenUsage | None = None
        self.first_token_at: float | None = None
        self.started_at = time.monotonic()
        self._client = client
        self._request = request
        self._decoder = decoder
        self._limits = limits
        self._redactor = redactor
        self._prompt_text = prompt_text
        self._completion_chars = 0
        self._generator: AsyncGenerator[str, None] | None = None
        self._steps_generator: AsyncGenerator[str, None] | None = None

    def __repr__(self) -> str:
        return f"HTTPTextStream(url={str(self._request.url)!r})"

    def __aiter__(self) -> AsyncIterator[str]:
        if self._steps_generator is None:
            self._steps_generator = self._steps()
        return self._steps_generator

    async def aclose(self) -> None:
        """Stop reading and close the upstream connection now."""
        if self._steps_generator is not None:
            await self._steps_generator.aclose()
        if self._generator is not None:
            await self._generator.aclose()
        if self.usage is None:
            self.usage = self._final_usage()

    async def _steps(self) -> AsyncGenerator[str, None]:
        loop = asyncio.get_running_loop()
        start = loop.time()
        total_deadline = start + self._limits.total_seconds
        first_deadline = min(total_deadline, start + self._limits.first_token_seconds)
        self._generator = self._attempt()
        while True:
            waiting_for_first = self.first_token_at is None
            deadline = first_deadline if waiting_for_first else total_deadline
            try:
                async with asyncio.timeout_at(deadline):
                    delta = await self._generator.__anext__()
            except StopAsyncIteration:
                break
            except TimeoutError:
                await self._generator.aclose()
                if waiting_for_first:
                    raise DeadlineExceeded(
                        f"No answer within {self._limits.first_token_seconds:g} s "
                        "(time-to-first-token deadline)"
                    ) from None
                raise DeadlineExceeded(
                    f"Answer not complete within {self._limits.total_seconds:g} s (total deadline)"
                ) from None
            if delta and self.first_token_at is None:
                self.first_token_at = time.monotonic()
            yield delta
        self.usage = self._final_usage()

    def _final_usage(self) -> TokenUsage:
        return settle_usage(self._decoder.usage, len(self._prompt_text), self._completion_chars)

    async def _attempt(self) -> AsyncGenerator[str, None]:
        url = str(self._request.url)
        cap = self._limits.max_response_bytes
        with translate_errors(url, self._redactor):
            response = await self._client.send(self._request, stream=True)
            try:
                if response.status_code >= 300:
                    raise await self._status_error(response)
                content_type = response.headers.get("content-type", "")
                if "text/event-stream" not in content_type:
                    body = await read_body(response, cap)
                    text = self._decoder.parse_body(self._parse_json(body, content_type))
                    self._completion_chars += len(text)
                    yield text
                    return
                events = aiter_events(body_pieces(response, cap), min(cap, MAX_EVENT_BYTES))
                async for event in events:
                    text = self._decoder.feed(event)
                    if text:
                        self._completion_chars += len(text)
                        yield text
                    if self._decoder.exhausted:
                        await _read_to_end(events)
                        break
                if not self._decoder.terminated:
                    raise StreamInterrupted("Stream ended before the model finished (truncated)")
            finally:
                await response.aclose()

    async def _status_error(self, response: httpx.Response) -> ProviderError:
        body = await read_preview(response, ERROR_PREVIEW_BYTES)
        content_type = response.headers.get("content-type", "")
        text = upstream_error_text(body, content_type, self._redactor)
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        location = preview(response.headers.get("location", ""), self._redactor, 200)
        return status_error(response.status_code, text, retry_after, location)

    def _parse_json(self, body: bytes, content_type: str) -> Any:
        try:
            return json.loads(body)
        except (ValueError, RecursionError):
            shown = upstream_error_text(body, content_type, self._redactor)
            raise MalformedResponse(f"Answer is not JSON ({shown})") from None


async def _read_to_end(events: AsyncIterator[ServerSentEvent]) -> None:
    """Read what little follows the terminator, so the connection can be reused (no new TLS)."""
    with contextlib.suppress(TimeoutError, httpx.HTTPError, ProviderError):
        async with asyncio.timeout(DRAIN_SECONDS):
            async for _ in events:
                pass


def parse_event_json(event: ServerSentEvent, redactor: Redactor) -> Any:
    """The JSON payload of one SSE event, or MalformedResponse quoting it (secrets removed)."""
    try:
        return json.loads(event.data)
    except (ValueError, RecursionError):
        shown = preview(event.data, redactor, 120)
        raise MalformedResponse(f"Stream event is not JSON ({shown})") from None
