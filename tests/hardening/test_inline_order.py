"""The inline path writes its answer before its bookkeeping (issue 12, item 7).

The status notification (`beastmode/status`) and closing the upstream stream can wait; the ghost
text cannot. Checked on the wire: for every suggestion, the response reaches the editor before
the status notification about it.
"""

from __future__ import annotations

from pathlib import Path

from beastmode.registry import Registry
from tests.conftest import register
from tests.fakes import FakeModelServer, Reply
from tests.hardening.client import unhandled_errors
from tests.hardening.conftest import StartServer

SUGGESTION = "a + b"


def test_each_suggestion_is_answered_before_its_status_notification(
    start_server: StartServer, workspace: Path, fake: FakeModelServer, registry: Registry
) -> None:
    register(
        registry,
        "coder",
        fake.openai_chat_url,
        api_key=None,
        completions_url=fake.openai_completions_url,
        upstream_model="qwen2.5-coder:7b",
    )
    fake.default_reply = Reply(text=SUGGESTION)
    server = start_server({"model": "custom:coder", "inline": {"debounceMs": 0}})
    uri = (workspace / "calc.py").as_uri()
    lines = [f"def add_{n}(a, b):\n    return " for n in range(5)]
    server.open(uri, "\n".join(lines) + "\n")
    ids = []
    for n in range(5):
        ids.append(server.inline(uri, 2 * n + 1, len("    return ")))
        answer = server.response(ids[-1], timeout=30)
        assert answer["result"]["items"][0]["insertText"] == SUGGESTION
        server.wait_for(lambda s, k=n: len(s.notifications("beastmode/status")) > k, timeout=10)

    order = [
        "status" if message.get("method") == "beastmode/status" else message.get("id")
        for message in server.received
        if message.get("method") == "beastmode/status" or message.get("id") in ids
    ]
    assert order == [item for request in ids for item in (request, "status")]
    assert unhandled_errors(server.stderr) == []
