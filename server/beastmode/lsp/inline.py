"""Inline completion (`textDocument/inlineCompletion`) and completion items for older clients.

Thin: turn LSP params into an `InlineRequest`, run `completion.pipeline`, convert back. The
handler owns the timing rules: an answer from the typed-through cache goes out at once; otherwise
it waits out the adaptive debounce (never for an explicitly invoked request), and a newer request
for the same document supersedes the older one, which then answers with an empty result.

Nothing per keystroke costs more than the keystroke itself: other documents are re-indexed for
cross-file snippets in a worker thread once their typing pauses (a 10,000-line document takes
10-50 ms to index), and the status notification and the upstream connection's close wait until
the answer has been written.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from beastmode.completion.debounce import AdaptiveDebounce
from beastmode.errors import AllModelsFailed, BeastModeError, DecryptionError
from beastmode.secrets import is_secret_file

if TYPE_CHECKING:
    from beastmode.completion.pipeline import InlinePipeline, InlineRequest, InlineSuggestion
    from beastmode.lsp.documents import Document
    from beastmode.lsp.server import BeastModeServer

log = logging.getLogger("beastmode")
PREFIX_LINES = 300
SNIPPET_INDEX_DELAY_SECONDS = 0.5
"""A changed document is re-indexed for snippets once its typing has paused this long."""
SNIPPET_FIRST_INDEX_WAIT_SECONDS = 0.25
"""How long a request waits for documents just opened to be indexed (then goes without them)."""
MAX_SNIPPET_DOCUMENT_LINES = 20_000
MAX_CONCURRENT_SUGGESTIONS = 6
SUFFIX_LINES = 80
ACCEPT_COMMAND = "beastmode.didAcceptCompletion"


class InlineFeature:
    """Per-server state of inline completion: pipeline, debounce, in-flight requests."""

    def __init__(self, server: BeastModeServer) -> None:
        self.server = server
        self._pipeline: InlinePipeline | None = None
        # The default until the first request reads the settings (not at startup: see features.py).
        self._debounce_setting: str | float = "auto"
        self.debounce = AdaptiveDebounce(self._debounce_setting)
        self._inflight: dict[str, asyncio.Task[object]] = {}
        self._superseded: set[asyncio.Task[object]] = set()
        self._index_timers: dict[str, asyncio.TimerHandle] = {}
        self._indexing: dict[str, asyncio.Future[None]] = {}
        self._first_indexing: set[asyncio.Future[None]] = set()
        # At most this many suggestions in flight at once: an editor has one per document, and
        # a burst beyond that would only queue at the model while its answers, arriving together,
        # hold up the event loop.
        self._upstream_slots = asyncio.Semaphore(MAX_CONCURRENT_SUGGESTIONS)
        server.document_listeners.append(self.document_changed)

    @property
    def pipeline(self) -> InlinePipeline | None:
        """The pipeline, once `load_pipeline` has made it (None before, or without a router)."""
        return self._pipeline

    async def load_pipeline(self) -> InlinePipeline | None:
        """Make the pipeline on first use, importing it off the event loop."""
        if self._pipeline is None and self.server.router is not None:
            from beastmode.lsp.features import load

            module = await load("beastmode.completion.pipeline")
            root = self.server.workspace_root
            self._pipeline = module.InlinePipeline(
                self.server.router,
                workspace_root=str(root) if root else None,
                secrets=self.server.secrets,
            )
            for document in self.server.documents:
                self._index_soon(document.uri, delay=0)
        return self._pipeline

    def document_changed(self, uri: str) -> None:
        """Keystroke bookkeeping: the debounce's cadence; snippets re-indexed when typing pauses."""
        self.debounce.record_keystroke(uri, time.monotonic())
        pipeline = self._pipeline
        if self.server.documents.get(uri) is None:
            timer = self._index_timers.pop(uri, None)
            if timer is not None:
                timer.cancel()
            if pipeline is not None:
                pipeline.snippets.remove(uri)
                pipeline.cache.forget(uri)
        elif pipeline is not None:
            known = uri in pipeline.snippets or uri in self._indexing
            self._index_soon(uri, delay=SNIPPET_INDEX_DELAY_SECONDS if known else 0)

    def _index_soon(self, uri: str, *, delay: float) -> None:
        """(Re)index a document for snippets after `delay` seconds, in a worker thread."""
        if is_secret_file(uri):
            return  # never a snippet source
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop (unit use): index on the next request's loop
            return
        timer = self._index_timers.pop(uri, None)
        if timer is not None:
            timer.cancel()
        if delay > 0:
            self._index_timers[uri] = loop.call_later(delay, self._index_now, uri)
        else:
            self._index_now(uri)

    def _index_now(self, uri: str) -> None:
        self._index_timers.pop(uri, None)
        pipeline, document = self._pipeline, self.server.documents.get(uri)
        if pipeline is None or document is None:
            return
        if uri in self._indexing:  # one indexing per document at a time: come back after it
            self._index_soon(uri, delay=SNIPPET_INDEX_DELAY_SECONDS)
            return
        if document.line_count >= MAX_SNIPPET_DOCUMENT_LINES:
            pipeline.snippets.remove(uri)
            return
        first = uri not in pipeline.snippets
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(None, pipeline.snippets.update, uri, document.text)
        self._indexing[uri] = future
        if first:
            self._first_indexing.add(future)
        future.add_done_callback(lambda done: self._indexed(uri, done))

    def _indexed(self, uri: str, future: asyncio.Future[None]) -> None:
        self._indexing.pop(uri, None)
        self._first_indexing.discard(future)
        if not future.cancelled() and future.exception() is not None:
            log.error("Could not index %s for snippets", uri, exc_info=future.exception())
        if self.server.documents.get(uri) is None and self._pipeline is not None:
            self._pipeline.snippets.remove(uri)  # closed while it was being indexed

    async def _first_indexes(self) -> None:
        """Give documents just opened a moment to become snippet sources."""
        if self._first_indexing:
            await asyncio.wait(set(self._first_indexing), timeout=SNIPPET_FIRST_INDEX_WAIT_SECONDS)

    async def suggest(
        self, uri: str, position: types.Position, invoked: bool
    ) -> InlineSuggestion | None:
        """The suggestion at `position`, honouring cache, debounce and supersession."""
        server = self.server
        pipeline = await self.load_pipeline() if server.settings.inline.enabled else None
        if pipeline is None:
            if server.setup_error:
                server.show_once("setup", f"BEAST MODE: {server.setup_error}")
            return None
        document = server.documents.get(uri)
        if document is None:
            return None
        request = inline_request(document, position)
        cached = pipeline.cached(request)
        if cached is not None:
            return cached
        task = asyncio.current_task()
        assert task is not None
        previous = self._inflight.get(uri)
        if previous is not None and previous is not task and not previous.done():
            self._superseded.add(previous)
            previous.cancel()
        self._inflight[uri] = task
        try:
            if self._debounce_setting != server.settings.inline.debounce_ms:
                self._debounce_setting = server.settings.inline.debounce_ms
                self.debounce = AdaptiveDebounce(self._debounce_setting)
            chain = server.chain_for("completion")
            # The local engine answers in well under a millisecond and costs nothing: no debounce.
            if not invoked and chain[0] != "local":
                version = document.version
                # Sleep until the typing pauses: keystrokes during the wait extend it.
                while (delay := self.debounce.delay_seconds(uri, time.monotonic())) > 0:
                    await asyncio.sleep(delay)
                if document.version != version:
                    return None  # typed on without the editor asking again: nothing to show
            await self._first_indexes()
            if chain and chain[0] == "local":
                await server.engine_caught_up(uri)  # a document just opened is learned first
            async with self._upstream_slots:
                return await self._ask(request, chain)
        except asyncio.CancelledError:
            if task in self._superseded:
                self._superseded.discard(task)
                return None
            raise
        finally:
            if self._inflight.get(uri) is task:
                del self._inflight[uri]

    async def _ask(self, request: InlineRequest, chain: list[str]) -> InlineSuggestion | None:
        assert self.pipeline is not None
        server = self.server
        try:
            suggestion = await self.pipeline.suggest(
                request,
                chain=chain,
                timeouts=server.timeouts_for("completion"),
                multiline=server.settings.inline.multiline,
            )
        except AllModelsFailed as exc:
            for attempt in exc.attempts:
                if isinstance(attempt.error, DecryptionError):
                    server.show_once(f"decrypt:{attempt.model_ref}", f"BEAST MODE: {attempt.error}")
            server.notify_status(None, None, True, str(exc))
            server.log_to_client(f"Inline suggestion failed: {exc}")
            return None
        except BeastModeError as exc:
            server.notify_status(None, None, True, str(exc))
            server.log_to_client(f"Inline suggestion failed: {exc}")
            return None
        if suggestion is not None:
            # The status bar can wait, the ghost text cannot.
            after_response(
                server.notify_status,
                suggestion.model_ref,
                suggestion.latency_ms,
                suggestion.fell_back,
            )
        return suggestion


