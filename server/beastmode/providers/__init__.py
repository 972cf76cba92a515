"""Wire formats: OpenAI-compatible and Anthropic-compatible endpoints, and the embedded engine."""

from beastmode.providers.base import (
    ChatRequest,
    Endpoint,
    FimRequest,
    Limits,
    ModelRequest,
    Provider,
    TextStream,
    TokenUsage,
)

__all__ = [
    "ChatRequest",
    "Endpoint",
    "FimRequest",
    "Limits",
    "ModelRequest",
    "Provider",
    "TextStream",
    "TokenUsage",
]
