"""`beastmode demo`: watch the language server suggest code as someone types, in the terminal.

Starts `python -m beastmode` as a subprocess over stdio (exactly as an editor does), opens a
sample file in a temporary workspace, types into it with incremental `didChange` notifications and
inline requests between keystrokes, prints each suggestion as ghost text with its latency and
model, lists the code actions offered on a selection, and ends with the usage report. It speaks
raw JSON-RPC, so it needs nothing but the server itself.

Without `--model` it runs `local` in a throwaway BEASTMODE_HOME, so the user's registry and usage
totals are untouched; with `--model` it uses the user's registry and refuses a model that is not
registered. Every temporary file is removed when it ends, also on Ctrl-C. A suggestion that fails
or falls back is printed with the server's reason (its status notification, log messages, or the
chosen model's own test result).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from beastmode.cli import Console

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
        self.log: list[str] = []  # window/logMessage and window/showMessage texts, in order
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
            elif message.get("method") in ("window/logMessage", "window/showMessage"):
                self.log.append(str(message["params"].get("message", "")))
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

    def kill(self) -> None:
        """End the server at once (the demo was interrupted)."""
        if self._process.returncode is None:
            self._process.kill()
        self._reader.cancel()


def _ghost(text: str, colour: bool) -> str:
    shown = text.replace("\n", "⏎")
    return f"\x1b[2m{shown}\x1b[0m" if colour else f"[{shown}]"


async def _run(
    model: str | None, workspace: Path, environ: dict[str, str], console: Console
) -> int:
    (workspace / "shapes.py").write_text(SAMPLE_MODULE)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "beastmode",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,  # its messages arrive as window/logMessage
        cwd=workspace,
        env=environ,
    )
    client = DemoClient(process)
    try:
        return await _type_and_report(client, model or "local", workspace, console)
    finally:
        client.kill()
        await process.wait()


async def _type_and_report(
    client: DemoClient, model: str, workspace: Path, console: Console
) -> int:
    colour = sys.stdout.isatty()
    target = workspace / "rectangle.py"
    uri = target.as_uri()
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
            "initializationOptions": {"model": model},
        },
    )
    if "error" in init:
        console.error(
            f"beastmode: error: the server refused initialize: {init['error']['message']}"
        )
        return 1
    elapsed_ms = (time.monotonic() - started) * 1000
    console.print(f"BEAST MODE language server answered initialize in {elapsed_ms:.0f} ms")
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
    console.print(f"Typing {target.name} (model: {model}):\n")

    shown: list[str] = []
    expected = ""  # the ghost text still on screen, as the user types through it
    pending: set[asyncio.Task[None]] = set()
    reasons = _Reasons(client, model)

    async def ask(line: int, character: int, typed_line: str) -> None:
        nonlocal expected
        sent = time.monotonic()
        marks = (len(client.notifications), len(client.log))
        answer = await client.request(
            "textDocument/inlineCompletion",
            {
                "textDocument": {"uri": uri},
                "position": {"line": line, "character": character},
                "context": {"triggerKind": 2},
            },
        )
        latency = (time.monotonic() - sent) * 1000
        await asyncio.sleep(0.05)  # the status notification follows the answer
        status = _latest_status(client, since=marks[0])
        items = (answer.get("result") or {}).get("items") or []
        suggestion = items[0]["insertText"] if items else ""
        latest = status or _latest_status(client, since=0)  # a cached answer sends none
        source = str((latest or {}).get("model") or "?")
        if "error" in answer or (status and not status.get("model")):
            why = await reasons.failure(answer, status, marks[1])
            if why is not None:
                console.print(f"  {latency:6.1f} ms  {'no suggestion':<22} {typed_line}  ({why})")
        elif suggestion and suggestion != expected:
            note = ""
            if status and status.get("fellBack"):
                note = f"  (fell back: {await reasons.fallback(marks[1])})"
            ghost = _ghost(suggestion, colour)
            console.print(f"  {latency:6.1f} ms  {source:<22} {typed_line}{ghost}{note}")
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
    console.print(
        f"\n{len(shown)} suggestion(s) shown while typing {len(TYPED_TEXT)} characters.\n"
    )

    actions = await client.request(
        "textDocument/codeAction",
        {
            "textDocument": {"uri": uri},
            "range": {"start": {"line": 9, "character": 0}, "end": {"line": 10, "character": 0}},
            "context": {"diagnostics": []},
        },
    )
    console.print("Code actions offered on the selection `def area(...)`:")
    for action in actions.get("result") or []:
        console.print(f"  - {action.get('title')}  ({action.get('kind', 'command')})")
    if "error" in actions:
        console.print(f"  (none: {actions['error']['message']})")

    usage = await client.request(
        "workspace/executeCommand", {"command": "beastmode.usage", "arguments": [{}]}
    )
    console.print()
    if usage.get("result"):
        console.print(usage["result"]["markdown"])
    else:
        console.print(f"Usage report unavailable: {usage.get('error', {}).get('message')}")
    await client.close()
    return 0 if shown else 1


def _latest_status(client: DemoClient, since: int) -> dict[str, Any] | None:
    """The newest `beastmode/status` notification received after index `since`, if any."""
    for message in reversed(client.notifications[since:]):
        if message.get("method") == "beastmode/status":
            return dict(message.get("params") or {})
    return None


class _Reasons:
    """Why a suggestion failed or fell back, in the server's own words (each said once a line)."""

    def __init__(self, client: DemoClient, model: str) -> None:
        self._client = client
        self._model = model
        self._tested: str | None = None
        self._last: str | None = None

    async def failure(
        self, answer: dict[str, Any], status: dict[str, Any] | None, log_mark: int
    ) -> str | None:
        """The reason for a failed request, or None if it was just said."""
        if "error" in answer:
            why = str(answer["error"].get("message"))
        elif status and status.get("message"):
            why = str(status["message"])
        else:
            why = self._new_log(log_mark) or "the server gave no reason"
        if why == self._last:
            return None
        self._last = why
        return why

    async def fallback(self, log_mark: int) -> str:
        """Why the chosen model was passed over: its log messages, else its own test result."""
        logged = self._new_log(log_mark)
        if logged:
            return logged
        if self._tested is None:
            result = await self._client.request(
                "workspace/executeCommand",
                {"command": "beastmode.testModel", "arguments": [{"model": self._model}]},
            )
            tested = result.get("result") or {}
            self._tested = str(
                tested.get("error")
                or (result.get("error") or {}).get("message")
                or f"{self._model} was slow or unavailable"
            )
        return f"{self._model}: {self._tested}"

    def _new_log(self, since: int) -> str | None:
        lines = [line for line in self._client.log[since:] if line.strip()]
        return lines[-1] if lines else None


def run_demo(model: str | None = None, console: Console | None = None) -> int:
    """Run the demo; exits non-zero if no suggestion appeared. Leaves no file behind."""
    from beastmode.errors import ModelNotFoundError
    from beastmode.redaction import Redactor

    if console is None:
        from beastmode.cli import Console

        console = Console(Redactor.from_environment(os.environ), sys.stdout, sys.stderr)
    environ = dict(os.environ)
    scratch = Path(tempfile.mkdtemp(prefix="beastmode-demo-"))
    try:
        if model is None:
            environ["BEASTMODE_HOME"] = str(scratch / "home")
        elif model.startswith("custom:"):
            from beastmode.registry import Registry

            registry = Registry.open(environ)
            found = registry.find(model.removeprefix("custom:"))
            registry.close()
            if found is None:
                raise ModelNotFoundError(model.removeprefix("custom:"))
        workspace = scratch / "workspace"
        workspace.mkdir()
        return asyncio.run(_run(model, workspace, environ, console))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
