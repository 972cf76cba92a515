"""The router: fallback order and triggers, cooldowns, retries, streaming rules, usage rows."""

from __future__ import annotations

import sqlite3
import time

import pytest

from beastmode import errors
from beastmode.providers.base import ChatRequest
from beastmode.registry import Registry
from beastmode.router import Router, Timeouts, build_chain
from beastmode.router.catalog import ModelInfo
from beastmode.router.policy import Cooldowns
from tests.conftest import CANARY_KEY, register
from tests.fakes import FakeModelServer, Fault, Reply, closed_port


def chat(_info: ModelInfo) -> ChatRequest:
    return ChatRequest(messages=(("user", "hi"),), max_tokens=32)


def usage_rows(router: Router) -> list[tuple[object, ...]]:
    assert router.usage is not None and router.usage.flush()
    with sqlite3.connect(router.registry.path) as db:
        return db.execute(
            "SELECT task, model_ref, model_kind, outcome, error_kind, http_status FROM usage ORDER BY id"
        ).fetchall()


@pytest.fixture
def two_models(registry: Registry, fake: FakeModelServer) -> None:
    register(registry, "primary", fake.openai_chat_url)
    register(registry, "backup", fake.anthropic_url, provider="anthropic-compatible")


FALLBACK_TRIGGERS = [
    Reply(status=401),
    Reply(status=403),
    Reply(status=404),
    Reply(status=429, headers={"Retry-After": "30"}),
    Reply(status=500),
    Reply(status=503),
    Reply(status=529),
    Reply(fault=Fault.TRUNCATED_STREAM, text="x" * 20),
    Reply(fault=Fault.RESET_BEFORE_RESPONSE),
    Reply(fault=Fault.HTML_ERROR_PAGE),
    Reply(fault=Fault.MALFORMED_JSON),
]


@pytest.mark.parametrize(
    "failure", FALLBACK_TRIGGERS, ids=lambda r: r.fault.value if r.fault else str(r.status)
)
async def test_falls_back_to_the_next_model(
    router: Router, fake: FakeModelServer, two_models: None, failure: Reply
) -> None:
    fake.script(failure, Reply(text="from backup"))
    result = await router.complete(
        "chat", ["custom:primary", "custom:backup"], chat, Timeouts(attempt_seconds=5)
    )
    assert result.text == "from backup"
    assert result.model.ref == "custom:backup" and result.fell_back
    rows = usage_rows(router)
    assert [(r[1], r[3]) for r in rows] == [("custom:primary", "error"), ("custom:backup", "ok")]
    assert rows[0][5] == (
        failure.status if failure.status != 200 and not failure.fault else rows[0][5]
    )


async def test_bad_request_is_returned_without_fallback(
    router: Router, fake: FakeModelServer, two_models: None
) -> None:
    fake.script(Reply(status=400, error_message="bad field"))
    with pytest.raises(
        errors.AllModelsFailed, match=r"Invalid request format \(HTTP 400: bad field\)"
    ):
        await router.complete("chat", ["custom:primary", "custom:backup"], chat, Timeouts())
    assert len(fake.requests) == 1


async def test_connection_refused_and_timeout_fall_back(
    router: Router, registry: Registry, fake: FakeModelServer
) -> None:
    register(registry, "dead", f"http://127.0.0.1:{closed_port()}/v1")
    register(registry, "slow", fake.openai_chat_url)
    register(registry, "good", fake.openai_chat_url)
    fake.script(Reply(fault=Fault.HANG), Reply(text="ok"))
    started = time.monotonic()
    result = await router.complete(
        "chat",
        ["custom:dead", "custom:slow", "custom:good"],
        chat,
        Timeouts(attempt_seconds=5, first_token_seconds=0.5),
    )
    assert result.text == "ok" and result.model.ref == "custom:good"
    assert [type(a.error) for a in result.attempts] == [
        errors.ConnectError,
        errors.DeadlineExceeded,
    ]
    assert time.monotonic() - started < 2


async def test_chain_deadline_bounds_the_whole_chain(
    router: Router, registry: Registry, fake: FakeModelServer
) -> None:
    register(registry, "a", fake.openai_chat_url)
    register(registry, "b", fake.openai_chat_url)
    fake.script(Reply(fault=Fault.HANG), Reply(fault=Fault.HANG))
    started = time.monotonic()
    with pytest.raises(errors.AllModelsFailed):
        await router.complete(
            "completion",
            ["custom:a", "custom:b"],
            chat,
            Timeouts(attempt_seconds=5, first_token_seconds=5, chain_seconds=0.6),
        )
    assert time.monotonic() - started < 1.0


