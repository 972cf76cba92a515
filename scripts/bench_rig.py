"""What every LSP benchmark scenario stands on: a private home, a workspace, the fake model.

The fake model server (tests/fakes) runs in a thread of the benchmark process, so its timestamps
(`received_at`, `chunk_sent_at`, `finished_at`) and the client's share one monotonic clock.
A FIM model `custom:coder` (Qwen2.5-Coder template, `/v1/completions`) is registered in a fresh
BEASTMODE_HOME, as a user would with `beastmode models add`.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

from tests.fakes import FakeModelServer

from beastmode.registry import ModelRegistration, Registry
from bench_client import StdioClient

MODEL_ID = "coder"
MODEL_REF = f"custom:{MODEL_ID}"
_PRIVATE = {
    "ENCRYPTION_KEY",
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "OPENAI_BASE_URL",
    "ANTHROPIC_BASE_URL",
    "BEASTMODE_HOME",
}
# Each function is four lines; the cursor line `    total = ` is an unfinished statement, so a
# request there is single-line (mode.decide_mode).
FUNCTION = 'def function_{i}(a, b):\n    """Combine a and b, variant {i}."""\n    total = \n    return total\n'
CURSOR_LINE_OFFSET = 2
CURSOR_COLUMN = len("    total = ")


def python_source(lines: int) -> str:
    """A Python file of about `lines` lines, made of small four-line functions."""
    return "".join(FUNCTION.format(i=i) for i in range(lines // 4))


def cursor_line(function: int) -> int:
    """The line of `    total = ` in function number `function`."""
    return 4 * function + CURSOR_LINE_OFFSET


class Rig:
    """A temporary home + workspace with `custom:coder` registered against a running fake."""

    def __init__(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="beastmode-bench-")
        root = Path(self._tmp.name)
        self.workspace = root / "workspace"
        self.workspace.mkdir()
        self.env = {k: v for k, v in os.environ.items() if k not in _PRIVATE}
        self.env["BEASTMODE_HOME"] = str(root / "home")
        self.env["PYTHONUNBUFFERED"] = "1"
        self.fake = FakeModelServer().start()
        registry = Registry.open(self.env)
        try:
            registry.register(
                ModelRegistration.parse(
                    {
                        "model_name": MODEL_ID,
                        "model_id": MODEL_ID,
                        "endpoint_url": self.fake.openai_chat_url,
                        "provider": "openai-compatible",
                        "completions_url": self.fake.openai_completions_url,
                        "upstream_model": "qwen2.5-coder:7b",
                    }
                )
            )
        finally:
            registry.close()

    def uri(self, name: str) -> str:
        """A file URI inside the workspace."""
        return (self.workspace / name).as_uri()

    async def client(self, **inline: Any) -> StdioClient:
        """A started, initialized server using `custom:coder` with these `inline.*` settings."""
        settings: dict[str, Any] = {
            "model": MODEL_REF,
            "inline": inline,
            "timeouts": {"completionMs": 10000},
        }
        return await StdioClient.start(self.env, self.workspace, settings)

    def close(self) -> None:
        """Stop the fake and remove the temporary directories."""
        self.fake.stop()
        self._tmp.cleanup()

    def __enter__(self) -> Rig:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
