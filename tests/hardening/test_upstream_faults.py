"""Upstream faults end to end: inline completion and a code action against a misbehaving model.

One server runs the whole matrix. Each fault gets its own pair of registered models (one for the
inline request, one for the code action), so a cooldown earned in one case never hides the fault
in another. The primary model sits on the "broken" fake and misbehaves as the case says; the
fallback model on the "backup" fake answers. Every case must end in the backup's answer (or, for
a code action meeting a plain 400, in a message naming the upstream's error; inline completion
moves on from any failure) within its deadline, with no unhandled exception in the server's log
and the registered key nowhere in what the server sent, even when the endpoint echoes it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from beastmode.registry import Registry
from tests.conftest import CANARY_KEY, private_environ, register
from tests.fakes import FakeModelServer, Fault, RecordedRequest, Reply, closed_port
from tests.fakes.wire import sse
from tests.hardening.client import LspProcess, unhandled_errors

COMPLETION_MS = 1500
GENERATION_MS = 2500
SLACK_SECONDS = 4.0  # stdio and start-up on a machine whose cores are busy with other work
URI = "file:///ws/calc.py"
SOURCE = "def add(a, b):\n    return a - b\n\n"
FIM_ANSWER = "return a + b"
CHAT_ANSWER = "```python\ndef add(a, b):\n    return a + b\n```"
REFACTORED = "def add(a, b):\n    return a + b\n"
UPSTREAM_400 = "Unsupported parameter: suffix"
BOMB_BYTES = 20_000_000
BOMB_JSON = json.dumps({"choices": [{"message": {"content": "x" * BOMB_BYTES}}]}).encode()


@dataclass(frozen=True)
class Case:
    """One upstream fault: how the broken model answers, and whether the router may fall back."""

    name: str
    reply: Reply | None  # None: nothing listens (connection refused)
    falls_back: bool = True  # for the code action; inline completion moves on from any failure
    partial: str | None = None
    """For faults that leave no time for the backup: what the inline failure message names.

    A model that fails after streaming some text is still replaced by the backup (nothing is
    shown until the suggestion is complete); one that uses up the whole completion deadline
    leaves the backup no time, so that ends in an empty answer and a message.
    """
    provider: str = "openai-compatible"
    absurd_usage: str | None = None
    """Answer well, but report this (JSON) number as the prompt's token count."""
    completion_ms: int = COMPLETION_MS
    """The inline deadline: reading a 4 MB answer up to the cap takes seconds on a loaded
    machine, and the backup still needs its turn after that."""


CASES = [
    Case("http-401", Reply(status=401, error_message="Incorrect API key provided")),
    Case("http-403", Reply(status=403)),
    Case("http-404", Reply(status=404, error_message="model not found")),
    Case("http-429-long-retry", Reply(status=429, headers={"Retry-After": "30"})),
    Case("http-500", Reply(status=500)),
    Case("http-502-html", Reply(status=502, fault=Fault.HTML_ERROR_PAGE)),
    Case("http-503", Reply(status=503)),
    Case("http-529-overloaded", Reply(status=529)),
    Case("reset-before-response", Reply(fault=Fault.RESET_BEFORE_RESPONSE)),
    Case("reset-mid-stream", Reply(text="x" * 80, fault=Fault.RESET_MID_STREAM)),
    Case("truncated-stream", Reply(text="x" * 80, fault=Fault.TRUNCATED_STREAM)),
    Case("hang", Reply(fault=Fault.HANG)),
    Case("slow-headers", Reply(delay_before_headers=30)),
    Case(
        "drip-past-deadline",
        Reply(text="y" * 400, chunk_interval=0.3),  # one line that never ends
        partial="deadline",
    ),
    Case("malformed-json", Reply(fault=Fault.MALFORMED_JSON)),
    Case("in-band-error", Reply(text="x" * 40, fault=Fault.IN_BAND_ERROR)),
    Case(
        "oversized",
        Reply(fault=Fault.OVERSIZED, oversize_bytes=6 * 1024 * 1024),
        completion_ms=20_000,
    ),
    Case("connection-refused", None),
    Case("http-400", Reply(status=400, error_message=UPSTREAM_400), falls_back=False),
    Case("echo-key-body", Reply(fault=Fault.ECHO_KEY_BODY)),
    Case("echo-key-redirect", Reply(fault=Fault.ECHO_KEY_REDIRECT)),
    Case("echo-key-event", Reply(fault=Fault.ECHO_KEY_EVENT)),
    Case("endless-line", Reply(fault=Fault.ENDLESS_LINE)),
    Case(
        "gzip-bomb-stream",
        Reply(fault=Fault.OVERSIZED, oversize_bytes=BOMB_BYTES, content_encoding="gzip"),
    ),
    Case("deflate-bomb-json", Reply(raw_body=BOMB_JSON, content_encoding="deflate")),
    Case("shape-choices-int", Reply(raw_body=b'{"choices": [1]}')),
    Case("shape-choices-str", Reply(raw_body=b'{"choices": "abc"}')),
    Case("shape-usage-lots", Reply(raw_body=b'{"choices": [{"text": "a"}], "usage": "lots"}')),
    Case("shape-chunk-choices-int", Reply(raw_events=[sse({"choices": [1]})])),
    Case("usage-1e999", Reply(), absurd_usage="1e999"),
    Case("usage-10e400", Reply(), absurd_usage=str(10**400)),
    Case(
        "anthropic-message-str",
        Reply(raw_events=[sse({"type": "message_start", "message": "hello"}, "message_start")]),
        provider="anthropic-compatible",
    ),
    Case(
        "anthropic-content-str",
        Reply(raw_body=b'{"content": "hello"}'),
        provider="anthropic-compatible",
    ),
]


