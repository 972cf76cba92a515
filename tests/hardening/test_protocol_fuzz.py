"""Protocol fuzzing over stdio: thousands of generated messages against one real server.

Hypothesis (derandomized, so every run sends the same traffic) builds batches of messages:
requests with wrong types and missing fields, unknown methods, notifications carrying ids,
positions out of range and inside surrogate pairs, edits to documents never opened, huge
documents and lines, lone surrogates, invalid UTF-8 and JSON, and `$/cancelRequest` for requests
still in flight. After every batch each request must have an answer (a result or a JSON-RPC
error) and the process must be alive; after the whole run a normal completion still works and
the log holds no unhandled exception.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from beastmode.registry import Registry
from tests.conftest import private_environ, register
from tests.fakes import FakeModelServer, Reply
from tests.hardening.client import LspProcess, unhandled_errors

EXAMPLES = 400
BATCH = (4, 30)
MIN_MESSAGES = 2500
ANSWER_TIMEOUT = 30.0
SUGGESTION = "return a + b"
SETTINGS = {"model": "custom:fuzz", "inline": {"debounceMs": 0}, "timeouts": {"completionMs": 2000}}

# Documents the fuzzer edits: emoji put surrogate pairs at known columns.
OPEN_DOCS = {
    "file:///ws/emoji.py": 'name = "😀😀x😀"\nvalue = 1\n\n',
    "file:///ws/calc.py": "def add(a, b):\n    \n",
    "file:///ws/crlf.py": "a = 1\r\nb = 2\r\n\r\n",
}
NEVER_OPENED = ["file:///ws/never.py", "untitled:Untitled-1", "file:///", "", "not a uri", "file:"]
URIS = [*OPEN_DOCS, *NEVER_OPENED]
HUGE_LINE = "x = '" + "y" * 1_500_000 + "'\n"
MANY_LINES = "".join(f"v{i} = {i}  # 😀\n" for i in range(60_000))
REQUEST_METHODS = [
    "textDocument/inlineCompletion",
    "textDocument/completion",
    "textDocument/codeAction",
    "codeAction/resolve",
    "workspace/executeCommand",
    "textDocument/hover",
    "textDocument/definition",
    "workspace/symbol",
    "completionItem/resolve",
]
NOTIFICATION_METHODS = [
    "textDocument/didOpen",
    "textDocument/didChange",
    "textDocument/didClose",
    "textDocument/didSave",
    "workspace/didChangeConfiguration",
    "workspace/didChangeWorkspaceFolders",
    "$/setTrace",
    "$/cancelRequest",
    "window/workDoneProgress/cancel",
    "beastmode/unknownNotification",
]
COMMANDS = [
    "beastmode.listModels",
    "beastmode.usage",
    "beastmode.testModel",
    "beastmode.removeModel",
    "beastmode.setDefaultModel",
    "beastmode.chat",
    "beastmode.refactor",
    "beastmode.addDocumentation",
    "beastmode.generateTests",
    "beastmode.fixWithAI",
    "beastmode.didAcceptCompletion",
    "beastmode.noSuchCommand",
]

# -- strategies ---------------------------------------------------------------------------------

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
weird_text = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(["\ud83d", "\ude00", "\r", "\n", "\u2028", "\x00", "😀", "\t"]),
    ),
    max_size=60,
)
small_numbers = st.integers(min_value=0, max_value=12)
# Columns 5-11 of the emoji document fall inside and between surrogate pairs.
in_range = st.one_of(small_numbers, st.sampled_from([5, 6, 7, 9, 10, 11, 40, 60_000, 2**31 - 1]))
numbers = st.one_of(small_numbers, small_numbers, in_range, st.sampled_from([-1, 2**31, 2**40]))
positions = st.one_of(
    st.fixed_dictionaries({"line": numbers, "character": numbers}),
    st.fixed_dictionaries({"line": numbers, "character": numbers}),
    st.fixed_dictionaries({"line": numbers, "character": numbers}),
    st.fixed_dictionaries({"line": json_values, "character": json_values}),
    st.fixed_dictionaries({"line": numbers}),
    json_values,
)
ranges = st.one_of(st.fixed_dictionaries({"start": positions, "end": positions}), json_values)
uris = st.one_of(
    st.sampled_from(list(OPEN_DOCS)), st.sampled_from(URIS), st.text(max_size=30), json_scalars
)
text_documents = st.one_of(
    st.fixed_dictionaries({"uri": uris}), st.fixed_dictionaries({"uri": uris}), json_values
)


@st.composite
def mutated(draw: st.DrawFn, template: dict[str, Any]) -> Any:
    """A valid-looking params object with some fields dropped or replaced by junk."""
    params = dict(template)
    for key in list(params):
        choice = draw(st.integers(min_value=0, max_value=24))
        if choice == 0:
            del params[key]
        elif choice == 1:
            params[key] = draw(json_values)
    if draw(st.integers(min_value=0, max_value=30)) == 0:
        return draw(json_values)
    if draw(st.booleans()) and draw(st.booleans()):
        params[draw(st.text(max_size=8))] = draw(json_values)
    return params


def request_params(method: str) -> st.SearchStrategy[Any]:
    """Params for a request method, mostly well-shaped, often wrong."""
    position_params = {
        "textDocument": text_documents,
        "position": positions,
        "context": st.one_of(
            st.fixed_dictionaries({"triggerKind": st.sampled_from([1, 2, 1, 2, 3, 0, "1"])}),
            st.fixed_dictionaries({"triggerKind": st.sampled_from([1, 2])}),
            json_values,
        ),
    }
    if method == "textDocument/codeAction":
        shape: dict[str, Any] = {
            "textDocument": text_documents,
            "range": ranges,
            "context": st.fixed_dictionaries(
                {"diagnostics": st.one_of(st.just([]), json_values)},
                optional={"only": st.lists(st.sampled_from(["quickfix", "refactor", "x"]))},
            ),
        }
    elif method == "codeAction/resolve":
        shape = {
            "title": st.text(max_size=10),
            "data": st.one_of(
                st.fixed_dictionaries(
                    {
                        "action": st.sampled_from(["refactor", "docs", "tests", "fix", "nope"]),
                        "uri": uris,
                        "range": ranges,
                    },
                    optional={"version": json_scalars, "diagnostics": json_values},
                ),
                json_values,
            ),
        }
    elif method == "workspace/executeCommand":
        shape = {
            "command": st.one_of(st.sampled_from(COMMANDS), json_scalars),
            "arguments": st.one_of(
                st.lists(
                    st.fixed_dictionaries(
                        {},
                        optional={
                            "model_id": st.sampled_from(["ghost", "", "UPPER", "x" * 80]),
                            "model": st.sampled_from(["custom:ghost", "local", "bad ref", ""]),
                            "uri": uris,
                            "range": ranges,
                            "sessionId": st.text(max_size=8),
                            "message": weird_text,
                            "since": st.sampled_from(["2025-01-01", "yesterday", ""]),
                            "id": st.text(max_size=8),
                        },
                    ),
                    max_size=2,
                ),
                json_values,
            ),
        }
    else:
        shape = position_params
    valid = valid_request_params(method)
    return st.one_of(valid, valid, st.fixed_dictionaries(shape).flatmap(mutated))


def valid_request_params(method: str) -> st.SearchStrategy[Any]:
    """Params that deserialize: the server must do real work on them (edges still allowed)."""
    document = st.fixed_dictionaries({"uri": st.sampled_from(URIS)})
    position = st.fixed_dictionaries(
        {"line": st.one_of(small_numbers, in_range), "character": in_range}
    )
    if method == "textDocument/codeAction":
        return st.fixed_dictionaries(
            {
                "textDocument": document,
                "range": st.fixed_dictionaries({"start": position, "end": position}),
                "context": st.fixed_dictionaries(
                    {"diagnostics": st.just([])},
                    optional={"only": st.lists(st.sampled_from(["quickfix", "refactor"]))},
                ),
            }
        )
    if method == "workspace/executeCommand":
        return st.fixed_dictionaries(
            {
                "command": st.sampled_from(COMMANDS),
                "arguments": st.lists(
                    st.fixed_dictionaries(
                        {},
                        optional={
                            "model_id": st.just("ghost"),
                            "model": st.sampled_from(["custom:fuzz", "local"]),
                            "uri": st.sampled_from(URIS),
                        },
                    ),
                    max_size=1,
                ),
            }
        )
    if method in ("codeAction/resolve", "workspace/symbol", "completionItem/resolve"):
        return st.fixed_dictionaries({"query": st.text(max_size=5), "label": st.text(max_size=5)})
    context = st.fixed_dictionaries({"triggerKind": st.sampled_from([1, 2])})
    return st.fixed_dictionaries(
        {"textDocument": document, "position": position, "context": context}
    )


document_texts = st.one_of(
    weird_text,
    st.sampled_from(list(OPEN_DOCS.values())),
    st.sampled_from([HUGE_LINE, MANY_LINES]),
)
content_changes = st.lists(
    st.one_of(
        st.fixed_dictionaries({"range": ranges, "text": weird_text}),
        st.fixed_dictionaries({"text": document_texts}),
        st.fixed_dictionaries({"range": ranges, "rangeLength": numbers, "text": weird_text}),
        json_values,
    ),
    max_size=4,
)


def notification_params(method: str, in_flight: list[int]) -> st.SearchStrategy[Any]:
    """Params for a notification method, mostly well-shaped, often wrong."""
    if method == "textDocument/didOpen":
        item = st.fixed_dictionaries(
            {
                "uri": uris,
                "languageId": st.sampled_from(["python", "rust", "", "😀"]),
                "version": numbers,
                "text": st.one_of(weird_text, weird_text, document_texts),
            }
        )
        shape: dict[str, Any] = {"textDocument": item}
    elif method == "textDocument/didChange":
        shape = {
            "textDocument": st.fixed_dictionaries({"uri": uris, "version": numbers}),
            "contentChanges": content_changes,
        }
    elif method in ("textDocument/didClose", "textDocument/didSave"):
        shape = {"textDocument": text_documents}
    elif method == "workspace/didChangeConfiguration":
        shape = {
            "settings": st.one_of(
                json_values,
                st.fixed_dictionaries(
                    {},
                    optional={
                        "model": st.sampled_from(["custom:fuzz", "custom:ghost", "local", "x:y"]),
                        "inline": st.fixed_dictionaries(
                            {},
                            optional={"debounceMs": json_scalars, "enabled": json_scalars},
                        ),
                        "timeouts": json_values,
                        "fallback": json_values,
                    },
                ),
                st.just({"jsonrpc": "2.0", "id": 1, "method": "shutdown"}),
            )
        }
    elif method == "$/cancelRequest":
        ids = st.sampled_from(in_flight) if in_flight else st.integers(0, 5)
        shape = {"id": st.one_of(ids, ids, json_values)}
    else:
        shape = {"token": json_scalars, "value": json_values}
    return st.fixed_dictionaries(shape).flatmap(mutated)


@dataclass
class Outgoing:
    """One message to send, and whether the server owes it an answer."""

    body: bytes
    answered_id: int | None = None


@dataclass
class Batch:
    """A batch of messages and the ids that must be answered."""

    messages: list[Outgoing] = field(default_factory=list)


@st.composite
def batches(draw: st.DrawFn, ids: Iterator[int]) -> Batch:
    """A batch of well-formed, malformed and hostile messages."""
    batch = Batch()
    in_flight: list[int] = []
    for _ in range(draw(st.integers(*BATCH))):
        kind = draw(
            st.sampled_from(
                ["request"] * 6
                + ["notification"] * 5
                + ["notification_with_id", "unknown", "jsonrpc", "bytes", "cancel"]
            )
        )
        msg_id = next(ids)
        if kind in ("request", "unknown"):
            method = (
                draw(st.sampled_from(REQUEST_METHODS))
                if kind == "request"
                else draw(st.sampled_from(["beastmode/nope", "$/nope", "x", "", "😀/😀"]))
            )
            params = draw(request_params(method))
            message: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
            if draw(st.integers(0, 9)):
                message["params"] = params
            batch.messages.append(Outgoing(_encode(message), msg_id))
            in_flight.append(msg_id)
        elif kind in ("notification", "notification_with_id", "cancel"):
            method = (
                "$/cancelRequest"
                if kind == "cancel"
                else draw(st.sampled_from(NOTIFICATION_METHODS))
            )
            message = {
                "jsonrpc": "2.0",
                "method": method,
                "params": draw(notification_params(method, in_flight)),
            }
            if kind == "notification_with_id":
                message["id"] = msg_id
            batch.messages.append(
                Outgoing(_encode(message), msg_id if kind == "notification_with_id" else None)
            )
        elif kind == "jsonrpc":
            broken = draw(
                st.sampled_from(
                    [
                        {"id": msg_id, "method": "textDocument/hover", "params": {}},
                        {"jsonrpc": "1.0", "id": msg_id, "method": "x", "params": {}},
                        {"jsonrpc": 2, "id": msg_id, "method": "x"},
                        {"jsonrpc": "2.0", "id": msg_id, "method": 42},
                        {"jsonrpc": "2.0", "id": msg_id, "method": None, "params": []},
                    ]
                )
            )
            batch.messages.append(Outgoing(_encode(broken), msg_id))
        elif kind == "bytes":
            body = draw(
                st.sampled_from(
                    [
                        b"{not json",
                        b"",
                        b"null",
                        b"[]",
                        b'"just a string"',
                        b'[{"jsonrpc": "2.0", "method": "x"}]',
                        b'{"jsonrpc":"2.0","method":"textDocument/didOpen","params":"\xff\xfe"}',
                        b'{"jsonrpc":"2.0","id":"utf8","method":"x","params":{"t":"\xc3\x28"}}',
                        b"\xef\xbb\xbf{}",
                        b'{"jsonrpc": "2.0", "result": 1, "id": "never-asked"}',
                        b'{"jsonrpc": "2.0", "error": {"code": 1, "message": "x"}, "id": 99999}',
                    ]
                )
            )
            if body:
                batch.messages.append(Outgoing(body))
        else:
            raise AssertionError(kind)
    return batch


def _encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message).encode()


# -- the run ------------------------------------------------------------------------------------


@dataclass
class FuzzTally:
    """Counts across the whole run."""

    messages: int = 0
    requests: int = 0
    distinct: set[bytes] = field(default_factory=set)
    errors: dict[int, int] = field(default_factory=dict)


@pytest.fixture
def fuzz_server(tmp_path: Path) -> Iterator[tuple[LspProcess, FakeModelServer]]:
    """A server whose model is a fake on 127.0.0.1, with three documents open."""
    env = private_environ(tmp_path / "home")
    workspace = tmp_path / "ws"
    workspace.mkdir()
    with FakeModelServer() as fake:
        fake.default_reply = Reply(text=SUGGESTION)
        registry = Registry.open(env)
        register(
            registry,
            "fuzz",
            fake.openai_chat_url,
            api_key=None,
            completions_url=fake.openai_completions_url,
            upstream_model="qwen2.5-coder:7b",
        )
        registry.close()
        server = LspProcess(env, workspace, configuration=SETTINGS)
        try:
            server.initialize(workspace, SETTINGS)
            for uri, text in OPEN_DOCS.items():
                server.open(uri, text)
            yield server, fake
        finally:
            server.close()


def _check_answer(message: dict[str, Any], tally: FuzzTally) -> None:
    assert ("result" in message) != ("error" in message), message
    if "error" in message:
        error = message["error"]
        assert isinstance(error["code"], int) and isinstance(error["message"], str), message
        tally.errors[error["code"]] = tally.errors.get(error["code"], 0) + 1


def test_fuzzed_traffic_is_always_answered_and_the_server_keeps_serving(
    fuzz_server: tuple[LspProcess, FakeModelServer],
) -> None:
    server, fake = fuzz_server
    tally = FuzzTally()
    ids = iter(range(1000, 10**9))

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        # A live server cannot be rewound, so shrinking would replay thousands of messages for
        # little gain: the failing batch is reported as it was sent.
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(batch=batches(ids))
    def run(batch: Batch) -> None:
        assert server.alive(), server.stderr[-3000:]
        for outgoing in batch.messages:
            server.send_bytes(outgoing.body)
        tally.messages += len(batch.messages)
        tally.distinct.update(re.sub(rb'"id": \d+', b"", m.body) for m in batch.messages)
        wanted = [m.answered_id for m in batch.messages if m.answered_id is not None]
        tally.requests += len(wanted)
        try:
            answers = server.responses(wanted, timeout=ANSWER_TIMEOUT)
        except TimeoutError:
            answered = {m.get("id") for m in server.received if "method" not in m}
            missing = [
                m.body[:300]
                for m in batch.messages
                if m.answered_id is not None and m.answered_id not in answered
            ]
            raise AssertionError(f"unanswered: {missing}\n{server.stderr[-2000:]}") from None
        for answer in answers.values():
            _check_answer(answer, tally)

        assert server.alive(), server.stderr[-3000:]

    run()
    assert tally.messages >= MIN_MESSAGES, tally
    assert server.alive()

    # After all that, an ordinary session still works.
    server.notify("workspace/didChangeConfiguration", {"settings": SETTINGS})
    server.open("file:///ws/after.py", "def add(a, b):\n    ")
    fake.reset()
    fake.default_reply = Reply(text=SUGGESTION)
    answer = server.response(server.inline("file:///ws/after.py", 1, 4), timeout=10)
    assert answer["result"]["items"][0]["insertText"] == SUGGESTION
    assert fake.requests[-1].json["model"] == "qwen2.5-coder:7b"
    popups = [
        m["message"]
        for m in server.notifications("window/showMessage")
        if "Error in server" in m["message"]
    ]
    assert popups == []
    # Bodies that are not JSON are answered with ParseError now: no traceback for anything.
    assert unhandled_errors(server.stderr) == []
    parse_errors = [m for m in server.received if m.get("error", {}).get("code") == -32700]
    assert parse_errors and all(m["id"] is None for m in parse_errors)
    assert server.close() == 0
