"""Framing, parsing and lifecycle edges over stdio, to the letter of LSP and JSON-RPC 2.0.

Any header is survived (one message skipped with a log line, the stream resynchronised), a body
that is not JSON is answered with ParseError and `id: null`, excessive nesting is refused with an
answer, requests after `shutdown` get InvalidRequest, and `exit` without `shutdown` exits 1.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.hardening.client import LspProcess, unhandled_errors
from tests.hardening.conftest import StartServer


@pytest.fixture
def server(start_server: StartServer) -> LspProcess:
    """A started server."""
    return start_server({"inline": {"debounceMs": 0}})


def write_raw(server: LspProcess, data: bytes) -> None:
    """Write bytes to the server's stdin exactly as given (no framing added)."""
    stdin = server.process.stdin
    assert stdin is not None
    stdin.write(data)
    stdin.flush()


def framed(message: dict[str, object]) -> bytes:
    """A correctly framed message."""
    body = json.dumps({"jsonrpc": "2.0", **message}).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def assert_still_serving(server: LspProcess, tag: str) -> None:
    """A request after the bad input gets its answer (an unknown method: -32601)."""
    answer = server.request(f"x/after-{tag}", timeout=20)
    assert answer["error"]["code"] == -32601
    assert server.alive()


HEADER_FAULTS: list[tuple[str, bytes]] = [
    ("70 KiB header line", b"X-Padding: " + b"a" * (70 * 1024) + b"\r\n"),
    ("70 KiB line without a colon", b"b" * (70 * 1024) + b"\r\n"),
    ("non-numeric Content-Length", b"Content-Length: lots\r\n"),
    ("negative Content-Length", b"Content-Length: -5\r\n"),
    ("malformed header line", b"this is not a header\r\n"),
]


@pytest.mark.parametrize(("name", "bad_header"), HEADER_FAULTS, ids=[n for n, _ in HEADER_FAULTS])
def test_bad_header_skips_one_message_and_the_server_keeps_serving(
    server: LspProcess, name: str, bad_header: bytes
) -> None:
    skipped = json.dumps({"jsonrpc": "2.0", "id": "skipped", "method": "x/skipped"}).encode()
    write_raw(server, bad_header + b"Content-Length: %d\r\n\r\n" % len(skipped) + skipped)
    assert_still_serving(server, "header")
    assert not any(m.get("id") == "skipped" for m in server.received)
    server.wait_for(lambda s: "Skipped" in s.stderr)  # the log line (stderr is read apart)
    assert unhandled_errors(server.stderr) == []


def test_endless_header_line_is_discarded_without_buffering_it(server: LspProcess) -> None:
    assert_still_serving(server, "warm-up")  # start-up's own allocations come before the baseline
    rss_before = server.rss_kib()
    chunk = b"c" * (1024 * 1024)
    for _ in range(64):  # 64 MiB with no line break at all
        write_raw(server, chunk)
    write_raw(server, b"\r\n\r\n")
    assert_still_serving(server, "endless")
    assert server.rss_kib() - rss_before < 32 * 1024


def test_missing_content_length_resynchronises_on_the_next_header(server: LspProcess) -> None:
    body = json.dumps({"jsonrpc": "2.0", "id": "unframed", "method": "x/unframed"}).encode()
    write_raw(server, b"Content-Type: application/json\r\n\r\n" + body)
    assert_still_serving(server, "resync")
    assert unhandled_errors(server.stderr) == []


@pytest.mark.parametrize("body", [b"{oops", b'{"jsonrpc": "2.0", "id": 1, "method"', b"\xff\xfe{}"])
def test_unparseable_json_is_answered_with_parse_error_and_null_id(
    server: LspProcess, body: bytes
) -> None:
    server.send_bytes(body)
    assert_still_serving(server, "parse")
    errors = [m for m in server.received if "error" in m and m.get("id", "absent") is None]
    assert [e["error"]["code"] for e in errors] == [-32700]
    assert "id" in errors[0] and errors[0]["id"] is None


@pytest.mark.parametrize("depth", [150, 980, 5000])
def test_deeply_nested_request_is_refused_with_an_answer(server: LspProcess, depth: int) -> None:
    params = "[" * depth + "]" * depth
    body = f'{{"jsonrpc": "2.0", "id": "deep-{depth}", "method": "x/deep", "params": {params}}}'
    server.send_bytes(body.encode())
    answer = server.response(f"deep-{depth}", timeout=20)
    assert answer["error"]["code"] in (-32600, -32700)
    assert_still_serving(server, "deep")
    assert unhandled_errors(server.stderr) == []


def test_deeply_nested_notification_is_answered_without_id(server: LspProcess) -> None:
    settings = "{" + '"a": {' * 3000 + "}" * 3000 + "}"
    body = (
        f'{{"jsonrpc": "2.0", "method": "workspace/didChangeConfiguration", "params": {settings}}}'
    )
    server.send_bytes(body.encode())
    assert_still_serving(server, "deep-notification")
    assert any(m.get("id", "absent") is None and "error" in m for m in server.received)


def test_request_after_shutdown_is_invalid_and_exit_then_returns_0(server: LspProcess) -> None:
    assert server.request("shutdown", timeout=15)["result"] is None
    answer = server.request("textDocument/hover", {}, timeout=15)
    assert answer["error"]["code"] == -32600
    server.notify("exit")
    assert server.process.wait(timeout=15) == 0


def test_exit_without_shutdown_exits_with_code_1(server: LspProcess) -> None:
    server.notify("exit")
    try:
        code = server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        pytest.fail("the server did not exit")
    assert code == 1
