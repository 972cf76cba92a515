"""`beastmode models ...`: register, update, list, remove, test, and choose default models.

Flags update only the fields they name; `--json` replaces the record (the stored key is kept
unless the body or a key flag gives one); `--no-api-key` drops a stored key. Model references are
validated before anything is called, so a typo is never sent anywhere nor recorded in usage.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
import time
from typing import TYPE_CHECKING, Any

from beastmode.errors import ConfigurationError, DecryptionError, ModelNotFoundError
from beastmode.router.chains import TASKS
from beastmode.router.refs import parse_ref

if TYPE_CHECKING:
    from beastmode.cli import Console
    from beastmode.registry import ModelRecord, Registry

REGISTRATION_FLAGS = {
    "id": "model_id",
    "name": "model_name",
    "endpoint": "endpoint_url",
    "provider": "provider",
    "description": "description",
    "context_window": "context_window",
    "max_tokens": "max_tokens",
    "temperature": "temperature",
    "upstream_model": "upstream_model",
    "fim_template": "fim_template",
    "completions_url": "completions_url",
    "input_cost": "input_cost_per_1k",
    "output_cost": "output_cost_per_1k",
}
# A record's fields that a registration may carry (the rest are bookkeeping).
_STORED_ONLY = ("has_api_key", "created_at", "updated_at")
# What `models test local` asks the embedded engine after it has learned the demo's sample.
_LOCAL_PREFIX = "class Triangle:\n    def area(self) -> "


def open_registry(console: Console) -> Registry:
    """Open the registry and teach the console's redactor every key stored in it."""
    from beastmode.registry import Registry

    registry = Registry.open()
    console.redactor.add_environment(os.environ, registry.home)
    for credentials in registry.all_credentials().values():
        console.redactor.add(credentials.api_key)
    return registry


def add(args: argparse.Namespace, console: Console) -> int:
    """`models add`: register a model, or update the fields given of a registered one."""
    from beastmode.registry import ModelRegistration

    registry = open_registry(console)
    body = _registration_body(args, registry)
    record = registry.register(ModelRegistration.parse(body))
    if args.no_api_key and record.has_api_key:
        record = registry.drop_api_key(record.model_id)
    console.redactor.add(body.get("api_key"))
    console.print(json.dumps(record.public_dict(), indent=2))
    return 0


def _registration_body(args: argparse.Namespace, registry: Registry) -> dict[str, Any]:
    flags = {
        field: getattr(args, flag)
        for flag, field in REGISTRATION_FLAGS.items()
        if getattr(args, flag) is not None
    }
    body: dict[str, Any] = _read_json(args) if args.json else {}
    body.update(flags)
    model_id = body.get("model_id")
    if not model_id:
        raise ConfigurationError("A model needs an id: pass --id ID (or model_id in --json)")
    existing = registry.find(str(model_id))
    if existing is not None and not args.json:
        body = {**_registration_fields(existing), **flags}
    body.setdefault("model_name", model_id)
    key = _api_key(args, has_stored_key=existing is not None and existing.has_api_key)
    if key:
        body["api_key"] = key
    elif body.get("api_key") == "" or args.no_api_key:
        body.pop("api_key", None)
    return body


def _registration_fields(record: ModelRecord) -> dict[str, Any]:
    fields = record.model_dump()
    for name in _STORED_ONLY:
        fields.pop(name)
    return fields


