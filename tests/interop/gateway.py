"""LiteLLM's proxy as a real gateway for the interop suite: its cached venv, config and process.

The proxy comes from PyPI at a pinned version and lives in its own virtual environment, made on
first use with that venv's pip and reused afterwards (a lock file serialises concurrent test runs;
a marker written last tells a finished venv from one an interrupted install left behind, which is
removed and rebuilt). The proxy runs on 127.0.0.1 with a config of mock-response models (they
answer without any upstream) and a master key; `GatewayError` carries what went wrong and the
tail of the install or proxy log, so a failing run says why.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

LITELLM_VERSION = "1.108.7"
LITELLM_REQUIREMENT = f"litellm[proxy]=={LITELLM_VERSION}"
INSTALL_TIMEOUT_SECONDS = 1800.0
STARTUP_TIMEOUT_SECONDS = 120.0
LOG_TAIL_LINES = 40
PORT_ATTEMPTS = 3
COMPLETE_MARKER = ".beastmode-interop-complete"


class GatewayError(RuntimeError):
    """The gateway could not be installed or started; the message says why and what to try."""


def cache_root(environ: Mapping[str, str] = os.environ) -> Path:
    """`$XDG_CACHE_HOME/beastmode-interop` (default `~/.cache/beastmode-interop`)."""
    base = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "beastmode-interop"


def venv_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """Where the pinned LiteLLM's venv lives."""
    return cache_root(environ) / f"litellm-{LITELLM_VERSION}"


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last `lines` lines of a log file ('' when it does not exist)."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_litellm(environ: Mapping[str, str] = os.environ) -> Path:
    """The `litellm` executable of the cached venv, installing it first when needed."""
    venv = venv_dir(environ)
    executable = venv / "bin" / "litellm"
    with _exclusive(venv.with_name(venv.name + ".lock")):
        marker = venv / COMPLETE_MARKER
        if executable.exists() and _read(marker) == marker_text():
            return executable
        if venv.exists():
            # Half-made by an interrupted install, or made by another Python: start over.
            shutil.rmtree(venv)
        log = venv.with_name(venv.name + ".install.log")
        _install(venv, log)
        if not executable.exists():
            raise GatewayError(f"pip installed {LITELLM_REQUIREMENT} but {executable} is missing")
        marker.write_text(marker_text())
    return executable


def marker_text() -> str:
    """What a finished venv's marker says: the requirement and the Python it was made from."""
    return f"{LITELLM_REQUIREMENT}\n{sys.base_prefix} {sys.version.split()[0]}\n"


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except OSError:
        return None


def install_steps(venv: Path) -> list[list[str]]:
    """The commands that make the venv: a fresh venv, then its own pip installs the proxy."""
    return [
        [sys.executable, "-m", "venv", str(venv)],
        [str(venv / "bin" / "python"), "-m", "pip", "install", LITELLM_REQUIREMENT],
    ]


def _install(venv: Path, log: Path) -> None:
    with log.open("w") as output:
        for step in install_steps(venv):
            output.write(f"$ {' '.join(step)}\n")
            output.flush()
            try:
                done = subprocess.run(
                    step,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    timeout=INSTALL_TIMEOUT_SECONDS,
                    check=False,
                )
                failed = done.returncode != 0
            except subprocess.TimeoutExpired:
                failed = True
            if failed:
                shutil.rmtree(venv, ignore_errors=True)
                raise GatewayError(
                    f"Could not install {LITELLM_REQUIREMENT} into {venv} (step: "
                    f"{' '.join(step[-2:])}). The interop suite needs PyPI; check the network "
                    f"or pip's settings. Full log: {log}\n--- last lines ---\n{log_tail(log)}"
                )


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def mock_model(name: str, model: str, mock_response: str, **params: Any) -> dict[str, Any]:
    """A `model_list` entry that answers with `mock_response` (no upstream is called)."""
    return {
        "model_name": name,
        "litellm_params": {"model": model, "mock_response": mock_response, **params},
    }


