"""Every LSP feature and command the server offers, registered with lazy handlers.

pygls derives the server's capabilities from what is registered, so all of it must be known
before `initialize` is answered; the implementations are not. Each handler here imports its
module (`inline`, `actions`, `commands`) on first use, which keeps httpx, the generation prompts
and the completion pipeline off the startup path.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
from collections.abc import Awaitable, Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any

from lsprotocol import types

if TYPE_CHECKING:
    from beastmode.lsp.server import BeastModeServer

GENERATE_TESTS_KIND = "source.generateTests"
CODE_ACTION_KINDS = [
    types.CodeActionKind.RefactorRewrite,
    types.CodeActionKind.QuickFix,
    GENERATE_TESTS_KIND,
]
COMMANDS = (
    "beastmode.registerModel",
    "beastmode.listModels",
    "beastmode.removeModel",
    "beastmode.testModel",
    "beastmode.setDefaultModel",
    "beastmode.chat",
    "beastmode.generateFeature",
    "beastmode.refactor",
    "beastmode.addDocumentation",
    "beastmode.generateTests",
    "beastmode.fixWithAI",
    "beastmode.usage",
    "beastmode.didAcceptCompletion",
)


def register(server: BeastModeServer) -> None:
    """Register inline completion, completion items, code actions and every command."""
    from beastmode.lsp import inline

    inline.attach(server)

    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(
        ls: BeastModeServer, params: types.InlineCompletionParams
    ) -> types.InlineCompletionList:
        return await inline.inline_completion(ls, params)

    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION,
        types.CompletionOptions(trigger_characters=[".", "(", " "], resolve_provider=False),
    )
    async def completion(
        ls: BeastModeServer, params: types.CompletionParams
    ) -> types.CompletionList:
        return await inline.completion(ls, params)

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=CODE_ACTION_KINDS, resolve_provider=True),
    )
    async def code_action(
        ls: BeastModeServer, params: types.CodeActionParams
    ) -> list[types.CodeAction]:
        actions = await load("beastmode.lsp.actions")
        result: list[types.CodeAction] = actions.offer_actions(ls, params)
        return result

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def code_action_resolve(
        ls: BeastModeServer, params: types.CodeAction
    ) -> types.CodeAction:
        from beastmode.lsp import actions

        return await actions.resolve_action(ls, params)

    for name in COMMANDS:
        server.command(name)(_command(name))


async def load(name: str) -> ModuleType:
    """Import a module on first use in a worker thread, so the event loop never waits on it."""
    module = sys.modules.get(name)
    # A module another thread is still importing is in sys.modules half-made: wait for it too.
    if module is None or getattr(module.__spec__, "_initializing", False):
        module = await asyncio.to_thread(importlib.import_module, name)
    return module


def _command(name: str) -> Callable[..., Awaitable[Any]]:
    # pygls resolves a command handler's annotations at call time; `ls: Any` keeps the server
    # class out of this module's runtime imports (pygls passes the server to a param named ls).
    async def handler(ls: Any, *args: Any) -> Any:
        commands = await load("beastmode.lsp.commands")
        return await commands.run(ls, name, args)

    handler.__name__ = name.replace(".", "_")
    return handler
