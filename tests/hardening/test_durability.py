"""Durability: registrations survive SIGKILL at random points and two servers writing at once.

A writer process registers and removes models in a loop and is killed with SIGKILL at a random
moment (seeded), many times over the same home. After each kill the database must pass
`PRAGMA integrity_check`, every acknowledged registration must be there with its key still
decrypting, and every acknowledged removal must be gone. Then two server processes (two editor
windows) register and remove models through `workspace/executeCommand` at the same time, and
both must end up listing exactly what was acknowledged.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from beastmode.registry import Registry
from tests.conftest import CANARY_KEY, private_environ
from tests.hardening.client import LspProcess, unhandled_errors

KILLS = 24
SEED = 7_2025
WRITER = Path(__file__).with_name("registry_writer.py")
MODELS_PER_WINDOW = 16


def _run_and_kill(env: dict[str, str], prefix: str, delay: float) -> tuple[set[str], set[str]]:
    """Start a writer, SIGKILL it `delay` seconds after its first ack; the acked ids."""
    writer = subprocess.Popen(
        [sys.executable, str(WRITER), prefix],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    lines: list[str] = []
    first = threading.Event()

    def read() -> None:
        assert writer.stdout is not None
        for raw in writer.stdout:
            lines.append(raw.decode().strip())
            first.set()

    reader = threading.Thread(target=read)
    reader.start()
    first.wait(timeout=30)
    time.sleep(delay)
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    reader.join()
    assert writer.returncode == -signal.SIGKILL, writer.stderr.read() if writer.stderr else ""
    if writer.stderr is not None:
        writer.stderr.close()
    registered = {line.split()[1] for line in lines if line.startswith("reg ")}
    removed = {line.split()[1] for line in lines if line.startswith("rm ")}
    # The writer removes PREFIX-(n-1) right after registering PREFIX-n (n % 3 == 2): if it died
    # between the two, that removal may have committed unacknowledged. Neither outcome is a loss.
    in_doubt = {
        f"{prefix}-{int(model_id.rsplit('-', 1)[1]) - 1}"
        for model_id in registered
        if int(model_id.rsplit("-", 1)[1]) % 3 == 2
    } - removed
    return registered - in_doubt, removed


def test_sigkilled_writers_never_lose_an_acknowledged_registration(tmp_path: Path) -> None:
    env = {**private_environ(tmp_path / "home"), "WRITER_API_KEY": CANARY_KEY}
    rng = random.Random(SEED)
    expected: set[str] = set()
    gone: set[str] = set()
    acknowledged = 0
    for run in range(KILLS):
        # Mostly mid-stream kills; a few right after the first write (first key, first tables).
        delay = rng.choice([0.0, 0.0005, 0.003]) if run % 6 == 0 else rng.uniform(0.0, 0.25)
        registered, removed = _run_and_kill(env, f"w{run}", delay)
        acknowledged += len(registered) + len(removed)
        expected |= registered - removed
        gone |= removed

        database = Path(env["BEASTMODE_HOME"]) / "registry.sqlite3"
        with sqlite3.connect(database) as db:
            assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            present = {row[0] for row in db.execute("SELECT model_id FROM models")}
        assert expected <= present, sorted(expected - present)
        assert not (gone & present), sorted(gone & present)

    registry = Registry.open(env)
    try:
        credentials = registry.all_credentials()
        assert all(credentials[model_id].api_key == CANARY_KEY for model_id in expected)
    finally:
        registry.close()
    assert acknowledged > KILLS * 5  # the kills really landed in the middle of the writing


def test_two_editor_windows_registering_and_removing_at_once_lose_nothing(
    tmp_path: Path,
) -> None:
    env = private_environ(tmp_path / "home")
    workspace = tmp_path / "ws"
    workspace.mkdir()
    windows = [LspProcess(env, workspace), LspProcess(env, workspace)]
    try:
        for window in windows:
            window.initialize(workspace, {})
        errors: list[str] = []

        def work(window: LspProcess, name: str) -> None:
            for number in range(MODELS_PER_WINDOW):
                model_id = f"{name}-{number}"
                answer = window.command(
                    "beastmode.registerModel",
                    {
                        "model_name": model_id,
                        "model_id": model_id,
                        "endpoint_url": "http://127.0.0.1:9/v1",
                        "api_key": CANARY_KEY,
                    },
                )
                if answer.get("result", {}).get("model_id") != model_id:
                    errors.append(str(answer))
                if number % 2 == 1:
                    answer = window.command("beastmode.removeModel", {"model_id": model_id})
                    if answer.get("result") != {"removed": True}:
                        errors.append(str(answer))

        threads = [
            threading.Thread(target=work, args=(window, name))
            for window, name in zip(windows, ("left", "right"), strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []

        expected = sorted(
            f"{name}-{n}" for name in ("left", "right") for n in range(0, MODELS_PER_WINDOW, 2)
        )
        for window in windows:
            listed = window.command("beastmode.listModels", {})["result"]["models"]
            assert sorted(m["model_id"] for m in listed) == expected
            assert all(m["has_api_key"] and "api_key" not in m for m in listed)
        for window in windows:
            assert unhandled_errors(window.stderr) == []
    finally:
        for window in windows:
            window.close()
    with sqlite3.connect(Path(env["BEASTMODE_HOME"]) / "registry.sqlite3") as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
