"""A scripted model server on 127.0.0.1 for tests and benchmarks.

It speaks OpenAI chat (`/v1/chat/completions`), OpenAI completions (`/v1/completions`, for
fill-in-the-middle) and Anthropic Messages (`/v1/messages`), streamed (SSE) or not, and can
inject the faults a real endpoint shows (`Fault`). It runs its own asyncio loop in a background
thread, so sync tests, async tests and other processes can all be its clients::

    with FakeModelServer() as server:
        server.script(Reply(text="def add(a, b):"), Reply(status=529))
        ...  # point a client at server.openai_chat_url
        assert server.requests[0].json["model"] == "qwen"

Run `python -m tests.fakes.model_server --text "..."` for a standalone server.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import itertools
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from types import TracebackType

from tests.fakes import wire
from tests.fakes.connection import BadRequest, ClientGone, Connection
from tests.fakes.responses import ReplyWriter, send_json
from tests.fakes.script import RecordedRequest, Reply
from tests.fakes.wire import WireFormat

Responder = Callable[[RecordedRequest], Reply]
REPLY_ID_PREFIXES = {
    WireFormat.OPENAI_CHAT: "chatcmpl-fake-",
    WireFormat.OPENAI_COMPLETIONS: "cmpl-fake-",
    WireFormat.ANTHROPIC: "msg_fake_",
}


def closed_port() -> int:
    """A loopback port with nothing listening on it (for connection-refused tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class FakeModelServer:
    """A loopback HTTP server that answers model requests from a script of `Reply` objects."""

    def __init__(self, *, port: int = 0) -> None:
        self._requested_port = port
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._queue: collections.deque[Reply] = collections.deque()
        self._responder: Responder | None = None
        self._requests: list[RecordedRequest] = []
        self._ids = itertools.count(1)
        self._connection_ids = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.default_reply = Reply()
        self.base_url = ""

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> FakeModelServer:
        """Start serving in a background thread; returns self once the port is bound."""
        if self._thread is not None:
            raise RuntimeError("FakeModelServer already started")
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(
            target=loop.run_forever, name="fake-model-server", daemon=True
        )
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._listen(), loop)
        port = future.result(timeout=10)
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def _listen(self) -> int:
        self._server = await asyncio.start_server(
            self._serve_connection, "127.0.0.1", self._requested_port
        )
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    def stop(self) -> None:
        """Stop serving: hanging and streaming connections are aborted, the thread is joined."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
        self._loop = self._thread = None
        now = time.monotonic()
        for request in self.requests:
            request.mark_finished(now, client_disconnected=False)

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    def __enter__(self) -> FakeModelServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses -----------------------------------------------------------------------------

    @property
    def openai_chat_url(self) -> str:
        """The OpenAI chat completions endpoint."""
        return self.base_url + "/v1/chat/completions"

    @property
    def openai_completions_url(self) -> str:
        """The OpenAI legacy completions endpoint (prompt + suffix for fill-in-the-middle)."""
        return self.base_url + "/v1/completions"

    @property
    def anthropic_url(self) -> str:
        """The Anthropic Messages endpoint."""
        return self.base_url + "/v1/messages"

    # -- script --------------------------------------------------------------------------------

    def script(self, *replies: Reply) -> None:
        """Queue replies; each model request takes the next one, then `default_reply` is used."""
        with self._lock:
            self._queue.extend(replies)

    def set_responder(self, fn: Responder | None) -> None:
        """Answer every model request with fn(request) (overrides the queue); None removes it."""
        with self._lock:
            self._responder = fn

    def reset(self) -> None:
        """Forget the script, the responder and the recorded requests."""
        with self._lock:
            self._queue.clear()
            self._responder = None
            self._requests.clear()
            self.default_reply = Reply()

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    def wait_for_requests(self, n: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """Block until at least n requests arrived; raises TimeoutError if they do not."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self._requests) >= n, timeout):
                got = len(self._requests)
                raise TimeoutError(f"expected {n} requests within {timeout}s, got {got}")
            return list(self._requests)

    async def wait_for_requests_async(self, n: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """`wait_for_requests` for async tests, without blocking the caller's event loop."""
        return await asyncio.to_thread(self.wait_for_requests, n, timeout)

    def _record(self, request: RecordedRequest) -> None:
        with self._arrived:
            self._requests.append(request)
            self._arrived.notify_all()

    def _next_reply(self, request: RecordedRequest) -> Reply:
        with self._lock:
            responder = self._responder
            if responder is None:
                return self._queue.popleft() if self._queue else self.default_reply
        try:
            return responder(request)
        except Exception as exc:  # a broken responder should fail the test, not hang it
            return Reply(status=500, error_message=f"responder raised {exc!r}")

    # -- serving -------------------------------------------------------------------------------

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        conn = Connection(reader, writer)
        connection_id = next(self._connection_ids)
        try:
            while True:
                raw = await conn.read_request()
                if raw is None:
                    break
                request = RecordedRequest.parse(raw.method, raw.target, raw.headers, raw.body)
                request.connection_id = connection_id
                self._record(request)
                keep_alive = await self._exchange(conn, request)
                if not keep_alive or raw.wants_close:
                    break
        except (BadRequest, ClientGone, ConnectionError, OSError, asyncio.CancelledError):
            pass  # the client misbehaved or left, or the server is stopping: nothing to report
        except Exception:  # a bug in the fake: show it, since no test would see it otherwise
            traceback.print_exc()
        finally:
            self._tasks.discard(task)
            await conn.close()

    async def _exchange(self, conn: Connection, request: RecordedRequest) -> bool:
        """Answer one request while watching for the client to leave; True to keep alive."""
        answer = asyncio.ensure_future(self._answer(conn, request))
        watcher = asyncio.ensure_future(conn.watch_for_disconnect())
        try:
            await asyncio.wait({answer, watcher}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            answer.cancel()
            watcher.cancel()
            await asyncio.gather(answer, watcher, return_exceptions=True)
            raise
        if watcher.done() and not answer.done():
            answer.cancel()
            request.mark_finished(watcher.result(), client_disconnected=True)
            await asyncio.gather(answer, return_exceptions=True)
            return False
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
        try:
            keep_alive = answer.result()
        except ClientGone:
            request.mark_finished(time.monotonic(), client_disconnected=True)
            return False
        request.mark_finished(time.monotonic(), client_disconnected=False)
        return keep_alive

    async def _answer(self, conn: Connection, request: RecordedRequest) -> bool:
        fmt = wire.wire_format_for(request.path)
        if fmt is None or request.method != "POST":
            status = 404 if fmt is None else 405
            message = f"No route for {request.method} {request.path}"
            await send_json(conn, status, wire.error_body(fmt, status, message), {})
            return True
        reply = self._next_reply(request)
        if reply.delay_before_headers > 0:
            await asyncio.sleep(reply.delay_before_headers)
        reply_id = f"{REPLY_ID_PREFIXES[fmt]}{next(self._ids)}"
        return await ReplyWriter(conn, request, fmt, reply, reply_id).send()


def main(argv: list[str] | None = None) -> None:
    """Serve until killed, printing `READY <base_url>` once listening."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 = any free port)")
    parser.add_argument(
        "--text", default=Reply().text, help="the text every request is answered with"
    )
    parser.add_argument("--chunk-interval", type=float, default=0.0, help="seconds between chunks")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each response")
    args = parser.parse_args(argv)
    server = FakeModelServer(port=args.port)
    server.default_reply = Reply(
        text=args.text, chunk_interval=args.chunk_interval, delay_before_headers=args.delay
    )
    with server:
        print(f"READY {server.base_url}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    sys.exit(0)


if __name__ == "__main__":
    main()
