"""Our pygls protocol: fixes for gaps in pygls 2.1.1 that matter for a server on the typing path.

- Documents live in our `DocumentStore` (constant cost per keystroke), so `didOpen`/`didChange`/
  `didClose` are plain functions here instead of pygls's generator wrappers. Those wrappers also
  leave one entry per notification in `_request_futures` that is never removed (pygls 2.1.1:
  1,000 didChange -> 1,000 entries), so memory grew all day; plain functions leave nothing.
- `workspace/executeCommand` runs the command coroutine as the request's own task, so
  `$/cancelRequest` really cancels it (pygls 2.1.1 cancels only a wrapper future and lets the
  command and its HTTP request run on).
- A request whose params do not deserialize gets an InvalidParams (-32602) answer; pygls 2.1.1
  logs and drops it, leaving the editor waiting forever.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pygls.protocol import LanguageServerProtocol, lsp_method
from pygls.protocol.language_server import _prepare_command_arguments

if TYPE_CHECKING:
    from beastmode.lsp.server import BeastModeServer

log = logging.getLogger(__name__)


class BeastModeProtocol(LanguageServerProtocol):
    """LanguageServerProtocol with our document store, real cancels and answers to bad params."""

    @property
    def beast(self) -> BeastModeServer:
        """The server this protocol belongs to."""
        return self._server  # type: ignore[return-value]

    def structure_message(self, data: dict[str, Any]) -> Any:
        """Deserialize a message; answer a request with bad params instead of dropping it."""
        try:
            return super().structure_message(data)
        except Exception as exc:
            if isinstance(data, dict) and "id" in data and "method" in data:
                self._send_response(
                    data["id"],
                    error=JsonRpcInvalidParams(
                        f"Invalid params for {data.get('method')}: {_first_line(exc)}"
                    ).to_response_error(),
                )
                return SimpleNamespace(jsonrpc="ignored")
            raise

    def _user_handler(self, method: str) -> Callable[..., Any] | None:
        return self.fm.features.get(method)

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams) -> None:
        """Track an opened document."""
        item = params.text_document
        self.beast.documents.open(item.uri, item.text, item.version, item.language_id)
        self.beast.on_document_changed(item.uri)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams) -> None:
        """Apply incremental (or full) changes to a tracked document."""
        document = self.beast.documents.get(params.text_document.uri)
        if document is None:
            log.warning("didChange for a document that is not open: %s", params.text_document.uri)
            return
        for change in params.content_changes:
            if isinstance(change, types.TextDocumentContentChangePartial):
                start = (change.range.start.line, change.range.start.character)
                end = (change.range.end.line, change.range.end.character)
                document.apply_change(start, end, change.text)
            else:
                document.apply_change(None, None, change.text)
        document.version = params.text_document.version
        self.beast.on_document_changed(document.uri)

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams) -> None:
        """Forget a closed document."""
        self.beast.documents.close(params.text_document.uri)
        self.beast.on_document_closed(params.text_document.uri)

    @lsp_method(types.WORKSPACE_EXECUTE_COMMAND)
    async def lsp_workspace__execute_command(  # type: ignore[override]
        self, params: types.ExecuteCommandParams
    ) -> Any:
        """Run a command as this request's own task, so a cancel stops it."""
        handler = self.fm.commands.get(params.command)
        if handler is None:
            raise JsonRpcInvalidParams(f"Unknown command {params.command!r}")
        try:
            args, kwargs = _prepare_command_arguments(handler, params, self._converter)
        except Exception as exc:
            raise JsonRpcInvalidParams(f"Invalid arguments for {params.command}: {exc}") from None
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result


def _first_line(exc: BaseException) -> str:
    cause = exc.__cause__ or exc
    text = str(cause).strip().splitlines()
    return text[0] if text else type(cause).__name__