def routed_model(name: str, model: str, api_base: str, api_key: str) -> dict[str, Any]:
    """A `model_list` entry that forwards to a real (loopback) upstream."""
    return {
        "model_name": name,
        "litellm_params": {"model": model, "api_base": api_base, "api_key": api_key},
    }


def proxy_config(models: list[dict[str, Any]], master_key: str) -> dict[str, Any]:
    """The proxy's config: the models, a master key, no retries of its own, no database."""
    return {
        "model_list": models,
        "general_settings": {"master_key": master_key},
        "litellm_settings": {"num_retries": 0, "request_timeout": 60},
    }


@dataclass
class LiteLLMProxy:
    """One running proxy process on 127.0.0.1."""

    process: subprocess.Popen[bytes]
    port: int
    master_key: str
    log_path: Path

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT`."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def v1_url(self) -> str:
        """The OpenAI-style base URL (`.../v1`)."""
        return self.base_url + "/v1"

    @classmethod
    def start(
        cls, executable: Path, models: list[dict[str, Any]], master_key: str, workdir: Path
    ) -> LiteLLMProxy:
        """Write the config and start the proxy; call `wait_ready` before using it."""
        workdir.mkdir(parents=True, exist_ok=True)
        config = workdir / "config.yaml"
        config.write_text(json.dumps(proxy_config(models, master_key), indent=2))  # JSON is YAML
        log_path = workdir / "proxy.log"
        port = free_port()
        command = [str(executable), "--config", str(config), "--host", "127.0.0.1"]
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [*command, "--port", str(port)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=workdir,
                env=_proxy_environ(executable, workdir),
                start_new_session=True,
            )
        return cls(process, port, master_key, log_path)

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT_SECONDS) -> float:
        """Block until the proxy lists its models; returns the seconds it took."""
        started = time.monotonic()
        deadline = started + timeout
        last_problem = "no answer yet"
        headers = {"Authorization": f"Bearer {self.master_key}"}
        with httpx.Client(timeout=5.0, trust_env=False) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise self._failure(f"the proxy exited with status {self.process.returncode}")
                try:
                    answer = client.get(self.v1_url + "/models", headers=headers)
                    if answer.status_code == 200:
                        return time.monotonic() - started
                    last_problem = f"/v1/models answered HTTP {answer.status_code}"
                except httpx.HTTPError as exc:
                    last_problem = type(exc).__name__
                time.sleep(0.5)
        raise self._failure(f"not ready within {timeout:.0f} s ({last_problem})")

    def _failure(self, problem: str) -> GatewayError:
        return GatewayError(
            f"LiteLLM {LITELLM_VERSION} proxy on port {self.port}: {problem}. "
            f"Log: {self.log_path}\n--- last lines ---\n{log_tail(self.log_path)}"
        )

    def stop(self) -> None:
        """Stop the proxy (and anything it started), killing it if it does not go."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=15)


def start_proxy(
    executable: Path, models: list[dict[str, Any]], master_key: str, workdir: Path
) -> LiteLLMProxy:
    """A ready proxy; starts again on another port if the free port was taken meanwhile."""
    for attempt in range(PORT_ATTEMPTS):
        proxy = LiteLLMProxy.start(executable, models, master_key, workdir / f"run-{attempt}")
        try:
            proxy.wait_ready()
            return proxy
        except GatewayError:
            proxy.stop()
            if "address already in use" not in log_tail(proxy.log_path).lower():
                raise
    raise GatewayError(f"No free port for the LiteLLM proxy after {PORT_ATTEMPTS} attempts")


def _proxy_environ(executable: Path, workdir: Path) -> dict[str, str]:
    """A small environment: no provider keys or database URL leak in; nothing fetched online."""
    return {
        "PATH": f"{executable.parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": os.environ.get("HOME", str(workdir)),
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "TMPDIR": str(workdir),
        "PYTHONUNBUFFERED": "1",
        # The model price map ships with the package; the default fetches it from GitHub.
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "LITELLM_TELEMETRY": "False",
    }
