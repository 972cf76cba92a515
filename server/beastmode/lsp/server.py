"""The BEAST MODE language server: state, lifecycle, settings, and the features it registers.

`build_server()` makes a fresh `BeastModeServer` and registers every feature through
`lsp/features.py`, whose handlers import their implementations on first use. The registry, the
router and their dependencies (httpx, cryptography, SQLite) open once `initialized` arrives, so
`initialize` is answered after little more than pygls and lsprotocol have loaded. Everything
model-related is delegated to the router, completion and generation packages.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import unquote, urlsplit

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from beastmode import __version__
from beastmode.errors import BeastModeError
from beastmode.lsp.documents import DocumentStore
from beastmode.lsp.protocol import BeastModeProtocol
from beastmode.router.chains import build_chain
from beastmode.router.timeouts import Timeouts

if TYPE_CHECKING:
    from beastmode.lsp.inline import InlineFeature
    from beastmode.registry import Registry
    from beastmode.router import Router
    from beastmode.settings import Settings
    from beastmode.usage import UsageRecorder

log = logging.getLogger("beastmode")
STATUS_NOTIFICATION = "beastmode/status"
ENGINE_UPDATE_DELAY_SECONDS = 0.75
# A document the engine has not seen is learned at once, before its first suggestion: on the event
# loop when this small (the request after didOpen then sees it), else in a thread right away.
SYNC_LEARN_MAX_BYTES = 16_000
# Loaded right after `initialized` (see _warm_imports); httpcore imports the anyio ones lazily
# on its first request, which would otherwise land on the first keystroke.
WARM_MODULES = (
    "anyio._backends._asyncio",
    "anyio._core._synchronization",
    "anyio.lowlevel",
    "httpcore._synchronization",
    "sniffio",
    "beastmode.completion.pipeline",
    "beastmode.lsp.actions",
    "beastmode.lsp.commands",
)


class BeastModeServer(LanguageServer):
    """The language server and everything it holds: documents, settings, registry and router."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        super().__init__("beastmode", __version__, protocol_cls=BeastModeProtocol)
        self.environ = dict(os.environ if environ is None else environ)
        self.documents = DocumentStore()
        self._settings: Settings | None = None
        self.initialization_options: Any = None
        self.settings_pushes = 0  # didChangeConfiguration pushes so far (newer than a pull)
        self.workspace_root: Path | None = None
        self.setup_error: str | None = None
        self.registry: Registry | None = None
        self.usage: UsageRecorder | None = None
        self.router: Router | None = None
        self.engine: Any = None
        self.inline: InlineFeature
        self._shown_messages: set[str] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._engine_timers: dict[str, asyncio.TimerHandle] = {}
        self._engine_known: set[str] = set()  # open documents the engine has learned once
        self._scan_stop = threading.Event()
        self.document_listeners: list[Any] = []
        self._recent_documents: dict[str, None] = {}

    @property
    def settings(self) -> Settings:
        """The current settings (defaults until `initialized` has applied the client's)."""
        if self._settings is None:
            from beastmode.settings import Settings

            self._settings = Settings()
        return self._settings

    def open_core(self) -> None:
        """Open the registry, usage recorder and router (once; errors become `setup_error`)."""
        if self.router is not None or self.setup_error is not None:
            return
        self.apply_settings(self.initialization_options)  # report bad settings even if this fails
        from beastmode.registry import Registry
        from beastmode.router import Router
        from beastmode.usage import UsageRecorder

        try:
            self.registry = Registry.open(self.environ)
            self.usage = UsageRecorder(self.registry.path)
            self.router = Router(
                self.registry,
                self.usage,
                environ=self.environ,
                baseline_price_per_1k=self.settings.usage.baseline_price_per_1k,
            )
        except BeastModeError as exc:
            self.setup_error = str(exc)
            log.error("BEAST MODE cannot open its registry: %s", exc)
            return
        self.apply_settings(self.initialization_options)

    def report_server_error(self, error: Exception, source: Any) -> None:
        """Log protocol-level errors (an unparseable message, say) instead of a pop-up.

        pygls shows "Error in server" for these; the editor cannot act on them and a broken
        client could flood the user with them. Failures that matter reach the user through the
        request that failed or `show_once`.
        """
        log.warning("Ignored a message the server could not handle: %s", error)

    # Background work -------------------------------------------------------------------------

    def spawn(self, coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run a coroutine in the background, keeping a reference and logging its failure."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)

        def done(finished: asyncio.Task[Any]) -> None:
            self._tasks.discard(finished)
            if not finished.cancelled() and finished.exception() is not None:
                log.error("Background task failed", exc_info=finished.exception())

        task.add_done_callback(done)
        return task

    # Messages --------------------------------------------------------------------------------

    def log_to_client(
        self, message: str, level: types.MessageType = types.MessageType.Info
    ) -> None:
        """Log to stderr and to the client's output panel (`window/logMessage`)."""
        log.log(logging.WARNING if level <= types.MessageType.Warning else logging.INFO, message)
        with contextlib.suppress(Exception):  # no client connected (unit use)
            self.window_log_message(types.LogMessageParams(type=level, message=message))

    def show_once(
        self, key: str, message: str, level: types.MessageType = types.MessageType.Warning
    ) -> None:
        """Show a setup problem with `window/showMessage` the first time only."""
        self.log_to_client(message, level)
        if key in self._shown_messages:
            return
        self._shown_messages.add(key)
        with contextlib.suppress(Exception):
            self.window_show_message(types.ShowMessageParams(type=level, message=message))

    def notify_status(
        self,
        model: str | None,
        latency_ms: float | None,
        fell_back: bool,
        message: str | None = None,
    ) -> None:
        """Send `beastmode/status` so an editor's status bar can show the active model."""
        with contextlib.suppress(Exception):
            self.protocol.notify(
                STATUS_NOTIFICATION,
                {
                    "model": model,
                    "latencyMs": latency_ms,
                    "fellBack": fell_back,
                    "message": message,
                },
            )

    # Settings and models ---------------------------------------------------------------------

    def apply_settings(self, raw: Any, *, base: Any = None) -> None:
        """Validate and adopt new settings, telling the user about anything ignored.

        `base` (the initializationOptions) is what `raw` is laid over: a client whose
        workspace/configuration answers `{}` does not wipe settings given at initialize.
        """
        from beastmode.settings import parse_settings

        settings, problems = parse_settings(_deep_merge(_unwrap(base), _unwrap(raw)))
        for problem in problems:
            self.show_once(f"setting:{problem}", problem)
        if self.router is None:  # the registry is not open yet: open_core() checks the models
            self._settings = settings
            return
        self.router.set_baseline_price(settings.usage.baseline_price_per_1k)
        registered = set(self.router.catalog.registered())
        for task, ref in [("model", settings.model), *settings.models.model_dump().items()]:
            if ref and ref.startswith("custom:") and ref.removeprefix("custom:") not in registered:
                self.show_once(
                    f"unregistered:{ref}",
                    f"Setting beastmode.{'model' if task == 'model' else 'models.' + task} names "
                    f"{ref}, which is not registered, so it is ignored. Register it with "
                    "`beastmode models add` or the command BEAST MODE: Register Custom Model.",
                )
                if task == "model":
                    settings = settings.model_copy(update={"model": None})
                else:
                    settings = settings.model_copy(
                        update={"models": settings.models.model_copy(update={task: None})}
                    )
        if settings.fallback:
            kept = [ref for ref in settings.fallback if _is_usable(ref, registered)]
            for ref in settings.fallback:
                if ref not in kept:
                    self.show_once(
                        f"unregistered:{ref}",
                        f"Setting beastmode.fallback names {ref}, which is not registered, so it "
                        "is skipped. Register it with `beastmode models add`.",
                    )
            settings = settings.model_copy(update={"fallback": kept})
        self._settings = settings

    def chain_for(self, task: str, override: str | None = None) -> list[str]:
        """The model chain for a task: an explicit choice, settings, stored defaults, fallback."""
        defaults = self.router.catalog.defaults() if self.router else {}
        return build_chain(
            task,
            task_model=override or getattr(self.settings.models, task, None),
            default_model=self.settings.model,
            stored_defaults=defaults,
            fallback=self.settings.fallback,
            environ=self.environ,
        )

    def timeouts_for(self, task: str) -> Timeouts:
        """Deadlines for a task: the short completion budget, or the generation budget."""
        if task == "completion":
            budget = self.settings.timeouts.completion_ms / 1000
            # Half the budget to the first token, so a dead model leaves time for the next one.
            return Timeouts(
                attempt_seconds=budget,
                first_token_seconds=max(0.25, budget / 2),
                chain_seconds=budget,
            )
        budget = self.settings.timeouts.generation_ms / 1000
        return Timeouts(attempt_seconds=budget, first_token_seconds=min(60.0, budget))

    # Documents and the local engine ----------------------------------------------------------

    def active_document(self) -> str | None:
        """The open document the user touched last (chat's default context)."""
        return next(reversed(self._recent_documents), None)

    def on_document_changed(self, uri: str) -> None:
        """A document opened or changed: learn it now if the engine is new to it, else later."""
        self._recent_documents.pop(uri, None)
        self._recent_documents[uri] = None
        for listener in self.document_listeners:
            listener(uri)
        if self.engine is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        timer = self._engine_timers.pop(uri, None)
        if timer is not None:
            timer.cancel()
        if uri not in self._engine_known:
            self._engine_known.add(uri)
            document = self.documents.get(uri)
            if document is not None and len(document.text) <= SYNC_LEARN_MAX_BYTES:
                self.engine.update_document(uri, document.text)
            else:
                self._learn_document(uri)
            return
        self._engine_timers[uri] = loop.call_later(
            ENGINE_UPDATE_DELAY_SECONDS, self._learn_document, uri
        )

    def _learn_document(self, uri: str) -> None:
        self._engine_timers.pop(uri, None)
        document = self.documents.get(uri)
        if document is not None and self.engine is not None:
            self.spawn(self._learn_off_loop(uri, document.text))

    async def _learn_off_loop(self, uri: str, text: str) -> None:
        # Learning a big file takes a while: keep it off the event loop (the typing path).
        await asyncio.to_thread(self.engine.update_document, uri, text)
        # The engine's tables are long-lived: take them out of the collector's full passes,
        # which otherwise pause the server for tens of milliseconds now and then.
        gc.freeze()

    def on_document_closed(self, uri: str) -> None:
        """A document closed: stop pending work for it."""
        self._recent_documents.pop(uri, None)
        self._engine_known.discard(uri)
        timer = self._engine_timers.pop(uri, None)
        if timer is not None:
            timer.cancel()
        for listener in self.document_listeners:
            listener(uri)

    def start_local_engine(self) -> None:
        """Create the embedded engine and learn the workspace in a background thread."""
        try:
            from beastmode.localengine import LocalEngine, scan_workspace
        except ImportError:  # pragma: no cover - the engine ships with the package
            return
        self.engine = LocalEngine()
        if self.router is not None:
            self.router.catalog.set_engine(_EngineAdapter(self.engine, self.active_document))
        for document in self.documents:
            self._engine_known.add(document.uri)
            self._learn_document(document.uri)
        root = self.workspace_root
        if root is None:
            return

        def scan() -> None:
            started = time.monotonic()
            result = scan_workspace(str(root), self.engine, should_stop=self._scan_stop.is_set)
            log.info("Local engine learned %s in %.1f s", result, time.monotonic() - started)
            gc.freeze()

        threading.Thread(target=scan, name="beastmode-scan", daemon=True).start()

    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        """Serve LSP over stdio with non-blocking pipes (see `lsp/transport.py`)."""
        from beastmode.lsp.transport import serve_stdio

        serve_stdio(self, stdin or sys.stdin.buffer, stdout or sys.stdout.buffer)

    async def close(self) -> None:
        """Release connections and finish writing usage."""
        self._scan_stop.set()
        if self.router is not None:
            await self.router.aclose()
        if self.usage is not None:
            self.usage.close()


def _warm_imports() -> None:
    """Load what the first suggestion and code action need before the user gets there.

    Run on the loop right after `initialized`: a one-off pause of a few tens of milliseconds
    before anyone types, instead of one inside the first keystroke's request (an import in a
    worker thread still holds the GIL while it compiles, so a thread would not avoid it).
    """
    for name in WARM_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:  # another httpcore/anyio layout: that module just loads later
            log.debug("Could not preload %s", name)


def _is_usable(ref: str, registered: set[str]) -> bool:
    return not ref.startswith("custom:") or ref.removeprefix("custom:") in registered


def _unwrap(raw: Any) -> Any:
    if isinstance(raw, dict) and isinstance(raw.get("beastmode"), dict):
        return raw["beastmode"]
    return raw


def _deep_merge(base: Any, override: Any) -> Any:
    if not isinstance(base, dict) or not isinstance(override, dict):
        return override if override is not None else base
    merged = dict(base)
    for key, value in override.items():
        merged[key] = _deep_merge(base.get(key), value)
    return merged


class _EngineAdapter:
    """Presents the local engine as the router's `CompletionEngine`.

    The engine weighs the document being edited above the rest and keeps that document's
    half-typed line from voting for its own end, but only when told which document it is. The
    router's request does not carry it, so the document the user touched last stands in: a
    suggestion is asked for where the user is typing.
    """

    def __init__(self, engine: Any, active_document: Callable[[], str | None]) -> None:
        self._engine = engine
        self._active_document = active_document

    def complete_line(self, prefix: str, suffix: str) -> str | None:
        suggestion = self._engine.suggest(prefix, suffix, uri=self._active_document())
        return suggestion.text if suggestion is not None else None


def uri_to_path(uri: str) -> Path | None:
    """The filesystem path of a `file:` URI, or None."""
    parts = urlsplit(uri)
    if parts.scheme != "file":
        return None
    return Path(unquote(parts.path))


def build_server(environ: Mapping[str, str] | None = None) -> BeastModeServer:
    """A new server with every feature registered."""
    from beastmode.lsp import features

    server = BeastModeServer(environ)

    @server.feature(types.INITIALIZE)
    def initialize(ls: BeastModeServer, params: types.InitializeParams) -> None:
        folders = params.workspace_folders or []
        root_uri = folders[0].uri if folders else params.root_uri
        ls.workspace_root = uri_to_path(root_uri) if root_uri else None
        # Settings are validated in `initialized` (open_core), after this answer has gone out.
        ls.initialization_options = params.initialization_options

    @server.feature(types.INITIALIZED)
    def initialized(ls: BeastModeServer, params: types.InitializedParams) -> None:
        ls.open_core()
        if ls.setup_error:
            ls.show_once("setup", f"BEAST MODE: {ls.setup_error}", types.MessageType.Error)
        ls.start_local_engine()
        ls.spawn(pull_configuration(ls))
        asyncio.get_running_loop().call_soon(_warm_imports)
        if ls.router is not None and not ls.router.catalog.registered() and not ls.settings.model:
            ls.show_once(
                "no-model",
                "BEAST MODE: no model registered yet, so suggestions come from the built-in local "
                "engine. Register your model with the command BEAST MODE: Register Custom Model "
                "or `beastmode models add --id my-model --endpoint URL`.",
                types.MessageType.Info,
            )

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(
        ls: BeastModeServer, params: types.DidChangeConfigurationParams
    ) -> None:
        settings = params.settings
        if isinstance(settings, dict) and settings:
            ls.settings_pushes += 1
            ls.apply_settings(settings, base=ls.initialization_options)
        else:
            ls.spawn(pull_configuration(ls))

    @server.feature(types.SHUTDOWN)
    async def shutdown(ls: BeastModeServer, *args: Any) -> None:
        await ls.close()

    features.register(server)
    return server


async def pull_configuration(ls: BeastModeServer) -> None:
    """Ask the client for the `beastmode` section, if it supports workspace/configuration."""
    workspace = ls.client_capabilities.workspace
    if not (workspace and workspace.configuration):
        return
    asked_at = ls.settings_pushes
    try:
        result = await asyncio.wait_for(
            ls.workspace_configuration_async(
                types.ConfigurationParams(items=[types.ConfigurationItem(section="beastmode")])
            ),
            timeout=10,
        )
    except Exception as exc:
        log.info("workspace/configuration failed: %s", exc)
        return
    if ls.settings_pushes != asked_at:
        return  # settings pushed while we waited are newer than this answer
    if result and result[0] is not None:
        ls.apply_settings(result[0], base=ls.initialization_options)
