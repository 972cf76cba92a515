"""Resolving model references to what a call needs: model facts and a bound provider.

Decrypted credentials of registered models are cached in memory and reloaded only when the
registry changed (this process's writes at once, other processes' within a second): no database
read or decryption per request.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import httpx

from beastmode.errors import DecryptionError, ModelNotFoundError, ModelUnavailableError
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
        registry: Registry,
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

    def set_engine(self, engine: CompletionEngine | None) -> None:
        """Attach (or detach) the embedded engine that serves `local`."""
        self._engine = engine

    def refresh(self) -> None:
        """Reload credentials if the registry changed (this process at once, others within 1 s)."""
        now = self._clock()
        local_writes_changed = (
            self._seen_version is None or self._registry.local_writes != self._seen_version[1]
        )
        if not local_writes_changed and now - self._checked_at < CROSS_PROCESS_CHECK_SECONDS:
            return
        self._checked_at = now
        version = self._registry.change_counter()
        if version != self._seen_version:
            self._credentials = self._registry.all_credentials()
            # Every key this process can send is one it must never show (a rotation's new
            # secret.key included).
            self.redactor.add(*(c.api_key for c in self._credentials.values()))
            self.redactor.add_environment(self._environ, self._registry.home)
            self._defaults = self._registry.defaults()
            first_load = self._seen_version is None
            self._seen_version = version
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
            raise DecryptionError(model_id, describe_key_source(self._registry.home, self._environ))
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