def after_response(callback: Callable[..., Any], *args: Any) -> None:
    """Run `callback` once the current request's answer has been written.

    The answer goes out from a done-callback of the request's task, scheduled when the task
    finishes; a plain `call_soon` from inside the task would run before it, so hop twice.
    """
    loop = asyncio.get_running_loop()
    loop.call_soon(loop.call_soon, callback, *args)


def inline_request(document: Document, position: types.Position) -> InlineRequest:
    """Windows of the document around `position` (never the whole text)."""
    from beastmode.completion.pipeline import InlineRequest

    line, index = document.clamp(position.line, position.character)
    text = document.line(line)
    start_line = max(0, line - PREFIX_LINES)
    before = document.lines(start_line, line)
    after = document.lines(line + 1, line + 1 + SUFFIX_LINES)
    prefix = "".join(f"{row}\n" for row in before) + text[:index]
    suffix = text[index:] + "".join(f"\n{row}" for row in after)
    indent = text[: len(text) - len(text.lstrip())]
    path = document.uri.removeprefix("file://") if document.uri.startswith("file://") else None
    return InlineRequest(
        uri=document.uri,
        language=document.language_id,
        file_path=path,
        prefix=prefix,
        prefix_offset=document.offset_at(start_line, 0),
        suffix=suffix,
        line_prefix=text[:index],
        line_suffix=text[index:],
        indent=indent,
    )


