"""`beastmode demo`: local suggestions with no model, no trace left behind, reasons for failures."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from beastmode.registry import Registry
from tests.conftest import register
from tests.fakes import closed_port


def demo(environ: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "beastmode.cli", "demo", *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.fixture
def scratch_tmp(environ: dict[str, str], tmp_path: Path) -> Path:
    """A private TMPDIR for the demo, so what it leaves behind can be seen."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    environ["TMPDIR"] = str(tmp)
    return tmp


def test_demo_shows_local_suggestions_and_leaves_nothing_behind(
    environ: dict[str, str], scratch_tmp: Path
) -> None:
    done = demo(environ)
    assert done.returncode == 0, done.stdout + done.stderr
    suggestions = re.findall(r"^\s+[\d.]+ ms\s+local\s+.*\[.+\]$", done.stdout, re.MULTILINE)
    assert suggestions, done.stdout
    assert "BEAST MODE: Refactor selection" in done.stdout
    assert "# BEAST MODE usage" in done.stdout and "| local" in done.stdout
    # The user's data directory was never created, and no temporary file is left.
    assert not Path(environ["BEASTMODE_HOME"]).exists()
    assert list(scratch_tmp.iterdir()) == []


def test_demo_interrupted_with_ctrl_c_leaves_nothing_behind(
    environ: dict[str, str], scratch_tmp: Path
) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "beastmode.cli", "demo"],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("Typing"):
                break
        assert any(scratch_tmp.iterdir()), "the demo should be using its scratch directory"
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C does: the whole foreground group
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while any(scratch_tmp.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert list(scratch_tmp.iterdir()) == []
    assert not Path(environ["BEASTMODE_HOME"]).exists()


def test_demo_refuses_an_unregistered_model_with_the_registry_message(
    environ: dict[str, str], scratch_tmp: Path
) -> None:
    done = demo(environ, "--model", "custom:nope")
    assert done.returncode == 1
    assert done.stderr.startswith("beastmode: error: Custom model not found: nope")
    assert done.stdout == ""
    assert list(scratch_tmp.iterdir()) == []


def test_demo_prints_why_each_suggestion_fell_back(
    environ: dict[str, str], scratch_tmp: Path
) -> None:
    registry = Registry.open(environ)
    register(registry, "dead", f"http://127.0.0.1:{closed_port()}/v1", api_key=None)
    registry.close()
    done = demo(environ, "--model", "custom:dead")
    fell_back = [line for line in done.stdout.splitlines() if "fell back" in line]
    assert fell_back, done.stdout
    # The server's reason: the failure itself, or (once several failed on a loaded machine
    # before the first line was printed) the cooldown it led to.
    reasons = ("Cannot connect", "after repeated failures")
    assert all(
        "fell back: custom:dead: " in line and any(r in line for r in reasons) for line in fell_back
    ), fell_back
    assert list(scratch_tmp.iterdir()) == []
