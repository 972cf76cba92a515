"""Workspace secrets: which files are secret, which values look secret, and the refusal rule.

Two guarantees rest on this module (docs/SECURITY.md):

- A file whose name marks it as secret (`is_secret_file`) is never a cross-file snippet and is
  never learned by the `local` engine, even while it is open in the editor.
- No inline suggestion is shown if it completes a secret value found in the workspace.
  `WorkspaceSecrets` keeps the values harvested from every open document (secret files
  included) and every file the local engine learned, and `completes_secret` tells the pipeline
  when a suggestion would write one of them.

Values are found with detect-secrets' keyword and high-entropy plugins (what `detect-secrets
scan` itself uses), plus the assignment names its keyword list leaves out (TOKEN, DATABASE_URL,
DSN, ...) and the password of a URL with credentials (its basic-auth plugin). detect-secrets
costs about 0.2 s to import (it brings `requests`), so it is imported on the first document with
a line worth checking, in a worker thread, never at startup or on the event loop.
"""

from __future__ import annotations

import asyncio
import fnmatch
import logging
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from beastmode.redaction import Redactor

log = logging.getLogger("beastmode.secrets")

SECRET_FILE_PATTERNS = (
    ".env*",
    "*.pem",
    "*.key",
    "id_rsa*",
    "id_ed25519*",
    "*.p12",
    "*.pfx",
    ".netrc",
    ".npmrc",
    ".pypirc",
    "credentials*",
    "*secret*",
)
"""File names (matched case-insensitively) whose content is secret as a whole."""

MIN_VALUE_LENGTH = 8
"""Shorter values are not kept: refusing every suggestion holding them would refuse too much."""

MAX_VALUES = 5_000
"""At most this many values are kept (a workspace with more is a data dump, not code)."""

_CONFIG_SUFFIXES = frozenset(
    {"", ".sh", ".bash", ".zsh", ".fish", ".env", ".envrc", ".ps1", ".bat", ".cmd", ".dockerfile"}
)
# Assignment names that detect-secrets' keyword list leaves out but that hold secrets.
_EXTRA_NAME = (
    r"[A-Za-z0-9_.-]*"
    r"(?:token|database_?url|db_?url|dsn|conn(?:ection)?_?str(?:ing)?|credentials?|_key)"
    r"[A-Za-z0-9_]*"
)
_EXTRA_QUOTED = re.compile(
    rf"(?i){_EXTRA_NAME}['\"\]]{{0,2}}\s*(?::=|[:=]{{1,3}}|=>)\s*(['\"`])([^'\"`\n]+)\1"
)
_EXTRA_UNQUOTED = re.compile(
    rf"(?i){_EXTRA_NAME}['\"\]]{{0,2}}\s*(?::=|[:=]{{1,2}})\s*['\"`]?([^\s'\"`,;]+)"
)
_NOT_A_VALUE = ("$", "{", "<", "%", "(")
# Lines any of the detectors could find something in: a name holding a word of detect-secrets'
# keyword list or of ours, a long token (the entropy plugins need 20+ characters to pass their
# limits, hex 8+), or a URL with credentials. Only these lines reach detect-secrets, so a
# document without any never loads it.
_CANDIDATE_LINE = re.compile(
    r"(?i)key|pass|pwd|secret|contrase|token|url|dsn|conn|credential"
    r"|[A-Za-z0-9+/=_-]{20}|['\"`][0-9a-f]{8}|://[^\s/]+@"
)
_MIN_ENTROPY_TOKEN = 20


def is_secret_file(path_or_uri: str) -> bool:
    """True when the file's name marks it as secret (`.env`, `*.pem`, `id_rsa`, `*secret*`...)."""
    name = _file_name(path_or_uri).lower()
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in SECRET_FILE_PATTERNS)


def _file_name(path_or_uri: str) -> str:
    if "://" in path_or_uri:
        path_or_uri = unquote(urlsplit(path_or_uri).path)
    return PurePosixPath(path_or_uri.replace("\\", "/")).name


