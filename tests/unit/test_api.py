"""The Python API (`beastmode.api`) against the loopback fake, sharing the editor's home."""

from __future__ import annotations

from pathlib import Path

import pytest

from beastmode.api import BeastMode
from beastmode.errors import PathRefusedError
from beastmode.registry import Registry
from tests.conftest import register
from tests.fakes import FakeModelServer, Reply


async def test_chat_with_files_and_fallback(
    environ: dict[str, str], fake: FakeModelServer, tmp_path: Path
) -> None:
    registry = Registry.open(environ)
    register(registry, "primary", fake.openai_chat_url)
    register(registry, "backup", fake.anthropic_url, provider="anthropic-compatible")
    source = tmp_path / "app.py"
    source.write_text("def login(user): ...\n")
    fake.script(Reply(status=503), Reply(text="Use a POST /register route."))
    async with BeastMode(environ, workspace=tmp_path) as beast:
        reply = await beast.chat(
            "Create an endpoint", model="custom:primary", files=[source], fallback=["custom:backup"]
        )
        report_rows = beast.usage.flush()
    assert reply.text == "Use a POST /register route."
    assert (reply.model, reply.fell_back) == ("custom:backup", True)
    assert report_rows
    assert "def login(user)" in str(fake.requests[1].json)
    tested = None
    async with BeastMode(environ) as beast:
        tested = await beast.test("custom:backup")
    assert tested.ok and tested.model == "custom:backup"


async def test_chat_files_outside_the_workspace_are_refused(
    environ: dict[str, str], fake: FakeModelServer, tmp_path: Path
) -> None:
    registry = Registry.open(environ)
    register(registry, "primary", fake.openai_chat_url)
    workspace = tmp_path / "project"
    workspace.mkdir()
    (workspace / "app.py").write_text("x = 1\n")
    (workspace / "link.py").symlink_to(tmp_path / "secret.py")
    (tmp_path / "secret.py").write_text("TOKEN = 'outside'\n")
    fake.script(Reply(text="ok"))
    async with BeastMode(environ, workspace=workspace) as beast:
        for named in ["link.py", tmp_path / "secret.py", "/proc/self/environ", ".git/config"]:
            with pytest.raises(PathRefusedError, match="Refused to read"):
                await beast.chat("explain", model="custom:primary", files=[named])
        reply = await beast.chat("explain", model="custom:primary", files=["app.py"])
    assert reply.text == "ok"
    assert len(fake.requests) == 1 and "x = 1" in str(fake.requests[0].json)
    assert "outside" not in str(fake.requests[0].json)
