"""`beastmode demo`: watch the language server suggest code as someone types, in the terminal.

Starts `python -m beastmode` as a subprocess over stdio (exactly as an editor does), opens a
sample file in a temporary workspace, types into it with incremental `didChange` notifications and
inline requests between keystrokes, prints each suggestion as ghost text with its latency and
model, lists the code actions offered on a selection, and ends with the usage report. It speaks
raw JSON-RPC, so it needs nothing but the server itself; with no model registered it uses `local`.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SAMPLE_MODULE = '''"""Shapes and their areas."""

import math
from dataclasses import dataclass


@dataclass
class Circle:
    radius: float

    def area(self) -> float:
        return math.pi * self.radius ** 2


@dataclass
class Square:
    side: float

    def area(self) -> float:
        return self.side ** 2
'''

TYPED_TEXT = """import math
from dataclasses import dataclass


@dataclass
class Rectangle:
    width: float
    height: float

    def area(self) -> float:
        return self.width * self.height
"""

KEYSTROKE_SECONDS = 0.06  # a quick typist...
PAUSES = {"\n": 0.5, " ": 0.3, ".": 0.3, "(": 0.3}  # ...who pauses to think now and then


class DemoClient:
    """A minimal JSON-RPC client over the server's stdin/stdout."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process
        self._next_id = 0
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self.notifications: list[dict[str, Any]] = []
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        stream = self._process.stdout
        assert stream is not None
        while True:
            header = await stream.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":")[1])
                for line in header.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
            message = json.loads(await stream.readexactly(length))
            if "id" in message and "method" in message:
                self._answer_server_request(message)
            elif "id" in message:
                future = self._pending.pop(message["id"], None)
                if future is not None and not future.done():
                    future.set_result(message)
            else:
                self.notifications.append(message)

    def _answer_server_request(self, message: dict[str, Any]) -> None:
        result: Any = None
        if message["method"] == "workspace/configuration":
            result = [None for _ in message["params"]["items"]]
        elif message["method"] == "workspace/applyEdit":
            result = {"applied": False, "failureReason": "the demo applies no edits"}
        self._write({"jsonrpc": "2.0", "id": message["id"], "result": result})

    def _write(self, message: dict[str, Any]) -> None:
        body = json.dumps(message).encode()
        stdin = self._process.stdin
        assert stdin is not None
        stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    async def request(self, method: str, params: Any, timeout: float = 30.0) -> dict[str, Any]:
        """Send a request and wait for its response message."""
        self._next_id += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[self._next_id] = future
        self._write({"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params})
        return dict(await asyncio.wait_for(future, timeout))

    def notify(self, method: str, params: Any) -> None:
        """Send a notification."""
        self._write({"jsonrpc": "2.0", "method": method, "params": params})

    async def close(self) -> None:
        """Shut the server down politely."""
        try:
            await self.request("shutdown", None, timeout=10)
            self.notify("exit", None)
            await asyncio.wait_for(self._process.wait(), 10)
        except (TimeoutError, ConnectionError):
            self._process.kill()
        self._reader.cancel()


def _ghost(text: str, colour: bool) -> str:
    shown = text.replace("\n", "⏎")
    return f"\x1b[2m{shown}\x1b[0m" if colour else f"[{shown}]"


async def _run(model: str | None) -> int:
    colour = sys.stdout.isatty()
    workspace = Path(tempfile.mkdtemp(prefix="beastmode-demo-"))
    (workspace / "shapes.py").write_text(SAMPLE_MODULE)
    target = workspace / "rectangle.py"
    uri = target.as_uri()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "beastmode",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        cwd=workspace,
        env=dict(os.environ),
    )
    client = DemoClient(process)
    started = time.monotonic()
    init = await client.request(
        "initialize",
        {
            "processId": os.getpid(),
            "rootUri": workspace.as_uri(),
            "capabilities": {
                "textDocument": {
                    "inlineCompletion": {},
                    "codeAction": {"resolveSupport": {"properties": ["edit"]}},
                },
                "workspace": {"configuration": True, "applyEdit": True},
            },
            "initializationOptions": {"model": model} if model else {},
        },
    )
    if "error" in init:
        print(
            f"beastmode: error: the server refused initialize: {init['error']['message']}",
            file=sys.stderr,
        )
        return 1
    elapsed_ms = (time.monotonic() - started) * 1000
    print(f"BEAST MODE language server answered initialize in {elapsed_ms:.0f} ms")
    client.notify("initialized", {})
    client.notify(
        "textDocument/didOpen",
        {
            "textDocument": {
                "uri": (workspace / "shapes.py").as_uri(),
                "languageId": "python",
                "version": 1,
                "text": SAMPLE_MODULE,
            }
        },
    )
    client.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": ""}},
    )
    await asyncio.sleep(1.0)  # let the local engine learn the workspace
    print(f"Typing {target.name} (model: {model or 'your default, else local'}):\n")

    shown: list[str] = []
    expected = ""  # the ghost text still on screen, as the user types through it
    pending: set[asyncio.Task[None]] = set()

    async def ask(line: int, character: int, typed_line: str) -> None:
        nonlocal expected
        sent = time.monotonic()
        answer = await client.request(
            "textDocument/inlineCompletion",
            {
                "textDocument": {"uri": uri},
                "position": {"line": line, "character": character},
                "context": {"triggerKind": 2},
            },
        )
        items = (answer.get("result") or {}).get("items") or []
        suggestion = items[0]["insertText"] if items else ""
        if suggestion and suggestion != expected:
            latency = (time.monotonic() - sent) * 1000
            source = _latest_status_model(client) or "?"
            print(f"  {latency:6.1f} ms  {source:<22} {typed_line}{_ghost(suggestion, colour)}")
            shown.append(suggestion)
        expected = suggestion

    line, character, version = 0, 0, 1
    for char in TYPED_TEXT:
        version += 1
        position = {"line": line, "character": character}
        client.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"range": {"start": position, "end": position}, "text": char}],
            },
        )
        expected = expected[1:] if expected[:1] == char else ""
        if char == "\n":
            line, character = line + 1, 0
        else:
            character += 1
        typed_line = TYPED_TEXT.split("\n")[line][:character]
        task = asyncio.create_task(ask(line, character, typed_line))
        pending.add(task)
        task.add_done_callback(pending.discard)
        await asyncio.sleep(PAUSES.get(char, KEYSTROKE_SECONDS))
    await asyncio.gather(*pending)
    print(f"\n{len(shown)} suggestion(s) shown while typing {len(TYPED_TEXT)} characters.\n")

    actions = await client.request(
        "textDocument/codeAction",
        {
            "textDocument": {"uri": uri},
            "range": {"start": {"line": 9, "character": 0}, "end": {"line": 10, "character": 0}},
            "context": {"diagnostics": []},
        },
    )
    print("Code actions offered on the selection `def area(...)`:")
    for action in actions.get("result") or []:
        print(f"  - {action.get('title')}  ({action.get('kind', 'command')})")
    if "error" in actions:
        print(f"  (none: {actions['error']['message']})")

    usage = await client.request(
        "workspace/executeCommand", {"command": "beastmode.usage", "arguments": [{}]}
    )
    print()
    if usage.get("result"):
        print(usage["result"]["markdown"])
    else:
        print(f"Usage report unavailable: {usage.get('error', {}).get('message')}")
    await client.close()
    return 0 if shown else 1


def _latest_status_model(client: DemoClient) -> str | None:
    for message in reversed(client.notifications):
        if message.get("method") == "beastmode/status":
            model = message["params"].get("model")
            return str(model) if model else None
    return None


def run_demo(model: str | None = None) -> int:
    """Run the demo; exits non-zero if no suggestion appeared."""
    return asyncio.run(_run(model))
