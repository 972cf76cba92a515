"""The `beastmode` command line against LiteLLM's proxy: register, test, read usage."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.interop.conftest import GATEWAY_KEY, WRONG_KEY, rows_for
from tests.interop.gateway import LiteLLMProxy

BEASTMODE = Path(sys.executable).with_name("beastmode")


def beastmode(environ: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run the installed `beastmode` program with the test's private home."""
    return subprocess.run(
        [str(BEASTMODE), *args],
        env=environ,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


def add_model(
    environ: dict[str, str],
    gateway: LiteLLMProxy,
    model_id: str,
    upstream: str,
    *extra: str,
    key: str = GATEWAY_KEY,
    provider: str = "openai-compatible",
) -> dict[str, Any]:
    """`beastmode models add` for a gateway model, the key passed through the environment."""
    endpoint = gateway.v1_url if provider == "openai-compatible" else gateway.base_url
    done = beastmode(
        {**environ, "GATEWAY_KEY": key},
        "models",
        "add",
        "--id",
        model_id,
        "--endpoint",
        endpoint,
        "--provider",
        provider,
        "--upstream-model",
        upstream,
        "--api-key-env",
        "GATEWAY_KEY",
        *extra,
    )
    assert done.returncode == 0, done.stderr
    assert key not in done.stdout + done.stderr
    return dict(json.loads(done.stdout))


def test_cli_registers_tests_and_reports_a_gateway_model(
    gateway: LiteLLMProxy, environ: dict[str, str]
) -> None:
    added = add_model(environ, gateway, "gw-chat", "chat-ok")
    assert (added["ref"], added["upstream_model"]) == ("custom:gw-chat", "chat-ok")

    tested = beastmode(environ, "models", "test", "custom:gw-chat", "--json")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert json.loads(tested.stdout)["ok"] is True

    report = json.loads(beastmode(environ, "usage", "--json").stdout)
    [by_model] = [m for m in report["byModel"] if m["model"] == "custom:gw-chat"]
    assert by_model["ok"] >= 1 and by_model["errors"] == 0
    rows = rows_for(environ, "custom:gw-chat")
    assert rows and all((r["model_kind"], r["outcome"]) == ("custom", "ok") for r in rows)
    everything = tested.stdout + tested.stderr + json.dumps(report)
    assert GATEWAY_KEY not in everything


def test_cli_tests_an_anthropic_registration_against_the_gateway(
    gateway: LiteLLMProxy, environ: dict[str, str]
) -> None:
    add_model(environ, gateway, "gw-claude", "claude-ok", provider="anthropic-compatible")
    tested = beastmode(environ, "models", "test", "custom:gw-claude", "--json")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert json.loads(tested.stdout)["ok"] is True
    [row] = rows_for(environ, "custom:gw-claude")
    assert (row["outcome"], row["tokens_estimated"]) == ("ok", 0)


def test_cli_models_test_checks_the_chat_and_the_completions_endpoint(
    gateway: LiteLLMProxy, environ: dict[str, str]
) -> None:
    completions = gateway.v1_url + "/completions"
    add_model(environ, gateway, "gw-fim", "fim-ok", "--completions-url", completions)
    tested = beastmode(environ, "models", "test", "custom:gw-fim", "--json")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    answer = json.loads(tested.stdout)
    assert answer["ok"] is True
    assert len(answer["checks"]) == 2
    assert sorted("chat" in check["endpoint"] for check in answer["checks"]) == [False, True]
    assert all(check["ok"] and check["error"] is None for check in answer["checks"])


def test_cli_models_test_fails_when_the_fim_endpoint_is_broken(
    gateway: LiteLLMProxy, environ: dict[str, str]
) -> None:
    typo = gateway.v1_url + "/completion"
    add_model(environ, gateway, "gw-fim-broken", "fim-ok", "--completions-url", typo)
    tested = beastmode(environ, "models", "test", "custom:gw-fim-broken", "--json")
    assert tested.returncode == 1, tested.stdout + tested.stderr
    answer = json.loads(tested.stdout)
    assert answer["ok"] is False
    [chat_check] = [c for c in answer["checks"] if "chat" in c["endpoint"]]
    [fim_check] = [c for c in answer["checks"] if "chat" not in c["endpoint"]]
    assert chat_check["ok"] is True
    assert fim_check["ok"] is False and "HTTP 404" in fim_check["error"]


@pytest.mark.parametrize(
    ("upstream", "key", "litellm_says"),
    [
        ("chat-ok", WRONG_KEY, "No connected db"),
        ("no-such-model", GATEWAY_KEY, "Invalid model name passed in model=no-such-model"),
        ("chat-429", GATEWAY_KEY, "mock rate limit error"),
    ],
    ids=["wrong-key", "unknown-model", "rate-limited"],
)
def test_cli_models_test_fails_with_the_gateway_reason(
    gateway: LiteLLMProxy, environ: dict[str, str], upstream: str, key: str, litellm_says: str
) -> None:
    add_model(environ, gateway, "gw-failing", upstream, key=key)
    tested = beastmode(environ, "models", "test", "custom:gw-failing")
    output = tested.stdout + tested.stderr
    assert tested.returncode == 1, output
    assert litellm_says in output and "HTTP" in output
    assert WRONG_KEY not in output and GATEWAY_KEY not in output
