"""Memory stays flat while typing all day (pygls 2.1.1 leaked one future per didChange)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.e2e.rawclient import RawClient

URI = "file:///workspace/typing.py"


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def type_keystrokes(raw: RawClient, start_version: int, count: int) -> None:
    frames = []
    for i in range(count):
        version = start_version + i
        column = version % 60
        change = {
            "range": {
                "start": {"line": 1, "character": column},
                "end": {"line": 1, "character": column},
            },
            "text": "x",
        }
        if version % 60 == 0:  # start the line again so the document does not grow without end
            change = {
                "range": {
                    "start": {"line": 1, "character": 0},
                    "end": {"line": 1, "character": 60},
                },
                "text": "",
            }
        body = json.dumps(
            {
                "jsonrpc": "2.0",
                "method": "textDocument/didChange",
                "params": {
                    "textDocument": {"uri": URI, "version": version},
                    "contentChanges": [change],
                },
            }
        ).encode()
        frames.append(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    assert raw.process.stdin is not None
    raw.process.stdin.write(b"".join(frames))
    raw.process.stdin.flush()
    raw.send({"id": f"sync-{start_version}", "method": "beastmode/noSuchMethod", "params": {}})
    raw.response(f"sync-{start_version}", timeout=120)


def test_memory_is_flat_over_50000_keystrokes(server_env: dict[str, str], workspace: Path) -> None:
    raw = RawClient(server_env, workspace)
    try:
        raw.initialize(workspace)
        raw.send(
            {
                "method": "textDocument/didOpen",
                "params": {
                    "textDocument": {
                        "uri": URI,
                        "languageId": "python",
                        "version": 0,
                        "text": "import os\n" + " " * 60 + "\n",
                    }
                },
            }
        )
        type_keystrokes(raw, 1, 5_000)
        # Let one-off work finish first: modules loaded after start-up, the local engine's learning.
        raw.send(
            {
                "id": "inline",
                "method": "textDocument/inlineCompletion",
                "params": {
                    "textDocument": {"uri": URI},
                    "position": {"line": 1, "character": 3},
                    "context": {"triggerKind": 1},
                },
            }
        )
        raw.response("inline")
        time.sleep(2.0)
        warm = rss_kib(raw.process.pid)
        type_keystrokes(raw, 5_001, 45_000)
        after = rss_kib(raw.process.pid)
    finally:
        raw.close()
    # 45,000 leaked futures would be tens of MB; allocator noise is well under 4 MB.
    assert after - warm < 4 * 1024, f"RSS grew from {warm} KiB to {after} KiB"
