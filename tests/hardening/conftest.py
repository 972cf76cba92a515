"""Fixtures for the hardening suite: a private home, a workspace, and servers driven raw."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import _PRIVATE
from tests.hardening.client import SERVER_COMMAND, LspProcess

StartServer = Callable[..., LspProcess]


def private_environ(home: Path) -> dict[str, str]:
    """The test process's environment without keys or base URLs, with its own home."""
    env = {k: v for k, v in os.environ.items() if k not in _PRIVATE}
    env["BEASTMODE_HOME"] = str(home)
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """An empty workspace folder."""
    root = tmp_path / "workspace"
    root.mkdir()
    return root


@pytest.fixture
def server_env(environ: dict[str, str]) -> dict[str, str]:
    """The server's environment: the test's private BEASTMODE_HOME and nothing secret."""
    return {**environ, "PYTHONUNBUFFERED": "1"}


@pytest.fixture
def start_server(server_env: dict[str, str], workspace: Path) -> Iterator[StartServer]:
    """Start initialized servers; each is shut down (or killed) after the test."""
    started: list[LspProcess] = []

    def start(
        options: Any = None,
        *,
        configuration: Any = None,
        command: tuple[str, ...] = SERVER_COMMAND,
        env: dict[str, str] | None = None,
        capabilities: dict[str, Any] | None = None,
    ) -> LspProcess:
        server = LspProcess(
            env or server_env, workspace, command=command, configuration=configuration
        )
        started.append(server)
        server.initialize(workspace, options, capabilities)
        return server

    yield start
    for server in started:
        server.close()
