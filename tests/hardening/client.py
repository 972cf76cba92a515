"""A threaded stdio JSON-RPC client for hardening tests: raw bytes in, every message recorded.

Unlike pytest-lsp's client it can send anything (invalid JSON, wrong types, odd ids), keeps the
server's stderr, answers the server's own requests (configuration, progress, applyEdit) the way
an editor would, and can read the server process's resident memory.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

SERVER_COMMAND = (sys.executable, "-m", "beastmode")
STALL_PROBE = Path(__file__).with_name("stallprobe.py")
NOT_A_REQUEST = object()

EDITOR_CAPABILITIES: dict[str, Any] = {
    "workspace": {
        "configuration": True,
        "applyEdit": True,
        "workspaceFolders": True,
        "didChangeConfiguration": {"dynamicRegistration": True},
        "executeCommand": {},
    },
    "textDocument": {
        "synchronization": {},
        "inlineCompletion": {},
        "completion": {"completionItem": {"snippetSupport": True}},
        "codeAction": {
            "codeActionLiteralSupport": {
                "codeActionKind": {
                    "valueSet": ["quickfix", "refactor.rewrite", "source", "source.generateTests"]
                }
            },
            "resolveSupport": {"properties": ["edit"]},
            "dataSupport": True,
        },
    },
    "window": {"workDoneProgress": True, "showMessage": {}},
}


class LspProcess:
    """One server process on stdio, driven by raw JSON-RPC messages."""

    def __init__(
        self,
        env: dict[str, str],
        cwd: Path,
        *,
        command: Sequence[str] = SERVER_COMMAND,
        configuration: Any = None,
    ) -> None:
        self.process = subprocess.Popen(
            list(command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=cwd,
        )
        self.configuration = configuration if configuration is not None else {}
        self.received: list[dict[str, Any]] = []
        self.applied_edits: list[Any] = []
        self._stderr = bytearray()
        self._ids = itertools.count(1)
        self._cond = threading.Condition()
        self._write_lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        threading.Thread(target=self._drain_stderr, daemon=True).start()

    # Output --------------------------------------------------------------------------------

    @property
    def stderr(self) -> str:
        """Everything the server wrote to stderr so far."""
        with self._cond:
            return self._stderr.decode("utf-8", "replace")

    def _drain_stderr(self) -> None:
        stream = self.process.stderr
        assert stream is not None
        for line in stream:
            with self._cond:
                self._stderr += line

    def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            assert length is not None, "server sent a message without Content-Length"
            message = json.loads(stream.read(length))
            if "method" in message and "id" in message:
                self._answer_server_request(message)
            with self._cond:
                self.received.append(message)
                self._cond.notify_all()

    def _answer_server_request(self, message: dict[str, Any]) -> None:
        method = message["method"]
        params = message.get("params") or {}
        reply: dict[str, Any] = {"id": message["id"]}
        if method == "workspace/configuration":
            reply["result"] = [self.configuration for _ in params.get("items", [])]
        elif method == "workspace/applyEdit":
            self.applied_edits.append(params.get("edit"))
            reply["result"] = {"applied": True}
        elif (
            method
            in (
                "window/workDoneProgress/create",
                "client/registerCapability",
                "client/unregisterCapability",
            )
            or method == "window/showMessageRequest"
        ):
            reply["result"] = None
        else:
            reply["error"] = {"code": -32601, "message": f"test client has no {method}"}
        self.send(reply)

    # Input ---------------------------------------------------------------------------------

    def send_bytes(self, body: bytes) -> None:
        """Frame `body` with a correct Content-Length and write it."""
        stdin = self.process.stdin
        assert stdin is not None
        with self._write_lock:
            stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            stdin.flush()

    def send(self, message: dict[str, Any], *, jsonrpc: bool = True) -> None:
        """Send one JSON message (with `"jsonrpc": "2.0"` unless told not to)."""
        payload = {"jsonrpc": "2.0", **message} if jsonrpc else message
        self.send_bytes(json.dumps(payload).encode())

    def next_id(self) -> int:
        """A fresh request id."""
        return next(self._ids)

    def notify(self, method: str, params: Any = None) -> None:
        """Send a notification."""
        self.send({"method": method, "params": params})

    def request_async(self, method: str, params: Any = None) -> int:
        """Send a request without waiting; returns its id."""
        msg_id = self.next_id()
        self.send({"id": msg_id, "method": method, "params": params})
        return msg_id

    def request(self, method: str, params: Any = None, timeout: float = 15.0) -> dict[str, Any]:
        """Send a request and wait for its response message."""
        return self.response(self.request_async(method, params), timeout)

    def response(self, msg_id: Any, timeout: float = 15.0) -> dict[str, Any]:
        """The response to request `msg_id`; TimeoutError if none arrives in time."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for message in self.received:
                    if "method" not in message and message.get("id") == msg_id:
                        return message
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.process.poll() is not None:
                    raise TimeoutError(f"no response to {msg_id!r} within {timeout} s")
                self._cond.wait(min(remaining, 0.5))

    def responses(self, ids: Sequence[Any], timeout: float) -> dict[Any, dict[str, Any]]:
        """Responses to every id in `ids`; TimeoutError naming the ids still unanswered."""
        deadline = time.monotonic() + timeout
        wanted = set(ids)
        with self._cond:
            while True:
                found = {
                    m["id"]: m
                    for m in self.received
                    if "method" not in m
                    and isinstance(m.get("id"), int | str)
                    and m["id"] in wanted
                }
                if len(found) == len(wanted):
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.process.poll() is not None:
                    missing = sorted(map(str, wanted - set(found)))
                    raise TimeoutError(f"no response to {missing[:20]} ({len(missing)} missing)")
                self._cond.wait(min(remaining, 0.5))

    def notifications(self, method: str) -> list[Any]:
        """The params of every notification `method` received so far."""
        with self._cond:
            return [
                m.get("params")
                for m in self.received
                if m.get("method") == method and "id" not in m
            ]

    def wait_for(self, predicate: Any, timeout: float = 10.0) -> None:
        """Block until predicate(self) is true."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("condition not met in time")
                self._cond.wait(min(remaining, 0.2))

    def user_messages(self) -> list[str]:
        """Every window/showMessage and window/logMessage text so far."""
        return [
            p["message"]
            for method in ("window/showMessage", "window/logMessage")
            for p in self.notifications(method)
        ]

    # Sessions ------------------------------------------------------------------------------

    def initialize(
        self,
        root: Path,
        options: Any = None,
        capabilities: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """initialize + initialized, as an editor would."""
        answer = self.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": root.as_uri(),
                "workspaceFolders": [{"uri": root.as_uri(), "name": "workspace"}],
                "capabilities": EDITOR_CAPABILITIES if capabilities is None else capabilities,
                "initializationOptions": options if options is not None else {},
            },
            timeout=30,
        )
        self.notify("initialized", {})
        return answer

    def open(self, uri: str, text: str, language: str = "python", version: int = 1) -> None:
        """didOpen."""
        self.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": uri,
                    "languageId": language,
                    "version": version,
                    "text": text,
                }
            },
        )

    def inline(self, uri: str, line: int, character: int, *, invoked: bool = True) -> int:
        """Send an inline completion request; returns its id."""
        return self.request_async(
            "textDocument/inlineCompletion",
            {
                "textDocument": {"uri": uri},
                "position": {"line": line, "character": character},
                "context": {"triggerKind": 1 if invoked else 2},
            },
        )

    def command(self, name: str, *arguments: Any, timeout: float = 30.0) -> dict[str, Any]:
        """Run workspace/executeCommand and return the response message."""
        return self.request(
            "workspace/executeCommand",
            {"command": name, "arguments": list(arguments)},
            timeout=timeout,
        )

    def alive(self) -> bool:
        """True while the server process runs."""
        return self.process.poll() is None

    def rss_kib(self) -> int:
        """The server process's resident set size (VmRSS) in KiB."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        line = next(row for row in status.splitlines() if row.startswith("VmRSS:"))
        return int(line.split()[1])

    def close(self) -> int:
        """shutdown + exit (kill if it does not go); returns the exit status."""
        try:
            if self.alive():
                self.request("shutdown", None, timeout=10)
                self.notify("exit")
                self.process.wait(timeout=10)
        except (TimeoutError, OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        self._reader.join(timeout=5)
        return self.process.returncode


def unhandled_errors(stderr: str) -> list[str]:
    """The lines of a server's stderr that show an unhandled exception."""
    markers = ("Traceback", "Task exception was never retrieved", "Error in server")
    return [line for line in stderr.splitlines() if any(m in line for m in markers)]
