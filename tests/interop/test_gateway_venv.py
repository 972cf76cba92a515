"""The cached LiteLLM venv: reused when complete, rebuilt when half-made, a clear failure otherwise."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.interop import gateway
from tests.interop.gateway import COMPLETE_MARKER, GatewayError, ensure_litellm, venv_dir


def cache_environ(tmp_path: Path) -> dict[str, str]:
    return {"XDG_CACHE_HOME": str(tmp_path / "cache")}


def fake_install(calls: list[Path]) -> object:
    def install(venv: Path, log: Path) -> None:
        calls.append(venv)
        (venv / "bin").mkdir(parents=True)
        (venv / "bin" / "litellm").write_text("#!/bin/sh\n")

    return install


def test_venv_lives_under_xdg_cache_home(tmp_path: Path) -> None:
    path = venv_dir(cache_environ(tmp_path))
    assert path == tmp_path / "cache" / "beastmode-interop" / f"litellm-{gateway.LITELLM_VERSION}"


def test_a_complete_venv_is_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Path] = []
    monkeypatch.setattr(gateway, "_install", fake_install(calls))
    environ = cache_environ(tmp_path)
    first = ensure_litellm(environ)
    second = ensure_litellm(environ)
    assert first == second == venv_dir(environ) / "bin" / "litellm"
    assert len(calls) == 1


def test_a_half_made_venv_is_removed_and_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    environ = cache_environ(tmp_path)
    leftover = venv_dir(environ) / "lib" / "half-installed.txt"
    leftover.parent.mkdir(parents=True)
    leftover.write_text("an interrupted pip install")
    calls: list[Path] = []
    monkeypatch.setattr(gateway, "_install", fake_install(calls))
    ensure_litellm(environ)
    assert calls == [venv_dir(environ)]
    assert not leftover.exists()
    assert (venv_dir(environ) / COMPLETE_MARKER).read_text() == gateway.marker_text()


def test_a_venv_made_by_another_python_is_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    environ = cache_environ(tmp_path)
    calls: list[Path] = []
    monkeypatch.setattr(gateway, "_install", fake_install(calls))
    ensure_litellm(environ)
    marker = venv_dir(environ) / COMPLETE_MARKER
    marker.write_text(f"{gateway.LITELLM_REQUIREMENT}\n/usr/lib/python3.9 3.9.2\n")
    ensure_litellm(environ)
    assert len(calls) == 2 and marker.read_text() == gateway.marker_text()


def test_a_failed_install_fails_with_pips_reason_and_leaves_no_venv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_steps(venv: Path) -> list[list[str]]:
        pip_says = "ERROR: No matching distribution found for litellm[proxy]"
        return [
            [sys.executable, "-c", f"import os; os.makedirs({str(venv)!r})"],
            [sys.executable, "-c", f"import sys; print({pip_says!r}); sys.exit(1)"],
        ]

    monkeypatch.setattr(gateway, "install_steps", failing_steps)
    environ = cache_environ(tmp_path)
    with pytest.raises(GatewayError) as raised:
        ensure_litellm(environ)
    message = str(raised.value)
    assert f"Could not install {gateway.LITELLM_REQUIREMENT}" in message
    assert "No matching distribution found" in message and "needs PyPI" in message
    assert not venv_dir(environ).exists()
