"""What a test scripts into the fake model server, and what the server records back.

`Reply` says how to answer one request (text, status, faults, timing); `RecordedRequest` is one
request as the server saw it, including when its response ended or its client went away.
"""

from __future__ import annotations

import enum
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

DEFAULT_TEXT = "Hello from the fake model"
DEFAULT_CHUNK_CHARS = 4
DEFAULT_OVERSIZE_BYTES = 32 * 1024 * 1024


class Fault(enum.Enum):
    """A way for the fake server to misbehave on one request."""

    RESET_BEFORE_RESPONSE = "reset_before_response"
    """Read the request, then abort the TCP connection (RST) without answering."""
    RESET_MID_STREAM = "reset_mid_stream"
    """Send the headers and about half the body or chunks, then abort (RST)."""
    TRUNCATED_STREAM = "truncated_stream"
    """Send about half the chunks, then end the HTTP body cleanly without the stream terminator."""
    HANG = "hang"
    """Read the request and never answer, until the client goes away or the server stops."""
    MALFORMED_JSON = "malformed_json"
    """Answer 200 with a body (or SSE data line) that is not JSON."""
    HTML_ERROR_PAGE = "html_error_page"
    """Answer with an HTML page (status 502 unless the reply sets an error status)."""
    IN_BAND_ERROR = "in_band_error"
    """Answer 200, stream a little, then send an error event inside the stream."""
    OVERSIZED = "oversized"
    """Answer 200 with a body or stream of `Reply.oversize_bytes` bytes."""
    ECHO_KEY_BODY = "echo_key_body"
    """Answer 200 with a plain-text (non-JSON) body quoting the request's API key."""
    ECHO_KEY_REDIRECT = "echo_key_redirect"
    """Answer 302 with an HTML page whose title (and Location) quote the request's API key."""
    ECHO_KEY_EVENT = "echo_key_event"
    """Answer 200 with an SSE stream whose first event is not JSON and quotes the API key."""
    ENDLESS_LINE = "endless_line"
    """Answer 200 with an SSE stream whose `data:` line never ends, until the client leaves."""


@dataclass
class Reply:
    """How the fake server answers one request."""

    text: str = DEFAULT_TEXT
    chunks: list[str] | None = None
    """Streamed deltas; default: `text` in pieces of about four characters."""
    status: int = 200
    error_message: str | None = None
    """Message of the error body for status >= 400 (and of in-band errors); a default when None."""
    headers: dict[str, str] = field(default_factory=dict)
    """Extra response headers, e.g. {"Retry-After": "2"}."""
    fault: Fault | None = None
    delay_before_headers: float = 0.0
    """Seconds to wait before the status line is sent."""
    chunk_interval: float = 0.0
    """Seconds between streamed chunks (a non-streamed body is dripped in as many pieces)."""
    usage: tuple[int, int] | None = (11, 7)
    """(prompt/input tokens, completion/output tokens); None leaves usage out."""
    oversize_bytes: int = 0
    """Body size for `Fault.OVERSIZED`; 0 means 32 MiB."""
    finish_reason: str = "stop"
    content_encoding: str | None = None
    """"gzip" or "deflate": compress the whole 200 body (stream or JSON; a bomb with OVERSIZED)."""
    raw_body: bytes | None = None
    """A 200 `application/json` body sent verbatim (e.g. JSON of the wrong shape, `1e999`)."""
    raw_events: list[bytes] | None = None
    """SSE events sent verbatim as the whole stream of a streamed answer."""

    def deltas(self) -> list[str]:
        """The streamed text pieces, in order."""
        if self.chunks is not None:
            return list(self.chunks)
        step = DEFAULT_CHUNK_CHARS
        return [self.text[i : i + step] for i in range(0, len(self.text), step)]

    def full_text(self) -> str:
        """The whole answer text: the chunks joined when given, else `text`."""
        return "".join(self.chunks) if self.chunks is not None else self.text


@dataclass
class RecordedRequest:
    """One request as the fake server received it."""

    method: str
    path: str
    headers: dict[str, str]
    """Header names lower-cased; a repeated header keeps its last value."""
    body: bytes
    json: Any | None
    """The body parsed as JSON, or None when it is not JSON."""
    received_at: float
    """time.monotonic() when the whole request had been read."""
    finished_at: float | None = None
    """time.monotonic() when the response ended or the client disconnected."""
    client_disconnected: bool = False
    """True when the client closed the connection before the response was complete."""
    connection_id: int = 0
    """Which TCP connection carried the request (1, 2, ... in order of acceptance)."""
    chunk_sent_at: list[float] = field(default_factory=list, compare=False)
    """time.monotonic() just before each streamed text delta was written, in order."""
    _finished: threading.Event = field(
        default_factory=threading.Event, init=False, repr=False, compare=False
    )

    @classmethod
    def parse(cls, method: str, path: str, headers: dict[str, str], body: bytes) -> RecordedRequest:
        """Record a request that was read just now."""
        try:
            parsed: Any | None = json.loads(body) if body else None
        except ValueError:
            parsed = None
        return cls(method, path, headers, body, parsed, time.monotonic())

    @property
    def wants_stream(self) -> bool:
        """Whether the request body asked for a streamed answer (`"stream": true`)."""
        return isinstance(self.json, dict) and self.json.get("stream") is True

    def wait_finished(self, timeout: float = 5.0) -> bool:
        """Block until the response ended or the client left; False on timeout."""
        return self._finished.wait(timeout)

    def mark_finished(self, at: float, *, client_disconnected: bool) -> None:
        """Record the end of the exchange once; later calls change nothing."""
        if self._finished.is_set():
            return
        self.finished_at = at
        self.client_disconnected = client_disconnected
        self._finished.set()
