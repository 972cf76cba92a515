"""Work-done progress for long work (`$/progress`), which the user can cancel from the editor.

`WorkDone` uses the client's own `workDoneToken` when a request carried one, else creates a token
with `window/workDoneProgress/create` when the client supports it, else reports nothing. Either way
a `window/workDoneProgress/cancel` for the token cancels the task that opened the progress, so
the model request behind it is aborted like a `$/cancelRequest` would.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from contextvars import ContextVar
from types import TracebackType
from typing import TYPE_CHECKING

from lsprotocol import types

if TYPE_CHECKING:
    from beastmode.lsp.server import BeastModeServer

log = logging.getLogger(__name__)
CREATE_TIMEOUT_SECONDS = 5.0
TAIL_CHARS = 80

# The `workDoneToken` of the executeCommand request being handled, when the protocol sets it.
command_work_done_token: ContextVar[str | int | None] = ContextVar(
    "command_work_done_token", default=None
)


def tail(text: str, limit: int = TAIL_CHARS) -> str:
    """The last `limit` characters of `text` on one line, for a progress message."""
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= limit else "…" + one_line[-(limit - 1) :]


class ReplyTail:
    """The tail of a growing reply for progress messages, at a constant cost per piece.

    Only the last `window` characters are kept, so a 1 MB reply is never re-split per delta
    (that made streaming quadratic: 164 s of CPU for 1 MB).
    """

    def __init__(self, limit: int = TAIL_CHARS, window: int = 16 * TAIL_CHARS) -> None:
        self._limit = limit
        self._window_chars = window
        self._window = ""
        self._cut = False

    def add(self, piece: str) -> None:
        """Append the next piece of the reply."""
        window = self._window + piece
        if len(window) > self._window_chars:
            window = window[-self._window_chars :]
            self._cut = True
        self._window = window

    def text(self) -> str:
        """What `tail` gives for the whole reply so far (the window holds enough of its end)."""
        shown = tail(self._window, self._limit)
        return (
            "…" + shown[-(self._limit - 1) :] if self._cut and not shown.startswith("…") else shown
        )


class WorkDone:
    """One piece of long work shown as work-done progress; `async with` it around the work."""

    def __init__(self, ls: BeastModeServer, title: str, token: str | int | None = None) -> None:
        self._ls = ls
        self.title = title
        self.token = token if token is not None else command_work_done_token.get()
        self._created = False

    def _client_supports_progress(self) -> bool:
        window = self._ls.client_capabilities.window
        return bool(window and window.work_done_progress)

    async def __aenter__(self) -> WorkDone:
        if self.token is None and self._client_supports_progress():
            token = f"beastmode-{uuid.uuid4().hex}"
            try:
                await asyncio.wait_for(
                    self._ls.work_done_progress.create_async(token), CREATE_TIMEOUT_SECONDS
                )
            except Exception as exc:  # progress is optional: work goes on without it
                log.info("window/workDoneProgress/create failed: %s", exc)
            else:
                self.token, self._created = token, True
        if self.token is None:
            return self
        self._ls.work_done_progress.begin(
            self.token, types.WorkDoneProgressBegin(title=self.title, cancellable=True)
        )
        self._link_cancel(asyncio.current_task())
        return self

    def _link_cancel(self, task: asyncio.Task[object] | None) -> None:
        future = self._ls.work_done_progress.tokens.get(self.token) if self.token else None
        if future is None or task is None:
            return
        loop = asyncio.get_running_loop()

        def cancelled(done: object) -> None:
            if future.cancelled():
                loop.call_soon_threadsafe(task.cancel)

        future.add_done_callback(cancelled)

    def report(self, message: str, percentage: int | None = None) -> None:
        """Show `message` (and a percentage, if known) in the editor's progress UI."""
        if self.token is None:
            return
        with contextlib.suppress(Exception):
            self._ls.work_done_progress.report(
                self.token,
                types.WorkDoneProgressReport(
                    message=message, percentage=percentage, cancellable=True
                ),
            )

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.token is None:
            return
        if exc_type is None:
            message = "Done"
        elif issubclass(exc_type, asyncio.CancelledError):
            message = "Cancelled"
        else:
            message = "Failed"
        with contextlib.suppress(Exception):
            self._ls.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=message))
        future = self._ls.work_done_progress.tokens.pop(self.token, None)
        if future is not None and not future.done():
            # Resolve it, so the cancel link above never fires for finished work.
            future.set_result(None)
