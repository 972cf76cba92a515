"""Busy and broken storage through the real server: the loop never waits on SQLite.

- Another process holds the registry's write lock (BEGIN EXCLUSIVE) for 15 s, from before the
  server starts: inline completions from the registered model still answer at once, a registry
  write queued meanwhile does not hold anything up, and the loop never stalls.
- A corrupt registry: one message naming the file and the fix, `local` suggestions still served.
- `beastmode.usage` on a million usage rows: the worst loop stall while it runs, and its time.

Each measurement is printed; CI asserts loose bounds (docs/BENCHMARKS.md has the figures).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from beastmode.registry import Registry
from tests.conftest import private_environ, register
from tests.fakes import FakeModelServer, Reply
from tests.hardening.client import STALL_PROBE, LspProcess, unhandled_errors
from tests.hardening.usage_rows import fill_usage

LOCK_SECONDS = 15
LOCKER = Path(__file__).with_name("registry_locker.py")
URI = "file:///ws/shapes.py"
TEXT = "import os\n\n" + "print(os.path.join('a', 'b'))\n" * 3 + "print(os.path.jo"
# Loose CI bounds: a blocking SQLite call on the loop costs seconds; the target is 10 ms.
CI_ANSWER_SECONDS = 3.0
CI_STALL_LIMIT_MS = 250.0


def _probe(server: LspProcess, reset: bool = False) -> dict[str, Any]:
    return server.request("hardening/probe", {"reset": reset})["result"]


@pytest.fixture
def probed(tmp_path: Path) -> Iterator[tuple[dict[str, str], Path, list[LspProcess]]]:
    """A private home and workspace; servers started in the test are closed after it."""
    env = private_environ(tmp_path / "home")
    workspace = tmp_path / "ws"
    workspace.mkdir()
    servers: list[LspProcess] = []
    yield env, workspace, servers
    for server in servers:
        server.close()


def _start(env: dict[str, str], workspace: Path, servers: list[LspProcess]) -> LspProcess:
    server = LspProcess(env, workspace, command=(sys.executable, str(STALL_PROBE)))
    servers.append(server)
    return server


def test_inline_answers_while_another_process_holds_the_registry_lock(
    probed: tuple[dict[str, str], Path, list[LspProcess]], fake: FakeModelServer
) -> None:
    env, workspace, servers = probed
    fake.default_reply = Reply(text="in('c', 'd'))")
    registry = Registry.open(env)
    register(registry, "coder", fake.openai_chat_url, api_key=None)
    registry.close()
    locker = subprocess.Popen(
        [sys.executable, str(LOCKER), str(registry.path), str(LOCK_SECONDS)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert locker.stdout is not None and locker.stdout.readline().strip() == "locked"
        locked_at = time.monotonic()
        server = _start(env, workspace, servers)
        server.initialize(
            workspace,
            {
                "model": "custom:coder",
                "inline": {"debounceMs": 0},
                "timeouts": {"completionMs": 2500},
            },
        )
        _probe(server)  # starts the heartbeat: a loop blocked by SQLite answers this late
        server.open(URI, TEXT)
        write = server.request_async(
            "workspace/executeCommand",
            {
                "command": "beastmode.setDefaultModel",
                "arguments": [{"model": "local", "task": "chat"}],
            },
        )
        answers = []
        for _ in range(3):
            started = time.monotonic()
            answer = server.response(server.inline(URI, 5, 16), timeout=30)
            answers.append(time.monotonic() - started)
            items = answer["result"]["items"]
            assert items and items[0]["insertText"] == "in('c', 'd'))"
        probe = _probe(server)
        still_locked = time.monotonic() - locked_at < LOCK_SECONDS
        print(
            f"\nregistry locked: inline answers {', '.join(f'{a * 1000:.0f} ms' for a in answers)}; "
            f"worst loop stall {probe['worstStallMs']} ms"
        )
        assert max(answers) < CI_ANSWER_SECONDS
        assert probe["worstStallMs"] < CI_STALL_LIMIT_MS, probe["stallStacks"]
        assert still_locked, "the machine was too slow to test inside the lock"
        # The write waited for the lock in a storage thread, then went through.
        assert "result" in server.response(write, timeout=LOCK_SECONDS + 40)
    finally:
        locker.kill()
        locker.wait()
    assert not unhandled_errors(server.stderr)


def test_corrupt_registry_is_one_message_and_local_still_suggests(
    probed: tuple[dict[str, str], Path, list[LspProcess]],
) -> None:
    env, workspace, servers = probed
    registry = Registry.open(env)
    registry.close()
    registry.path.write_bytes(b"this is not a database" * 300)
    server = _start(env, workspace, servers)
    server.initialize(workspace, {"inline": {"debounceMs": 0}})
    server.open(URI, TEXT)
    # The local engine learns open documents once typing pauses (in a thread: slow under load).
    deadline = time.monotonic() + 20
    items: list[dict[str, Any]] = []
    while not items and time.monotonic() < deadline:
        time.sleep(0.5)
        items = server.response(server.inline(URI, 5, 16), timeout=15)["result"]["items"]
    assert items and items[0]["insertText"].startswith("in("), items
    listed = server.command("beastmode.listModels")
    assert "damaged" in listed["error"]["message"]
    shown = [p["message"] for p in server.notifications("window/showMessage")]
    about_storage = [m for m in shown if "registry.sqlite3" in m]
    assert len(about_storage) == 1, shown
    assert "damaged" in about_storage[0] and "mv " in about_storage[0]
    assert "None" not in about_storage[0]
    assert not unhandled_errors(server.stderr)


def test_usage_report_on_a_million_rows_keeps_the_loop_free(
    probed: tuple[dict[str, str], Path, list[LspProcess]],
) -> None:
    env, workspace, servers = probed
    registry = Registry.open(env)
    registry.close()
    fill_usage(registry.path, 1_000_000)
    server = _start(env, workspace, servers)
    server.initialize(workspace, {})
    _probe(server)
    server.command("beastmode.listModels")  # the registry is open
    _probe(server, reset=True)
    timings = []
    for _ in range(3):
        started = time.monotonic()
        answer = server.command("beastmode.usage", {}, timeout=60)
        timings.append(time.monotonic() - started)
        assert answer["result"]["summary"]["requests"] == 1_000_000
    probe = _probe(server)
    print(
        f"\nbeastmode.usage on 1M rows: {', '.join(f'{t * 1000:.0f} ms' for t in timings)} "
        f"(round trip); worst loop stall {probe['worstStallMs']} ms"
    )
    assert min(timings) < 2.0
    assert probe["worstStallMs"] < CI_STALL_LIMIT_MS, probe["stallStacks"]
