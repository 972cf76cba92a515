"""Keys on every way out of the real server, bad keys at registration, and a rotated key file.

- A key echoed in a model's reply (or pasted into a chat message) is stored redacted in chat
  history, read back from the SQLite file.
- An upstream error quoting every secret the server knows (its own key, another model's key, a
  secret-named environment variable) and a key inside the endpoint's URL path (which httpx logs
  at INFO) reach neither the editor (showMessage, logMessage, status, JSON-RPC errors) nor stderr.
- Registration refuses keys with a line break, a space or non-ASCII characters, and a
  `completions_url` carrying `?key=`, with a message saying so (not an internal error).
- `beastmode rotate-key` beside a running server: the server keeps sending the right key, and a
  model it registers afterwards is readable by a new process and a second server.
- Decryption errors name the key file when ENCRYPTION_KEY is unset; a garbage key file is
  reported as such.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from beastmode.registry import Registry
from tests.conftest import register
from tests.fakes import FakeModelServer, Reply
from tests.hardening.client import LspProcess, unhandled_errors
from tests.hardening.conftest import StartServer

ECHO_KEY = "sk-echo-1f2e3d4c5b6a79880a9b8c7d6e5f4a3b"
OTHER_KEY = "sk-other-0a1b2c3d4e5f60718293a4b5c6d7e8f9"
ENV_TOKEN = "ghp_envtoken5e6f7a8b9c0d1e2f3a4b5c6d7e8f"
FIRST_KEY = "sk-first-aaaa1111bbbb2222cccc3333dddd4444"
SECOND_KEY = "sk-second-eeee5555ffff6666aaaa7777bbbb88"
CROSS_PROCESS_WAIT_SECONDS = 1.5
"""Longer than the catalog's once-a-second look at other processes' registry changes."""


def _registration(model_id: str, url: str, api_key: str | None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model_name": model_id,
        "model_id": model_id,
        "endpoint_url": url,
        **extra,
    }
    if api_key is not None:
        body["api_key"] = api_key
    return body


def _registered(server: LspProcess, body: dict[str, Any]) -> dict[str, Any]:
    answer = server.command("beastmode.registerModel", body)
    assert "result" in answer, answer
    result: dict[str, Any] = answer["result"]
    return result


def _chat(server: LspProcess, model: str, message: str = "hello") -> dict[str, Any]:
    return server.command(
        "beastmode.chat", {"sessionId": "s1", "message": message, "model": model}, timeout=60
    )


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "beastmode.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _chat_contents(home: Path) -> list[str]:
    with sqlite3.connect(home / "registry.sqlite3") as db:
        return [row[0] for row in db.execute("SELECT content FROM chat_messages ORDER BY id")]


# Chat history -------------------------------------------------------------------------------


def test_a_key_echoed_in_a_reply_is_stored_redacted_in_chat_history(
    start_server: StartServer, server_env: dict[str, str]
) -> None:
    home = Path(server_env["BEASTMODE_HOME"])
    with FakeModelServer() as fake:
        fake.script(Reply(text=f"Your key is {ECHO_KEY}, keep it safe."))
        server = start_server()
        _registered(server, _registration("echo", fake.openai_chat_url, ECHO_KEY))
        answer = _chat(server, "custom:echo", f"is {ECHO_KEY} my key?")
        assert answer["result"]["model"] == "custom:echo", answer
        assert fake.requests[0].headers["authorization"] == f"Bearer {ECHO_KEY}"
    stored = _chat_contents(home)
    assert len(stored) == 2
    assert all(ECHO_KEY not in content for content in stored), stored
    assert stored[1] == "Your key is [redacted], keep it safe."
    database_files = b"".join(path.read_bytes() for path in home.glob("registry.sqlite3*"))
    assert ECHO_KEY.encode() not in database_files


def test_a_key_split_across_streamed_deltas_never_reaches_the_editor(
    start_server: StartServer,
) -> None:
    text = f"Your key is {ECHO_KEY}, keep it safe."
    with FakeModelServer() as fake:
        fake.script(Reply(chunks=[text[i : i + 3] for i in range(0, len(text), 3)]))
        server = start_server()
        _registered(server, _registration("echo", fake.openai_chat_url, ECHO_KEY))
        answer = _chat(server, "custom:echo", "what is my key?")
        assert answer["result"]["reply"] == "Your key is [redacted], keep it safe.", answer
    deltas = [p["delta"] for p in server.notifications("beastmode/chatDelta")]
    assert "".join(deltas) == "Your key is [redacted], keep it safe."
    assert [m for m in server.received if ECHO_KEY[:10] in json.dumps(m)] == []


# Errors, messages and logs ------------------------------------------------------------------


def test_upstream_errors_and_httpx_log_lines_never_show_a_key(
    server_env: dict[str, str], workspace: Path
) -> None:
    env = {**server_env, "GITHUB_TOKEN": ENV_TOKEN}
    quoting_everything = f"proxy saw {ECHO_KEY}, {OTHER_KEY} and {ENV_TOKEN}"
    secrets = (ECHO_KEY, OTHER_KEY, ENV_TOKEN)
    with FakeModelServer() as fake, FakeModelServer() as other:
        fake.script(
            Reply(status=400, error_message=quoting_everything),  # chat: no fallback on a 400
            Reply(status=400, error_message=quoting_everything),  # inline: logMessage + status
        )
        command = (sys.executable, "-m", "beastmode", "--log-level", "INFO")
        server = LspProcess(env, workspace, command=command)
        try:
            server.initialize(workspace, {"inline": {"debounceMs": 0}})
            # The key is also a path segment of the endpoint: httpx logs that URL at INFO.
            keyed_url = f"{fake.base_url}/{ECHO_KEY}/v1/chat/completions"
            _registered(
                server,
                _registration(
                    "echo",
                    keyed_url,
                    ECHO_KEY,
                    completions_url=f"{fake.base_url}/{ECHO_KEY}/v1/completions",
                ),
            )
            _registered(server, _registration("other", other.openai_chat_url, OTHER_KEY))
            server.command("beastmode.setDefaultModel", {"task": "*", "model": "custom:echo"})
            failed = _chat(server, "custom:echo")
            assert "error" in failed, failed
            assert "HTTP 400" in failed["error"]["message"]

            uri = (workspace / "calc.py").as_uri()
            server.open(uri, "def add(a, b):\n    ")
            inline = server.response(server.inline(uri, 1, 4), timeout=30)
            assert "result" in inline, inline  # the 400 falls through to `local` (router policy)
            assert unhandled_errors(server.stderr) == []
        finally:
            server.close()
        assert len(fake.requests) == 2
        assert ECHO_KEY in fake.requests[0].path  # the key really was in the logged URL
    sent_to_editor = json.dumps(server.received)
    assert [m for m in server.received if ECHO_KEY in json.dumps(m)] == []
    assert [s for s in secrets if s in sent_to_editor] == []
    assert "[redacted]" in failed["error"]["message"]
    assert "HTTP Request: POST" in server.stderr, server.stderr  # httpx's INFO line was logged
    assert [s for s in secrets if s in server.stderr] == [], server.stderr
    assert "[redacted]" in server.stderr


# Registration -------------------------------------------------------------------------------


def test_registration_refuses_malformed_keys_and_keys_in_urls(start_server: StartServer) -> None:
    server = start_server()
    url = "http://127.0.0.1:9/v1/chat/completions"
    cases = [
        ("sk-abcdef\nghijkl0123", "line break"),
        ("sk-abcdef ghijkl0123", "whitespace"),
        ("sk-abcdéfghijkl0123", "non-ASCII"),
    ]
    for key, problem in cases:
        answer = server.command("beastmode.registerModel", _registration("m1", url, key))
        assert "error" in answer, (key, answer)
        assert answer["error"]["code"] == -32602, answer
        assert "api_key" in answer["error"]["message"]
        assert problem in answer["error"]["message"]
        assert key not in answer["error"]["message"]
    keyed = "http://127.0.0.1:9/v1/completions?key=AIzaSyQueryKey0123456789"
    answer = server.command(
        "beastmode.registerModel", _registration("m1", url, None, completions_url=keyed)
    )
    assert answer["error"]["code"] == -32602, answer
    message = answer["error"]["message"]
    assert "completions_url" in message and "'key'" in message and "api_key" in message
    assert "AIzaSyQueryKey0123456789" not in message
    listed = server.command("beastmode.listModels", {})
    assert listed["result"]["models"] == []


# Key rotation -------------------------------------------------------------------------------


def test_rotate_key_beside_a_running_server_keeps_every_key_readable(
    start_server: StartServer, server_env: dict[str, str]
) -> None:
    home = Path(server_env["BEASTMODE_HOME"])
    with FakeModelServer() as fake:
        server = start_server()
        _registered(server, _registration("first", fake.openai_chat_url, FIRST_KEY))
        assert "result" in _chat(server, "custom:first")
        key_before = (home / "secret.key").read_bytes()

        rotated = _cli(server_env, "rotate-key")
        assert rotated.returncode == 0, rotated.stderr
        assert (home / "secret.key").read_bytes() != key_before
        time.sleep(CROSS_PROCESS_WAIT_SECONDS)  # the server has seen the rotation by now

        after_rotation = _chat(server, "custom:first")
        assert "result" in after_rotation, after_rotation
        _registered(server, _registration("second", fake.openai_chat_url, SECOND_KEY))
        assert "result" in _chat(server, "custom:second")

        tested = _cli(server_env, "models", "test", "custom:second", "--json")
        assert tested.returncode == 0, tested.stdout + tested.stderr
        assert json.loads(tested.stdout)["ok"] is True

        second_server = start_server()
        assert "result" in _chat(second_server, "custom:second")
        assert "result" in _chat(second_server, "custom:first")
        sent = [request.headers["authorization"] for request in fake.requests]
    assert sent == [
        f"Bearer {FIRST_KEY}",
        f"Bearer {FIRST_KEY}",
        f"Bearer {SECOND_KEY}",
        f"Bearer {SECOND_KEY}",  # `beastmode models test`, a new process
        f"Bearer {SECOND_KEY}",  # the second server
        f"Bearer {FIRST_KEY}",
    ]


def test_a_decryption_error_names_the_key_file_when_encryption_key_is_unset(
    start_server: StartServer, server_env: dict[str, str]
) -> None:
    assert "ENCRYPTION_KEY" not in server_env
    registry = Registry.open(server_env)
    register(registry, "lost", "http://127.0.0.1:9/v1/chat/completions")
    registry.close()
    key_file = Path(server_env["BEASTMODE_HOME"]) / "secret.key"
    key_file.write_bytes(Fernet.generate_key() + b"\n")  # the key it was stored under is gone

    server = start_server()
    failed = _chat(server, "custom:lost")
    message = failed["error"]["message"]
    assert "Failed to decrypt API key for custom:lost" in message
    assert f"the key file {key_file}" in message
    assert "ENCRYPTION_KEY" not in message.split("Restore")[0]


def test_a_garbage_key_file_is_reported_as_such(
    start_server: StartServer, server_env: dict[str, str]
) -> None:
    home = Path(server_env["BEASTMODE_HOME"])
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    key_file = home / "secret.key"
    key_file.write_bytes(b"this is not a key\n")
    key_file.chmod(0o600)

    server = start_server()
    server.wait_for(lambda s: bool(s.notifications("window/showMessage")), timeout=30)
    shown = [p["message"] for p in server.notifications("window/showMessage")]
    assert any(f"{key_file} does not hold a valid key" in message for message in shown), shown
    assert not any("ENCRYPTION_KEY" in message for message in shown), shown


def test_a_key_file_turned_garbage_under_a_running_server_is_named(
    start_server: StartServer, server_env: dict[str, str]
) -> None:
    key_file = Path(server_env["BEASTMODE_HOME"]) / "secret.key"
    with FakeModelServer() as fake:
        server = start_server()
        _registered(server, _registration("m1", fake.openai_chat_url, FIRST_KEY))
        replacement = key_file.with_name("garbage.tmp")
        replacement.write_bytes(b"not/a-key!\n")
        replacement.replace(key_file)
        # Another process's change (a re-registration) makes the server reload credentials.
        registry = Registry.open({**server_env, "ENCRYPTION_KEY": Fernet.generate_key().decode()})
        registry.set_default("chat", "custom:m1")
        registry.close()
        time.sleep(CROSS_PROCESS_WAIT_SECONDS)
        failed = _chat(server, "custom:m1")
    message = failed["error"]["message"]
    assert f"{key_file}, which does not hold a valid key" in message, message
