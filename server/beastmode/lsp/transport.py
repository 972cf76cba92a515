"""LSP transports (stdio, a private Unix socket, one loopback TCP client) and message framing.

Every transport is an asyncio stream: reading costs no thread hop and writes are buffered, never
blocking (pygls 2.1.1 reads stdin through its thread pool and writes stdout with blocking writes).
Each message read gives the loop a turn, so a burst of buffered messages does not run back to back.

Framing is forgiving where pygls's is fatal or silent: a header line of any length, a malformed
header or a missing or absurd `Content-Length` skips that one message with a log line and the
reader resynchronises on the next header; only the end of the stream ends the server.

`--tcp` and `--socket` serve exactly one client: the listener is closed as soon as it has
connected, so nobody else can attach to the server (read its answers, register endpoints, run
commands) and the server ends when that client goes. The socket file is created 0600 inside a
directory only the user can enter; TCP listens on loopback only.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import re
import socket
import stat
import sys
import threading
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol

if TYPE_CHECKING:
    from beastmode.lsp.server import BeastModeServer

log = logging.getLogger("beastmode")

LINE_LIMIT = 64 * 1024  # also caps how much unread input is buffered
MAX_BODY_BYTES = 256 * 1024 * 1024
DISCARD_CHUNK = 64 * 1024
FLUSH_SECONDS = 2.0
_HEADER_NAME = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_CONTENT_LENGTH = re.compile(rb"content-length[ \t]*:", re.IGNORECASE)


class TransportError(Exception):
    """A transport cannot be set up as asked; the message says why and what to do."""


# Framing -------------------------------------------------------------------------------------


class _Overlong:
    """Marks a header line that was longer than `LINE_LIMIT` (and was discarded)."""


_OVERLONG = _Overlong()


class MessageReader:
    """LSP message bodies from a byte stream; bad framing is skipped and logged, never fatal."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self._stream = stream

    async def next_body(self) -> bytes | None:
        """The next well-framed message body, or None at the end of the stream."""
        while True:
            block = await self._read_header_block()
            if block is None:
                return None
            length, problem = block
            if problem is None and length is None:
                problem = "no Content-Length header"
            if problem is not None:
                if length is None:
                    log.warning("Skipped an LSP message: %s", problem)
                    continue
                log.warning("Skipped an LSP message of %d bytes: %s", length, problem)
                if not await self._discard(length):
                    return None
                continue
            assert length is not None
            try:
                return await self._stream.readexactly(length)
            except asyncio.IncompleteReadError:
                return None

    async def _read_header_block(self) -> tuple[int | None, str | None] | None:
        """(Content-Length, problem) of the next header block; None at the end of the stream."""
        length: int | None = None
        problem: str | None = None
        started = False
        while True:
            line = await self._read_line()
            if line is None:
                return None
            if isinstance(line, _Overlong):
                started = True
                problem = problem or f"a header line is longer than {LINE_LIMIT // 1024} KiB"
                continue
            text = line.rstrip(b"\r\n")
            if not text:
                if started:
                    return length, problem
                continue  # a stray blank line between messages
            name, colon, value = text.partition(b":")
            if not colon or not _HEADER_NAME.fullmatch(name):
                glued = _CONTENT_LENGTH.search(text)
                if glued is not None and glued.start() > 0:
                    # Bytes of an unframed body ran into the next header: start over there.
                    log.warning("Skipped %d bytes of unframed input", glued.start())
                    length, problem = None, None
                    name, _, value = text[glued.start() :].partition(b":")
                else:
                    started = True
                    problem = problem or f"malformed header line {text[:40]!r}"
                    continue
            started = True
            if name.strip().lower() != b"content-length":
                continue  # Content-Type and unknown headers carry nothing we need
            digits = value.strip()
            if not digits.isdigit() or not digits.isascii():
                problem = problem or f"invalid Content-Length {digits[:20]!r}"
            elif length is not None and int(digits) != length:
                problem = problem or "two different Content-Length headers"
            else:
                length = int(digits)
                if length > MAX_BODY_BYTES:
                    problem = problem or f"Content-Length {length} is over {MAX_BODY_BYTES}"

    async def _read_line(self) -> bytes | _Overlong | None:
        """One header line with its line break; `_OVERLONG` if too long; None at the end."""
        skipped = 0
        while True:
            try:
                line = await self._stream.readuntil(b"\n")
            except asyncio.IncompleteReadError:
                return None
            except asyncio.LimitOverrunError as exc:
                # Drop what is buffered of the line and keep looking for its end.
                skipped += exc.consumed
                await self._stream.readexactly(exc.consumed)
                continue
            if skipped:
                log.warning("Skipped a header line of %d bytes", skipped + len(line))
                return _OVERLONG
            return line

    async def _discard(self, length: int) -> bool:
        """Read and drop `length` bytes; False if the stream ended first."""
        while length > 0:
            try:
                await self._stream.readexactly(min(length, DISCARD_CHUNK))
            except asyncio.IncompleteReadError:
                return False
            length -= DISCARD_CHUNK
        return True