def _accept_command(suggestion: InlineSuggestion) -> types.Command | None:
    if suggestion.request_id is None:
        return None
    return types.Command(
        title="Accept BEAST MODE suggestion",
        command=ACCEPT_COMMAND,
        arguments=[{"id": suggestion.request_id}],
    )


def attach(server: BeastModeServer) -> InlineFeature:
    """Give `server` its inline completion state (it starts following keystrokes at once)."""
    feature = InlineFeature(server)
    server.inline = feature
    return feature


async def inline_completion(
    ls: BeastModeServer, params: types.InlineCompletionParams
) -> types.InlineCompletionList:
    """`textDocument/inlineCompletion`: the suggestion as ghost text."""
    feature = ls.inline
    invoked = params.context.trigger_kind == types.InlineCompletionTriggerKind.Invoked
    suggestion = await feature.suggest(params.text_document.uri, params.position, invoked)
    if suggestion is None:
        return types.InlineCompletionList(items=[])
    item = types.InlineCompletionItem(
        insert_text=suggestion.text,
        range=types.Range(start=params.position, end=params.position),
        command=_accept_command(suggestion),
    )
    return types.InlineCompletionList(items=[item])


async def completion(ls: BeastModeServer, params: types.CompletionParams) -> types.CompletionList:
    """`textDocument/completion`: the suggestion as an item, for clients without inline."""
    feature = ls.inline
    wanted = ls.settings.inline.completion_items
    has_inline = bool(
        ls.client_capabilities.text_document
        and ls.client_capabilities.text_document.inline_completion
    )
    if wanted is False or (wanted == "auto" and has_inline):
        return types.CompletionList(is_incomplete=False, items=[])
    invoked = params.context is None or (
        params.context.trigger_kind == types.CompletionTriggerKind.Invoked
    )
    suggestion = await feature.suggest(params.text_document.uri, params.position, invoked)
    if suggestion is None:
        return types.CompletionList(is_incomplete=True, items=[])
    first_line = suggestion.text.splitlines()[0] if suggestion.text.strip() else suggestion.text
    item = types.CompletionItem(
        label=first_line.strip() or suggestion.text.strip(),
        kind=types.CompletionItemKind.Text,
        detail=f"BEAST MODE ({suggestion.model_ref})",
        sort_text="0",
        filter_text=first_line.strip(),
        text_edit=types.TextEdit(
            range=types.Range(start=params.position, end=params.position),
            new_text=suggestion.text,
        ),
        insert_text_format=types.InsertTextFormat.PlainText,
        command=_accept_command(suggestion),
    )
    return types.CompletionList(is_incomplete=True, items=[item])
