"""A bare JSON-RPC client over the server's stdio, for messages no typed client can send."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any


class RawClient:
    """Writes raw (possibly malformed) messages and collects every message the server sends."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "beastmode"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=cwd,
        )
        self.received: list[dict[str, Any]] = []
        self._lock = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._drain_stderr, daemon=True).start()

    def _drain_stderr(self) -> None:
        assert self.process.stderr is not None
        self.stderr = b""
        for line in self.process.stderr:
            self.stderr += line

    def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while True:
            header = b""
            while not header.endswith(b"\r\n\r\n"):
                byte = stream.read(1)
                if not byte:
                    return
                header += byte
            length = next(
                int(line.split(b":")[1])
                for line in header.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
            message = json.loads(stream.read(length))
            with self._lock:
                self.received.append(message)
                self._lock.notify_all()

    def send_bytes(self, body: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def send(self, message: dict[str, Any]) -> None:
        self.send_bytes(json.dumps({"jsonrpc": "2.0", **message}).encode())

    def response(self, msg_id: Any, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                for message in self.received:
                    if message.get("id") == msg_id and "method" not in message:
                        return message
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no response to {msg_id!r}")
                self._lock.wait(remaining)

    def request_from_server(self, method: str, timeout: float = 10.0) -> dict[str, Any]:
        """Wait for a request the server sent (e.g. workspace/configuration); not answered."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                for message in self.received:
                    if message.get("method") == method and "id" in message:
                        return message
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"the server never sent {method}")
                self._lock.wait(remaining)

    def initialize(self, root: Path, options: dict[str, Any] | None = None) -> None:
        capabilities = {
            "textDocument": {"inlineCompletion": {}},
            "window": {"workDoneProgress": True},
        }
        self.send(
            {
                "id": "init",
                "method": "initialize",
                "params": {
                    "processId": None,
                    "rootUri": root.as_uri(),
                    "capabilities": capabilities,
                    "initializationOptions": options or {},
                },
            }
        )
        self.response("init")
        self.send({"method": "initialized", "params": {}})

    def close(self) -> None:
        try:
            self.send({"id": "bye", "method": "shutdown"})
            self.response("bye", timeout=5)
            self.send({"method": "exit"})
            self.process.wait(timeout=5)
        except Exception:
            self.process.kill()
            self.process.wait()