class Writer(Protocol):
    """What the serving loop writes the client's messages to."""

    def write(self, data: bytes) -> None:
        """Queue bytes for the client."""

    def close(self) -> None:
        """Close the connection."""

    async def flush_and_close(self) -> None:
        """Send what is queued, then close."""


class StreamWriter:
    """pygls's writer interface over an asyncio write transport (buffers, never blocks)."""

    def __init__(self, transport: asyncio.WriteTransport) -> None:
        self._transport = transport

    def write(self, data: bytes) -> None:
        """Queue bytes for the client."""
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        """Close the connection once what is queued has been sent."""
        self._transport.close()

    async def flush_and_close(self) -> None:
        """Send what is still queued (for a short while at most), then close."""
        for _ in range(int(FLUSH_SECONDS / 0.01)):
            if self._transport.is_closing() or not self._transport.get_write_buffer_size():
                break
            await asyncio.sleep(0.01)
        self._transport.close()


class BlockingWriter:
    """A writer for an output that is not a pipe or socket (a file): plain blocking writes."""

    def __init__(self, output: BinaryIO) -> None:
        self._output = output

    def write(self, data: bytes) -> None:
        """Write and flush."""
        self._output.write(data)
        self._output.flush()

    def close(self) -> None:
        """Close the output."""
        self._output.close()

    async def flush_and_close(self) -> None:
        """Everything is written already: close."""
        with contextlib.suppress(OSError):
            self._output.close()


# Serving -------------------------------------------------------------------------------------


async def serve_streams(
    server: BeastModeServer, reader: asyncio.StreamReader, writer: Writer
) -> int:
    """Run the protocol over one connection until `exit` or its end; returns the exit code."""
    from beastmode.lsp.protocol import BeastModeProtocol, handle_body

    protocol = server.protocol
    assert isinstance(protocol, BeastModeProtocol)
    server._stop_event = threading.Event()
    protocol.set_writer(writer)
    messages = MessageReader(reader)
    while not server._stop_event.is_set():
        body = await messages.next_body()
        if body is None:
            break
        handle_body(protocol, body)
        await asyncio.sleep(0)
    exit_code = protocol.exit_code
    if not protocol.shutdown_requested:
        with contextlib.suppress(Exception):  # usage rows still get written on a bare exit
            await asyncio.wait_for(server.close(), FLUSH_SECONDS)
    await writer.flush_and_close()
    return 0 if exit_code is None else exit_code


def serve_stdio(server: BeastModeServer, stdin: BinaryIO, stdout: BinaryIO) -> int:
    """Serve LSP over stdin/stdout; returns the process exit code."""

    async def serve() -> int:
        loop = asyncio.get_running_loop()
        writer: Writer
        try:
            write_transport, _ = await loop.connect_write_pipe(asyncio.Protocol, stdout)
            writer = StreamWriter(write_transport)
        except (ValueError, OSError):  # not a pipe: blocking writes
            writer = BlockingWriter(stdout)
        stream = asyncio.StreamReader(limit=LINE_LIMIT)
        try:
            await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stream), stdin)
        except (ValueError, OSError):  # not a pipe (a file, say): feed it from a thread
            threading.Thread(target=_pump, args=(stdin, stream, loop), daemon=True).start()
        return await serve_streams(server, stream, writer)

    return _run(server, serve())


def _pump(source: BinaryIO, stream: asyncio.StreamReader, loop: asyncio.AbstractEventLoop) -> None:
    """Copy a blocking input into an asyncio stream."""
    while chunk := source.read(4096):
        loop.call_soon_threadsafe(stream.feed_data, chunk)
    loop.call_soon_threadsafe(stream.feed_eof)


