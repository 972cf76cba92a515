"""`--tcp` and `--socket` serve exactly one client: nobody else can attach, read or act.

The attack these pin: with pygls's `start_tcp`, a second local connection, without `initialize`,
could register its own endpoint, run `beastmode.chat` on /proc/self/environ, set the default
model, receive the real editor's next response, and end the server by disconnecting.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from beastmode.registry import Registry
from tests.hardening.client import EDITOR_CAPABILITIES, SERVER_COMMAND

LISTENING = re.compile(r"listening on (\S+) for one client")


class SocketClient:
    """A blocking JSON-RPC client on one socket (enough for these tests)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.sock.settimeout(20)
        self._buffer = b""
        self._next_id = 0

    def send(self, message: dict[str, Any]) -> None:
        """Frame and send one message."""
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def receive(self) -> dict[str, Any]:
        """The next message from the server."""
        while b"\r\n\r\n" not in self._buffer:
            self._fill()
        header, _, rest = self._buffer.partition(b"\r\n\r\n")
        length = int(re.search(rb"Content-Length: (\d+)", header).group(1))  # type: ignore[union-attr]
        while len(rest) < length:
            self._buffer = header + b"\r\n\r\n" + rest
            self._fill()
            header, _, rest = self._buffer.partition(b"\r\n\r\n")
        self._buffer = rest[length:]
        return json.loads(rest[:length])  # type: ignore[no-any-return]

    def _fill(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("the server closed the connection")
        self._buffer += data

    def request(self, method: str, params: Any = None) -> dict[str, Any]:
        """Send a request and return its response, answering the server's own requests."""
        self._next_id += 1
        msg_id = f"req-{self._next_id}"
        self.send({"id": msg_id, "method": method, "params": params})
        while True:
            message = self.receive()
            if "method" in message and "id" in message:
                result: Any = [{}] if message["method"] == "workspace/configuration" else None
                self.send({"id": message["id"], "result": result})
            elif message.get("id") == msg_id:
                return message

    def initialize(self, root: Path) -> None:
        """initialize + initialized."""
        answer = self.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": root.as_uri(),
                "capabilities": EDITOR_CAPABILITIES,
                "initializationOptions": {},
            },
        )
        assert "result" in answer, answer
        self.send({"method": "initialized", "params": {}})


def start(args: list[str], env: dict[str, str], cwd: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start the server with a transport flag; returns it and the address it printed."""
    process = subprocess.Popen(
        [*SERVER_COMMAND, *args], stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=cwd
    )
    assert process.stderr is not None
    line = process.stderr.readline().decode()
    match = LISTENING.search(line)
    assert match, line + process.stderr.read().decode()
    return process, match.group(1)


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Server processes to kill after the test."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait()
        if process.stderr is not None:
            process.stderr.close()


def intruder_actions(intruder: socket.socket, root: Path) -> bool:
    """Everything the old TCP mode let a second connection do; True if any byte came back."""
    messages = [
        {"id": 1, "method": "workspace/executeCommand", "params": {
            "command": "beastmode.registerModel",
            "arguments": [{"model_id": "evil", "model_name": "evil",
                           "endpoint_url": "http://127.0.0.1:9/v1/chat/completions"}]}},
        {"id": 2, "method": "workspace/executeCommand", "params": {
            "command": "beastmode.setDefaultModel", "arguments": [{"model": "custom:evil"}]}},
        {"id": 3, "method": "workspace/executeCommand", "params": {
            "command": "beastmode.chat",
            "arguments": [{"sessionId": "x", "message": "hi",
                           "files": ["file:///proc/self/environ"]}]}},
    ]  # fmt: skip
    intruder.settimeout(3)
    try:
        for message in messages:
            body = json.dumps({"jsonrpc": "2.0", **message}).encode()
            intruder.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        return bool(intruder.recv(65536))
    except (OSError, TimeoutError):
        return False


def assert_nothing_registered(env: dict[str, str]) -> None:
    """The registry holds no model and no default the intruder tried to set."""
    registry = Registry.open(env)
    try:
        assert [m.model_id for m in registry.list_models()] == []
        assert registry.defaults() == {}
    finally:
        registry.close()


def test_tcp_serves_one_client_and_refuses_every_other(
    server_env: dict[str, str], workspace: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    process, address = start(["--tcp", "127.0.0.1:0"], server_env, workspace)
    processes.append(process)
    host, _, port = address.rpartition(":")
    editor = SocketClient(socket.create_connection((host, int(port))))
    editor.initialize(workspace)

    connected = True
    try:
        intruder = socket.create_connection((host, int(port)), timeout=5)
    except OSError:
        connected = False  # refused outright: the listener is closed
    if connected:
        with intruder:
            assert not intruder_actions(intruder, workspace)

    answer = editor.request("workspace/executeCommand", {"command": "beastmode.listModels"})
    assert [m["model_id"] for m in answer["result"]["models"]] == []
    assert process.poll() is None  # the intruder leaving did not end the server
    assert_nothing_registered(server_env)

    editor.sock.close()  # the editor goes: so does the server
    assert process.wait(timeout=20) == 0


def test_tcp_refuses_a_host_that_is_not_loopback(
    server_env: dict[str, str], workspace: Path
) -> None:
    for host in ("0.0.0.0", "192.0.2.1", "example.com"):
        result = subprocess.run(
            [*SERVER_COMMAND, "--tcp", f"{host}:0"],
            capture_output=True,
            env=server_env,
            cwd=workspace,
            timeout=60,
        )
        assert result.returncode == 2, result.stderr
        assert b"loopback only" in result.stderr


def test_socket_is_private_and_serves_one_client(
    server_env: dict[str, str],
    workspace: Path,
    tmp_path: Path,
    processes: list[subprocess.Popen[bytes]],
) -> None:
    path = tmp_path / "run" / "lsp.sock"
    process, address = start(["--socket", str(path)], server_env, workspace)
    processes.append(process)
    assert address == str(path)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_ISSOCK(path.stat().st_mode) and stat.S_IMODE(path.stat().st_mode) == 0o600

    editor = socket.socket(socket.AF_UNIX)
    editor.connect(str(path))
    client = SocketClient(editor)
    client.initialize(workspace)
    with socket.socket(socket.AF_UNIX) as intruder, contextlib.suppress(OSError):
        intruder.connect(str(path))
        assert not intruder_actions(intruder, workspace)
    assert "result" in client.request("workspace/executeCommand", {"command": "beastmode.usage"})
    assert_nothing_registered(server_env)
    client.request("shutdown")
    client.send({"method": "exit"})
    assert process.wait(timeout=20) == 0
    assert not path.exists()


def test_socket_in_a_shared_directory_is_refused(
    server_env: dict[str, str], workspace: Path, tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)
    result = subprocess.run(
        [*SERVER_COMMAND, "--socket", str(shared / "lsp.sock")],
        capture_output=True,
        env=server_env,
        cwd=workspace,
        timeout=60,
    )
    assert result.returncode == 2
    assert b"open to other users" in result.stderr
    assert not (shared / "lsp.sock").exists()


def test_version_flag_prints_the_version(server_env: dict[str, str], workspace: Path) -> None:
    from beastmode import __version__

    result = subprocess.run(
        [sys.executable, "-m", "beastmode", "--version"],
        capture_output=True,
        env=server_env,
        cwd=workspace,
        timeout=60,
    )
    assert result.returncode == 0
    assert result.stdout.decode().strip() == f"beastmode-lsp {__version__}"
