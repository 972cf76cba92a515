"""Which models a task uses, in order: its own choice, the defaults, then the fallback chain."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

TASKS = ("completion", "chat", "refactor", "tests", "feature")
PROVIDER_FALLBACKS = {
    "OPENAI_API_KEY": "openai:gpt-4o-mini",
    "ANTHROPIC_API_KEY": "anthropic:claude-3-5-haiku-latest",
}


def default_fallback(task: str, environ: Mapping[str, str]) -> list[str]:
    """The fallback when none is configured: provider models whose key is set, then `local`.

    Completion falls back straight to `local` (a provider round trip is too slow to type with);
    other tasks fall back to the provider models the user has keys for.
    """
    if task == "completion":
        return ["local"]
    return [ref for env, ref in PROVIDER_FALLBACKS.items() if environ.get(env)]


def build_chain(
    task: str,
    *,
    task_model: str | None,
    default_model: str | None,
    stored_defaults: Mapping[str, str],
    fallback: Sequence[str] | None,
    environ: Mapping[str, str],
) -> list[str]:
    """The ordered, de-duplicated model chain for `task`."""
    primary = task_model or stored_defaults.get(task) or default_model or stored_defaults.get("*")
    chain = [primary] if primary else []
    chain += list(fallback) if fallback is not None else default_fallback(task, environ)
    if task == "completion" and "local" not in chain:
        chain.append("local")
    return list(dict.fromkeys(chain))