def _reply(case: Case, use: str) -> Reply | None:
    """The broken model's reply; an absurd-usage case answers as the backup would, usage aside."""
    if case.absurd_usage is None:
        return case.reply
    if use == "inline":
        choice = json.dumps({"text": FIM_ANSWER})
    else:
        choice = json.dumps({"message": {"content": CHAT_ANSWER}})
    usage = f'{{"prompt_tokens": {case.absurd_usage}, "completion_tokens": 3}}'
    return Reply(raw_body=f'{{"choices": [{choice}], "usage": {usage}}}'.encode())


@dataclass
class Matrix:
    """The shared server and fakes."""

    server: LspProcess
    broken: FakeModelServer
    backup: FakeModelServer
    refused_url: str


def _model_id(case: Case, use: str) -> str:
    return f"{case.name}-{use}"


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matrix]:
    """One server; every case's models registered; fakes answering by upstream model name."""
    tmp = tmp_path_factory.mktemp("faults")
    env = private_environ(tmp / "home")
    workspace = tmp / "ws"
    workspace.mkdir()
    replies = {f"{c.name}-{use}": _reply(c, use) for c in CASES for use in ("inline", "action")}
    providers = {f"{c.name}-{use}": c.provider for c in CASES for use in ("inline", "action")}
    refused_url = f"http://127.0.0.1:{closed_port()}/v1"
    with FakeModelServer() as broken, FakeModelServer() as backup:

        def broken_reply(request: RecordedRequest) -> Reply:
            reply = replies.get(request.json["model"]) if isinstance(request.json, dict) else None
            return reply or Reply(status=500, error_message="unknown model")

        def backup_reply(request: RecordedRequest) -> Reply:
            fim = request.path.endswith("/v1/completions")
            return Reply(text=FIM_ANSWER if fim else CHAT_ANSWER)

        broken.set_responder(broken_reply)
        backup.set_responder(backup_reply)
        registry = Registry.open(env)
        for model_id, reply in replies.items():
            base = refused_url if reply is None else broken.base_url + "/v1"
            if providers[model_id] == "anthropic-compatible":
                register(
                    registry,
                    model_id,
                    base + "/messages",
                    provider="anthropic-compatible",
                    upstream_model=model_id,
                )
                continue
            register(
                registry,
                model_id,
                base + "/chat/completions",
                completions_url=base + "/completions",
                upstream_model=model_id,
            )
        register(
            registry,
            "backup",
            backup.openai_chat_url,
            completions_url=backup.openai_completions_url,
        )
        registry.close()
        server = LspProcess(env, workspace)
        try:
            server.initialize(workspace, _settings("none"))
            server.open(URI, SOURCE)
            yield Matrix(server, broken, backup, refused_url)
        finally:
            server.close()


def _settings(model_id: str, completion_ms: int = COMPLETION_MS) -> dict[str, Any]:
    return {
        "model": f"custom:{model_id}",
        "fallback": ["custom:backup"],
        "inline": {"debounceMs": 0},
        "timeouts": {"completionMs": completion_ms, "generationMs": GENERATION_MS},
    }


def _choose(server: LspProcess, model_id: str, completion_ms: int = COMPLETION_MS) -> None:
    server.notify(
        "workspace/didChangeConfiguration", {"settings": _settings(model_id, completion_ms)}
    )


