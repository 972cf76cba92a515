"""A lean asyncio JSON-RPC client over a language server's stdio, for timing it.

No typed protocol layer: messages are plain dicts, so what the benchmark measures is the
server's work, not a client library's (de)serialization. Every response is stamped with
`time.monotonic()` the moment its bytes have been read; server-to-client requests are answered
(`workspace/configuration` with the settings given, anything else with null).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

INLINE_INVOKED = 1
INLINE_AUTOMATIC = 2
INITIALIZE_TIMEOUT_S = 30.0
# Run the server under another command, e.g. a profiler:
# BENCH_SERVER_COMMAND=".venv/bin/python -m cProfile -o /tmp/server.prof -m beastmode"
SERVER_COMMAND_ENV = "BENCH_SERVER_COMMAND"


@dataclass(frozen=True)
class Response:
    """One response and when it was sent and received (time.monotonic())."""

    message: dict[str, Any]
    sent_at: float
    received_at: float

    @property
    def seconds(self) -> float:
        """Round trip in seconds."""
        return self.received_at - self.sent_at

    @property
    def result(self) -> Any:
        """The result member (None for an error)."""
        return self.message.get("result")


@dataclass
class Pending:
    """A request written to the server whose response may not have arrived yet."""

    msg_id: int
    sent_at: float
    future: asyncio.Future[tuple[dict[str, Any], float]]

    async def response(self, timeout: float = 30.0) -> Response:
        """Wait for the response."""
        message, received_at = await asyncio.wait_for(asyncio.shield(self.future), timeout)
        return Response(message, self.sent_at, received_at)


class StdioClient:
    """One `python -m beastmode` process and the JSON-RPC conversation with it."""

    def __init__(self, process: asyncio.subprocess.Process, settings: dict[str, Any]) -> None:
        self.process = process
        self.settings = settings
        self.spawned_at = 0.0
        self.notifications: list[dict[str, Any]] = []
        self._next_id = 0
        self._pending: dict[int, asyncio.Future[tuple[dict[str, Any], float]]] = {}
        self._reader = asyncio.ensure_future(self._read_loop())
        self._stderr = asyncio.ensure_future(self._drain_stderr())
        self.stderr = bytearray()

    @classmethod
    async def spawn(
        cls, env: dict[str, str], cwd: Path, settings: dict[str, Any] | None = None
    ) -> StdioClient:
        """Start the server process (not yet initialized)."""
        command = shlex.split(os.environ.get(SERVER_COMMAND_ENV, "")) or [
            sys.executable,
            "-m",
            "beastmode",
        ]
        spawned_at = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
            cwd=str(cwd),
            limit=16 * 1024 * 1024,
        )
        client = cls(process, settings or {})
        client.spawned_at = spawned_at
        return client

    @classmethod
    async def start(
        cls,
        env: dict[str, str],
        cwd: Path,
        settings: dict[str, Any] | None = None,
    ) -> StdioClient:
        """Start the server and complete the initialize / initialized handshake."""
        client = await cls.spawn(env, cwd, settings)
        try:
            await client.initialize(cwd)
        except ConnectionError:
            await client.process.wait()
            await asyncio.gather(client._stderr, return_exceptions=True)
            tail = client.stderr.decode(errors="replace")[-2000:]
            raise RuntimeError(f"the server exited during initialize:\n{tail}") from None
        client.notify("initialized", {})
        await client.ping()
        return client

    # -- wire ------------------------------------------------------------------------------------

    def _write(self, message: dict[str, Any]) -> float:
        stdin = self.process.stdin
        assert stdin is not None
        body = json.dumps({"jsonrpc": "2.0", **message}, separators=(",", ":")).encode()
        sent_at = time.monotonic()
        stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        return sent_at

    async def _read_loop(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        while True:
            try:
                head = await stdout.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                break
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            body = await stdout.readexactly(length)
            received_at = time.monotonic()
            message = json.loads(body)
            if "method" in message and "id" in message:
                self._answer_server_request(message)
            elif "method" in message:
                self.notifications.append(message)
            else:
                future = self._pending.pop(message.get("id"), None)
                if future is not None and not future.done():
                    future.set_result((message, received_at))
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ConnectionError("server closed its stdout"))

    async def _drain_stderr(self) -> None:
        stream = self.process.stderr
        assert stream is not None
        while chunk := await stream.read(65536):
            self.stderr += chunk

    def _answer_server_request(self, message: dict[str, Any]) -> None:
        result: Any = None
        if message["method"] == "workspace/configuration":
            items = message.get("params", {}).get("items", [])
            result = [self.settings for _ in items]
        self._write({"id": message["id"], "result": result})

    # -- requests ----------------------------------------------------------------------------

    def send_request(self, method: str, params: Any) -> Pending:
        """Write a request now; the returned `Pending` resolves to its response."""
        self._next_id += 1
        msg_id = self._next_id
        future: asyncio.Future[tuple[dict[str, Any], float]] = (
            asyncio.get_running_loop().create_future()
        )
        self._pending[msg_id] = future
        sent_at = self._write({"id": msg_id, "method": method, "params": params})
        return Pending(msg_id, sent_at, future)

    async def request(self, method: str, params: Any, timeout: float = 30.0) -> Response:
        """Send a request and wait for its response."""
        return await self.send_request(method, params).response(timeout)

    def notify(self, method: str, params: Any) -> float:
        """Send a notification; returns when it was written."""
        return self._write({"method": method, "params": params})

    def cancel(self, msg_id: int) -> float:
        """Send `$/cancelRequest` for a request; returns when it was written."""
        return self.notify("$/cancelRequest", {"id": msg_id})

    async def initialize(self, root: Path) -> Response:
        """Send `initialize` with VS Code-like capabilities (inline completion declared)."""
        capabilities = {
            "workspace": {"configuration": True, "workspaceFolders": True},
            "textDocument": {
                "synchronization": {},
                "inlineCompletion": {},
                "completion": {"completionItem": {"snippetSupport": True}},
            },
            "window": {"workDoneProgress": True},
        }
        params = {
            "processId": None,
            "rootUri": root.as_uri(),
            "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
            "capabilities": capabilities,
            "initializationOptions": self.settings,
        }
        return await self.request("initialize", params, timeout=INITIALIZE_TIMEOUT_S)

    async def ping(self) -> Response:
        """A request the server answers at once (unknown method): everything before it is done."""
        return await self.request("bench/ping", None)

    # -- documents and inline completion ----------------------------------------------------------

    def open_document(self, uri: str, text: str, language: str = "python") -> None:
        """Send didOpen (version 1)."""
        item = {"uri": uri, "languageId": language, "version": 1, "text": text}
        self.notify("textDocument/didOpen", {"textDocument": item})

    def insert(self, uri: str, version: int, line: int, character: int, text: str) -> float:
        """Send didChange inserting `text` at a position; returns when it was written."""
        position = {"line": line, "character": character}
        change = {"range": {"start": position, "end": position}, "text": text}
        return self.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]},
        )

    def inline(self, uri: str, line: int, character: int, *, invoked: bool) -> Pending:
        """Send `textDocument/inlineCompletion` at a position."""
        params = {
            "textDocument": {"uri": uri},
            "position": {"line": line, "character": character},
            "context": {"triggerKind": INLINE_INVOKED if invoked else INLINE_AUTOMATIC},
        }
        return self.send_request("textDocument/inlineCompletion", params)

    async def close(self) -> None:
        """Shut the server down politely, or kill it."""
        try:
            await self.request("shutdown", None, timeout=5)
            self.notify("exit", None)
            await asyncio.wait_for(self.process.wait(), 5)
        except (Exception, asyncio.CancelledError):
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await self.process.wait()
        self._reader.cancel()
        await asyncio.gather(self._reader, self._stderr, return_exceptions=True)


def inline_text(response: Response) -> str | None:
    """The first inline item's text, or None for an empty list or an error."""
    result = response.result
    if not isinstance(result, dict):
        return None
    items = result.get("items") or []
    if not items:
        return None
    text = items[0].get("insertText")
    return text if isinstance(text, str) else None
