"""Fixtures for the hardening suite: servers driven raw (home and workspace come from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.hardening.client import SERVER_COMMAND, LspProcess

StartServer = Callable[..., LspProcess]


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
