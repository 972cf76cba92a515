"""One HTTP/1.1 connection of the fake model server, written by hand.

Hand-written so the fake controls every byte and every way a connection can end: a clean close,
a TCP reset, a body cut short, a response that never comes. It also notices a client that goes
away while the server is still answering.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import socket
import struct
import time
from dataclasses import dataclass

MAX_HEAD_BYTES = 1024 * 1024
READ_SIZE = 65536


class ClientGone(Exception):
    """The client closed or reset the connection."""


class BadRequest(Exception):
    """The bytes received are not an HTTP/1.x request this server understands."""


@dataclass(frozen=True)
class RawRequest:
    """A request line, headers (lower-cased names) and body as read from the wire."""

    method: str
    target: str
    version: str
    headers: dict[str, str]
    body: bytes

    @property
    def wants_close(self) -> bool:
        """Whether the client asked to close the connection after this exchange."""
        connection = self.headers.get("connection", "").lower()
        return connection == "close" or (self.version == "HTTP/1.0" and connection != "keep-alive")


def reason_phrase(status: int) -> str:
    """The reason phrase for a status line."""
    if status == 529:
        return "Site Overloaded"
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


class Connection:
    """Reads requests from, and writes responses to, one client socket."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        # Bytes read ahead of the parser, e.g. while watching for a disconnect.
        self._buffer = bytearray()

    async def _fill(self) -> bool:
        data = await self._reader.read(READ_SIZE)
        if not data:
            return False
        self._buffer += data
        return True

    async def _read_until(self, marker: bytes, limit: int) -> bytes | None:
        while (end := self._buffer.find(marker)) < 0:
            if len(self._buffer) > limit:
                raise BadRequest("request head too large")
            if not await self._fill():
                if self._buffer:
                    raise BadRequest("connection closed inside a request")
                return None
        found = bytes(self._buffer[:end])
        del self._buffer[: end + len(marker)]
        return found

    async def _read_exactly(self, size: int) -> bytes:
        while len(self._buffer) < size:
            if not await self._fill():
                raise BadRequest("connection closed inside a request body")
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    async def read_request(self) -> RawRequest | None:
        """The next request, or None when the client closed the connection between requests."""
        try:
            head = await self._read_until(b"\r\n\r\n", MAX_HEAD_BYTES)
        except ConnectionError:
            return None
        if head is None:
            return None
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise BadRequest(f"bad request line {lines[0]!r}")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                raise BadRequest(f"bad header line {line!r}")
            headers[name.strip().lower()] = value.strip()
        body = await self._read_body(headers)
        return RawRequest(parts[0], parts[1], parts[2], headers, body)

    async def _read_body(self, headers: dict[str, str]) -> bytes:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = bytearray()
            while True:
                size_line = await self._read_until(b"\r\n", MAX_HEAD_BYTES)
                if size_line is None:
                    raise BadRequest("connection closed inside a chunked body")
                size = int(size_line.split(b";", 1)[0], 16)
                if size == 0:
                    await self._read_until(b"\r\n", MAX_HEAD_BYTES)  # no trailers expected
                    return bytes(body)
                body += await self._read_exactly(size)
                await self._read_exactly(2)
        length = int(headers.get("content-length", "0") or "0")
        return await self._read_exactly(length)

    async def watch_for_disconnect(self) -> float:
        """Return time.monotonic() as soon as the client closes or resets the connection.

        Anything the client sends meanwhile (a pipelined request) is kept for the parser.
        """
        while True:
            try:
                if not await self._fill():
                    return time.monotonic()
            except (ConnectionError, OSError):
                return time.monotonic()

    async def send(self, data: bytes) -> None:
        """Write bytes and wait until the socket has taken them."""
        if self._writer.transport.is_closing():
            raise ClientGone
        self._writer.write(data)
        try:
            await self._writer.drain()
        except (ConnectionError, OSError) as exc:
            raise ClientGone from exc

    async def send_head(self, status: int, headers: list[tuple[str, str]]) -> None:
        """Write a status line and headers."""
        lines = [f"HTTP/1.1 {status} {reason_phrase(status)}"]
        lines += [f"{name}: {value}" for name, value in headers]
        await self.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    async def send_chunk(self, data: bytes) -> None:
        """Write one chunk of a chunked body."""
        if data:
            await self.send(f"{len(data):x}\r\n".encode() + data + b"\r\n")

    async def end_chunks(self) -> None:
        """Write the last chunk of a chunked body."""
        await self.send(b"0\r\n\r\n")

    def reset(self) -> None:
        """Abort the connection with a TCP RST instead of a FIN."""
        sock = self._writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self._writer.transport.abort()

    async def close(self) -> None:
        """Close the connection cleanly (FIN)."""
        self._writer.close()
        with contextlib.suppress(Exception):
            await self._writer.wait_closed()