async def test_never_falls_back_after_streamed_text(
    router: Router, fake: FakeModelServer, two_models: None
) -> None:
    fake.script(
        Reply(fault=Fault.RESET_MID_STREAM, text="partial answer " * 10), Reply(text="backup")
    )
    routed = router.stream("chat", ["custom:primary", "custom:backup"], chat, Timeouts())
    seen: list[str] = []
    with pytest.raises(errors.StreamInterrupted):
        async for delta in routed:
            seen.append(delta)
    assert seen and "backup" not in "".join(seen)
    assert len(fake.requests) == 1


async def test_complete_falls_back_even_after_partial_text(
    router: Router, fake: FakeModelServer, two_models: None
) -> None:
    fake.script(
        Reply(fault=Fault.TRUNCATED_STREAM, text="partial answer " * 10), Reply(text="backup")
    )
    result = await router.complete("chat", ["custom:primary", "custom:backup"], chat, Timeouts())
    assert result.text == "backup"


async def test_short_retry_after_retries_the_same_model(
    router: Router, fake: FakeModelServer, two_models: None
) -> None:
    fake.script(Reply(status=429, headers={"Retry-After": "0.2"}), Reply(text="second try"))
    result = await router.complete("chat", ["custom:primary", "custom:backup"], chat, Timeouts())
    assert result.model.ref == "custom:primary" and result.text == "second try"
    assert [r.path for r in fake.requests] == ["/v1/chat/completions"] * 2


async def test_model_that_keeps_failing_is_skipped_during_cooldown(
    router: Router, fake: FakeModelServer, two_models: None
) -> None:
    fake.set_responder(
        lambda req: Reply(status=503) if req.path.endswith("/chat/completions") else Reply(text="b")
    )
    for _ in range(3):
        await router.complete("chat", ["custom:primary", "custom:backup"], chat, Timeouts())
    calls_to_primary = sum(r.path.endswith("/chat/completions") for r in fake.requests)
    result = await router.complete("chat", ["custom:primary", "custom:backup"], chat, Timeouts())
    assert result.text == "b"
    # Two failures in a row start the cooldown: at most two requests per window.
    assert sum(r.path.endswith("/chat/completions") for r in fake.requests) == calls_to_primary == 2
    assert "skipped" in str(result.attempts[0].error)


def test_cooldown_grows_and_clears() -> None:
    now = [0.0]
    cooldowns = Cooldowns(lambda: now[0], failure_threshold=2, base_seconds=10, max_seconds=25)
    error = errors.UpstreamServerError("boom")
    cooldowns.record_failure("m", error)
    assert cooldowns.remaining("m") == 0
    cooldowns.record_failure("m", error)
    assert cooldowns.remaining("m") == 10
    now[0] = 11
    cooldowns.record_failure("m", error)
    assert cooldowns.remaining("m") == 20
    now[0] = 40
    cooldowns.record_failure("m", error)
    assert cooldowns.remaining("m") == 25
    cooldowns.record_success("m")
    assert cooldowns.remaining("m") == 0
    cooldowns.record_failure("k", errors.AuthenticationFailed("bad key"))
    assert cooldowns.remaining("k") == 10


async def test_unknown_custom_model_falls_back_with_the_guide_message(
    router: Router, fake: FakeModelServer, two_models: None
) -> None:
    result = await router.complete("chat", ["custom:nope", "custom:backup"], chat, Timeouts())
    assert str(result.attempts[0].error).startswith("Custom model not found: nope")


async def test_provider_model_needs_its_key_and_uses_base_url(
    router: Router, fake: FakeModelServer
) -> None:
    with pytest.raises(errors.AllModelsFailed, match="OPENAI_API_KEY"):
        await router.complete("chat", ["openai:gpt-4o-mini"], chat, Timeouts())
    router.environ.update(OPENAI_API_KEY="sk-provider", OPENAI_BASE_URL=fake.base_url + "/v1")
    result = await router.complete("chat", ["openai:gpt-4o-mini"], chat, Timeouts())
    assert result.model.kind == "provider"
    assert fake.requests[0].json["model"] == "gpt-4o-mini"
    assert fake.requests[0].headers["authorization"] == "Bearer sk-provider"


async def test_local_is_not_available_for_chat(router: Router) -> None:
    with pytest.raises(errors.AllModelsFailed, match="beastmode models add"):
        await router.complete("chat", ["local"], chat, Timeouts())


async def test_credentials_are_cached_not_read_per_request(
    router: Router, registry: Registry, fake: FakeModelServer
) -> None:
    register(registry, "m", fake.openai_chat_url)
    await router.complete("chat", ["custom:m"], chat, Timeouts())
    statements: list[str] = []
    registry._db.set_trace_callback(statements.append)
    for _ in range(5):
        await router.complete("chat", ["custom:m"], chat, Timeouts())
    assert not [s for s in statements if "models" in s]
    register(registry, "m", fake.openai_chat_url, api_key="sk-new-key-after-update")
    await router.complete("chat", ["custom:m"], chat, Timeouts())
    assert fake.requests[-1].headers["authorization"] == "Bearer sk-new-key-after-update"
    registry._db.set_trace_callback(None)


