"""LSP over stdio without blocking the event loop (a workaround for pygls 2.1.1's stdio).

pygls 2.1.1 reads stdin through its thread pool (three thread hops per message) and writes stdout
with blocking writes, so a slow editor can stall the server. Here both ends are asyncio pipe
transports: reading costs no thread hop, and writes are buffered, never blocking. Each message
read gives the loop a turn, so a burst of buffered messages does not run back to back. Stdin or
stdout that is not a pipe (a file, say) falls back to pygls's own reader and writer.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import TYPE_CHECKING, Any, BinaryIO

from pygls.io_ import StdinAsyncReader, StdoutWriter, run_async

if TYPE_CHECKING:
    from beastmode.lsp.server import BeastModeServer

log = logging.getLogger("beastmode")


class PipeWriter:
    """pygls's writer interface over an asyncio write transport (buffers, never blocks)."""

    def __init__(self, transport: asyncio.WriteTransport) -> None:
        self._transport = transport

    def write(self, data: bytes) -> None:
        """Queue bytes for the editor."""
        self._transport.write(data)

    def close(self) -> None:
        """Close stdout."""
        self._transport.close()


class PipeReader:
    """pygls's reader interface over an asyncio stream; end of input reads as b''."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self._stream = stream

    async def readline(self) -> bytes:
        """One header line."""
        return await self._stream.readline()

    async def readexactly(self, n: int) -> bytes:
        """One message body, then a turn for the loop."""
        try:
            body = await self._stream.readexactly(n)
        except asyncio.IncompleteReadError:
            return b""
        await asyncio.sleep(0)
        return body


def serve_stdio(server: BeastModeServer, stdin: BinaryIO, stdout: BinaryIO) -> None:
    """Run the server's protocol over stdin/stdout until exit or end of input."""
    server._stop_event = threading.Event()
    server.protocol.set_writer(StdoutWriter(stdout))

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        try:
            transport, _ = await loop.connect_write_pipe(asyncio.Protocol, stdout)
            server.protocol.set_writer(PipeWriter(transport))
        except (ValueError, OSError):
            pass  # not a pipe: keep the blocking writer
        # The default limit (64 KiB) also caps how much unread input is buffered.
        stream = asyncio.StreamReader()
        reader: Any
        try:
            await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stream), stdin)
            reader = PipeReader(stream)
        except (ValueError, OSError):
            reader = StdinAsyncReader(stdin, server.thread_pool)
        assert server._stop_event is not None
        await run_async(
            stop_event=server._stop_event,
            reader=reader,
            protocol=server.protocol,
            logger=log,
            error_handler=server.report_server_error,
        )

    try:
        asyncio.run(serve())
    except BrokenPipeError:
        log.error("Connection to the client is lost; shutting down.")
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.shutdown()  # type: ignore[no-untyped-call]
