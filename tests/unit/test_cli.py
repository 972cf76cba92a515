"""The `beastmode` command line, run as a real subprocess against a private home."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CANARY_KEY
from tests.fakes import FakeModelServer, Reply, closed_port


def run(
    env: dict[str, str], *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "beastmode.cli", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_models_add_list_test_usage_remove(environ: dict[str, str], fake: FakeModelServer) -> None:
    environ["MY_KEY"] = CANARY_KEY
    added = run(
        environ,
        "models",
        "add",
        "--id",
        "coder",
        "--endpoint",
        fake.openai_chat_url,
        "--upstream-model",
        "qwen2.5-coder:7b",
        "--api-key-env",
        "MY_KEY",
    )
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["ref"] == "custom:coder"

    listed = run(environ, "models", "list")
    header, row = listed.stdout.splitlines()[:2]
    assert header.split() == ["MODEL", "NAME", "PROVIDER", "ENDPOINT", "UPSTREAM", "KEY", "CONTEXT"]
    assert row.split()[0] == "custom:coder" and header.index("PROVIDER") == row.index(
        "openai-compatible"
    )
    as_json = json.loads(run(environ, "models", "list", "--json").stdout)
    assert as_json["models"][0]["upstream_model"] == "qwen2.5-coder:7b"

    fake.script(Reply(text="ok"))
    tested = run(environ, "models", "test", "custom:coder", "--json")
    assert tested.returncode == 0 and json.loads(tested.stdout)["ok"] is True
    assert fake.requests[0].headers["authorization"] == f"Bearer {CANARY_KEY}"

    report = json.loads(run(environ, "usage", "--json").stdout)
    assert report["byTask"][0]["task"] == "model-test"
    assert report["summary"]["customShare"] == 1.0
    assert "| custom:coder" in run(environ, "usage").stdout

    assert run(environ, "models", "remove", "coder").returncode == 0
    for output in (added, listed, tested):
        assert CANARY_KEY not in output.stdout + output.stderr


def test_models_add_from_guide_json_on_stdin(environ: dict[str, str]) -> None:
    body = {
        "model_name": "My Code Model",
        "model_id": "my-code-model",
        "api_key": CANARY_KEY,
        "endpoint_url": "https://your-model-api.com/v1/chat/completions",
        "provider": "openai-compatible",
    }
    added = run(environ, "models", "add", "--json", "-", stdin=json.dumps(body))
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["has_api_key"] is True
    assert CANARY_KEY not in added.stdout


def test_failing_commands_exit_nonzero_with_one_line(environ: dict[str, str]) -> None:
    cases = [
        ("models", "remove", "nope"),
        ("models", "add", "--id", "Bad", "--endpoint", "http://x", "--no-api-key"),
        ("models", "add", "--id", "ok", "--endpoint", "http://x", "--api-key-env", "UNSET_VAR_X"),
    ]
    for args in cases:
        done = run(environ, *args)
        assert done.returncode == 1, args
        assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith(
            "beastmode: error:"
        )
    dead = run(
        environ,
        "models",
        "add",
        "--id",
        "dead",
        "--endpoint",
        f"http://127.0.0.1:{closed_port()}/v1",
        "--no-api-key",
    )
    assert dead.returncode == 0
    tested = run(environ, "models", "test", "custom:dead")
    assert tested.returncode == 1 and "Cannot connect" in tested.stderr


def test_malformed_encryption_key_exits_with_the_fix(environ: dict[str, str]) -> None:
    environ["ENCRYPTION_KEY"] = "short"
    done = run(environ, "models", "list")
    assert done.returncode == 1 and "ENCRYPTION_KEY is malformed" in done.stderr


def add_model(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run(env, "models", "add", "--no-api-key", *args)


def test_flags_update_only_the_fields_given(environ: dict[str, str]) -> None:
    first = add_model(
        environ,
        "--id",
        "coder",
        "--endpoint",
        "http://127.0.0.1:1/v1",
        "--upstream-model",
        "qwen2.5-coder",
        "--max-tokens",
        "300",
        "--name",
        "Coder",
    )
    assert first.returncode == 0, first.stderr
    again = run(environ, "models", "add", "--id", "coder", "--description", "my model")
    assert again.returncode == 0, again.stderr
    record = json.loads(again.stdout)
    assert record["description"] == "my model"
    assert record["upstream_model"] == "qwen2.5-coder"
    assert record["max_tokens"] == 300 and record["model_name"] == "Coder"


def test_json_replaces_the_record_but_keeps_the_key(environ: dict[str, str]) -> None:
    environ["MY_KEY"] = CANARY_KEY
    run(
        environ,
        "models",
        "add",
        "--id",
        "coder",
        "--endpoint",
        "http://127.0.0.1:1/v1",
        "--upstream-model",
        "qwen2.5-coder",
        "--api-key-env",
        "MY_KEY",
    )
    body = {"model_id": "coder", "model_name": "Coder", "endpoint_url": "http://127.0.0.1:2/v1"}
    replaced = run(environ, "models", "add", "--json", "-", stdin=json.dumps(body))
    record = json.loads(replaced.stdout)
    assert record["upstream_model"] == "coder"  # not in the JSON: back to its default
    assert record["endpoint_url"] == "http://127.0.0.1:2/v1"
    assert record["has_api_key"] is True


def test_no_api_key_drops_a_stored_key(environ: dict[str, str]) -> None:
    environ["MY_KEY"] = CANARY_KEY
    run(
        environ,
        "models",
        "add",
        "--id",
        "coder",
        "--endpoint",
        "http://127.0.0.1:1/v1",
        "--api-key-env",
        "MY_KEY",
    )
    dropped = run(environ, "models", "add", "--id", "coder", "--no-api-key")
    assert dropped.returncode == 0, dropped.stderr
    assert json.loads(dropped.stdout)["has_api_key"] is False
    listed = json.loads(run(environ, "models", "list", "--json").stdout)
    assert listed["models"][0]["has_api_key"] is False


def test_remove_accepts_the_id_and_the_ref(environ: dict[str, str]) -> None:
    add_model(environ, "--id", "one", "--endpoint", "http://127.0.0.1:1/v1")
    add_model(environ, "--id", "two", "--endpoint", "http://127.0.0.1:1/v1")
    assert run(environ, "models", "remove", "custom:one").returncode == 0
    assert run(environ, "models", "remove", "two").returncode == 0
    assert json.loads(run(environ, "models", "list", "--json").stdout)["models"] == []
    refused = run(environ, "models", "remove", "openai:gpt-4o")
    assert refused.returncode == 2 and "only custom:<id> models" in refused.stderr


def test_models_default_shows_and_sets_the_registry_default(environ: dict[str, str]) -> None:
    add_model(environ, "--id", "coder", "--endpoint", "http://127.0.0.1:1/v1")
    assert "No default model stored" in run(environ, "models", "default").stdout
    assert run(environ, "models", "default", "custom:coder").returncode == 0
    chat = run(environ, "models", "default", "local", "--task", "chat")
    assert chat.returncode == 0, chat.stderr
    from beastmode.registry import Registry

    assert Registry.open(environ).defaults() == {"*": "custom:coder", "chat": "local"}
    shown = run(environ, "models", "default").stdout
    assert re.search(r"^chat\s+local", shown, re.MULTILINE)
    assert re.search(r"^completion\s+custom:coder\s+from \*", shown, re.MULTILINE)
    missing = run(environ, "models", "default", "custom:nope")
    assert missing.returncode == 1 and "Custom model not found: nope" in missing.stderr


def test_models_test_local_answers(environ: dict[str, str]) -> None:
    done = run(environ, "models", "test", "local", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["ok"] is True


def test_invalid_refs_are_refused_before_any_call_and_never_recorded(
    environ: dict[str, str],
) -> None:
    for ref in ("bogus", "custom:Bad Id"):
        done = run(environ, "models", "test", ref)
        assert done.returncode == 2, done.stderr
        assert "is not a model reference" in done.stderr or "must match" in done.stderr
    missing = run(environ, "models", "test", "custom:nope")
    assert missing.returncode == 1 and "Custom model not found: nope" in missing.stderr
    report = json.loads(run(environ, "usage", "--json").stdout)
    assert report["summary"]["requests"] == 0, report["summary"]


@pytest.mark.parametrize("since", ["garbage", "2026-13-45", "02/12/2026", "7", "7w", ""])
def test_usage_since_refuses_what_is_not_a_date(environ: dict[str, str], since: str) -> None:
    done = run(environ, "usage", "--since", since)
    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1
    assert "YYYY-MM-DD" in done.stderr and "--help" in done.stderr


@pytest.mark.parametrize("since", ["2026-12-01", "7d", "24h"])
def test_usage_since_takes_dates_and_spans(environ: dict[str, str], since: str) -> None:
    done = run(environ, "usage", "--since", since, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["summary"]["since"]


def test_since_timestamp_is_computed_from_now() -> None:
    from datetime import UTC, datetime

    from beastmode.cli import since_timestamp

    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    assert since_timestamp("7d", now).startswith("2026-11-25T12:00")
    assert since_timestamp("24h", now).startswith("2026-12-01T12:00")
    assert since_timestamp("2026-12-01", now) == "2026-12-01"


def test_usage_errors_are_one_line_with_a_help_hint(environ: dict[str, str]) -> None:
    for args in (("nonsense",), ("models",), ("models", "add", "--context-window", "x"), ()):
        done = run(environ, *args)
        assert done.returncode == 2, args
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "--help" in lines[0], done.stderr
        assert "usage:" not in done.stderr


def test_api_key_flag_says_how_keys_are_passed(environ: dict[str, str]) -> None:
    done = run(environ, "models", "add", "--id", "x", "--api-key", CANARY_KEY)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "--api-key-env" in done.stderr
    assert CANARY_KEY not in done.stderr + done.stdout


def test_version(environ: dict[str, str]) -> None:
    done = run(environ, "--version")
    assert done.returncode == 0 and re.fullmatch(r"beastmode \d+\.\d+\.\d+\n", done.stdout)


def test_list_shows_a_key_that_cannot_be_decrypted(environ: dict[str, str]) -> None:
    environ["MY_KEY"] = CANARY_KEY
    run(
        environ,
        "models",
        "add",
        "--id",
        "coder",
        "--endpoint",
        "http://127.0.0.1:1/v1",
        "--api-key-env",
        "MY_KEY",
    )
    key_file = Path(environ["BEASTMODE_HOME"]) / "secret.key"
    from cryptography.fernet import Fernet

    key_file.write_text(Fernet.generate_key().decode() + "\n")
    listed = run(environ, "models", "list")
    row = listed.stdout.splitlines()[1]
    assert row.split()[5] == "unreadable", listed.stdout
    assert (
        json.loads(run(environ, "models", "list", "--json").stdout)["models"][0]["api_key"]
        == "unreadable"
    )


def test_every_printed_line_is_redacted(environ: dict[str, str], fake: FakeModelServer) -> None:
    environ["MY_KEY"] = CANARY_KEY
    run(
        environ,
        "models",
        "add",
        "--id",
        "echo",
        "--endpoint",
        fake.openai_chat_url,
        "--api-key-env",
        "MY_KEY",
    )
    del environ["MY_KEY"]  # now known only to the registry
    fake.script(Reply(text=f"ok {CANARY_KEY}"))
    tested = run(environ, "models", "test", "custom:echo")
    assert tested.returncode == 0, tested.stderr
    assert CANARY_KEY not in tested.stdout + tested.stderr
    assert "[redacted]" in tested.stdout
