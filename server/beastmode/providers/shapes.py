"""The shapes of every upstream answer, as pydantic models tolerant of extra fields.

An endpoint that answers 200 with well-formed JSON of the wrong types (`choices: [1]`,
`message: "hello"`, usage `"lots"`) gives a `MalformedResponse` naming the first field that is
wrong, so the router falls back with a clear message. Token counts are only checked to be numbers
here; `providers.base.ReportedUsage` clamps absurd ones.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from beastmode.errors import MalformedResponse

TokenCount = int | float | None


class Shape(BaseModel):
    """A wire-format object: unknown fields are ignored, known ones must have their type."""

    model_config = ConfigDict(extra="ignore", frozen=True)


# -- OpenAI chat and completions ------------------------------------------------------------------


class OpenAIUsage(Shape):
    """`usage` of an OpenAI answer or final stream chunk."""

    prompt_tokens: TokenCount = None
    completion_tokens: TokenCount = None


class ContentPart(Shape):
    """One part of a message content given as a list (some servers do this)."""

    type: str = "text"
    text: str | None = None


class OpenAIMessage(Shape):
    """`choices[].message` of a chat answer."""

    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        """The message's text, parts joined."""
        if isinstance(self.content, list):
            return "".join(part.text or "" for part in self.content if part.type == "text")
        return self.content or ""


class OpenAIChoice(Shape):
    """One choice of a whole answer: chat (`message`) or completions (`text`)."""

    message: OpenAIMessage | None = None
    text: str | None = None
    finish_reason: str | None = None


class OpenAIAnswer(Shape):
    """A non-streamed chat or completions answer."""

    choices: list[OpenAIChoice]
    usage: OpenAIUsage | None = None


class OpenAIDelta(Shape):
    """`choices[].delta` of a chat stream chunk."""

    content: str | None = None


class OpenAIStreamChoice(Shape):
    """One choice of a stream chunk: chat (`delta`) or completions (`text`)."""

    delta: OpenAIDelta | None = None
    text: str | None = None
    finish_reason: str | None = None


class OpenAIChunk(Shape):
    """One `data:` chunk of a chat or completions stream (the usage chunk has no choices)."""

    choices: list[OpenAIStreamChoice] | None = None
    usage: OpenAIUsage | None = None


# -- Anthropic Messages ---------------------------------------------------------------------------


class AnthropicUsage(Shape):
    """`usage` of a message, of `message_start.message` or of `message_delta`."""

    input_tokens: TokenCount = None
    output_tokens: TokenCount = None


class AnthropicBlock(Shape):
    """One content block; only `text` blocks carry text."""

    type: str = "text"
    text: str | None = None


class AnthropicMessage(Shape):
    """A non-streamed Messages answer."""

    content: list[AnthropicBlock]
    usage: AnthropicUsage | None = None


class AnthropicStartMessage(Shape):
    """`message_start.message`: usage so far (input tokens, sometimes 0 until `message_delta`)."""

    usage: AnthropicUsage | None = None


class AnthropicMessageStart(Shape):
    """The `message_start` event."""

    message: AnthropicStartMessage


class AnthropicTextDelta(Shape):
    """`content_block_delta.delta`; only `text_delta` carries text."""

    type: str
    text: str | None = None


class AnthropicBlockDelta(Shape):
    """The `content_block_delta` event."""

    delta: AnthropicTextDelta


class AnthropicMessageDelta(Shape):
    """The `message_delta` event: cumulative usage (LiteLLM puts `input_tokens` here too)."""

    usage: AnthropicUsage | None = None


class ErrorDetail(Shape):
    """The `error` object of an error body or event (any values: it is quoted, not used)."""

    type: Any = "error"
    message: Any = None


ShapeT = TypeVar("ShapeT", bound=Shape)


def validate(shape: type[ShapeT], data: Any, what: str) -> ShapeT:
    """`data` as `shape`, or MalformedResponse naming `what` and the first field that is wrong."""
    try:
        return shape.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "the top level"
        raise MalformedResponse(
            f"{what} does not have the expected shape ({where}: {first['msg']}); "
            "check that the endpoint speaks the registered provider's format"
        ) from None
