"""The model router: try each model of a chain in turn, stream the answer, record every attempt.

`Router.stream()` yields text deltas from the first model that answers; once a delta has been
yielded the router never switches models (the user has seen that text). `Router.complete()`
collects a whole answer and may fall back even after partial text, since nothing was shown.
`Router.test_model()` calls every endpoint one model has, without fallback.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field

import httpx

from beastmode.errors import (
    AllModelsFailed,
    BeastModeError,
    DeadlineExceeded,
    DecryptionError,
    FailedAttempt,
    ModelNotFoundError,
    ModelUnavailableError,
    ProviderError,
)
from beastmode.providers.base import (
    ChatRequest,
    FimRequest,
    Limits,
    ModelRequest,
    TokenUsage,
    tokens_for_chars,
)
from beastmode.providers.local import CompletionEngine
from beastmode.redaction import Redactor
from beastmode.registry.store import Registry
from beastmode.router.catalog import ModelCatalog, ModelInfo, ModelKind
from beastmode.router.policy import Cooldowns, retry_delay, should_fall_back
from beastmode.router.refs import parse_ref
from beastmode.router.timeouts import Timeouts
from beastmode.usage.recorder import DEFAULT_BASELINE_PRICE_PER_1K, UsageRecorder, UsageRow

RequestBuilder = Callable[[ModelInfo], ModelRequest]
_ROUTER_ERRORS = (ProviderError, ModelNotFoundError, DecryptionError, ModelUnavailableError)
MODEL_TEST_TASK = "model-test"
TEST_CHAT = ChatRequest(
    messages=(("user", "Reply with the single word: ok"),), max_tokens=8, temperature=0.0
)
TEST_FIM_PREFIX = "def add(a, b):\n    return "


@dataclass(frozen=True)
class RoutedResult:
    """A whole answer and who gave it."""

    text: str
    model: ModelInfo
    attempts: tuple[FailedAttempt, ...]
    usage: TokenUsage
    request_id: str

    @property
    def fell_back(self) -> bool:
        """True when an earlier model in the chain failed first."""
        return bool(self.attempts)


@dataclass(frozen=True)
class EndpointCheck:
    """One endpoint of a model, tried by `Router.test_model`."""

    endpoint: str  # "chat" or "completions"
    ok: bool
    latency_ms: float
    error: str | None = None
    reply: str | None = None


@dataclass(frozen=True)
class TestResult:
    """The outcome of `beastmode.testModel`: ok only when every endpoint of the model answered."""

    ok: bool
    latency_ms: float
    model: str
    error: str | None = None
    reply: str | None = None
    checks: tuple[EndpointCheck, ...] = ()


@dataclass
class RoutedStream:
    """Text deltas from the first model of the chain that answers."""

    model: ModelInfo | None = None
    attempts: list[FailedAttempt] = field(default_factory=list)
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    usage: TokenUsage | None = None
    _generator: AsyncGenerator[str, None] | None = None

    @property
    def fell_back(self) -> bool:
        """True when an earlier model in the chain failed first."""
        return bool(self.attempts)

    def __aiter__(self) -> AsyncIterator[str]:
        assert self._generator is not None
        return self._generator

    async def aclose(self) -> None:
        """Stop now: the upstream connection is closed, the attempt recorded as answered."""
        if self._generator is not None:
            await self._generator.aclose()


class Router:
    """Routes requests over model chains with fallback, cooldowns and usage recording."""

    def __init__(
        self,
        registry: Registry | None,
        usage: UsageRecorder | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        engine: CompletionEngine | None = None,
        client: httpx.AsyncClient | None = None,
        baseline_price_per_1k: float = DEFAULT_BASELINE_PRICE_PER_1K,
        clock: Callable[[], float] = time.monotonic,
        redactor: Redactor | None = None,
    ) -> None:
        self.registry = registry
        self.usage = usage
        self.environ = dict(os.environ if environ is None else environ)
        # Providers add their endpoint's key; upstream previews quoting any of them are redacted.
        self.redactor = redactor or Redactor.from_environment(self.environ)
        self._client = client or httpx.AsyncClient(
            timeout=httpx.Timeout(120.0, connect=10.0),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
            follow_redirects=False,
            trust_env=False,
        )
        self._baseline_price = baseline_price_per_1k
        self.cooldowns = Cooldowns(clock)
        self.catalog = ModelCatalog(
            registry,
            self._client,
            environ=self.environ,
            engine=engine,
            provider_price_per_1k=baseline_price_per_1k,
            clock=clock,
            on_change=self.cooldowns.clear,
            redactor=self.redactor,
        )

    def set_baseline_price(self, price_per_1k: float) -> None:
        """The provider price (USD per 1K tokens) savings are measured against."""
        self._baseline_price = price_per_1k
        self.catalog.provider_price_per_1k = price_per_1k

    async def aclose(self) -> None:
        """Close pooled connections."""
        await self._client.aclose()

    def stream(
        self,
        task: str,
        chain: Sequence[str],
        build: RequestBuilder,
        timeouts: Timeouts,
        *,
        on_restart: Callable[[], None] | None = None,
        honour_cooldowns: bool = True,
    ) -> RoutedStream:
        """Stream from the first model of `chain` that answers.

        With `on_restart` given, a model that fails after some text is still replaced by the next
        one (for callers that show nothing until the end); `on_restart` is called so they can
        drop the partial text. `honour_cooldowns=False` calls models even while they cool down.
        """
        routed = RoutedStream()
        routed._generator = self._run(
            routed, task, list(chain), build, timeouts, on_restart, honour_cooldowns
        )
        return routed

    async def complete(
        self,
        task: str,
        chain: Sequence[str],
        build: RequestBuilder,
        timeouts: Timeouts,
        *,
        honour_cooldowns: bool = True,
    ) -> RoutedResult:
        """The whole answer of the first model in `chain` that answers."""
        parts: list[str] = []
        routed = self.stream(
            task,
            chain,
            build,
            timeouts,
            on_restart=parts.clear,
            honour_cooldowns=honour_cooldowns,
        )
        async for delta in routed:
            parts.append(delta)
        assert routed.model is not None
        return RoutedResult(
            "".join(parts),
            routed.model,
            tuple(routed.attempts),
            routed.usage or TokenUsage(estimated=True),
            routed.request_id,
        )

    async def test_model(self, ref: str, timeouts: Timeouts | None = None) -> TestResult:
        """Send a tiny request to every endpoint of exactly one model (no fallback), timed.

        A registered `completions_url` gets a tiny fill-in-the-middle request besides the chat
        one; `local` only completes code, so it gets only that.
        """
        timeouts = timeouts or Timeouts(attempt_seconds=30, first_token_seconds=30)
        started = time.monotonic()
        try:
            info, _ = self.catalog.resolve(ref)
        except _ROUTER_ERRORS:
            info = None  # the chat check below fails with the same error, and says so
        checks: list[EndpointCheck] = []
        if info is None or info.provider != "local":
            checks.append(await self._check(ref, "chat", TEST_CHAT, timeouts))
        if info is not None and info.supports_fim:
            # The suffix goes separately only where inline completion sends it so (server-side
            # FIM); a model with a prompt template gets a plain prompt, as its completions do.
            server_fim = info.fim_template == "none" or info.provider == "local"
            fim = FimRequest(
                TEST_FIM_PREFIX, suffix="\n" if server_fim else None, max_tokens=8, temperature=0
            )
            checks.append(await self._check(ref, "completions", fim, timeouts))
        latency = round((time.monotonic() - started) * 1000, 1)
        failed = [check for check in checks if not check.ok]
        error = "; ".join(f"{c.endpoint}: {c.error}" for c in failed) if len(checks) > 1 else None
        return TestResult(
            ok=not failed,
            latency_ms=latency,
            model=ref,
            error=(error or failed[0].error) if failed else None,
            reply=checks[0].reply if not failed else None,
            checks=tuple(checks),
        )

    async def _check(
        self, ref: str, endpoint: str, request: ModelRequest, timeouts: Timeouts
    ) -> EndpointCheck:
        started = time.monotonic()
        try:
            # An explicit test calls the model even while it cools down: that is the point.
            result = await self.complete(
                MODEL_TEST_TASK, [ref], lambda _: request, timeouts, honour_cooldowns=False
            )
        except AllModelsFailed as exc:
            latency = round((time.monotonic() - started) * 1000, 1)
            return EndpointCheck(endpoint, False, latency, error=str(exc))
        latency = round((time.monotonic() - started) * 1000, 1)
        return EndpointCheck(endpoint, True, latency, reply=result.text.strip()[:200])

    async def _run(
        self,
        routed: RoutedStream,
        task: str,
        chain: list[str],
        build: RequestBuilder,
        timeouts: Timeouts,
        on_restart: Callable[[], None] | None,
        honour_cooldowns: bool,
    ) -> AsyncGenerator[str, None]:
        loop = asyncio.get_running_loop()
        chain_deadline = (
            loop.time() + timeouts.chain_seconds if timeouts.chain_seconds is not None else None
        )
        await self.catalog.ready()  # a model registered again leaves its cooldown behind
        for ref in chain:
            remaining = chain_deadline - loop.time() if chain_deadline is not None else None
            if remaining is not None and remaining <= 0:
                routed.attempts.append(
                    FailedAttempt(ref, DeadlineExceeded("No time left in the completion deadline"))
                )
                break
            cooling = self.cooldowns.remaining(ref) if honour_cooldowns else 0.0
            if cooling > 0:
                last = self.cooldowns.last_error(ref)
                routed.attempts.append(
                    FailedAttempt(
                        ref,
                        ModelUnavailableError(
                            f"{ref} is skipped for {cooling:.0f} s after repeated failures"
                            + (f" (last: {last})" if last else "")
                        ),
                    )
                )
                continue
            try:
                info, provider = self.catalog.resolve(ref)
                request = build(info)
            except _ROUTER_ERRORS as exc:
                self._record_failure(routed, task, ref, exc, 0.0, None)
                continue
            retried = False
            while True:
                remaining = chain_deadline - loop.time() if chain_deadline is not None else None
                limits = Limits(
                    total_seconds=_cap(timeouts.attempt_seconds, remaining),
                    first_token_seconds=_cap(timeouts.first_token_seconds, remaining),
                    max_response_bytes=timeouts.response_cap(request.max_tokens),
                )
                started = time.monotonic()
                received_chars = 0
                stream = None
                try:
                    stream = provider.stream(request, limits)
                    async for delta in stream:
                        if not delta:
                            continue
                        routed.model = info
                        received_chars += len(delta)
                        yield delta
                except _ROUTER_ERRORS as exc:
                    if stream is not None:
                        await stream.aclose()
                    ttft = _ttft(stream, started)
                    if received_chars and on_restart is None:
                        self._record_failure(routed, task, ref, exc, started, ttft, info)
                        raise
                    delay = retry_delay(exc, remaining)
                    if delay is not None and not retried and not received_chars:
                        self._record_failure(routed, task, ref, exc, started, ttft, info)
                        retried = True
                        await asyncio.sleep(delay)
                        continue
                    if received_chars and on_restart is not None:
                        on_restart()
                    routed.model = None
                    self._record_failure(routed, task, ref, exc, started, ttft, info)
                    if not should_fall_back(exc, task):
                        raise AllModelsFailed(routed.attempts) from exc
                    break
                except GeneratorExit:
                    # The caller stopped early (e.g. the suggestion was complete): an answer.
                    if stream is not None:
                        await stream.aclose()
                    self._record_success(routed, task, info, stream, started, received_chars)
                    raise
                except asyncio.CancelledError:
                    if stream is not None:
                        await stream.aclose()
                    self._record(task, info, "cancelled", started, routed.request_id)
                    raise
                self._record_success(routed, task, info, stream, started, received_chars)
                routed.model = info
                return
        raise AllModelsFailed(routed.attempts)

    def _record_success(
        self,
        routed: RoutedStream,
        task: str,
        info: ModelInfo,
        stream: object,
        started: float,
        received_chars: int,
    ) -> None:
        self.cooldowns.record_success(info.ref)
        usage = getattr(stream, "usage", None)
        if not isinstance(usage, TokenUsage) or not (
            usage.prompt_tokens or usage.completion_tokens
        ):
            usage = TokenUsage(
                prompt_tokens=usage.prompt_tokens if isinstance(usage, TokenUsage) else 0,
                completion_tokens=tokens_for_chars(received_chars),
                estimated=True,
            )
        routed.usage = usage
        cost = (
            usage.prompt_tokens * info.input_cost_per_1k
            + usage.completion_tokens * info.output_cost_per_1k
        ) / 1000
        baseline = (usage.prompt_tokens + usage.completion_tokens) * self._baseline_price / 1000
        self._record(
            task,
            info,
            "ok",
            started,
            routed.request_id,
            ttft_ms=_ttft(stream, started),
            usage=usage,
            cost=cost,
            baseline=baseline,
        )

    def _record_failure(
        self,
        routed: RoutedStream,
        task: str,
        ref: str,
        error: BeastModeError,
        started: float,
        ttft_ms: float | None,
        info: ModelInfo | None = None,
    ) -> None:
        routed.attempts.append(FailedAttempt(ref, error))
        self.cooldowns.record_failure(ref, error)
        if info is not None:
            kind: ModelKind = info.kind
        else:
            try:
                ref_kind = parse_ref(ref).kind
            except ValueError:
                return  # not a model reference at all: nothing to account it to
            kind = ref_kind if ref_kind in ("custom", "local") else "provider"
        self._write(
            UsageRow(
                task=task,
                model_ref=ref,
                model_kind=kind,
                outcome="error",
                latency_ms=_elapsed_ms(started) if started else 0.0,
                request_id=routed.request_id,
                error_kind=getattr(error, "kind", type(error).__name__),
                http_status=getattr(error, "status", None),
                ttft_ms=ttft_ms,
            )
        )

    def _record(
        self,
        task: str,
        info: ModelInfo,
        outcome: str,
        started: float,
        request_id: str,
        *,
        ttft_ms: float | None = None,
        usage: TokenUsage | None = None,
        cost: float = 0.0,
        baseline: float = 0.0,
    ) -> None:
        self._write(
            UsageRow(
                task=task,
                model_ref=info.ref,
                model_kind=info.kind,
                outcome=outcome,
                latency_ms=_elapsed_ms(started),
                request_id=request_id,
                ttft_ms=ttft_ms,
                prompt_tokens=usage.prompt_tokens if usage else 0,
                completion_tokens=usage.completion_tokens if usage else 0,
                tokens_estimated=usage.estimated if usage else False,
                cost_usd=round(cost, 8),
                baseline_cost_usd=round(baseline, 8),
            )
        )

    def _write(self, row: UsageRow) -> None:
        if self.usage is not None:
            self.usage.record(row)


def _cap(value: float, remaining: float | None) -> float:
    return value if remaining is None else max(0.001, min(value, remaining))


def _elapsed_ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 2)


def _ttft(stream: object, started: float) -> float | None:
    first = getattr(stream, "first_token_at", None)
    return round((first - started) * 1000, 2) if isinstance(first, float) else None
