r"""The server's copy of a document keeps LSP's line breaks through edits, seen end to end.

Found by hand: typing `\n` right after a lone `\r` desynced the server's copy, so a refactor
sent the wrong lines to the model while its edit targeted the editor's lines.
"""

from __future__ import annotations

from pathlib import Path

from beastmode.registry import Registry
from tests.conftest import register
from tests.fakes import FakeModelServer, Reply
from tests.hardening.conftest import StartServer

REWRITTEN = "    return 2\r"


def test_refactor_after_newline_typed_behind_a_lone_cr_sends_the_editors_lines(
    start_server: StartServer, server_env: dict[str, str], workspace: Path
) -> None:
    with FakeModelServer() as fake:
        registry = Registry.open(server_env)
        register(registry, "coder", fake.openai_chat_url, api_key=None)
        registry.close()
        fake.default_reply = Reply(text=f"```python\n{REWRITTEN}\n```")
        settings = {"models": {"refactor": "custom:coder"}, "fallback": []}
        server = start_server(settings, configuration=settings)
        uri = (workspace / "mac.py").as_uri()
        server.open(uri, "def f():\r    return 1\rx = f()\r")
        server.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": uri, "version": 2},
                "contentChanges": [
                    {
                        "range": {
                            "start": {"line": 1, "character": 0},
                            "end": {"line": 1, "character": 0},
                        },
                        "text": "\n",
                    }
                ],
            },
        )
        # The editor's text is now "def f():\r\n    return 1\rx = f()\r": line 1 is "    return 1".
        answer = server.command(
            "beastmode.refactor",
            {
                "uri": uri,
                "range": {
                    "start": {"line": 1, "character": 0},
                    "end": {"line": 1, "character": 12},
                },
                "instruction": "return 2",
            },
        )
        assert "result" in answer, answer
        prompt = fake.requests[-1].json["messages"][-1]["content"]
        assert "    return 1" in prompt
        assert "x = f()" not in prompt.split("return 1", 1)[1][:20]
