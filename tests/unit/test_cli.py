"""The `beastmode` command line, run as a real subprocess against a private home."""

from __future__ import annotations

import json
import subprocess
import sys

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
    assert tested.returncode == 1 and "Cannot connect" in tested.stdout


def test_malformed_encryption_key_exits_with_the_fix(environ: dict[str, str]) -> None:
    environ["ENCRYPTION_KEY"] = "short"
    done = run(environ, "models", "list")
    assert done.returncode == 1 and "ENCRYPTION_KEY is malformed" in done.stderr
