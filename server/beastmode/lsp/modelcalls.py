"""Asking a task's model chain on behalf of an LSP request.

Actions and commands build a prompt sized to the model, ask the router (which falls back along
the chain), report progress and the status, and turn any BEAST MODE error into LSP's
RequestFailed carrying a message the user can act on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pygls.exceptions import JsonRpcException

from beastmode.errors import BeastModeError, ModelUnavailableError
from beastmode.generation.messages import PromptMessages, prompt_tokens
from beastmode.lsp.progress import WorkDone
from beastmode.providers.base import ChatRequest
from beastmode.router import ModelInfo, RoutedResult, Router

if TYPE_CHECKING:
    from beastmode.lsp.server import BeastModeServer

MIN_PROMPT_TOKENS = 512


class RequestFailed(JsonRpcException):
    """LSP's RequestFailed (-32803): the request was valid but the work failed; says why."""

    CODE = -32803


def fail(message: str) -> RequestFailed:
    """A RequestFailed error carrying a user-facing message."""
    return RequestFailed(message)


def router_of(ls: BeastModeServer) -> Router:
    """The router, or a RequestFailed saying why the server could not set it up."""
    if ls.router is None:
        raise fail(f"BEAST MODE is not set up: {ls.setup_error}")
    return ls.router


def prompt_budget(info: ModelInfo) -> int:
    """Tokens a prompt may use with this model: its window minus the room for the answer."""
    return max(MIN_PROMPT_TOKENS, info.context_window - info.max_tokens)


def chat_request(prompt: PromptMessages, info: ModelInfo) -> ChatRequest:
    """A router request for a prompt, with the model's own answer length and temperature.

    A prompt the model cannot take (the code alone is larger than its window) is not sent: the
    router moves on to the next model, and the message says what to do if none can take it.
    """
    needed = prompt_tokens(prompt)
    if needed > info.context_window - min(info.max_tokens, info.context_window // 4):
        raise ModelUnavailableError(
            f"The request (about {needed} tokens) does not fit {info.ref}'s context window of "
            f"{info.context_window} tokens: select less code, or use a model with a larger "
            "window (`context_window` when registering)"
        )
    return ChatRequest(
        messages=tuple((role, text) for role, text in prompt.messages),  # type: ignore[misc]
        system=prompt.system,
        max_tokens=info.max_tokens,
        temperature=info.temperature,
    )


async def ask_model(
    ls: BeastModeServer,
    task: str,
    override: str | None,
    build: Callable[[ModelInfo], PromptMessages],
    progress: WorkDone,
) -> RoutedResult:
    """The whole answer of the task's model chain (with fallback), or a RequestFailed."""
    router = router_of(ls)
    chain = ls.chain_for(task, override)
    progress.report(f"Asking {chain[0]}" if chain else "Asking the model")
    try:
        result = await router.complete(
            task, chain, lambda info: chat_request(build(info), info), ls.timeouts_for(task)
        )
    except BeastModeError as exc:
        raise fail(str(exc)) from None
    ls.notify_status(result.model.ref, None, result.fell_back)
    progress.report(f"Answer from {result.model.ref}")
    return result
