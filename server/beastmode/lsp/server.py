"""The BEAST MODE language server: state, lifecycle, settings, and the features it registers.

`build_server()` makes a fresh `BeastModeServer` and registers every feature through
`lsp/features.py`, whose handlers import their implementations on first use. The router and its
dependencies (httpx, cryptography) load once `initialized` arrives, so `initialize` is answered
after little more than pygls and lsprotocol have loaded. The registry and usage database open in
a worker thread (`run_storage`), like every later SQLite access: a locked, slow or broken disk
never holds up the event loop, and without a registry `local` and provider models still work.
Everything model-related is delegated to the router, completion and generation packages.
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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar
from urllib.parse import unquote, urlsplit

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from beastmode import __version__
from beastmode.errors import BeastModeError, StorageError
from beastmode.guard import WorkspaceGuard
from beastmode.lsp.action_regions import RegionCache
from beastmode.lsp.documents import DocumentStore
from beastmode.lsp.protocol import BeastModeProtocol
from beastmode.lsp.settings_notice import UnregisteredModel, settings_log, settings_notice
from beastmode.redaction import Redactor
from beastmode.router.chains import build_chain
from beastmode.router.timeouts import Timeouts
from beastmode.secrets import WorkspaceSecrets

if TYPE_CHECKING:
    from beastmode.lsp.inline import InlineFeature
    from beastmode.registry import Registry
    from beastmode.router import Router
    from beastmode.settings import Settings
    from beastmode.usage import UsageRecorder

log = logging.getLogger("beastmode")
Result = TypeVar("Result")
STATUS_NOTIFICATION = "beastmode/status"
ENGINE_UPDATE_DELAY_SECONDS = 0.75
# A document the engine has not seen is learned at once, and a `local` suggestion in it waits up
# to this long for that (a 50 kB document takes tens of milliseconds, a 1 MB one about a second).
FIRST_LEARN_WAIT_SECONDS = 2.0
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
        # Every text the server sends out passes through this one redactor; it learns the key
        # file in open_core and each stored key as the catalog decrypts it.
        self.redactor = Redactor.from_environment(self.environ)
        self.documents = DocumentStore()
        self.region_cache = RegionCache()
        self._settings: Settings | None = None
        self.initialization_options: Any = None
        self.settings_pushes = 0  # didChangeConfiguration pushes so far (newer than a pull)
        self.workspace_root: Path | None = None  # the first workspace folder
        self.guard = WorkspaceGuard(())  # every workspace folder, once `initialize` names them
        self.setup_error: str | None = None
        self.registry: Registry | None = None
        self.usage: UsageRecorder | None = None
        self.router: Router | None = None
        self.engine: Any = None
        self.inline: InlineFeature
        self._shown_messages: set[str] = set()
        self._named_problems: set[str] = set()  # settings problems already told to the user
        self._named_models: set[str] = set()  # unregistered model refs already named
        self._tasks: set[asyncio.Task[Any]] = set()
        self._engine_timers: dict[str, asyncio.TimerHandle] = {}
        self._engine_known: set[str] = set()  # open documents the engine has learned once
        self._first_learning: dict[str, asyncio.Future[None]] = {}
        # Every engine update runs in this one thread, in order: a document closed then reopened
        # is forgotten before it is learned again, never after.
        self._engine_executor = ThreadPoolExecutor(1, thread_name_prefix="beastmode-learn")
        self._scan_stop = threading.Event()
        self.document_listeners: list[Any] = []
        self._recent_documents: dict[str, None] = {}
        # Registry and usage calls wait here, not in the default pool: a registry locked by
        # another process for 30 s ties up these threads only.
        self._storage_executor = ThreadPoolExecutor(2, thread_name_prefix="beastmode-storage")
        self._storage_opened: asyncio.Task[None] | None = None
        self._settings_input: tuple[Any, Any] = (None, None)
        # Settings problems are announced once the registered models are known (or known to be
        # unavailable), so one message covers them all.
        self._models_known = False
        self.secrets = WorkspaceSecrets()

    @property
    def settings(self) -> Settings:
        """The current settings (defaults until `initialized` has applied the client's)."""
        if self._settings is None:
            from beastmode.settings import Settings

            self._settings = Settings()
        return self._settings

    def open_core(self) -> None:
        """Make the router, and start opening the registry and usage recorder off the loop.

        The router works at once for `local` and provider models; registered models join when
        the registry is open. If it cannot be opened, `setup_error` says why (shown once).
        """
        if self.router is not None:
            return
        self.apply_settings(self.initialization_options, announce=False)  # for the router
        from beastmode.router import Router

        self.router = Router(
            None,
            None,
            environ=self.environ,
            baseline_price_per_1k=self.settings.usage.baseline_price_per_1k,
            redactor=self.redactor,
        )
        self.router.catalog.expect_registry()
        self._storage_opened = self.spawn(self._open_storage())

    async def _open_storage(self) -> None:
        from beastmode.registry import Registry
        from beastmode.usage import UsageRecorder

        assert self.router is not None
        try:
            registry = await self.run_storage(Registry.open, self.environ)
        except BeastModeError as exc:
            self.setup_error = str(exc)
            log.error("BEAST MODE cannot open its registry: %s", exc)
            await self.router.catalog.attach(None)
            self.show_once("setup", f"BEAST MODE: {exc}", types.MessageType.Error)
            self._models_known = True
            raw, base = self._settings_input
            self.apply_settings(raw, base=base)  # one message for what the settings get wrong
            return
        self.registry = registry
        self.usage = UsageRecorder(registry.path, retention_days=self.settings.usage.retention_days)
        self.router.registry = registry
        self.router.usage = self.usage
        try:
            await self.router.catalog.attach(registry)
        except BeastModeError as exc:
            log.error("BEAST MODE cannot read its registered models: %s", exc)
            self.show_once("setup", f"BEAST MODE: {exc}", types.MessageType.Error)
        self.spawn(self.router.catalog.watch())
        # Once, with the registry open: one message for everything the settings get wrong.
        self._models_known = True
        raw, base = self._settings_input
        self.apply_settings(raw, base=base)
        if not self.router.catalog.registered() and not self.settings.model:
            self.show_once(
                "no-model",
                "BEAST MODE: no model registered yet, so suggestions come from the built-in local "
                "engine. Register your model with the command BEAST MODE: Register Custom Model "
                "or `beastmode models add --id my-model --endpoint URL`.",
                types.MessageType.Info,
            )

    async def run_storage(self, function: Callable[..., Result], *args: Any) -> Result:
        """Run a registry or usage call in a storage thread (never on the event loop)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._storage_executor, lambda: function(*args))

    async def storage(self) -> Registry:
        """The open registry (waiting for it to open), or BeastModeError saying why it is not."""
        if self._storage_opened is not None:
            with contextlib.suppress(Exception):  # its failure is logged and in setup_error
                await asyncio.shield(self._storage_opened)
        if self.registry is None:
            raise StorageError(self.setup_error or "The BEAST MODE registry is not open yet.")
        return self.registry

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
        message = self.redactor.redact(message)
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
                    "message": None if message is None else self.redactor.redact(message),
                },
            )

    def window_show_message(self, params: types.ShowMessageParams) -> None:
        """`window/showMessage`, redacted (whoever calls it)."""
        super().window_show_message(
            types.ShowMessageParams(type=params.type, message=self.redactor.redact(params.message))
        )

    def window_log_message(self, params: types.LogMessageParams) -> None:
        """`window/logMessage`, redacted (whoever calls it)."""
        super().window_log_message(
            types.LogMessageParams(type=params.type, message=self.redactor.redact(params.message))
        )

    # Settings and models ---------------------------------------------------------------------

    def apply_settings(self, raw: Any, *, base: Any = None, announce: bool = True) -> None:
        """Validate and adopt new settings, telling the user once about anything ignored.

        `base` (the initializationOptions) is what `raw` is laid over: a client whose
        workspace/configuration answers `{}` does not wipe settings given at initialize. Whatever
        this change gets wrong becomes at most one message, and each problem and each
        unregistered model is named only the first time (`announce=False` names nothing yet).
        """
        from beastmode.settings import parse_settings

        self._settings_input = (raw, base)
        settings, problems = parse_settings(_deep_merge(_unwrap(base), _unwrap(raw)))
        if self.usage is not None:
            self.usage.set_retention_days(settings.usage.retention_days)
        unregistered: list[UnregisteredModel] = []
        if self.router is not None:
            self.router.set_baseline_price(settings.usage.baseline_price_per_1k)
            if self.router.catalog.loaded:  # else _open_storage() checks the models once known
                settings = self._without_unregistered(settings, unregistered)
        self._settings = settings
        if announce and self._models_known:
            self._announce_settings_problems(problems, unregistered)

    def _without_unregistered(
        self, settings: Settings, unregistered: list[UnregisteredModel]
    ) -> Settings:
        """`settings` minus the `custom:` models nobody registered (listed in `unregistered`)."""
        assert self.router is not None
        registered = set(self.router.catalog.registered())
        for task, ref in [("model", settings.model), *settings.models.model_dump().items()]:
            if ref and not _is_usable(ref, registered):
                setting = "model" if task == "model" else f"models.{task}"
                unregistered.append(UnregisteredModel(setting, ref))
                if task == "model":
                    settings = settings.model_copy(update={"model": None})
                else:
                    settings = settings.model_copy(
                        update={"models": settings.models.model_copy(update={task: None})}
                    )
        if settings.fallback:
            kept = [ref for ref in settings.fallback if _is_usable(ref, registered)]
            unregistered += [
                UnregisteredModel("fallback", ref) for ref in settings.fallback if ref not in kept
            ]
            settings = settings.model_copy(update={"fallback": kept})
        return settings

    def _announce_settings_problems(
        self, problems: list[str], unregistered: list[UnregisteredModel]
    ) -> None:
        """One showMessage (and one log entry) for what is new in this settings change."""
        new_problems = list(dict.fromkeys(p for p in problems if p not in self._named_problems))
        new_models: list[UnregisteredModel] = []
        for model in unregistered:
            if model.ref not in self._named_models:
                self._named_models.add(model.ref)
                new_models.append(model)
        self._named_problems.update(new_problems)
        message = settings_notice(new_problems, new_models)
        if message is None:
            return
        self.log_to_client(settings_log(new_problems, new_models), types.MessageType.Warning)
        with contextlib.suppress(Exception):
            self.window_show_message(
                types.ShowMessageParams(type=types.MessageType.Warning, message=message)
            )

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
        """A document opened or changed: learn it now if the engine is new to it, else later.

        A document just opened is searched for secret values at once (in a worker thread), so
        no suggestion can write one of them; later changes are searched as they are learned.
        """
        if uri not in self._recent_documents:
            self._harvest_opened(uri)
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
            self._learn_first(uri)
            return
        self._engine_timers[uri] = loop.call_later(
            ENGINE_UPDATE_DELAY_SECONDS, self._learn_document, uri
        )

    def _learn_first(self, uri: str) -> None:
        """Learn a document new to the engine right away; its suggestions wait for that."""
        self._engine_known.add(uri)
        learning = self._learn_document(uri)
        if learning is not None:
            self._first_learning[uri] = learning

    async def engine_caught_up(self, uri: str) -> None:
        """Wait (a bounded time) until the engine has learned `uri` as it was when opened."""
        learning = self._first_learning.get(uri)
        if learning is not None and not learning.done():
            await asyncio.wait({learning}, timeout=FIRST_LEARN_WAIT_SECONDS)

    def _harvest_opened(self, uri: str) -> None:
        document = self.documents.get(uri)
        if document is None:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # no event loop (unit use): nothing to keep waiting
            self.secrets.harvest(uri, document.text)
            return
        self.secrets.harvest_in_background(uri, document.text)

    def _learn_document(self, uri: str) -> asyncio.Future[None] | None:
        self._engine_timers.pop(uri, None)
        document = self.documents.get(uri)
        if document is None or self.engine is None:
            return None
        return self._engine_job(self.engine.update_document, uri, document.text)

    def _engine_job(self, function: Callable[..., None], *args: Any) -> asyncio.Future[None] | None:
        """Run an engine update in the learning thread (off the event loop, in order).

        None when there is nothing to run it on: no event loop (unit use), or the server closing.
        """
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        if self._scan_stop.is_set():
            return None
        future = loop.run_in_executor(self._engine_executor, function, *args)
        self.spawn(self._after_engine_job(future))
        return future

    async def _after_engine_job(self, future: asyncio.Future[None]) -> None:
        await future
        # The engine's tables are long-lived: take them out of the collector's full passes,
        # which otherwise pause the server for tens of milliseconds now and then.
        gc.freeze()

    def on_document_closed(self, uri: str) -> None:
        """A document closed: stop pending work for it; the engine keeps it only if it is saved.

        A file on disk stays learned (as the workspace scan would have it); a buffer that was
        never saved, or whose file is gone, is forgotten.
        """
        self._recent_documents.pop(uri, None)
        self.region_cache.forget(uri)
        self._engine_known.discard(uri)
        self._first_learning.pop(uri, None)
        timer = self._engine_timers.pop(uri, None)
        if timer is not None:
            timer.cancel()
        if self.engine is not None:
            self._engine_job(_release_closed, self.engine, uri)
        for listener in self.document_listeners:
            listener(uri)

    def start_local_engine(self) -> None:
        """Create the embedded engine and learn the workspace in a background thread."""
        try:
            from beastmode.localengine import LocalEngine, scan_workspace
        except ImportError:  # pragma: no cover - the engine ships with the package
            return
        self.engine = LocalEngine(secrets=self.secrets)
        if self.router is not None:
            self.router.catalog.set_engine(_EngineAdapter(self.engine, self.active_document))
        for document in self.documents:
            self._learn_first(document.uri)
        root = self.workspace_root
        if root is None:
            return

        def scan() -> None:
            started = time.monotonic()
            result = scan_workspace(
                str(root), self.engine, guard=self.guard, should_stop=self._scan_stop.is_set
            )
            log.info("Local engine learned %s in %.1f s", result, time.monotonic() - started)
            gc.freeze()

        threading.Thread(target=scan, name="beastmode-scan", daemon=True).start()

    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> int:
        """Serve LSP over stdio with non-blocking pipes (transport.py); returns the exit code."""
        from beastmode.lsp.transport import serve_stdio

        return serve_stdio(self, stdin or sys.stdin.buffer, stdout or sys.stdout.buffer)

    def start_tcp(self, host: str, port: int) -> int:  # type: ignore[override]
        """Serve one client on a loopback TCP port (never pygls's, which serves anyone)."""
        from beastmode.lsp.transport import loopback_address, serve_tcp

        host, port = loopback_address(f"[{host}]:{port}")
        return serve_tcp(self, host, port)

    def start_socket(self, path: Path) -> int:
        """Serve one client on a private Unix socket at `path`."""
        from beastmode.lsp.transport import serve_unix

        return serve_unix(self, path)

    async def close(self) -> None:
        """Release connections and finish writing usage."""
        self._scan_stop.set()
        if self.router is not None:
            await self.router.aclose()
        if self.usage is not None:
            await asyncio.to_thread(self.usage.close)
        self._storage_executor.shutdown(wait=False)
        self._engine_executor.shutdown(wait=False, cancel_futures=True)


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


def _release_closed(engine: Any, uri: str) -> None:
    """Keep a closed document learned only if it is saved (runs in the learning thread)."""
    path = uri_to_path(uri)
    try:
        saved = path is not None and path.is_file()
    except OSError:  # cannot even be looked at: as good as gone
        saved = False
    if saved:
        engine.release_document(uri)
    else:
        engine.remove_document(uri)


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
    half-typed line from voting for its own end, so it is told which document the request is
    for. Inline requests always say; for one that does not (a model test), the document
    the user touched last stands in.
    """

    def __init__(self, engine: Any, active_document: Callable[[], str | None]) -> None:
        self._engine = engine
        self._active_document = active_document

    def complete_line(self, prefix: str, suffix: str, document: str | None = None) -> str | None:
        uri = document if document is not None else self._active_document()
        suggestion = self._engine.suggest(prefix, suffix, uri=uri)
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
        folders = [folder.uri for folder in params.workspace_folders or []]
        if not folders and params.root_uri:
            folders = [params.root_uri]
        paths = [path for path in map(uri_to_path, folders) if path is not None]
        ls.workspace_root = paths[0] if paths else None
        ls.guard = WorkspaceGuard(paths)
        # Settings are validated in `initialized` (open_core), after this answer has gone out.
        ls.initialization_options = params.initialization_options

    @server.feature(types.INITIALIZED)
    def initialized(ls: BeastModeServer, params: types.InitializedParams) -> None:
        ls.open_core()
        ls.start_local_engine()
        ls.spawn(pull_configuration(ls))
        asyncio.get_running_loop().call_soon(_warm_imports)

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