async def test_usage_rows_record_tokens_costs_and_no_key(
    router: Router, registry: Registry, fake: FakeModelServer
) -> None:
    register(registry, "m", fake.openai_chat_url, input_cost_per_1k=0.002, output_cost_per_1k=0.004)
    fake.script(Reply(text="hello", usage=(1000, 500)))
    await router.complete("chat", ["custom:m"], chat, Timeouts())
    assert router.usage is not None and router.usage.flush()
    with sqlite3.connect(registry.path) as db:
        db.row_factory = sqlite3.Row
        row = db.execute("SELECT * FROM usage").fetchone()
    assert (row["task"], row["model_kind"], row["outcome"]) == ("chat", "custom", "ok")
    assert (row["prompt_tokens"], row["completion_tokens"]) == (1000, 500)
    assert row["cost_usd"] == pytest.approx(0.004)
    assert row["baseline_cost_usd"] == pytest.approx(0.045)
    assert row["ttft_ms"] is not None and row["latency_ms"] >= row["ttft_ms"]
    assert CANARY_KEY not in str(dict(row))


@pytest.mark.parametrize(
    ("task", "kwargs", "env", "expected"),
    [
        ("completion", {}, {}, ["local"]),
        ("chat", {}, {}, []),
        ("chat", {}, {"OPENAI_API_KEY": "x"}, ["openai:gpt-4o-mini"]),
        ("chat", {"default_model": "custom:a"}, {}, ["custom:a"]),
        ("refactor", {"task_model": "custom:r", "default_model": "custom:a"}, {}, ["custom:r"]),
        ("tests", {"stored_defaults": {"tests": "custom:t", "*": "custom:s"}}, {}, ["custom:t"]),
        ("chat", {"stored_defaults": {"*": "custom:s"}}, {}, ["custom:s"]),
        (
            "completion",
            {"default_model": "custom:a", "fallback": ["custom:b"]},
            {},
            ["custom:a", "custom:b", "local"],
        ),
        (
            "chat",
            {"default_model": "custom:a", "fallback": ["custom:a", "custom:b"]},
            {},
            ["custom:a", "custom:b"],
        ),
    ],
)
def test_build_chain(
    task: str, kwargs: dict[str, object], env: dict[str, str], expected: list[str]
) -> None:
    args: dict[str, object] = {
        "task_model": None,
        "default_model": None,
        "stored_defaults": {},
        "fallback": None,
    }
    args.update(kwargs)
    assert build_chain(task, environ=env, **args) == expected  # type: ignore[arg-type]


async def test_usage_rows_do_not_reset_cooldowns_or_reload_credentials(
    router: Router, fake: FakeModelServer, two_models: None
) -> None:
    now = [0.0]
    router.cooldowns._clock = lambda: now[0]
    router.catalog._clock = lambda: now[0]
    fake.set_responder(
        lambda req: Reply(status=503) if req.path.endswith("/chat/completions") else Reply(text="b")
    )
    for _ in range(3):
        await router.complete("chat", ["custom:primary", "custom:backup"], chat, Timeouts())
    assert router.usage is not None and router.usage.flush()  # another connection wrote rows
    now[0] += 5  # past the catalog's cross-process check interval, inside the cooldown
    statements: list[str] = []
    router.registry._db.set_trace_callback(statements.append)
    result = await router.complete("chat", ["custom:primary", "custom:backup"], chat, Timeouts())
    router.registry._db.set_trace_callback(None)
    assert "skipped" in str(result.attempts[0].error)
    assert not [s for s in statements if "FROM models" in s]


async def test_a_registration_in_another_process_is_seen_within_a_second(
    router: Router, environ: dict[str, str], fake: FakeModelServer
) -> None:
    now = [0.0]
    router.catalog._clock = lambda: now[0]
    with pytest.raises(errors.AllModelsFailed, match="Custom model not found"):
        await router.complete("chat", ["custom:late"], chat, Timeouts())
    other = Registry.open(environ)  # another process's connection
    register(other, "late", fake.openai_chat_url)
    other.close()
    now[0] += 1.5
    result = await router.complete("chat", ["custom:late"], chat, Timeouts())
    assert result.model.ref == "custom:late"


def requests_to(fake: FakeModelServer, suffix: str) -> int:
    return sum(r.path.endswith(suffix) for r in fake.requests)