def _read_json(args: argparse.Namespace) -> dict[str, Any]:
    if args.json == "-" and args.api_key_stdin:
        raise ConfigurationError("--json - and --api-key-stdin both want stdin; use one.")
    try:
        if args.json == "-":
            text = sys.stdin.read()
        else:
            with open(args.json) as file:
                text = file.read()
        body = json.loads(text)
    except OSError as exc:
        raise ConfigurationError(f"Cannot read {args.json}: {exc.strerror}") from None
    except ValueError as exc:
        raise ConfigurationError(f"{args.json} is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ConfigurationError(f"{args.json} must hold a JSON object")
    return body


def _api_key(args: argparse.Namespace, *, has_stored_key: bool) -> str | None:
    if args.api_key_env:
        value = os.environ.get(args.api_key_env)
        if not value:
            raise ConfigurationError(f"Environment variable {args.api_key_env} is not set")
        return value
    if args.api_key_stdin:
        return sys.stdin.readline().strip() or None
    if args.no_api_key or args.json or not sys.stdin.isatty():
        return None
    keep = "keep the stored one" if has_stored_key else "the endpoint needs none"
    return getpass.getpass(f"API key (leave empty: {keep}): ") or None


def list_models(args: argparse.Namespace, console: Console) -> int:
    """`models list`: every registered model; a key that no longer decrypts is shown as such."""
    registry = open_registry(console)
    records = registry.list_models()
    key_state = {record.model_id: _key_state(registry, record) for record in records}
    if args.json:
        models = [{**r.public_dict(), "api_key": key_state[r.model_id]} for r in records]
        console.print(json.dumps({"models": models}, indent=2))
        return 0
    if not records:
        console.print(
            "No models registered. Add one with: beastmode models add --id ID --endpoint URL"
        )
        return 0
    rows = [
        [
            r.ref,
            r.model_name,
            r.provider,
            r.endpoint_url,
            r.upstream_model,
            key_state[r.model_id],
            str(r.context_window),
        ]
        for r in records
    ]
    _print_table(
        console, ["MODEL", "NAME", "PROVIDER", "ENDPOINT", "UPSTREAM", "KEY", "CONTEXT"], rows
    )
    if "unreadable" in key_state.values():
        console.print(
            "\nAn unreadable key was stored under another encryption key (ENCRYPTION_KEY or "
            "secret.key changed): restore that key, or register the model again with its key."
        )
    return 0


def _key_state(registry: Registry, record: ModelRecord) -> str:
    if not record.has_api_key:
        return "no"
    try:
        registry.credentials(record.model_id)
    except DecryptionError:
        return "unreadable"
    return "yes"


def remove(args: argparse.Namespace, console: Console) -> int:
    """`models remove ID|custom:ID`."""
    model_id = _custom_id(args.model)
    open_registry(console).remove(model_id)
    console.print(f"Removed custom:{model_id}")
    return 0


def _custom_id(text: str) -> str:
    from beastmode.cli import UsageError

    try:
        ref = parse_ref(text if ":" in text else f"custom:{text}")
    except ValueError as exc:
        raise UsageError(str(exc), "beastmode models remove") from None
    if ref.kind != "custom":
        raise UsageError(
            f"{ref} is not a registered model; only custom:<id> models can be removed",
            "beastmode models remove",
        )
    return ref.name


def default(args: argparse.Namespace, console: Console) -> int:
    """`models default [REF] [--task TASK]`: show or set the stored default model per task."""
    registry = open_registry(console)
    if args.ref is not None:
        _require_registered(registry, args.ref)
        registry.set_default(args.task, args.ref)
        scope = "every task" if args.task == "*" else args.task
        console.print(f"Default model for {scope}: {args.ref}")
        return 0
    stored = registry.defaults()
    if not stored:
        console.print(
            "No default model stored (each task uses its settings, else local). Set one with: "
            "beastmode models default custom:<id> [--task TASK]"
        )
        return 0
    rows = [["*", stored["*"], "every task"]] if "*" in stored else []
    for task in TASKS:
        if task in stored:
            rows.append([task, stored[task], ""])
        elif "*" in stored:
            rows.append([task, stored["*"], "from *"])
    _print_table(console, ["TASK", "MODEL", ""], rows)
    return 0


def _require_registered(registry: Registry, ref: str) -> None:
    parsed = parse_ref(ref)
    if parsed.kind == "custom" and registry.find(parsed.name) is None:
        raise ModelNotFoundError(parsed.name)


def test(args: argparse.Namespace, console: Console) -> int:
    """`models test REF`: one tiny request to exactly that model; exit 1 when it fails."""
    registry = open_registry(console)
    _require_registered(registry, args.ref)
    registry.close()
    result = asyncio.run(_test_local() if args.ref == "local" else _test_remote(args.ref))
    checks = getattr(result, "checks", ())
    if args.json:
        console.print(json.dumps(_result_dict(result, checks)))
    else:
        for check in checks:
            state = "ok" if check.ok else f"FAILED: {check.error}"
            console.print(f"  {check.endpoint}: {state} ({check.latency_ms:.0f} ms)")
        if result.ok:
            console.print(
                f"{result.model}: ok in {result.latency_ms:.0f} ms (reply: {result.reply!r})"
            )
        else:
            console.error(
                f"{result.model}: FAILED after {result.latency_ms:.0f} ms: {result.error}"
            )
    return 0 if result.ok else 1


def _result_dict(result: Any, checks: Any) -> dict[str, Any]:
    data = {
        "ok": result.ok,
        "latency_ms": result.latency_ms,
        "model": result.model,
        "error": result.error,
    }
    if checks:
        data["checks"] = [
            {
                "endpoint": check.endpoint,
                "ok": check.ok,
                "latency_ms": check.latency_ms,
                "error": check.error,
            }
            for check in checks
        ]
    return data


async def _test_remote(ref: str) -> Any:
    from beastmode.api import BeastMode

    async with BeastMode() as beast:
        return await beast.test(ref)


async def _test_local() -> Any:
    """The embedded engine, given a sample to learn, completes a line of it through the router."""
    from beastmode.api import BeastMode
    from beastmode.demo import SAMPLE_MODULE
    from beastmode.errors import AllModelsFailed
    from beastmode.localengine import LocalEngine
    from beastmode.providers.base import FimRequest, ModelRequest
    from beastmode.router.catalog import ModelInfo
    from beastmode.router.router import TestResult
    from beastmode.router.timeouts import Timeouts

    engine = LocalEngine()
    engine.update_document("beastmode-test:shapes.py", SAMPLE_MODULE)

    def build(info: ModelInfo) -> ModelRequest:
        return FimRequest(prompt=_LOCAL_PREFIX, suffix="")

    started = time.monotonic()
    async with BeastMode() as beast:
        beast.router.catalog.set_engine(_LineEngine(engine))
        try:
            result = await beast.router.complete(
                "model-test", ["local"], build, Timeouts(attempt_seconds=30)
            )
        except AllModelsFailed as exc:
            elapsed = (time.monotonic() - started) * 1000
            return TestResult(False, round(elapsed, 1), "local", error=str(exc))
    elapsed = round((time.monotonic() - started) * 1000, 1)
    if not result.text.strip():
        return TestResult(False, elapsed, "local", error="the local engine suggested nothing")
    return TestResult(True, elapsed, "local", reply=result.text.strip())


class _LineEngine:
    """Presents a `LocalEngine` as the router's `CompletionEngine`."""

    def __init__(self, engine: Any) -> None:
        self._engine = engine

    def complete_line(self, prefix: str, suffix: str, document: str | None = None) -> str | None:
        suggestion = self._engine.suggest(prefix, suffix, uri=document)
        return suggestion.text if suggestion is not None else None


def _print_table(console: Console, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        cells = (str(cell).ljust(width) for cell, width in zip(row, widths, strict=True))
        console.print("  ".join(cells).rstrip())
