"""The `beastmode` command line: manage models, read usage, rotate keys, run the demo.

Every command exits non-zero with a one-line message on stderr when it fails. API keys are taken
from the registration JSON, `--api-key-env NAME`, `--api-key-stdin` or a hidden prompt, never from
a plain argument, and are never printed.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from beastmode.errors import BeastModeError, ConfigurationError

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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="beastmode",
        description="BEAST MODE: your own code models in every editor.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    models = commands.add_parser("models", help="register, list, remove and test custom models")
    model_commands = models.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    add = model_commands.add_parser("add", help="register a model (re-registering updates it)")
    add.add_argument("--json", metavar="FILE", help="registration body as JSON ('-' = stdin)")
    add.add_argument("--id", help="model id, used as custom:<id>")
    add.add_argument("--name", help="display name (default: the id)")
    add.add_argument("--endpoint", help="endpoint URL, e.g. http://localhost:11434/v1")
    add.add_argument("--provider", choices=["openai-compatible", "anthropic-compatible"])
    add.add_argument("--description")
    add.add_argument("--context-window", type=int)
    add.add_argument("--max-tokens", type=int)
    add.add_argument("--temperature", type=float)
    add.add_argument("--upstream-model", help="the `model` value sent to the endpoint")
    add.add_argument("--fim-template", help="auto, none, or a family (starcoder, codellama, ...)")
    add.add_argument("--completions-url", help="FIM endpoint (/v1/completions with suffix)")
    add.add_argument("--input-cost", type=float, help="USD per 1K prompt tokens")
    add.add_argument("--output-cost", type=float, help="USD per 1K completion tokens")
    key = add.add_mutually_exclusive_group()
    key.add_argument("--api-key-env", metavar="NAME", help="read the API key from this variable")
    key.add_argument("--api-key-stdin", action="store_true", help="read the API key from stdin")
    key.add_argument("--no-api-key", action="store_true", help="the endpoint needs no key")

    listing = model_commands.add_parser("list", help="list registered models")
    listing.add_argument("--json", action="store_true", help="print JSON")
    remove = model_commands.add_parser("remove", help="remove a registered model")
    remove.add_argument("model_id")
    test = model_commands.add_parser("test", help="send a tiny prompt to one model and time it")
    test.add_argument("ref", help="custom:<id>, openai:<model>, anthropic:<model> or local")
    test.add_argument("--json", action="store_true", help="print JSON")

    usage = commands.add_parser("usage", help="usage and cost report")
    usage.add_argument("--since", help="only usage at or after this date (YYYY-MM-DD)")
    usage.add_argument("--json", action="store_true", help="print JSON")

    commands.add_parser("rotate-key", help="re-encrypt every stored API key under a new key")

    demo = commands.add_parser("demo", help="type into a sample file and watch suggestions")
    demo.add_argument("--model", help="model reference to complete with (default: yours, or local)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except BeastModeError as exc:
        print(f"beastmode: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("beastmode: interrupted", file=sys.stderr)
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "models":
        if args.models_command == "add":
            return _models_add(args)
        if args.models_command == "list":
            return _models_list(args)
        if args.models_command == "remove":
            return _models_remove(args)
        return _models_test(args)
    if args.command == "usage":
        return _usage(args)
    if args.command == "rotate-key":
        return _rotate_key()
    from beastmode.demo import run_demo

    return run_demo(model=args.model)


def _registration_body(args: argparse.Namespace) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if args.json:
        if args.json == "-" and args.api_key_stdin:
            raise ConfigurationError("--json - and --api-key-stdin both want stdin; use one.")
        try:
            text = sys.stdin.read() if args.json == "-" else open(args.json).read()  # noqa: SIM115
            body = json.loads(text)
        except OSError as exc:
            raise ConfigurationError(f"Cannot read {args.json}: {exc.strerror}") from None
        except ValueError as exc:
            raise ConfigurationError(f"{args.json} is not valid JSON: {exc}") from None
        if not isinstance(body, dict):
            raise ConfigurationError(f"{args.json} must hold a JSON object")
    for flag, field_name in REGISTRATION_FLAGS.items():
        value = getattr(args, flag)
        if value is not None:
            body[field_name] = value
    body.setdefault("model_name", body.get("model_id", ""))
    if args.api_key_env:
        value = os.environ.get(args.api_key_env)
        if not value:
            raise ConfigurationError(f"Environment variable {args.api_key_env} is not set")
        body["api_key"] = value
    elif args.api_key_stdin:
        body["api_key"] = sys.stdin.readline().strip()
    elif args.no_api_key:
        body.pop("api_key", None)
    elif "api_key" not in body and sys.stdin.isatty():
        body["api_key"] = getpass.getpass("API key (leave empty if the endpoint needs none): ")
    if body.get("api_key") == "":
        body.pop("api_key")
    return body


def _models_add(args: argparse.Namespace) -> int:
    from beastmode.registry import ModelRegistration, Registry

    registration = ModelRegistration.parse(_registration_body(args))
    registry = Registry.open()
    record = registry.register(registration)
    print(json.dumps(record.public_dict(), indent=2))
    return 0


def _models_list(args: argparse.Namespace) -> int:
    from beastmode.registry import Registry

    records = Registry.open().list_models()
    if args.json:
        print(json.dumps({"models": [r.public_dict() for r in records]}, indent=2))
        return 0
    if not records:
        print("No models registered. Add one with: beastmode models add --id ID --endpoint URL")
        return 0
    rows = [
        [
            r.ref,
            r.model_name,
            r.provider,
            r.endpoint_url,
            r.upstream_model,
            "yes" if r.has_api_key else "no",
            str(r.context_window),
        ]
        for r in records
    ]
    print_table(["MODEL", "NAME", "PROVIDER", "ENDPOINT", "UPSTREAM", "KEY", "CONTEXT"], rows)
    return 0


def _models_remove(args: argparse.Namespace) -> int:
    from beastmode.registry import Registry

    Registry.open().remove(args.model_id)
    print(f"Removed custom:{args.model_id}")
    return 0


def _models_test(args: argparse.Namespace) -> int:
    from beastmode.api import BeastMode

    async def run() -> Any:
        async with BeastMode() as beast:
            return await beast.test(args.ref)

    result = asyncio.run(run())
    if args.json:
        print(
            json.dumps(
                {
                    "ok": result.ok,
                    "latency_ms": result.latency_ms,
                    "model": result.model,
                    "error": result.error,
                }
            )
        )
    elif result.ok:
        print(f"{result.model}: ok in {result.latency_ms:.0f} ms (reply: {result.reply!r})")
    else:
        print(f"{result.model}: FAILED after {result.latency_ms:.0f} ms: {result.error}")
    return 0 if result.ok else 1


def _usage(args: argparse.Namespace) -> int:
    from beastmode.registry.home import DATABASE_NAME, home_directory
    from beastmode.registry.store import connect
    from beastmode.usage.report import build_report

    db = connect(home_directory() / DATABASE_NAME)
    from beastmode.registry.migrations import migrate

    migrate(db)
    report = build_report(db, args.since)
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        print(report.markdown, end="")
    return 0


def _rotate_key() -> int:
    from beastmode.registry import Registry
    from beastmode.registry.crypto import rotate_secret_key_file
    from beastmode.registry.home import home_directory

    if os.environ.get("ENCRYPTION_KEY"):
        count = Registry.open().rotate_keys()
        print(f"Re-encrypted {count} API key(s) under the first key of ENCRYPTION_KEY.")
        print("Once every machine uses the new list, the old keys can be dropped from it.")
        return 0
    home = home_directory()
    registry = Registry.open()
    count = rotate_secret_key_file(home, registry.rotate_keys)
    print(f"Generated a new secret.key and re-encrypted {count} API key(s) under it.")
    return 0


def print_table(header: list[str], rows: list[list[str]]) -> None:
    """Print rows as an aligned plain-text table."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print(
            "  ".join(
                str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)
            ).rstrip()
        )


if __name__ == "__main__":
    sys.exit(main())
