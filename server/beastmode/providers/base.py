"""What every provider speaks: requests, limits, token usage and the text stream they return."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Literal, Protocol

Role = Literal["user", "assistant"]


@dataclass(frozen=True)
class ChatRequest:
    """A chat-style request: a system prompt and alternating messages."""

    messages: tuple[tuple[Role, str], ...]
    system: str | None = None
    max_tokens: int = 1024
    temperature: float = 0.2
    stop: tuple[str, ...] = ()


@dataclass(frozen=True)
class FimRequest:
    """A fill-in-the-middle request.

    `prompt` is either a template already rendered for the model family (then `suffix` is None),
    or the raw prefix, with `suffix` sent separately for endpoints that do FIM themselves.
    `document` names the document being completed, for the local engine (which weighs that
    document's own lines first); it is never sent to an endpoint.
    """

    prompt: str
    suffix: str | None = None
    max_tokens: int = 128
    temperature: float = 0.2
    stop: tuple[str, ...] = ()
    document: str | None = None


ModelRequest = ChatRequest | FimRequest


@dataclass(frozen=True)
class Limits:
    """Deadlines and caps for one attempt, in seconds from its start and in bytes."""

    total_seconds: float = 120.0
    first_token_seconds: float = 30.0
    max_response_bytes: int = 4_000_000
    connect_seconds: float = 10.0


@dataclass
class TokenUsage:
    """Tokens used by one call; `estimated` when the endpoint did not report them."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    estimated: bool = False


MAX_TOKENS_PER_CALL = 10_000_000
"""More tokens than any one call uses: a larger count is a broken endpoint, not a fact."""


def _sane_count(value: float | None) -> tuple[int | None, bool]:
    """A reported count as an int within 0..MAX_TOKENS_PER_CALL, and whether it was absurd."""
    if value is None:
        return None, False
    # Compare before any float conversion: 10**400 is a valid JSON int but no float.
    if not 0 <= value <= MAX_TOKENS_PER_CALL:  # also False for NaN
        return None, True
    return int(value), False


@dataclass
class ReportedUsage:
    """Token counts as an endpoint reported them; a half is None until (unless) it is reported."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    absurd: bool = False
    """Some count was not a sane number (negative, infinite, above MAX_TOKENS_PER_CALL)."""

    def report(self, *, prompt: float | None = None, completion: float | None = None) -> None:
        """Take the counts given; an absurd one is dropped (to be estimated) and remembered."""
        for name, value in (("prompt_tokens", prompt), ("completion_tokens", completion)):
            count, absurd = _sane_count(value)
            self.absurd |= absurd
            if count is not None:
                setattr(self, name, count)


def settle_usage(
    reported: ReportedUsage | None, prompt_chars: int, answer_chars: int
) -> TokenUsage:
    """The usage to record: what was reported, each missing or absurd half estimated.

    A prompt reported as 0 tokens is taken as missing (every call sends a prompt; LiteLLM's
    Anthropic stream says 0 in `message_start` before the real count in `message_delta`); so is
    0 completion tokens for an answer that has text.
    """
    reported = reported or ReportedUsage()
    prompt = reported.prompt_tokens
    completion = reported.completion_tokens
    estimated = reported.absurd
    if not prompt:
        prompt = min(tokens_for_chars(prompt_chars), MAX_TOKENS_PER_CALL)
        estimated = True
    if completion is None or (completion == 0 and answer_chars):
        completion = min(tokens_for_chars(answer_chars), MAX_TOKENS_PER_CALL)
        estimated = True
    return TokenUsage(prompt_tokens=prompt, completion_tokens=completion, estimated=estimated)


def tokens_for_chars(chars: int) -> int:
    """A provider-neutral token estimate: about 3.5 characters per token of code."""
    return math.ceil(chars / 3.5)


def estimate_tokens(text: str) -> int:
    """Estimated tokens in `text` (see `tokens_for_chars`)."""
    return tokens_for_chars(len(text))


@dataclass(frozen=True)
class Endpoint:
    """Where and how to call one model. The key is kept out of every repr."""

    url: str
    upstream_model: str
    api_key: str | None = field(default=None, repr=False)
    completions_url: str | None = None
    extra_headers: tuple[tuple[str, str], ...] = ()


class TextStream(Protocol):
    """An answer arriving as text deltas; usage and first-token time are known once it ends."""

    usage: TokenUsage | None
    first_token_at: float | None

    def __aiter__(self) -> AsyncIterator[str]: ...

    async def aclose(self) -> None:
        """Stop reading and release the connection."""
        ...


class Provider(Protocol):
    """A wire format bound to one endpoint."""

    supports_fim: bool

    def stream(self, request: ModelRequest, limits: Limits) -> TextStream:
        """Start the request; the returned stream yields text deltas."""
        ...
