"""Broken storage explained: corrupt, read-only, full or shared homes give one line, exit 1.

Read-only and full disks are real: a tiny tmpfs mounted for the test (root only; skipped
otherwise, with the reason).
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from beastmode.errors import ConfigurationError
from beastmode.registry import Registry
from beastmode.registry.home import home_directory
from tests.conftest import private_environ


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "beastmode.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_one_line_failure(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]


ADD = ("models", "add", "--id", "coder", "--endpoint", "http://127.0.0.1:9/v1", "--no-api-key")


@pytest.fixture
def mounted(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs (root only)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    point = tmp_path / f"mnt-{uuid.uuid4().hex[:6]}"
    point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(point)],
        capture_output=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)


def test_corrupt_registry_is_one_line_from_the_cli(tmp_path: Path) -> None:
    env = private_environ(tmp_path / "home")
    Registry.open(env).close()
    (tmp_path / "home" / "registry.sqlite3").write_bytes(b"this is not a database" * 300)
    for args in (("models", "list"), ("usage",), ADD):
        assert_one_line_failure(cli(env, *args), "damaged", "registry.sqlite3", "mv ")


def test_read_only_home_is_one_line_from_the_cli(mounted: Path) -> None:
    env = private_environ(mounted / "home")
    assert cli(env, *ADD).returncode == 0
    subprocess.run(["mount", "-o", "remount,ro", str(mounted)], check=True)
    assert_one_line_failure(cli(env, *ADD), "BEASTMODE_HOME")
    fresh = private_environ(mounted / "other-home")
    assert_one_line_failure(cli(fresh, "models", "list"), "Read-only", "BEASTMODE_HOME")


def test_full_disk_is_one_line_from_the_cli(mounted: Path) -> None:
    env = private_environ(mounted / "home")
    assert cli(env, *ADD).returncode == 0
    filler = os.open(mounted / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(filler, b"\0" * 4096):
            pass
    except OSError:
        pass
    finally:
        os.close(filler)
    big = ("--description", "x" * 1900)
    results = [cli(env, *ADD[:3], f"coder-{n}", *ADD[4:], *big) for n in range(3)]
    failed = [r for r in results if r.returncode != 0]
    assert failed, "the disk never filled up"
    assert_one_line_failure(failed[0], "full", "free some space")


def test_shared_home_is_refused_not_chmodded(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    with pytest.raises(ConfigurationError, match="shared directory"):
        home_directory({"BEASTMODE_HOME": str(shared)})
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777
    assert_one_line_failure(cli(private_environ(shared), "models", "list"), "shared directory")


def test_readable_home_is_refused_with_the_chmod_to_run(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    home.chmod(0o755)
    with pytest.raises(ConfigurationError, match=f"chmod 700 '{home}'"):
        home_directory({"BEASTMODE_HOME": str(home)})
    assert stat.S_IMODE(home.stat().st_mode) == 0o755


def test_new_home_is_created_private(tmp_path: Path) -> None:
    home = tmp_path / "deep" / "home"
    assert home_directory({"BEASTMODE_HOME": str(home)}) == home
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
