"""The `beastmode` command line: manage models, read usage, rotate keys, run the demo.

Every line it prints, on stdout and stderr, goes through one `Redactor` that knows the
environment's secrets, the key material in BEASTMODE_HOME and every stored API key. A failure is
one line on stderr and exit status 1; a usage error is one line plus a `--help` hint and exit
status 2. API keys come from the registration JSON, `--api-key-env NAME`, `--api-key-stdin` or a
hidden prompt, never from a plain argument, and are never printed.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import IO, Any, NoReturn

from beastmode.errors import BeastModeError
from beastmode.redaction import Redactor, install_log_redaction
from beastmode.router.chains import TASKS
from beastmode.router.refs import parse_ref

PROVIDERS = ("openai-compatible", "anthropic-compatible")
KEY_SOURCES = (
    "API keys are never taken as arguments (they would stay in shell history and the process "
    "list): use --api-key-env NAME, --api-key-stdin, api_key in the --json body, or the prompt"
)
_RELATIVE_SINCE = re.compile(r"(\d{1,5})([dh])")


class UsageError(Exception):
    """The command line was malformed; `command` is the program and subcommand it concerns."""

    def __init__(self, message: str, command: str) -> None:
        super().__init__(message)
        self.command = command


class Console:
    """stdout and stderr behind one redactor."""

    def __init__(self, redactor: Redactor, out: IO[str], err: IO[str]) -> None:
        self.redactor = redactor
        self._out = out
        self._err = err

    def print(self, text: str = "", *, end: str = "\n") -> None:
        """Write redacted text to stdout."""
        self._out.write(self.redactor.redact(text) + end)

    def error(self, text: str) -> None:
        """Write redacted text to stderr as one line."""
        one_line = " ".join(self.redactor.redact(text).split())
        self._err.write(one_line + "\n")


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (raised, not printed) and redacted help output."""

    def __init__(self, *args: Any, console: Console, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.console = console

    def error(self, message: str) -> NoReturn:
        """Raise the error for `main` to print as one line."""
        raise UsageError(message, self.prog)

    def _print_message(self, message: str, file: Any = None) -> None:
        if message:
            self.console.print(message, end="")


class _RefuseApiKeyArgument(argparse.Action):
    """`--api-key VALUE`: refused with the ways a key can be passed (the value is not echoed)."""

    def __call__(self, parser: argparse.ArgumentParser, *_: Any, **__: Any) -> None:
        raise UsageError(KEY_SOURCES, parser.prog)


def model_ref(text: str) -> str:
    """An argparse type: a valid model reference in its canonical form."""
    try:
        return str(parse_ref(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def since_timestamp(text: str, now: datetime) -> str:
    """`YYYY-MM-DD`, `7d` or `24h` as the ISO timestamp usage rows are compared with."""
    relative = _RELATIVE_SINCE.fullmatch(text.strip())
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2)
        delta = timedelta(days=amount) if unit == "d" else timedelta(hours=amount)
        return (now - delta).isoformat(timespec="milliseconds")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
        try:
            return date.fromisoformat(text.strip()).isoformat()
        except ValueError:
            pass
    raise argparse.ArgumentTypeError(
        f"'{text}' is not a date: use YYYY-MM-DD (e.g. 2026-12-01), or 7d / 24h for the last "
        "days / hours"
    )


def _since(text: str) -> str:
    return since_timestamp(text, datetime.now(UTC))


def _parser(console: Console) -> argparse.ArgumentParser:
    from beastmode import __version__

    parser = _Parser(
        prog="beastmode",
        description="BEAST MODE: your own code models in every editor.",
        console=console,
    )
    parser.add_argument("--version", action="version", version=f"beastmode {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    models = commands.add_parser(
        "models", console=console, help="register, list, remove and test custom models"
    )
    actions = models.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    add = actions.add_parser(
        "add",
        console=console,
        help="register a model, or update the fields given of a registered one",
        description="Register a model. For a registered id, the flags given change only those "
        "fields; --json replaces the whole record (its stored key is kept unless one is given).",
    )
    add.add_argument("--json", metavar="FILE", help="registration body as JSON ('-' = stdin)")
    add.add_argument("--id", help="model id, used as custom:<id>")
    add.add_argument("--name", help="display name (default: the id)")
    add.add_argument("--endpoint", help="endpoint URL, e.g. http://localhost:11434/v1")
    add.add_argument("--provider", choices=PROVIDERS)
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
    key.add_argument("--no-api-key", action="store_true", help="no key: drops a stored one")
    add.add_argument("--api-key", nargs="?", action=_RefuseApiKeyArgument, help=argparse.SUPPRESS)

    listing = actions.add_parser("list", console=console, help="list registered models")
    listing.add_argument("--json", action="store_true", help="print JSON")
    remove = actions.add_parser("remove", console=console, help="remove a registered model")
    remove.add_argument("model", metavar="ID", help="<id> or custom:<id>")
    test = actions.add_parser(
        "test", console=console, help="send a tiny prompt to one model and time it"
    )
    test.add_argument(
        "ref", type=model_ref, help="custom:<id>, openai:<model>, anthropic:<model> or local"
    )
    test.add_argument("--json", action="store_true", help="print JSON")
    default = actions.add_parser(
        "default",
        console=console,
        help="show the default models, or set one",
        description="Without REF: show the stored default model per task. With REF: make it the "
        "default for --task (every task when omitted), as the editor's Set Default Model does.",
    )
    default.add_argument("ref", nargs="?", type=model_ref, metavar="REF", help="model reference")
    default.add_argument("--task", choices=["*", *TASKS], default="*", help="default: every task")

    usage = commands.add_parser("usage", console=console, help="usage and cost report")
    usage.add_argument(
        "--since", type=_since, help="only usage from this date (YYYY-MM-DD) or the last 7d / 24h"
    )
    usage.add_argument("--json", action="store_true", help="print JSON")

    commands.add_parser(
        "rotate-key", console=console, help="re-encrypt every stored API key under a new key"
    )

    demo = commands.add_parser(
        "demo", console=console, help="type into a sample file and watch suggestions"
    )
    demo.add_argument("--model", type=model_ref, help="model to complete with (default: local)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    console = Console(Redactor.from_environment(os.environ), sys.stdout, sys.stderr)
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="beastmode: %(message)s")
    install_log_redaction(console.redactor)
    try:
        args = _parser(console).parse_args(argv)
        return _dispatch(args, console)
    except UsageError as exc:
        console.error(f"{exc.command}: error: {exc} (see '{exc.command} --help')")
        return 2
    except BeastModeError as exc:
        console.error(f"beastmode: error: {exc}")
        return 1
    except KeyboardInterrupt:
        console.error("beastmode: interrupted")
        return 130


def _dispatch(args: argparse.Namespace, console: Console) -> int:
    from beastmode import cli_models

    if args.command == "models":
        command = {
            "add": cli_models.add,
            "list": cli_models.list_models,
            "remove": cli_models.remove,
            "test": cli_models.test,
            "default": cli_models.default,
        }[args.models_command]
        return command(args, console)
    if args.command == "usage":
        return _usage(args, console)
    if args.command == "rotate-key":
        return _rotate_key(console)
    from beastmode.demo import run_demo

    return run_demo(model=args.model, console=console)


def _usage(args: argparse.Namespace, console: Console) -> int:
    import json

    from beastmode.cli_models import open_registry
    from beastmode.registry.home import DATABASE_NAME
    from beastmode.registry.migrations import migrate
    from beastmode.registry.store import connect
    from beastmode.usage.report import build_report

    registry = open_registry(console)  # the redactor learns every stored key
    home = registry.home
    registry.close()
    db = connect(home / DATABASE_NAME)
    migrate(db)
    report = build_report(db, args.since)
    if args.json:
        console.print(json.dumps(report.as_dict(), indent=2))
    else:
        console.print(report.markdown, end="")
    return 0


def _rotate_key(console: Console) -> int:
    from beastmode.cli_models import open_registry
    from beastmode.registry.crypto import rotate_secret_key_file

    registry = open_registry(console)
    if os.environ.get("ENCRYPTION_KEY"):
        count = registry.rotate_keys()
        console.print(f"Re-encrypted {count} API key(s) under the first key of ENCRYPTION_KEY.")
        console.print("Once every machine uses the new list, the old keys can be dropped from it.")
        return 0
    count = rotate_secret_key_file(registry.home, registry.rotate_keys)
    console.redactor.add_environment({}, registry.home)  # the new key is a secret too
    console.print(f"Generated a new secret.key and re-encrypted {count} API key(s) under it.")
    return 0


if __name__ == "__main__":
    # Through the package's module, so `cli_models` raises the very UsageError caught here.
    from beastmode.cli import main as package_main

    sys.exit(package_main())