@pytest.mark.parametrize("task", ["completion", "chat"])
async def test_a_model_failing_with_the_same_400_is_asked_at_most_twice_per_cooldown(
    router: Router, registry: Registry, fake: FakeModelServer, task: str
) -> None:
    # LiteLLM answers a wrong key and an unknown model with HTTP 400.
    register(registry, "gateway", fake.openai_chat_url)
    fake.default_reply = Reply(status=400, error_message="Invalid model name passed")
    failures = []
    for _ in range(6):
        with pytest.raises(errors.AllModelsFailed) as caught:
            await router.complete(task, ["custom:gateway"], chat, Timeouts())
        failures.append(str(caught.value))
    assert len(fake.requests) == 2
    assert "skipped" in failures[-1] and "Invalid model name passed" in failures[-1]


async def test_inline_completion_falls_through_on_a_400_but_chat_returns_it(
    router: Router, fake: FakeModelServer, two_models: None
) -> None:
    fake.set_responder(
        lambda req: (
            Reply(status=400, error_message="bad parameter")
            if req.path.endswith("/chat/completions")
            else Reply(text="from backup")
        )
    )
    result = await router.complete(
        "completion", ["custom:primary", "custom:backup"], chat, Timeouts()
    )
    assert result.text == "from backup" and result.model.ref == "custom:backup"
    for task in ("chat", "refactor", "feature"):
        router.cooldowns.clear()  # two failures in a row would cool the model down
        with pytest.raises(errors.AllModelsFailed, match="HTTP 400: bad parameter"):
            await router.complete(task, ["custom:primary", "custom:backup"], chat, Timeouts())
    assert requests_to(fake, "/v1/messages") == 1


async def test_test_model_checks_chat_and_the_completions_endpoint(
    router: Router, registry: Registry, fake: FakeModelServer
) -> None:
    register(
        registry,
        "fim",
        fake.openai_chat_url,
        completions_url=fake.openai_completions_url,
        fim_template="none",  # the server does FIM: the suffix is sent separately
    )
    fake.set_responder(
        lambda req: (
            Reply(status=404, error_message="no /completions here")
            if req.path.endswith("/v1/completions")
            else Reply(text="ok")
        )
    )
    result = await router.test_model("custom:fim")
    assert [(c.endpoint, c.ok) for c in result.checks] == [("chat", True), ("completions", False)]
    assert not result.ok and result.error is not None
    assert "completions:" in result.error and "no /completions here" in result.error
    fim_request = next(r for r in fake.requests if r.path.endswith("/v1/completions"))
    assert fim_request.json["suffix"] == "\n"

    fake.set_responder(None)
    fake.default_reply = Reply(text="ok")
    router.cooldowns.clear()
    passed = await router.test_model("custom:fim")
    assert passed.ok and passed.error is None and [c.ok for c in passed.checks] == [True, True]
    assert passed.reply == "ok"


async def test_test_model_of_a_chat_only_model_has_one_check(
    router: Router, registry: Registry, fake: FakeModelServer
) -> None:
    register(registry, "chatty", fake.openai_chat_url)
    fake.script(Reply(status=401))
    result = await router.test_model("custom:chatty")
    assert [(c.endpoint, c.ok) for c in result.checks] == [("chat", False)]
    assert not result.ok and result.error is not None and "Invalid API key" in result.error


class OneLineEngine:
    def complete_line(self, prefix: str, suffix: str, document: str | None = None) -> str | None:
        return "a + b"


async def test_test_model_local_asks_the_engine_for_a_completion(router: Router) -> None:
    router.catalog.set_engine(OneLineEngine())
    result = await router.test_model("local")
    assert result.ok, result.error
    assert [(c.endpoint, c.ok, c.reply) for c in result.checks] == [("completions", True, "a + b")]


async def test_model_tests_are_recorded_as_model_test_and_bad_refs_not_at_all(
    router: Router, registry: Registry, fake: FakeModelServer
) -> None:
    register(registry, "m", fake.openai_chat_url)
    await router.test_model("custom:m")
    with pytest.raises(errors.AllModelsFailed):
        await router.complete("chat", ["not a ref", "custom:Bad Id"], chat, Timeouts())
    assert [row[:4] for row in usage_rows(router)] == [("model-test", "custom:m", "custom", "ok")]


async def test_test_model_calls_a_model_even_while_it_cools_down(
    router: Router, registry: Registry, fake: FakeModelServer
) -> None:
    register(registry, "m", fake.openai_chat_url, completions_url=fake.openai_completions_url)
    fake.default_reply = Reply(status=401)
    with pytest.raises(errors.AllModelsFailed):
        await router.complete("chat", ["custom:m"], chat, Timeouts())
    assert router.cooldowns.remaining("custom:m") > 0  # a rejected key cools down at once
    result = await router.test_model("custom:m")
    assert [c.endpoint for c in result.checks] == ["chat", "completions"]
    assert all("Invalid API key" in (c.error or "") for c in result.checks), result.checks
    assert len(fake.requests) == 3
