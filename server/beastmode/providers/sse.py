"""Server-sent events read under a size cap for each event.

httpx-sse reads lines with `aiter_lines()`, which keeps a line of any length in memory: a `data:`
line that never ends grows until the process runs out. This parser takes the body in bounded
pieces (`providers.body`), splits lines on CR, LF or CRLF as the SSE specification says, and
refuses an event (or an unfinished line) larger than its cap while it is still arriving.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

from httpx_sse import ServerSentEvent

from beastmode.errors import ResponseTooLarge

_LINE_END = re.compile(rb"\r\n|\r|\n")


class SSEParser:
    """Turns pieces of an SSE body into events; ResponseTooLarge for one over `max_event_bytes`."""

    def __init__(self, max_event_bytes: int) -> None:
        self._max = max_event_bytes
        self._buffer = bytearray()
        self._scanned = 0  # bytes of the buffer known to hold no line end
        self._event = ""
        self._data: list[str] = []
        self._data_bytes = 0
        self._id = ""
        self._retry: int | None = None
        self._touched = False

    def feed(self, piece: bytes) -> list[ServerSentEvent]:
        """The events completed by `piece`, in order."""
        buffer = self._buffer
        buffer += piece
        events: list[ServerSentEvent] = []
        start = 0
        for match in _LINE_END.finditer(buffer, self._scanned):
            if match.end() == len(buffer) and match.group() == b"\r":
                break  # the LF of a CRLF may be in the next piece
            event = self._line(bytes(buffer[start : match.start()]))
            if event is not None:
                events.append(event)
            start = match.end()
        del buffer[:start]
        self._scanned = len(buffer) - (1 if buffer.endswith(b"\r") else 0)
        if len(buffer) + self._data_bytes > self._max:
            raise ResponseTooLarge(
                f"A stream event is larger than {self._max} bytes; check the endpoint"
            )
        return events

    def _line(self, raw: bytes) -> ServerSentEvent | None:
        if not raw:
            return self._dispatch()
        if raw.startswith(b":"):
            return None
        line = raw.decode("utf-8", "replace")
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
            self._data_bytes += len(raw)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self._id = value
        elif name == "retry":
            if value.isdigit():
                self._retry = int(value)
        else:
            return None
        self._touched = True
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        if not self._touched:
            return None
        event = ServerSentEvent(
            event=self._event or "message",
            data="\n".join(self._data),
            id=self._id,
            retry=self._retry,
        )
        self._event, self._data, self._data_bytes = "", [], 0
        self._retry, self._touched = None, False
        return event


async def aiter_events(
    pieces: AsyncIterator[bytes], max_event_bytes: int
) -> AsyncIterator[ServerSentEvent]:
    """The events of an SSE body given as pieces; an unfinished last event is dropped."""
    parser = SSEParser(max_event_bytes)
    async for piece in pieces:
        for event in parser.feed(piece):
            yield event
