"""One redactor for every text that leaves the process.

Messages to the editor, JSON-RPC errors, CLI output, log lines (ours and httpx's), usage rows,
chat history and reports all pass through a `Redactor` before they go anywhere. It knows the
secrets of this process (every stored API key once decrypted, the `ENCRYPTION_KEY` /
`secret.key` material, provider keys from the environment) and replaces each of them, verbatim,
URL-encoded or JSON-escaped, with `[redacted]`; anything shaped like `Bearer <token>` goes too.

One instance per process front end (the server, a CLI run, a Python API session) is built with
`Redactor.from_environment()` and handed to whatever sends text out; `install_log_redaction()`
puts it in front of every log handler.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

REDACTED = "[redacted]"
MIN_SECRET_LENGTH = 6
"""Shorter values are not treated as secrets: redacting them would mangle ordinary words."""

SECRET_ENV_NAME = re.compile(r"(?i)(api_?key|secret|token|password|passwd|credential)")
"""Environment variables whose values are secrets (OPENAI_API_KEY, GITHUB_TOKEN, ...)."""

_BEARER_TAIL = re.compile(r"(?i)(?:\bb(?:e(?:a(?:r(?:e(?:r\s*[A-Za-z0-9._~+/=-]*)?)?)?)?)?)$")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}")
_KEY_FILE_NAME = "secret.key"


def _forms(secret: str) -> set[str]:
    """The ways a secret can appear in text: verbatim, URL-encoded, JSON-escaped."""
    forms = {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]}
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


class Redactor:
    """Replaces known secrets (and bearer tokens) in any text; safe to share between threads."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._lock = threading.Lock()
        self._forms: frozenset[str] = frozenset()
        self._pattern: re.Pattern[str] | None = None
        self.add(*secrets)

    def __repr__(self) -> str:
        return f"Redactor(secrets={len(self._forms)})"

    def add(self, *secrets: str | None) -> None:
        """Learn more secrets (values that are empty or too short to be secrets are ignored)."""
        new = {
            form
            for secret in secrets
            if secret and len(secret.strip()) >= MIN_SECRET_LENGTH
            for form in _forms(secret.strip())
        }
        with self._lock:
            if new <= self._forms:
                return
            forms = self._forms | new
            # Longest first, so a secret containing another is replaced whole.
            alternatives = sorted(forms, key=len, reverse=True)
            pattern = re.compile("|".join(re.escape(form) for form in alternatives))
            self._forms, self._pattern = frozenset(forms), pattern

    def redact(self, text: str) -> str:
        """`text` with every known secret and bearer token replaced by `[redacted]`."""
        pattern = self._pattern  # read once: `add` may swap it from another thread
        if pattern is not None:
            text = pattern.sub(REDACTED, text)
        return _BEARER.sub(r"\1" + REDACTED, text)

    def redact_data(self, value: Any) -> Any:
        """JSON-like `value` (dicts, lists, strings) with every string redacted; keys included."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {self.redact_data(key): self.redact_data(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.redact_data(item) for item in value]
        return value

    def contains_secret(self, text: str) -> bool:
        """True when `text` holds a known secret."""
        pattern = self._pattern
        return pattern is not None and pattern.search(text) is not None

    def stream(self) -> StreamRedaction:
        """A redaction for one text arriving in pieces (a streamed reply)."""
        return StreamRedaction(self)

    def _unsafe_tail_start(self, text: str) -> int:
        """Where the part of `text` that may still grow into a secret begins (len: none)."""
        start = len(text)
        forms = self._forms
        longest = max((len(form) for form in forms), default=0)
        for begin in range(max(0, len(text) - longest + 1), len(text)):
            tail = text[begin:]
            if any(form.startswith(tail) for form in forms):
                start = begin
                break
        bearer = _BEARER_TAIL.search(text)
        if bearer is not None:
            start = min(start, bearer.start())
        pattern = self._pattern
        if pattern is not None:
            for match in pattern.finditer(text):
                if match.start() < start < match.end():
                    return match.start()  # never cut a secret in two
        return start

    @classmethod
    def from_environment(cls, environ: Mapping[str, str], home: Path | None = None) -> Redactor:
        """A redactor knowing the environment's secrets and the key material in `home`."""
        redactor = cls()
        redactor.add_environment(environ, home)
        return redactor

    def add_environment(self, environ: Mapping[str, str], home: Path | None = None) -> None:
        """Learn secret-named environment values, `ENCRYPTION_KEY`'s keys and `secret.key`'s."""
        secrets = [value for name, value in environ.items() if SECRET_ENV_NAME.search(name)]
        secrets += environ.get("ENCRYPTION_KEY", "").split(",")
        if home is not None:
            with contextlib.suppress(OSError, UnicodeDecodeError):
                secrets += (home / _KEY_FILE_NAME).read_text(encoding="ascii").splitlines()
        self.add(*secrets)


class StreamRedaction:
    """Redacts a text that arrives in pieces, holding back a tail that could begin a secret.

    A key split across two deltas of a streamed reply is redacted whole: each `feed` returns
    only text that no later piece can turn into a secret; `finish` returns the rest.
    """

    def __init__(self, redactor: Redactor) -> None:
        self._redactor = redactor
        self._pending = ""

    def feed(self, piece: str) -> str:
        """The redacted text that is safe to send now, given one more piece."""
        text = self._pending + piece
        cut = self._redactor._unsafe_tail_start(text)
        self._pending = text[cut:]
        return self._redactor.redact(text[:cut])

    def finish(self) -> str:
        """The redacted rest, once the text is complete."""
        rest, self._pending = self._pending, ""
        return self._redactor.redact(rest)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts each record's final message (arguments included)."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message with secrets removed; never drops a record."""
        message = record.getMessage()
        redacted = self.redactor.redact(message)
        if record.exc_info and record.exc_info[1] is not None:
            # Tracebacks quote exception messages: render them now, redacted.
            record.exc_text = self.redactor.redact(
                logging.Formatter().formatException(record.exc_info)
            )
            record.exc_info = None
        record.msg, record.args = redacted, None
        return True


def install_log_redaction(redactor: Redactor) -> None:
    """Put `redactor` in front of every handler of the root logger (httpx's lines included)."""
    root = logging.getLogger()
    for handler in root.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter(redactor))
