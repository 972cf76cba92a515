"""The guide's "via code" path: use your registered models from a Python script, no editor needed.

    import asyncio, beastmode.api as bm

    async def main() -> None:
        async with bm.BeastMode() as beast:
            reply = await beast.chat("Explain this module", model="custom:my-code-model",
                                     files=["src/app.py"])
            print(reply.text)

    asyncio.run(main())

`BeastMode` opens the same registry, key and usage database as the editor (`BEASTMODE_HOME`), so
calls made here appear in `beastmode usage`. Context `files` are read through the workspace
guard (`beastmode.guard`) rooted at `workspace` (default: the current directory): a file outside
it, inside `.git`, not a regular file or too large raises `PathRefusedError`.
"""

from __future__ import annotations

import dataclasses
import errno
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from beastmode.generation.messages import build_chat_prompt
from beastmode.guard import WorkspaceGuard
from beastmode.providers.base import ChatRequest, ModelRequest
from beastmode.redaction import Redactor
from beastmode.registry.store import Registry
from beastmode.router.catalog import ModelInfo
from beastmode.router.chains import build_chain
from beastmode.router.router import Router, TestResult
from beastmode.router.timeouts import Timeouts
from beastmode.usage.recorder import UsageRecorder


@dataclass(frozen=True)
class ChatReply:
    """A chat answer, which model gave it, and whether the router had to fall back."""

    text: str
    model: str
    fell_back: bool


class BeastMode:
    """The registry, router and usage recorder of one BEASTMODE_HOME, for scripts."""

    def __init__(
        self, environ: Mapping[str, str] | None = None, *, workspace: str | Path | None = None
    ) -> None:
        self.workspace = Path(workspace if workspace is not None else Path.cwd()).absolute()
        self.guard = WorkspaceGuard([self.workspace])
        self.registry = Registry.open(environ)
        self.redactor = Redactor.from_environment(
            os.environ if environ is None else environ, self.registry.home
        )
        self.usage = UsageRecorder(self.registry.path)
        self.router = Router(self.registry, self.usage, environ=environ, redactor=self.redactor)

    async def __aenter__(self) -> BeastMode:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Finish writing usage and close connections."""
        await self.router.aclose()
        self.usage.close()
        self.registry.close()

    async def chat(
        self,
        message: str,
        *,
        model: str | None = None,
        files: Sequence[str | Path] = (),
        fallback: Sequence[str] | None = None,
        timeout_seconds: float = 120.0,
    ) -> ChatReply:
        """Ask `model` (default: the stored chat default) about `message`, with files as context.

        Relative `files` are taken from the workspace; each is read through the guard.
        """
        contents = [(str(path), self._read(path)) for path in files]
        chain = build_chain(
            "chat",
            task_model=model,
            default_model=None,
            stored_defaults=self.registry.defaults(),
            fallback=fallback,
            environ=self.router.environ,
        )

        def build(info: ModelInfo) -> ModelRequest:
            prompt = build_chat_prompt(
                message,
                history=(),
                files=contents,
                active_document=None,
                max_prompt_tokens=max(256, info.context_window - info.max_tokens),
            )
            return ChatRequest(
                messages=prompt.messages,  # type: ignore[arg-type]
                system=prompt.system,
                max_tokens=info.max_tokens,
                temperature=info.temperature,
            )

        result = await self.router.complete(
            "chat", chain, build, Timeouts(attempt_seconds=timeout_seconds)
        )
        return ChatReply(result.text, result.model.ref, result.fell_back)

    def _read(self, path: str | Path) -> str:
        data = self.guard.read_bytes(self.workspace / path)
        if data is None:
            raise FileNotFoundError(errno.ENOENT, "No such file", str(path))
        return data.decode("utf-8", errors="replace")

    async def test(self, model: str) -> TestResult:
        """Check that `model` answers (no fallback), and how fast; the error is redacted."""
        result = await self.router.test_model(model)
        if result.error is None:
            return result
        return dataclasses.replace(result, error=self.redactor.redact(result.error))


async def chat(
    message: str,
    *,
    model: str | None = None,
    files: Sequence[str | Path] = (),
    workspace: str | Path | None = None,
) -> str:
    """One-shot chat: open BEASTMODE_HOME, ask, close; returns the reply text."""
    async with BeastMode(workspace=workspace) as beast:
        return (await beast.chat(message, model=model, files=files)).text
