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
- Messages are checked whole before they are structured (pygls 2.1.1 structures every nested
  object that has a `jsonrpc` key, from the `json.loads` object hook, so a settings value could
  turn into a message). A request that is not valid JSON-RPC (no `"jsonrpc": "2.0"`, a method
  that is not a string, a batch) is answered with InvalidRequest (-32600); a notification method
  sent with an id is handled and answered with `null`; a malformed notification is logged on one
  line. pygls 2.1.1 left such requests unanswered, showed "Error in server" pop-ups and wrote a
  traceback for each one.
- A request that fails on purpose (a `JsonRpcException`, e.g. RequestFailed with a message for
  the user) is logged on one line: tracebacks in the log are kept for real bugs.
- Lifecycle and parsing to the letter of LSP / JSON-RPC: a body that is not JSON is answered with
  ParseError (-32700, `id: null`); a message nested deeper than `MAX_NESTING` is refused with
  InvalidRequest (pygls 2.1.1 hit the recursion limit and answered nothing); a request after
  `shutdown` is answered with InvalidRequest (pygls dropped it); `exit` ends the server with code 0
  after `shutdown` and 1 without (pygls's `sys.exit` was swallowed, so it was always 0).
"""

from __future__ import annotations

import contextlib
import inspect
import json
import logging
import re
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

import attrs
from lsprotocol import types
from lsprotocol.types import ResponseErrorMessage
from pygls.exceptions import (
    JsonRpcException,
    JsonRpcInternalError,
    JsonRpcInvalidParams,
    JsonRpcInvalidRequest,
    JsonRpcParseError,
    JsonRpcRequestCancelled,
)
from pygls.protocol import LanguageServerProtocol, lsp_method
from pygls.protocol.json_rpc import (
    JsonRPCNotification,
    JsonRPCRequestMessage,
    JsonRPCResponseMessage,
)
from pygls.protocol.language_server import _prepare_command_arguments

from beastmode.lsp.progress import command_work_done_token

if TYPE_CHECKING:
    from beastmode.lsp.server import BeastModeServer

log = logging.getLogger(__name__)
MAX_NESTING = 100  # far deeper than any LSP message; well inside Python's recursion limit
_ID_SCAN = re.compile(rb'"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|[{}\[\]:,]')


def handle_body(protocol: BeastModeProtocol, body: bytes) -> None:
    """Parse one message body and hand it to the protocol; every failure is answered or logged."""
    try:
        message = json.loads(body)
    except RecursionError:
        protocol.refuse_too_deep(_leading_id(body))
        return
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        log.warning("Answered a message that is not JSON with a parse error: %s", exc)
        protocol.send_parse_error(f"Parse error: the message is not valid JSON ({exc})")
        return
    try:
        protocol.handle_message(message)
    except Exception as exc:
        log.exception("Unable to handle message")
        protocol.beast.report_server_error(exc, JsonRpcException)


class BeastModeProtocol(LanguageServerProtocol):
    """LanguageServerProtocol with our document store, real cancels and answers to bad params."""

    def __init__(self, server: Any, converter: Any) -> None:
        super().__init__(server, converter)
        self.shutdown_requested = False
        self.exit_code: int | None = None

    @property
    def beast(self) -> BeastModeServer:
        """The server this protocol belongs to."""
        return self._server  # type: ignore[return-value]

    def structure_message(self, data: dict[str, Any]) -> Any:
        """Leave parsed JSON as it is: `handle_message` structures the whole message."""
        return data

    def handle_message(self, message: Any) -> None:
        """Check a parsed message, structure it, and answer requests that cannot be handled."""
        if isinstance(message, dict | list) and _nested_deeper_than(message, MAX_NESTING):
            self.refuse_too_deep(
                message["id"] if isinstance(message, dict) and _answerable_id(message) else None
            )
            return
        if not isinstance(message, dict):
            self._reject_non_object(message)
            return
        problem = _invalid_request(message)
        if problem is not None:
            if _answerable_id(message):
                self._send_response(
                    message["id"], error=JsonRpcInvalidRequest(problem).to_response_error()
                )
            else:
                log.warning("Ignoring an invalid JSON-RPC message: %s", problem)
            return
        method = message.get("method")
        after_shutdown = self.shutdown_requested and method != types.EXIT
        if isinstance(method, str) and "id" in message and after_shutdown:
            self._send_response(
                message["id"],
                error=JsonRpcInvalidRequest(
                    f"{method} was sent after shutdown: the server accepts only exit now"
                ).to_response_error(),
            )
            return
        if method == types.SHUTDOWN and "id" in message:
            self.shutdown_requested = True
        if isinstance(method, str) and "id" in message and self._is_notification(method):
            # A client bug: a notification with an id. Do the work and answer, so it never waits.
            msg_id = message["id"]
            self.handle_message({k: v for k, v in message.items() if k != "id"})
            self._send_response(msg_id, result=None)
            return
        try:
            structured = self._structure(message)
        except Exception as exc:
            if isinstance(method, str) and "id" in message:
                self._send_response(
                    message["id"],
                    error=JsonRpcInvalidParams(
                        f"Invalid params for {method}: {_first_line(exc)}"
                    ).to_response_error(),
                )
            else:
                log.warning("Ignoring malformed message %s: %s", method, _first_line(exc))
            return
        if not _ids_valid(structured):
            log.warning("Ignoring %s: its request id or token is not a string or integer", method)
            return
        super().handle_message(structured)

    def send_parse_error(self, reason: str) -> None:
        """Answer a body that is not JSON: ParseError with `id: null` (JSON-RPC 2.0)."""
        self._send_unaddressed_error(JsonRpcParseError(reason))

    def refuse_too_deep(self, msg_id: Any) -> None:
        """Answer a message nested deeper than `MAX_NESTING` with InvalidRequest."""
        log.warning("Refused a message nested deeper than %d levels", MAX_NESTING)
        error = JsonRpcInvalidRequest(f"The message is nested deeper than {MAX_NESTING} levels")
        if msg_id is None:
            self._send_unaddressed_error(error)
        else:
            self._send_response(msg_id, error=error.to_response_error())

    def _send_unaddressed_error(self, error: JsonRpcException) -> None:
        """An error response whose request id is unknown (`"id": null`, which pygls omits)."""
        response = error.to_response_error()
        self._send_data(
            {
                "jsonrpc": "2.0",
                "id": None,
                "error": {"code": response.code, "message": response.message},
            }
        )

    def _reject_non_object(self, message: Any) -> None:
        if isinstance(message, list):  # a JSON-RPC batch: LSP has none
            for item in message:
                if isinstance(item, dict) and "method" in item and _answerable_id(item):
                    self._send_response(
                        item["id"],
                        error=JsonRpcInvalidRequest(
                            "Batches are not supported by the Language Server Protocol"
                        ).to_response_error(),
                    )
        log.warning("Ignoring a JSON-RPC message that is not an object: %.80r", message)

    def _is_notification(self, method: str) -> bool:
        message_type = self.get_message_type(method)
        return (
            message_type is not None
            and attrs.has(message_type)
            and "id" not in attrs.fields_dict(message_type)
        )

    def _structure(self, data: dict[str, Any]) -> Any:
        """Structure one whole message as pygls 2.1.1 does, minus its logging."""
        if "id" in data:
            if "error" in data:
                return self._converter.structure(data, ResponseErrorMessage)
            if "method" in data:
                message_type = self.get_message_type(data["method"])
                if message_type is None:
                    return self._converter.structure(
                        {"params": None, **data}, JsonRPCRequestMessage
                    )
                return self._converter.structure(data, message_type)
            response_type = self._result_types.pop(data["id"], None) or JsonRPCResponseMessage
            return self._converter.structure(data, response_type)
        message_type = self.get_message_type(data.get("method", ""))
        if message_type is None:
            return self._converter.structure({"params": None, **data}, JsonRPCNotification)
        return self._converter.structure(data, message_type)

    def _check_handler_result(self, future: Future[Any]) -> None:
        """A notification handler failed: log it with its traceback (it is a bug), then report."""
        if not future.cancelled() and (exc := future.exception()) is not None:
            log.error("Notification handler failed", exc_info=exc)
        super()._check_handler_result(future)

    def _send_response(
        self, msg_id: Any, result: Any | None = None, error: types.ResponseError | None = None
    ) -> None:
        """Send a response; every error's message and data pass the server's redactor first."""
        if error is not None:
            redactor = self.beast.redactor
            error = types.ResponseError(
                code=error.code,
                message=redactor.redact(error.message),
                data=redactor.redact_data(error.data),
            )
        super()._send_response(msg_id, result=result, error=error)

    def _send_handler_result(self, future: Future[Any], *, msg_id: Any) -> None:
        """Answer a finished request; an intended error is logged without a traceback."""
        self._request_futures.pop(msg_id, None)
        if future.cancelled():
            cancelled = JsonRpcRequestCancelled(f'Request with id "{msg_id}" is canceled')
            self._send_response(msg_id, error=cancelled.to_response_error())
            return
        exc = future.exception()
        if exc is None:
            self._send_response(msg_id, result=future.result())
        elif isinstance(exc, JsonRpcException):
            log.info("Request %s failed: %s", msg_id, exc)
            self._send_response(msg_id, error=exc.to_response_error())
        else:
            log.error("Request %s failed", msg_id, exc_info=exc)
            error = JsonRpcInternalError(f"{type(exc).__name__}: {exc}")
            self._send_response(msg_id, error=error.to_response_error())

    def _user_handler(self, method: str) -> Callable[..., Any] | None:
        return self.fm.features.get(method)

    @lsp_method(types.EXIT)
    def lsp_exit(self, *args: Any) -> None:  # type: ignore[override]
        """End the session: exit code 0 after `shutdown`, 1 without (as LSP specifies)."""
        self.exit_code = 0 if self.shutdown_requested else 1
        stop = self.beast._stop_event
        if stop is not None:
            stop.set()

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams) -> None:
        """Track an opened document."""
        item = params.text_document
        if not item.uri:
            log.warning("Ignoring didOpen without a document URI")
            return
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
        # The handler sees only its arguments; the client's progress token travels beside them.
        command_work_done_token.set(params.work_done_token)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result


def _answerable_id(message: dict[str, Any]) -> bool:
    """Whether a message carries an id a response can be addressed to."""
    msg_id = message.get("id")
    return isinstance(msg_id, str | int | float) and not isinstance(msg_id, bool)


def _nested_deeper_than(value: dict[str, Any] | list[Any], limit: int) -> bool:
    """Whether parsed JSON nests objects/arrays more than `limit` levels (iteratively)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _leading_id(body: bytes) -> Any:
    """The top-level `id` of a body too deep to parse, if it comes before the deep part."""
    depth, key, expect_value = 0, None, False
    for match in _ID_SCAN.finditer(body):
        token = match.group()
        if token in (b"{", b"["):
            depth += 1
            if depth > MAX_NESTING:
                return None
        elif token in (b"}", b"]"):
            depth -= 1
        elif depth == 1 and token == b":":
            expect_value = key == b'"id"'
        elif depth == 1 and token != b",":
            if expect_value:
                with contextlib.suppress(ValueError):
                    found = json.loads(token)
                    if isinstance(found, str | int) and not isinstance(found, bool):
                        return found
                return None
            key = token
        expect_value = expect_value and token == b":"
    return None


def _ids_valid(message: Any) -> bool:
    """Whether the id a cancel names, or a progress token, is a string or an integer.

    cattrs lets an object or a list through as `int | str`; pygls then fails hashing it.
    """
    params = getattr(message, "params", None)
    if isinstance(message, types.CancelNotification):
        value = getattr(params, "id", None)
    elif isinstance(message, types.WorkDoneProgressCancelNotification | types.ProgressNotification):
        value = getattr(params, "token", None)
    else:
        return True
    return isinstance(value, str | int) and not isinstance(value, bool)


def _invalid_request(message: dict[str, Any]) -> str | None:
    """Why a message is not valid JSON-RPC 2.0 (None when it is)."""
    if message.get("jsonrpc") != "2.0":
        return 'Not a JSON-RPC 2.0 message: "jsonrpc" must be "2.0"'
    if "id" in message and not (_answerable_id(message) or message["id"] is None):
        return "The id must be a string or an integer"
    if "method" in message and not isinstance(message["method"], str):
        return "The method must be a string"
    if "method" not in message and "id" not in message:
        return "Neither a request, a notification nor a response"
    return None


def _first_line(exc: BaseException) -> str:
    cause = exc.__cause__ or exc
    text = str(cause).strip().splitlines()
    return text[0] if text else type(cause).__name__
