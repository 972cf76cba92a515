"""Resolving model references to what a call needs: model facts and a bound provider.

Decrypted credentials of registered models are cached in memory and reloaded only when the
registry changed (this process's writes at once, other processes' within a second): no database
read or decryption per request. In the language server `watch()` does those checks in a
background task, off the event loop, so the request path only reads memory; scripts without a
watcher check on demand. With no registry (it could not be opened) the catalog is empty and
`local` and provider models still work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import httpx

from beastmode.errors import (
    BeastModeError,
    DecryptionError,
    ModelNotFoundError,
    ModelUnavailableError,
)
from beastmode.providers.anthropic import AnthropicProvider
from beastmode.providers.base import Endpoint, Provider
from beastmode.providers.local import CompletionEngine, LocalProvider
from beastmode.providers.openai import OpenAIProvider
from beastmode.redaction import Redactor
from beastmode.registry.crypto import describe_key_source
from beastmode.registry.store import Credentials, Registry
from beastmode.router.refs import parse_ref

ModelKind = Literal["custom", "provider", "local"]
OPENAI_DEFAULT_BASE = "https://api.openai.com/v1"
ANTHROPIC_DEFAULT_BASE = "https://api.anthropic.com"
CROSS_PROCESS_CHECK_SECONDS = 1.0
# How long a request waits for a registry still being opened before going on without it.
FIRST_LOAD_WAIT_SECONDS = 2.0
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Snapshot:
    version: tuple[int, int]
    credentials: dict[str, Credentials]
    defaults: dict[str, str]


@dataclass(frozen=True)
class ModelInfo:
    """What prompt builders and usage accounting need to know about one model."""

    ref: str
    kind: ModelKind
    provider: str  # openai-compatible | anthropic-compatible | local
    upstream_model: str
    context_window: int
    max_tokens: int
    temperature: float
    fim_template: str
    supports_fim: bool
    input_cost_per_1k: float
    output_cost_per_1k: float


class ModelCatalog:
    """Turns references into (ModelInfo, Provider), with credentials cached in memory."""

    def __init__(
        self,
        registry: Registry | None,
        client: httpx.AsyncClient,
        *,
        environ: Mapping[str, str],
        engine: CompletionEngine | None = None,
        provider_price_per_1k: float = 0.03,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[], None] = lambda: None,
        redactor: Redactor | None = None,
    ) -> None:
        self._registry = registry
        self.redactor = redactor if redactor is not None else Redactor()
        self._client = client
        self._environ = environ
        self._engine = engine
        self.provider_price_per_1k = provider_price_per_1k
        self._clock = clock
        self._on_change = on_change
        self._credentials: dict[str, Credentials] = {}
        self._defaults: dict[str, str] = {}
        self._seen_version: tuple[int, int] | None = None
        self._checked_at = float("-inf")
        self._watched = False
        self._opening: asyncio.Event | None = None
        self._last_failure: str | None = None

    def set_engine(self, engine: CompletionEngine | None) -> None:
        """Attach (or detach) the embedded engine that serves `local`."""
        self._engine = engine

    @property
    def loaded(self) -> bool:
        """True once the registry's models have been read (never without a registry)."""
        return self._seen_version is not None

    def expect_registry(self) -> None:
        """A registry is being opened for this catalog: requests wait briefly for `attach`."""
        self._opening = asyncio.Event()

    async def attach(self, registry: Registry | None) -> None:
        """Use `registry` (None: it could not be opened), reading its models off the loop."""
        self._registry = registry
        try:
            if registry is not None:
                await self.refresh_off_loop(force=True)
        finally:
            if self._opening is not None:
                self._opening.set()

    async def ready(self) -> None:
        """Before routing a request: wait (briefly) for a registry being opened, or check it.

        Under `watch()` this reads memory only; without a watcher it checks the registry as
        `refresh()` does.
        """
        if self._opening is not None and not self._opening.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._opening.wait(), FIRST_LOAD_WAIT_SECONDS)
        self.refresh()

    def refresh(self) -> None:
        """Reload credentials if the registry changed (this process at once, others within 1 s).

        A no-op while `watch()` keeps the catalog fresh from the background.
        """
        if not self._watched:
            self._adopt(self._load_if_changed(force=False))

    async def refresh_off_loop(self, *, force: bool = False) -> None:
        """Check the registry for changes in a worker thread and adopt them on the loop."""
        self._adopt(await asyncio.to_thread(self._load_if_changed, force=force))

    async def watch(self, interval: float = CROSS_PROCESS_CHECK_SECONDS) -> None:
        """Check the registry for other processes' changes every `interval`, off the loop."""
        self._watched = True
        try:
            while True:
                try:
                    await self.refresh_off_loop(force=True)
                    self._last_failure = None
                except BeastModeError as exc:
                    if str(exc) != self._last_failure:
                        log.warning("Keeping the models known so far: %s", exc)
                    self._last_failure = str(exc)
                await asyncio.sleep(interval)
        finally:
            self._watched = False

    def _load_if_changed(self, *, force: bool) -> _Snapshot | None:
        """The registry's models if they changed since last seen (reads the database)."""
        registry = self._registry
        if registry is None:
            return None
        now = self._clock()
        local_writes_changed = (
            self._seen_version is None or registry.local_writes != self._seen_version[1]
        )
        if (
            not force
            and not local_writes_changed
            and now - self._checked_at < CROSS_PROCESS_CHECK_SECONDS
        ):
            return None
        self._checked_at = now
        version = registry.change_counter()
        if version == self._seen_version:
            return None
        credentials = registry.all_credentials()
        # Every key this process can send is one it must never show (a rotation's new
        # secret.key included).
        self.redactor.add(*(c.api_key for c in credentials.values()))
        self.redactor.add_environment(self._environ, registry.home)
        return _Snapshot(version, credentials, registry.defaults())

    def _adopt(self, snapshot: _Snapshot | None) -> None:
        if snapshot is None or (
            self._seen_version is not None and snapshot.version <= self._seen_version
        ):
            return  # nothing new, or a slower check finishing after a newer one
        first_load = self._seen_version is None
        self._credentials = snapshot.credentials
        self._defaults = snapshot.defaults
        self._seen_version = snapshot.version
        if not first_load:
            self._on_change()

    def registered(self) -> dict[str, Credentials]:
        """The registered models (with keys) as currently known."""
        self.refresh()
        return dict(self._credentials)

    def defaults(self) -> dict[str, str]:
        """The stored default model per task, as currently known."""
        self.refresh()
        return dict(self._defaults)

    def resolve(self, ref_text: str) -> tuple[ModelInfo, Provider]:
        """Model facts and a provider for `ref_text`; raises our errors when unusable."""
        try:
            ref = parse_ref(ref_text)
        except ValueError as exc:
            raise ModelUnavailableError(str(exc)) from None
        if ref.kind == "custom":
            return self._custom(ref.name)
        if ref.kind == "local":
            info = ModelInfo(
                ref="local",
                kind="local",
                provider="local",
                upstream_model="local",
                context_window=4096,
                max_tokens=64,
                temperature=0.0,
                fim_template="none",
                supports_fim=True,
                input_cost_per_1k=0.0,
                output_cost_per_1k=0.0,
            )
            return info, LocalProvider(self._engine)
        return self._provider_model(ref.kind, ref.name)

    def _custom(self, model_id: str) -> tuple[ModelInfo, Provider]:
        self.refresh()
        credentials = self._credentials.get(model_id)
        if credentials is None:
            raise ModelNotFoundError(model_id)
        record = credentials.record
        if record.has_api_key and credentials.api_key is None:
            registry = self._registry  # credentials are only ever read from a registry
            assert registry is not None
            raise DecryptionError(model_id, describe_key_source(registry.home, self._environ))
        endpoint = Endpoint(
            url=record.endpoint_url,
            upstream_model=record.upstream_model,
            api_key=credentials.api_key,
            completions_url=record.completions_url,
        )
        provider: Provider
        if record.provider == "anthropic-compatible":
            provider = AnthropicProvider(self._client, endpoint, self.redactor)
        else:
            provider = OpenAIProvider(self._client, endpoint, self.redactor)
        info = ModelInfo(
            ref=record.ref,
            kind="custom",
            provider=record.provider,
            upstream_model=record.upstream_model,
            context_window=record.context_window,
            max_tokens=record.max_tokens,
            temperature=record.temperature,
            fim_template=record.fim_template,
            supports_fim=provider.supports_fim,
            input_cost_per_1k=record.input_cost_per_1k,
            output_cost_per_1k=record.output_cost_per_1k,
        )
        return info, provider

    def _provider_model(self, kind: str, model: str) -> tuple[ModelInfo, Provider]:
        key_name = "OPENAI_API_KEY" if kind == "openai" else "ANTHROPIC_API_KEY"
        api_key = self._environ.get(key_name)
        if not api_key:
            raise ModelUnavailableError(
                f"{kind}:{model} needs {key_name} in the environment of the editor or shell "
                f"that starts BEAST MODE (export {key_name}=...)."
            )
        provider: Provider
        if kind == "openai":
            base = self._environ.get("OPENAI_BASE_URL") or OPENAI_DEFAULT_BASE
            endpoint = Endpoint(url=base, upstream_model=model, api_key=api_key)
            provider = OpenAIProvider(self._client, endpoint, self.redactor)
            wire = "openai-compatible"
        else:
            base = self._environ.get("ANTHROPIC_BASE_URL") or ANTHROPIC_DEFAULT_BASE
            endpoint = Endpoint(url=base, upstream_model=model, api_key=api_key)
            provider = AnthropicProvider(self._client, endpoint, self.redactor)
            wire = "anthropic-compatible"
        info = ModelInfo(
            ref=f"{kind}:{model}",
            kind="provider",
            provider=wire,
            upstream_model=model,
            context_window=128_000,
            max_tokens=4096,
            temperature=0.2,
            fim_template="none",
            supports_fim=False,
            input_cost_per_1k=self.provider_price_per_1k,
            output_cost_per_1k=self.provider_price_per_1k,
        )
        return info, provider