def loopback_address(spec: str) -> tuple[str, int]:
    """(host, port) of a `--tcp HOST:PORT` value; anything but a loopback host is refused."""
    host, colon, port_text = spec.rpartition(":")
    if not colon:
        host, port_text = "", spec
    host = host.strip("[]") or "127.0.0.1"
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise TransportError(f"--tcp needs HOST:PORT with a port from 0 to 65535, not {spec!r}")
    if host == "localhost":
        host = "127.0.0.1"
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise TransportError(
            f"--tcp listens on loopback only (127.0.0.1, ::1 or localhost), not {host!r}: anyone "
            "who can reach the port could drive the server and read your code. Use --socket PATH "
            "(a private Unix socket) or stdio instead."
        )
    return host, int(port_text)


def serve_tcp(server: BeastModeServer, host: str, port: int) -> int:
    """Serve exactly one client on a loopback TCP port; returns the process exit code."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
        listener.listen(1)  # before saying so: a client may connect as soon as it reads the line
    except OSError as exc:
        listener.close()
        raise TransportError(f"Cannot listen on {host}:{port}: {exc.strerror}") from None
    bound = listener.getsockname()
    print(f"beastmode-lsp: listening on {host}:{bound[1]} for one client", file=sys.stderr)
    return _run(server, _serve_one(server, listener))


def prepare_socket_path(path: Path) -> None:
    """Make sure `path` can become a private socket: its directory 0700 and ours, no file there."""
    directory = path.parent
    if not directory.exists():
        try:
            directory.mkdir(mode=0o700)
        except OSError as exc:
            raise TransportError(f"--socket: cannot create {directory}: {exc.strerror}") from None
        directory.chmod(0o700)  # mkdir's mode is filtered by the umask
    info = directory.stat()
    if not stat.S_ISDIR(info.st_mode):
        raise TransportError(f"--socket {path}: {directory} is not a directory")
    if info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise TransportError(
            f"--socket {path}: the directory {directory} is "
            f"{'not yours' if info.st_uid != os.getuid() else 'open to other users'} "
            f"(mode {stat.S_IMODE(info.st_mode):04o}), so others could reach the socket. Use a "
            f"directory only you can enter (mode 0700), e.g. one that does not exist yet."
        )
    if path.is_socket() or path.exists():
        if not path.is_socket():
            raise TransportError(f"--socket {path}: a file that is not a socket is in the way")
        with socket.socket(socket.AF_UNIX) as probe:
            try:
                probe.connect(str(path))
            except OSError:
                path.unlink()  # left by a server that is gone
            else:
                raise TransportError(f"--socket {path}: another server is listening there")


def serve_unix(server: BeastModeServer, path: Path) -> int:
    """Serve exactly one client on a Unix socket (0600, in a 0700 directory)."""
    prepare_socket_path(path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    previous = os.umask(0o177)  # the socket is born 0600: no window with looser permissions
    try:
        listener.bind(str(path))
        listener.listen(1)
    except OSError as exc:
        listener.close()
        raise TransportError(f"Cannot listen on {path}: {exc.strerror}") from None
    finally:
        os.umask(previous)
    path.chmod(0o600)
    print(f"beastmode-lsp: listening on {path} for one client", file=sys.stderr)
    try:
        return _run(server, _serve_one(server, listener))
    finally:
        with contextlib.suppress(OSError):
            path.unlink()


async def _serve_one(server: BeastModeServer, listener: socket.socket) -> int:
    """Accept one connection, stop listening at once, and serve it."""
    listener.setblocking(False)
    loop = asyncio.get_running_loop()
    try:
        connection, _ = await loop.sock_accept(listener)
    finally:
        # Closing the listener also resets connections still waiting in its backlog unread.
        address = listener.getsockname()
        listener.close()
        if isinstance(address, str) and address:
            with contextlib.suppress(OSError):
                os.unlink(address)
    stream = asyncio.StreamReader(limit=LINE_LIMIT)
    transport, _ = await loop.connect_accepted_socket(
        lambda: asyncio.StreamReaderProtocol(stream), connection
    )
    return await serve_streams(server, stream, StreamWriter(transport))


def _run(server: BeastModeServer, serving: Coroutine[Any, Any, int]) -> int:
    """Run a serving coroutine to its end and release the server; returns the exit code."""
    try:
        return asyncio.run(serving)
    except KeyboardInterrupt:
        return 1
    finally:
        server.shutdown()  # type: ignore[no-untyped-call]