def _refactor_action(server: LspProcess) -> dict[str, Any]:
    offered = server.request(
        "textDocument/codeAction",
        {
            "textDocument": {"uri": URI},
            "range": {"start": {"line": 0, "character": 0}, "end": {"line": 2, "character": 0}},
            "context": {"diagnostics": []},
        },
    )
    actions = offered["result"]
    return next(a for a in actions if a["title"] == "BEAST MODE: Refactor selection")


def _new_log(server: LspProcess, since: int) -> str:
    return server.stderr[since:]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_inline_completion_survives_upstream_fault(matrix: Matrix, case: Case) -> None:
    server = matrix.server
    log_start = len(server.stderr)
    messages_before = len(server.user_messages())
    _choose(server, _model_id(case, "inline"), case.completion_ms)
    uri = f"file:///ws/{case.name}.py"  # a document of its own: no answer cached from before
    server.open(uri, SOURCE)
    started = time.monotonic()
    answer = server.response(server.inline(uri, 1, 4), timeout=case.completion_ms / 1000 + 10)
    elapsed = time.monotonic() - started

    assert elapsed < case.completion_ms / 1000 + SLACK_SECONDS, elapsed
    items = answer["result"]["items"]
    shown = server.user_messages()[messages_before:]
    if case.partial is not None:
        assert items == []
        failures = [m for m in shown if m.startswith("Inline suggestion failed")]
        assert any(case.partial in m for m in failures), shown
    else:
        # Any failure of one model, a 400 included, moves inline completion to the next.
        assert [item["insertText"] for item in items] == [FIM_ANSWER], shown
    assert unhandled_errors(_new_log(server, log_start)) == []
    assert _key_leaks(server) == []
    assert server.alive()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_code_action_survives_upstream_fault(matrix: Matrix, case: Case) -> None:
    server = matrix.server
    log_start = len(server.stderr)
    _choose(server, _model_id(case, "action"))
    action = _refactor_action(server)
    started = time.monotonic()
    answer = server.request("codeAction/resolve", action, timeout=2 * GENERATION_MS / 1000 + 10)
    elapsed = time.monotonic() - started

    # Each attempt has the generation deadline; the primary and the backup may both use it.
    assert elapsed < 2 * GENERATION_MS / 1000 + SLACK_SECONDS, elapsed
    if case.falls_back:
        edits = answer["result"]["edit"]["documentChanges"][0]["edits"]
        assert [e["newText"] for e in edits] == [REFACTORED]
    else:
        error = answer["error"]
        assert error["code"] == -32803
        assert "Invalid request format (HTTP 400" in error["message"]
        assert UPSTREAM_400 in error["message"]
        popups = [p["message"] for p in server.notifications("window/showMessage")]
        assert any(UPSTREAM_400 in m for m in popups)
    assert unhandled_errors(_new_log(server, log_start)) == []
    assert _key_leaks(server) == []
    assert server.alive()


def _key_leaks(server: LspProcess) -> list[str]:
    """Every message the server sent (and its log) that holds the registered key."""
    sent = [json.dumps(message) for message in server.received] + [server.stderr]
    return [text[:300] for text in sent if CANARY_KEY in text]


def test_code_action_with_every_model_down_says_why_within_its_deadline(
    tmp_path: Path, fake: FakeModelServer
) -> None:
    env = private_environ(tmp_path / "home")
    workspace = tmp_path / "ws"
    workspace.mkdir()
    fake.default_reply = Reply(fault=Fault.HANG)
    registry = Registry.open(env)
    register(registry, "hangs", fake.openai_chat_url)
    register(registry, "refused", f"http://127.0.0.1:{closed_port()}/v1")
    registry.close()
    server = LspProcess(env, workspace)
    try:
        server.initialize(
            workspace,
            {
                "model": "custom:hangs",
                "fallback": ["custom:refused"],
                "timeouts": {"generationMs": GENERATION_MS},
            },
        )
        server.open(URI, SOURCE)
        action = _refactor_action(server)
        started = time.monotonic()
        answer = server.request("codeAction/resolve", action, timeout=20)
        elapsed = time.monotonic() - started
        assert elapsed < 2 * GENERATION_MS / 1000 + SLACK_SECONDS
        message = answer["error"]["message"]
        assert answer["error"]["code"] == -32803
        assert "custom:hangs" in message and "custom:refused" in message
        assert "Cannot connect" in message
        assert unhandled_errors(server.stderr) == []
    finally:
        assert server.close() == 0


