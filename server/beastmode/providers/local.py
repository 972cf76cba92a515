"""The `local` model: the embedded offline engine behind the provider interface.

It completes code only (rest of the current line), with no endpoint, no key and no download. Chat,
refactoring and generation need a real model; asking `local` for them gives a message that says how
to register one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from beastmode.errors import ModelUnavailableError
from beastmode.providers.base import FimRequest, Limits, ModelRequest, TextStream, TokenUsage

REGISTER_HINT = (
    "register a model with `beastmode models add --id my-model "
    "--endpoint http://localhost:11434/v1 --provider openai-compatible` "
    "(or the command palette: BEAST MODE: Register Custom Model)"
)


class CompletionEngine(Protocol):
    """What the router needs from the embedded engine."""

    def complete_line(self, prefix: str, suffix: str, document: str | None = None) -> str | None:
        """The rest of the current line in `document` (its URI, if known), or None if unsure."""
        ...


class StaticTextStream:
    """A stream whose whole text is known up front."""

    def __init__(self, text: str) -> None:
        self.usage: TokenUsage | None = TokenUsage(estimated=True)
        self.first_token_at: float | None = None
        self._text = text

    def __aiter__(self) -> AsyncIterator[str]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[str]:
        if self._text:
            yield self._text

    async def aclose(self) -> None:
        """Nothing to release."""


class LocalProvider:
    """Serves FIM requests from the embedded engine; refuses chat with a clear message."""

    supports_fim = True

    def __init__(self, engine: CompletionEngine | None) -> None:
        self._engine = engine

    def stream(self, request: ModelRequest, limits: Limits) -> TextStream:
        """Answer a FIM request (raw prefix in `prompt`, `suffix`, `document`) at once."""
        if self._engine is None:
            raise ModelUnavailableError(f"The local engine is not running; {REGISTER_HINT}")
        if not isinstance(request, FimRequest) or request.suffix is None:
            raise ModelUnavailableError(
                f"The local engine only completes code as you type; for this task {REGISTER_HINT}"
            )
        answer = self._engine.complete_line(request.prompt, request.suffix, request.document)
        return StaticTextStream(answer or "")
