"""Fixtures shared by every test: a private BEASTMODE_HOME, the fake model server, a router."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from beastmode.registry import ModelRegistration, Registry
from beastmode.router import Router
from beastmode.usage import UsageRecorder
from tests.fakes import FakeModelServer

CANARY_KEY = "sk-canary-7f3c9e1d2b4a6f8e0d1c3b5a7f9e2d4c"


def private_environ(home: Path) -> dict[str, str]:
    """The environment minus keys and base URLs, with its own BEASTMODE_HOME."""
    env = {k: v for k, v in os.environ.items() if k not in _PRIVATE}
    env["BEASTMODE_HOME"] = str(home)
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.fixture
def environ(tmp_path: Path) -> dict[str, str]:
    """An environment with a fresh BEASTMODE_HOME and no provider keys."""
    return private_environ(tmp_path / "home")


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """An empty workspace folder."""
    root = tmp_path / "workspace"
    root.mkdir()
    return root


@pytest.fixture
def server_env(environ: dict[str, str]) -> dict[str, str]:
    """A server process's environment: the test's private home, nothing secret."""
    return dict(environ)


_PRIVATE = {
    "ENCRYPTION_KEY",
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "OPENAI_BASE_URL",
    "ANTHROPIC_BASE_URL",
    "BEASTMODE_HOME",
}


@pytest.fixture
def fake() -> Iterator[FakeModelServer]:
    """A scripted model server on 127.0.0.1."""
    with FakeModelServer() as server:
        yield server


@pytest.fixture
def registry(environ: dict[str, str]) -> Iterator[Registry]:
    """A registry in the test's private home."""
    reg = Registry.open(environ)
    yield reg
    reg.close()


@pytest.fixture
async def router(registry: Registry, environ: dict[str, str]) -> AsyncIterator[Router]:
    """A router over the test registry, recording usage into it."""
    usage = UsageRecorder(registry.path)
    routed = Router(registry, usage, environ=environ)
    yield routed
    await routed.aclose()
    usage.close()


def register(
    registry: Registry,
    model_id: str,
    url: str,
    *,
    provider: str = "openai-compatible",
    api_key: str | None = CANARY_KEY,
    **extra: object,
) -> None:
    """Register a model pointing at `url`."""
    body: dict[str, object] = {
        "model_name": model_id,
        "model_id": model_id,
        "endpoint_url": url,
        "provider": provider,
        **extra,
    }
    if api_key is not None:
        body["api_key"] = api_key
    registry.register(ModelRegistration.parse(body))