@dataclass(frozen=True)
class _Detectors:
    """detect-secrets' plugins and regex tables, loaded once per `WorkspaceSecrets`."""

    keyword: Any
    regex_by_filetype: dict[Any, dict[re.Pattern[str], int]]
    quotes_required: dict[re.Pattern[str], int]
    config: dict[re.Pattern[str], int]
    determine_file_type: Any
    entropy: tuple[Any, ...]
    basic_auth: Any

    @classmethod
    def load(cls) -> _Detectors:
        """Import detect-secrets (about 0.2 s: call from a worker thread)."""
        from detect_secrets.plugins import keyword
        from detect_secrets.plugins.basic_auth import BasicAuthDetector
        from detect_secrets.plugins.high_entropy_strings import (
            Base64HighEntropyString,
            HexHighEntropyString,
        )
        from detect_secrets.util.filetype import determine_file_type

        return cls(
            keyword=keyword.KeywordDetector(),
            regex_by_filetype=keyword.REGEX_BY_FILETYPE,
            quotes_required=keyword.QUOTES_REQUIRED_DENYLIST_REGEX_TO_GROUP,
            config=keyword.CONFIG_DENYLIST_REGEX_TO_GROUP,
            determine_file_type=determine_file_type,
            entropy=(Base64HighEntropyString(), HexHighEntropyString()),
            basic_auth=BasicAuthDetector(),
        )

    def values_in(self, name: str, lines: Iterable[str]) -> set[str]:
        """The secret-looking values in `lines` of the file called `name`."""
        file_type = self.determine_file_type(name)
        suffix = PurePosixPath(name).suffix.lower()
        config_like = is_secret_file(name) or suffix in _CONFIG_SUFFIXES
        keyword_table = self.regex_by_filetype.get(
            file_type, self.config if config_like else self.quotes_required
        )
        extra = _EXTRA_UNQUOTED if config_like or keyword_table is self.config else _EXTRA_QUOTED
        unquoted_entropy = [
            re.compile(f"[{re.escape(plugin.charset)}]{{{_MIN_ENTROPY_TOKEN},}}")
            for plugin in self.entropy
        ]
        found: set[str] = set()
        for line in lines:
            if len(line) > 2_000 or not line.strip():
                continue
            found.update(self.keyword.analyze_string(line, denylist_regex_to_group=keyword_table))
            found.update(match.group(match.lastindex or 0) for match in extra.finditer(line))
            found.update(self.basic_auth.analyze_string(line))
            for plugin, unquoted in zip(self.entropy, unquoted_entropy, strict=True):
                candidates = list(plugin.analyze_string(line))
                if config_like:
                    # The value side of `NAME=value` / `name: value`, else the whole line.
                    value_side = re.split(r"[=:]", line, maxsplit=1)[-1]
                    candidates += unquoted.findall(value_side)
                found.update(
                    value
                    for value in candidates
                    if plugin.calculate_shannon_entropy(value) > plugin.entropy_limit
                )
        return {value for value in map(str.strip, found) if _worth_keeping(value)}


def _worth_keeping(value: str) -> bool:
    return len(value) >= MIN_VALUE_LENGTH and not value.startswith(_NOT_A_VALUE)


class WorkspaceSecrets:
    """The secret values seen in the workspace, and the rule that keeps them out of suggestions.

    `harvest` is thread-safe and runs where learning runs (worker threads). The pipeline waits,
    on the event loop, for harvests of just-opened documents still under way (`settled`), so a
    suggestion is never checked against a set that misses a file the editor has already sent.
    """

    def __init__(self) -> None:
        self._values = Redactor()
        self._count = 0
        self._lock = threading.Lock()
        self._detectors: _Detectors | None = None
        self._pending: set[asyncio.Future[None]] = set()

    def __len__(self) -> int:
        return self._count

    def harvest(self, uri: str, lines: str | Iterable[str]) -> None:
        """Remember the secret-looking values in a document's text (or some of its lines)."""
        if isinstance(lines, str):
            lines = lines.splitlines()
        candidates = [line for line in lines if _CANDIDATE_LINE.search(line)]
        if not candidates:
            return
        with self._lock:
            if self._detectors is None:
                self._detectors = _Detectors.load()
            detectors = self._detectors
        values = detectors.values_in(_file_name(uri), candidates)
        if not values:
            return
        with self._lock:
            room = MAX_VALUES - self._count
            if room <= 0:
                log.warning("Over %d secret values in the workspace; ignoring the rest", MAX_VALUES)
                return
            kept = sorted(values)[:room]
            self._count += len(kept)
            self._values.add(*kept)

    def harvest_in_background(self, uri: str, text: str) -> None:
        """Harvest a document in a worker thread; `settled` waits for it (call on the loop)."""
        future = asyncio.get_running_loop().run_in_executor(None, self.harvest, uri, text)
        self._pending.add(future)
        future.add_done_callback(self._harvested)

    def _harvested(self, future: asyncio.Future[None]) -> None:
        self._pending.discard(future)
        if not future.cancelled() and future.exception() is not None:
            log.error("Could not look for secrets in a document", exc_info=future.exception())

    async def settled(self, timeout: float) -> bool:
        """Wait for background harvests; False if some are still running after `timeout`."""
        if not self._pending:
            return True
        _, running = await asyncio.wait(set(self._pending), timeout=timeout)
        return not running

    def completes_secret(self, line_prefix: str, text: str, line_suffix: str = "") -> bool:
        """True when inserting `text` between `line_prefix` and `line_suffix` writes a secret.

        A secret already on the line, typed by the user, is theirs: then only `text` itself
        is checked.
        """
        values = self._values
        if values.contains_secret(text):
            return True
        if values.contains_secret(line_prefix) or values.contains_secret(line_suffix):
            return False
        return values.contains_secret(line_prefix + text + line_suffix)

    def redact(self, text: str) -> str:
        """`text` with every known workspace secret replaced by `[redacted]`."""
        return self._values.redact(text) if self._count else text
