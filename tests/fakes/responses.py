"""Writing one scripted `Reply` to a connection: the well-formed answer or the fault it asks for."""

from __future__ import annotations

import asyncio
import time
import zlib
from collections.abc import Iterator

from tests.fakes import wire
from tests.fakes.connection import Connection, reason_phrase
from tests.fakes.script import DEFAULT_OVERSIZE_BYTES, Fault, RecordedRequest, Reply
from tests.fakes.wire import WireFormat

OVERSIZE_PIECE = 8192
ENDLESS_PIECE = b"y" * 65536
COMPRESSION_WBITS = {"gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}
NON_STREAM_DRIP_PIECE = 1024 * 1024
# A reset right after the last write could reach the client before it has read that data.
RESET_GRACE = 0.05


def response_head(
    content_type: str, length: int | None, *, keep_alive: bool, extra: dict[str, str]
) -> list[tuple[str, str]]:
    """Response headers; a body of unknown `length` is sent chunked."""
    headers = [("Content-Type", content_type), ("Server", "fake-model-server")]
    if length is None:
        headers += [("Transfer-Encoding", "chunked"), ("Cache-Control", "no-cache")]
    else:
        headers.append(("Content-Length", str(length)))
    headers.append(("Connection", "keep-alive" if keep_alive else "close"))
    return headers + list(extra.items())


async def send_json(conn: Connection, status: int, body: object, extra: dict[str, str]) -> None:
    """Send a whole JSON response."""
    data = wire.dumps(body)
    head = response_head("application/json", len(data), keep_alive=True, extra=extra)
    await conn.send_head(status, head)
    await conn.send(data)


class ReplyWriter:
    """Sends one `Reply` to one request in its wire format."""

    def __init__(
        self,
        conn: Connection,
        request: RecordedRequest,
        fmt: WireFormat,
        reply: Reply,
        reply_id: str,
    ) -> None:
        self._conn = conn
        self._request = request
        self._fmt = fmt
        self._reply = reply
        self._reply_id = reply_id

    async def send(self) -> bool:
        """Send the reply (status line onwards); True when the connection may be kept alive."""
        reply, request, fmt = self._reply, self._request, self._fmt
        if reply.content_encoding is not None:
            await self._send_encoded(reply.content_encoding)
            return True
        if reply.raw_body is not None:
            await self._send_body(reply.raw_body, 1)
            return True
        if reply.raw_events is not None and request.wants_stream:
            await self._stream(reply.raw_events, [], [])
            return True
        if reply.fault is not None:
            return await self._send_fault(reply.fault)
        if reply.status >= 400:
            error = wire.error_body(fmt, reply.status, reply.error_message)
            await send_json(self._conn, reply.status, error, reply.headers)
            return True
        if request.wants_stream:
            plan = wire.stream_plan(fmt, reply, request.json, self._reply_id, reply.deltas())
            await self._stream(plan.preamble, plan.deltas, plan.epilogue)
            return True
        body = wire.dumps(wire.json_body(fmt, reply, request.json, self._reply_id))
        await self._send_body(body, max(1, len(reply.deltas())) if reply.chunk_interval else 1)
        return True

    async def _send_fault(self, fault: Fault) -> bool:
        reply, request, fmt, conn = self._reply, self._request, self._fmt, self._conn
        deltas = reply.deltas()
        half = min(len(deltas), max(1, len(deltas) // 2))
        plan = wire.stream_plan(fmt, reply, request.json, self._reply_id, deltas)
        stream = request.wants_stream
        if fault is Fault.RESET_BEFORE_RESPONSE:
            conn.reset()
            return False
        if fault is Fault.HANG:
            await asyncio.Event().wait()
        if fault in (Fault.RESET_MID_STREAM, Fault.TRUNCATED_STREAM):
            if stream:
                # A truncated stream still ends its HTTP body properly: only the SSE is cut short.
                end = fault is Fault.TRUNCATED_STREAM
                await self._stream(plan.preamble, plan.deltas[:half], [], end=end, close=True)
            else:
                body = wire.dumps(wire.json_body(fmt, reply, request.json, self._reply_id))
                extra = reply.headers
                head = response_head("application/json", len(body), keep_alive=False, extra=extra)
                await conn.send_head(200, head)
                await conn.send(body[: len(body) // 2])
            if fault is Fault.RESET_MID_STREAM:
                await asyncio.sleep(RESET_GRACE)
                conn.reset()
            return False
        if fault is Fault.MALFORMED_JSON:
            if stream:
                await self._stream(plan.preamble, [wire.malformed_event(fmt)], plan.epilogue)
            else:
                await self._send_body(wire.MALFORMED_BODY, 1)
            return True
        if fault is Fault.HTML_ERROR_PAGE:
            status = reply.status if reply.status >= 400 else 502
            page = wire.html_page(status, reason_phrase(status))
            head = response_head("text/html", len(page), keep_alive=True, extra=reply.headers)
            await conn.send_head(status, head)
            await conn.send(page)
            return True
        if fault is Fault.IN_BAND_ERROR:
            if stream:
                error = wire.in_band_error(fmt, reply.error_message)
                await self._stream(plan.preamble, plan.deltas[:half], error)
            else:
                await self._send_body(wire.dumps(wire.error_body(fmt, 500, reply.error_message)), 1)
            return True
        if fault is Fault.OVERSIZED:
            await self._send_oversized()
            return True
        if fault is Fault.ECHO_KEY_BODY:
            text = f"Invalid credentials {self._key()} for this gateway".encode()
            head = response_head("text/plain", len(text), keep_alive=True, extra=reply.headers)
            await conn.send_head(200, head)
            await conn.send(text)
            return True
        if fault is Fault.ECHO_KEY_REDIRECT:
            key = self._key()
            page = f"<html><head><title>Moved to login for {key}</title></head></html>".encode()
            extra = {"Location": f"https://login.example/?key={key}", **reply.headers}
            await conn.send_head(
                302, response_head("text/html", len(page), keep_alive=True, extra=extra)
            )
            await conn.send(page)
            return True
        if fault is Fault.ECHO_KEY_EVENT:
            event = wire.sse(f"unauthorized: {self._key()}")
            await self._stream([event], [], plan.epilogue)
            return True
        if fault is Fault.ENDLESS_LINE:
            head = response_head("text/event-stream", None, keep_alive=False, extra=reply.headers)
            await conn.send_head(200, head)
            for event in plan.preamble:
                await conn.send_chunk(event)
            await conn.send_chunk(b"data: ")
            while True:  # until the client goes away (send raises) or the server stops
                await conn.send_chunk(ENDLESS_PIECE)
        raise AssertionError(f"unhandled fault {fault}")

    def _key(self) -> str:
        """The API key the request carried (Bearer token or x-api-key)."""
        headers = self._request.headers
        bearer = headers.get("authorization", "").removeprefix("Bearer ")
        return headers.get("x-api-key") or bearer

    def _plain_pieces(self) -> Iterator[bytes]:
        """The uncompressed 200 body in pieces (oversized when the reply asks for it)."""
        reply, request, fmt = self._reply, self._request, self._fmt
        oversized = reply.fault is Fault.OVERSIZED
        total = reply.oversize_bytes or DEFAULT_OVERSIZE_BYTES
        if reply.raw_body is not None:
            yield reply.raw_body
            return
        if not request.wants_stream:
            text = "x" * max(0, total - 200) if oversized else reply.full_text()
            big = Reply(text=text, usage=reply.usage)
            yield wire.dumps(wire.json_body(fmt, big, request.json, self._reply_id))
            return
        deltas = ["x" * OVERSIZE_PIECE] if oversized else reply.deltas()
        plan = wire.stream_plan(fmt, reply, request.json, self._reply_id, deltas)
        yield from plan.preamble
        count = max(1, -(-total // len(plan.deltas[0]))) if oversized else 1
        for _ in range(count):
            yield from plan.deltas
        yield from plan.epilogue

    async def _send_encoded(self, encoding: str) -> None:
        """Send the 200 body compressed with `encoding` (a few KB can inflate to many MB)."""
        compressor = zlib.compressobj(9, zlib.DEFLATED, COMPRESSION_WBITS[encoding])
        parts = [compressor.compress(piece) for piece in self._plain_pieces()]
        body = b"".join(parts) + compressor.flush()
        streamed = self._request.wants_stream and self._reply.raw_body is None
        content_type = "text/event-stream" if streamed else "application/json"
        extra = {"Content-Encoding": encoding, **self._reply.headers}
        await self._conn.send_head(
            200, response_head(content_type, len(body), keep_alive=True, extra=extra)
        )
        await self._conn.send(body)

    async def _send_oversized(self) -> None:
        reply, request, fmt = self._reply, self._request, self._fmt
        total = reply.oversize_bytes or DEFAULT_OVERSIZE_BYTES
        if not request.wants_stream:
            big = Reply(text="x" * max(0, total - 200), usage=reply.usage)
            body = wire.dumps(wire.json_body(fmt, big, request.json, self._reply_id))
            await self._send_body(body, max(1, len(body) // NON_STREAM_DRIP_PIECE))
            return
        filler = ["x" * OVERSIZE_PIECE]
        plan = wire.stream_plan(fmt, reply, request.json, self._reply_id, filler)
        count = max(1, -(-total // len(plan.deltas[0])))
        await self._stream(plan.preamble, plan.deltas * count, plan.epilogue)

    async def _send_body(self, body: bytes, pieces: int) -> None:
        """Send a 200 JSON body in `pieces` parts, `chunk_interval` apart."""
        extra = self._reply.headers
        head = response_head("application/json", len(body), keep_alive=True, extra=extra)
        await self._conn.send_head(200, head)
        size = -(-len(body) // pieces)
        for start in range(0, len(body), size):
            if start and self._reply.chunk_interval > 0:
                await asyncio.sleep(self._reply.chunk_interval)
            await self._conn.send(body[start : start + size])

    async def _stream(
        self,
        preamble: list[bytes],
        deltas: list[bytes],
        epilogue: list[bytes],
        *,
        end: bool = True,
        close: bool = False,
    ) -> None:
        """Send a chunked SSE stream; `end=False` leaves the HTTP body unfinished."""
        extra = self._reply.headers
        head = response_head("text/event-stream", None, keep_alive=not close, extra=extra)
        await self._conn.send_head(200, head)
        for event in preamble:
            await self._conn.send_chunk(event)
        for index, event in enumerate(deltas):
            if index and self._reply.chunk_interval > 0:
                await asyncio.sleep(self._reply.chunk_interval)
            self._request.chunk_sent_at.append(time.monotonic())
            await self._conn.send_chunk(event)
        for event in epilogue:
            await self._conn.send_chunk(event)
        if end:
            await self._conn.end_chunks()