RESPONSE_CAP_MIB = 4  # Timeouts.max_response_bytes
RSS_SLACK_MIB = 50


class PeakRss:
    """Samples a server's resident memory in the background; `peak_kib` is the largest seen."""

    def __init__(self, server: LspProcess) -> None:
        self.peak_kib = server.rss_kib()
        self._server = server
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            try:
                self.peak_kib = max(self.peak_kib, self._server.rss_kib())
            except (OSError, StopIteration):
                return

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def test_an_endless_line_or_a_bomb_neither_grows_memory_nor_reaches_the_chat(
    tmp_path: Path, fake: FakeModelServer
) -> None:
    env = private_environ(tmp_path / "home")
    workspace = tmp_path / "ws"
    workspace.mkdir()
    faults = {
        "endless": Reply(fault=Fault.ENDLESS_LINE),
        "gzip-json": Reply(raw_body=BOMB_JSON, content_encoding="gzip"),
        "deflate-stream": Reply(
            fault=Fault.OVERSIZED, oversize_bytes=BOMB_BYTES, content_encoding="deflate"
        ),
    }
    fake.set_responder(lambda request: faults.get(request.json["model"], Reply(text=CHAT_ANSWER)))
    registry = Registry.open(env)
    for model_id in faults:
        register(registry, model_id, fake.openai_chat_url, upstream_model=model_id)
    register(registry, "backup", fake.openai_chat_url)
    registry.close()
    server = LspProcess(env, workspace)
    try:
        server.initialize(
            workspace,
            {"fallback": ["custom:backup"], "timeouts": {"generationMs": 8000}},
        )
        warm = server.command("beastmode.chat", {"sessionId": "warm", "message": "hi"})
        assert warm["result"]["model"] == "custom:backup"
        for model_id in faults:
            with PeakRss(server) as rss:
                before = server.rss_kib()
                answer = server.command(
                    "beastmode.chat",
                    {"sessionId": model_id, "message": "hi", "model": f"custom:{model_id}"},
                    timeout=60,
                )
            growth_mib = (rss.peak_kib - before) / 1024
            assert growth_mib < RESPONSE_CAP_MIB + RSS_SLACK_MIB, (model_id, growth_mib)
            if "result" in answer:  # fell back before any text was shown
                assert answer["result"]["model"] == "custom:backup"
                assert len(answer["result"]["reply"]) < 1000
            else:  # text was streamed, then the cap ended it: a clear error, nothing stored
                assert "larger than" in answer["error"]["message"], answer
        assert unhandled_errors(server.stderr) == []
        assert _key_leaks(server) == []
    finally:
        assert server.close() == 0


ECHOES = [Fault.ECHO_KEY_BODY, Fault.ECHO_KEY_REDIRECT, Fault.ECHO_KEY_EVENT]


@pytest.mark.parametrize("fault", ECHOES, ids=[f.value for f in ECHOES])
def test_an_echoed_key_reaches_no_message_error_or_model_test(
    tmp_path: Path, fake: FakeModelServer, fault: Fault
) -> None:
    env = private_environ(tmp_path / "home")
    workspace = tmp_path / "ws"
    workspace.mkdir()
    fake.default_reply = Reply(fault=fault)
    registry = Registry.open(env)
    register(registry, "echo", fake.openai_chat_url, completions_url=fake.openai_completions_url)
    registry.close()
    server = LspProcess(env, workspace)
    try:
        # No fallback: every failure is shown, as an error, a message and a test result.
        server.initialize(workspace, {"model": "custom:echo", "fallback": [], **_settings("echo")})
        server.notify(
            "workspace/didChangeConfiguration",
            {"settings": {**_settings("echo"), "fallback": []}},
        )
        server.open(URI, SOURCE)
        tested = server.command("beastmode.testModel", {"model": "custom:echo"})
        inline = server.response(server.inline(URI, 1, 4), timeout=COMPLETION_MS / 1000 + 10)
        resolved = server.request("codeAction/resolve", _refactor_action(server), timeout=30)
        chat = server.command("beastmode.chat", {"sessionId": "s", "message": "hi"})

        assert tested["result"]["ok"] is False
        assert "[redacted]" in tested["result"]["error"]  # the preview is kept, the key is not
        assert inline["result"]["items"] == []
        assert "error" in resolved and "error" in chat
        assert _key_leaks(server) == []
    finally:
        assert server.close() == 0
