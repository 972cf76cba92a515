"""Fixtures for the interop suite: one LiteLLM proxy per session, and models registered against it.

The proxy's `model_list` (names on the gateway) and the registrations pointing at them (ids in
BEAST MODE) are declared once here. Most gateway models are LiteLLM mocks; two forward to a
loopback FakeModelServer, so a test can see what reached the upstream and get LiteLLM's own
translation of a real stream (OpenAI chat -> Anthropic Messages).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from beastmode.registry import ModelRegistration, Registry
from tests.fakes import FakeModelServer, Reply
from tests.interop.gateway import (
    GatewayError,
    LiteLLMProxy,
    ensure_litellm,
    mock_model,
    routed_model,
    start_proxy,
)

GATEWAY_KEY = "sk-interop-master-5f1e2d3c4b5a69788796"
WRONG_KEY = "sk-interop-wrong-0a9b8c7d6e5f43210123"
UPSTREAM_KEY = "sk-interop-upstream-77aa88bb99cc"
CHAT_TEXT = "Hello from the gateway"
BACKUP_TEXT = "Hello from the backup model"
CLAUDE_TEXT = "Hello from the gateway's Claude"
FIM_TEXT = "return a + b"
UPSTREAM_TEXT = "Hello through the gateway"
UPSTREAM_USAGE = (11, 7)
T = TypeVar("T")


def gateway_models(upstream_base_url: str) -> list[dict[str, Any]]:
    """The proxy's `model_list`: mocks for every answer and fault, two routed to the upstream."""
    return [
        mock_model("chat-ok", "openai/chat-ok", CHAT_TEXT),
        mock_model("chat-backup", "openai/chat-backup", BACKUP_TEXT),
        mock_model("chat-429", "openai/chat-429", "litellm.RateLimitError"),
        mock_model("chat-500", "openai/chat-500", "litellm.InternalServerError"),
        # LiteLLM's mid-stream mock error carries status 529 ("overloaded"), sent as HTTP 529.
        mock_model("chat-529", "openai/chat-529", "Exception: mock_streaming_error"),
        mock_model("fim-ok", "text-completion-openai/fim-ok", FIM_TEXT),
        mock_model("claude-ok", "anthropic/claude-ok", CLAUDE_TEXT, api_key="sk-ant-unused"),
        mock_model(
            "claude-fill",
            "anthropic/claude-fill",
            f"<COMPLETION>{FIM_TEXT}</COMPLETION>",  # how a chat model answers a hole to fill
            api_key="sk-ant-unused",
        ),
        # hosted_vllm (not openai/) so /v1/messages is translated from chat completions, not
        # from the Responses API the fake does not speak.
        routed_model(
            "upstream-chat", "hosted_vllm/upstream-chat", upstream_base_url + "/v1", UPSTREAM_KEY
        ),
        routed_model(
            "upstream-fim",
            "text-completion-openai/upstream-fim",
            upstream_base_url + "/v1",
            UPSTREAM_KEY,
        ),
    ]


def gateway_registrations(proxy: LiteLLMProxy) -> dict[str, dict[str, Any]]:
    """BEAST MODE registrations (by model id) pointing at the gateway's models."""

    def openai(upstream: str, *, key: str = GATEWAY_KEY, **extra: Any) -> dict[str, Any]:
        return {
            "endpoint_url": proxy.v1_url,
            "provider": "openai-compatible",
            "upstream_model": upstream,
            "api_key": key,
            **extra,
        }

    def anthropic(upstream: str) -> dict[str, Any]:
        return {
            "endpoint_url": proxy.base_url,
            "provider": "anthropic-compatible",
            "upstream_model": upstream,
            "api_key": GATEWAY_KEY,
        }

    fim = {"completions_url": proxy.v1_url + "/completions", "fim_template": "none"}
    return {
        "gw-chat": openai("chat-ok"),
        "gw-backup": openai("chat-backup"),
        "gw-429": openai("chat-429"),
        "gw-500": openai("chat-500"),
        "gw-529": openai("chat-529"),
        "gw-wrong-key": openai("chat-ok", key=WRONG_KEY),
        "gw-unknown": openai("no-such-model"),
        "gw-fim": openai("fim-ok", **fim),
        "gw-fim-upstream": openai("upstream-fim", **fim),
        # A typo in the FIM URL: the chat endpoint works, the completions endpoint is a 404.
        "gw-fim-broken": openai("fim-ok", completions_url=proxy.v1_url + "/completion"),
        "gw-claude": anthropic("claude-ok"),
        "gw-claude-fill": anthropic("claude-fill"),
        "gw-claude-stream": anthropic("upstream-chat"),
        "gw-claude-unknown": anthropic("no-such-model"),
    }


@pytest.fixture(scope="session")
def upstream_server() -> Iterator[FakeModelServer]:
    """The loopback server behind the gateway's `upstream-*` models (one per session)."""
    with FakeModelServer() as server:
        server.default_reply = Reply(text=UPSTREAM_TEXT, usage=UPSTREAM_USAGE)
        yield server


@pytest.fixture(scope="session")
def gateway(
    upstream_server: FakeModelServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiteLLMProxy]:
    """LiteLLM's proxy on 127.0.0.1 (installed into its cached venv on first use)."""
    executable = fail_on_gateway_error(ensure_litellm)
    proxy = fail_on_gateway_error(
        lambda: start_proxy(
            executable,
            gateway_models(upstream_server.base_url),
            GATEWAY_KEY,
            tmp_path_factory.mktemp("litellm"),
        )
    )
    yield proxy
    proxy.stop()


def fail_on_gateway_error(action: Callable[[], T]) -> T:
    """Run `action`; a GatewayError fails the test with its message (never a skip)."""
    try:
        return action()
    except GatewayError as exc:
        failure = str(exc)
    pytest.fail(failure, pytrace=False)  # outside `except`: no chained traceback repeating it


@pytest.fixture
def upstream(upstream_server: FakeModelServer) -> Iterator[FakeModelServer]:
    """The session's upstream with a fresh script and no recorded requests."""
    upstream_server.reset()
    upstream_server.default_reply = Reply(text=UPSTREAM_TEXT, usage=UPSTREAM_USAGE)
    yield upstream_server
    upstream_server.reset()
    upstream_server.default_reply = Reply(text=UPSTREAM_TEXT, usage=UPSTREAM_USAGE)


@pytest.fixture
def gateway_home(gateway: LiteLLMProxy, environ: dict[str, str]) -> dict[str, str]:
    """A private BEASTMODE_HOME with every gateway model registered; returns its environment."""
    registry = Registry.open(environ)
    try:
        for model_id, fields in gateway_registrations(gateway).items():
            registry.register(
                ModelRegistration.parse({"model_id": model_id, "model_name": model_id, **fields})
            )
    finally:
        registry.close()
    return environ


def usage_rows(environ: dict[str, str]) -> list[dict[str, Any]]:
    """Every usage row written in this home so far, oldest first."""
    path = Path(environ["BEASTMODE_HOME"]) / "registry.sqlite3"
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        db.row_factory = sqlite3.Row
        return [dict(row) for row in db.execute("SELECT * FROM usage ORDER BY id")]
    finally:
        db.close()


def rows_for(environ: dict[str, str], model_ref: str) -> list[dict[str, Any]]:
    """The usage rows of one model."""
    return [row for row in usage_rows(environ) if row["model_ref"] == model_ref]
