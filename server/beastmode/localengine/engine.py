"""The `local` model: rest-of-line suggestions learned from the user's own code, offline.

`LocalEngine` counts, for every position of every learned line, which token came next after the
whole line so far and after the last 3, 2 and 1 tokens (`tokens.py`, `table.py`), and proposes the
rest of the current line by greedy decoding (`decode.py`) only when every step is likely.

Statistics are kept per line, so re-learning a changed document only touches the lines that
changed (a keystroke costs one line, not the file). The documents the editor sends (as opposed to
files read from disk by `workspace.scan_workspace`) also get a small table of their own, weighted
above the workspace's, because code repeats itself most within one file; it is kept while the
document is open (`release_document` drops it), so editing many documents in turn only ever
updates their tables by the lines that changed.

Memory bound: at most `max_entries` contexts (default 250,000; about 420 bytes each including
the table's slack, as measured by scripts/bench_local_latency.py on a worst case where no two
files share an identifier, so about 105 MB), plus the learned documents zlib-compressed
(about a fifth of `max_bytes`, 10 MB by default), plus the per-document tables of the editor's
documents: at most 256 kB of text each and 1.5 MB together, the least recently used dropped
first (about 15 bytes of memory per byte of real code, so about 22 MB; `stats` counts them at
the worst case's 420 bytes per context). When the table is full, the contexts seen
only once, oldest first, are forgotten until it is 60% full (on pytest's sources, keeping only
40% of the contexts costs about one point of coverage).

Secrets: a file whose name marks it as secret (`beastmode.secrets.is_secret_file`: `.env`,
`*.pem`, `id_rsa`, ...) is never learned, whoever sends it; given a `WorkspaceSecrets`, every
document's new lines are first searched for secret values, so the pipeline can refuse a suggestion
that would write one (the search runs here because learning runs in worker threads).

Thread-safe: updates may come from a background indexing thread while `suggest` runs on the event
loop. Updates hold the table lock only in short batches, so `suggest` never waits long; but
updates wait for one another (a scan's 1 MB file takes about a second), so call
`update_document` off the event loop.
"""

from __future__ import annotations

import threading
import zlib
from collections import Counter, OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from beastmode.localengine.decode import DecodeParams, Source, decode_rest_of_line
from beastmode.localengine.table import CountTable
from beastmode.localengine.tokens import (
    MAX_LINE_CHARS,
    learnable_lines,
    line_events,
    split_fragment,
    tokenize,
)
from beastmode.secrets import is_secret_file

if TYPE_CHECKING:
    from beastmode.secrets import WorkspaceSecrets

DEFAULT_MAX_ENTRIES = 250_000
"""Default bound on the number of contexts in the shared table."""

BYTES_PER_ENTRY = 420
"""Measured average cost of one context (scripts/bench_local_latency.py), for `stats`."""

_LOCAL_WEIGHT = 3.0
_MAX_OVERLAY_BYTES = 256_000
_MAX_OVERLAY_TOTAL_BYTES = 1_500_000
_LINES_PER_BATCH = 256
_PRUNE_CHUNK = 20_000
_SUFFIX_CLOSERS = frozenset(")]}'\":;, ")


@dataclass(frozen=True)
class Suggestion:
    """The proposed rest of the current line (never contains a newline) and how sure it is."""

    text: str
    confidence: float


@dataclass(frozen=True)
class EngineStats:
    """What the engine holds: documents, bytes of text learned, contexts, approximate memory."""

    documents: int
    bytes_learned: int
    entries: int
    approx_memory_bytes: int


@dataclass
class _Document:
    compressed: bytes
    size: int
    from_disk: bool


@dataclass
class _Overlay:
    """The statistics of one editor document on their own."""

    table: CountTable = field(default_factory=CountTable)
    lines: Counter[str] = field(default_factory=Counter)
    size: int = 0


class LocalEngine:
    """Learns code line by line and proposes the rest of the current line when confident."""

    def __init__(
        self,
        *,
        max_files: int = 10_000,
        max_bytes: int = 50_000_000,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        max_document_bytes: int = 1_000_000,
        params: DecodeParams | None = None,
        secrets: WorkspaceSecrets | None = None,
    ) -> None:
        self._max_files = max_files
        self._max_bytes = max_bytes
        self._max_entries = max_entries
        self._max_document_bytes = max_document_bytes
        self._params = params or DecodeParams()
        self._table = CountTable()
        self._documents: dict[str, _Document] = {}
        self._overlays: OrderedDict[str, _Overlay] = OrderedDict()
        self._overlay_bytes = 0
        self._bytes = 0
        self._lock = threading.Lock()
        self._update_lock = threading.Lock()
        self._secrets = secrets

    def update_document(self, uri: str, text: str, *, from_disk: bool = False) -> None:
        """(Re)learn one document; only its changed lines cost anything.

        `from_disk` marks files read by the workspace scan: they never replace the version the
        editor sent, and they are the first forgotten when an editor document needs room.
        A document beyond the bounds is not learned (an editor document that grew past
        `max_document_bytes` is forgotten). A secret file is only searched for secret values.
        """
        if is_secret_file(uri):
            if self._secrets is not None:
                self._secrets.harvest(uri, text)
            return
        size = len(text.encode("utf-8", "surrogatepass"))
        with self._update_lock:
            old = self._documents.get(uri)
            if old is not None and from_disk and not old.from_disk:
                return
            with self._lock:
                overlay = self._overlays.get(uri)
            # An open document's own table already holds its lines as last learned: no need to
            # decompress and split the old text again.
            old_lines = (
                overlay.lines
                if overlay is not None
                else Counter(learnable_lines(_decompress(old) if old else ""))
            )
            new_lines = Counter(learnable_lines(text))
            if self._secrets is not None:
                # Only lines new since the last update can hold values not yet harvested.
                self._secrets.harvest(
                    uri, [row for row in text.splitlines() if row.strip() not in old_lines]
                )
            if size > self._max_document_bytes or not self._make_room(uri, size, from_disk):
                self._forget(uri)
                return
            self._apply(self._table, old_lines - new_lines, add=False)
            self._apply(self._table, new_lines - old_lines, add=True)
            with self._lock:
                self._documents[uri] = _Document(
                    zlib.compress(text.encode("utf-8", "surrogatepass"), 1), size, from_disk
                )
                self._bytes += size - (old.size if old else 0)
            if not from_disk:
                self._update_overlay(uri, overlay, new_lines, size)
            self._prune_if_full()

    def remove_document(self, uri: str) -> None:
        """Forget a document (deleted file, closed unsaved buffer)."""
        with self._update_lock:
            self._forget(uri)

    def release_document(self, uri: str) -> None:
        """The editor closed a document that is saved on disk: keep its lines, drop its own table.

        It becomes like a scanned file: weighted as the rest of the workspace, replaced by a
        later scan, and among the first forgotten when an editor document needs room.
        """
        with self._update_lock, self._lock:
            self._drop_overlay(uri)
            document = self._documents.get(uri)
            if document is not None:
                document.from_disk = True

    def suggest(
        self, prefix: str, suffix: str, *, uri: str | None = None, language: str = ""
    ) -> Suggestion | None:
        """Propose the rest of the current line, or None when not confident.

        Only the last line of `prefix` and the first line of `suffix` are read. Text after the
        cursor on the same line must be closing punctuation (as an editor auto-inserts); the
        suggestion then ends just before it. `language` is accepted for the router's sake; the
        statistics are shared across languages, which rarely collide in whole contexts.
        """
        del language
        line_start = prefix.rfind("\n") + 1
        if len(prefix) - line_start > MAX_LINE_CHARS:
            return None
        content = prefix[line_start:].lstrip()
        newline = suffix.find("\n")
        raw_suffix_line = suffix if newline < 0 else suffix[:newline]
        suffix_line = raw_suffix_line.strip()
        if not _SUFFIX_CLOSERS.issuperset(suffix_line):
            return None
        tokens, fragment = split_fragment(content)
        with self._lock:
            sources = [Source(self._table, 1.0)]
            excluded: Counter[tuple[int, str]] | None = None
            overlay = None if uri is None else self._overlays.get(uri)
            if uri is not None and overlay is not None:
                self._overlays.move_to_end(uri)
                sources.insert(0, Source(overlay.table, _LOCAL_WEIGHT))
                current_line = (content + raw_suffix_line).strip()
                if overlay.lines[current_line] > 0:
                    # The document as last learned holds this very line, half typed: its own
                    # continuation (usually "end of line") must not vote.
                    excluded = Counter(
                        (key, token) for key, _, token in line_events(tokenize(current_line))
                    )
            decoded = decode_rest_of_line(tokens, fragment, sources, self._params, excluded)
        if decoded is None:
            return None
        text, confidence = decoded
        if suffix_line:
            if not text.endswith(suffix_line):
                return None
            text = text[: -len(suffix_line)].rstrip()
        if not text.strip():
            return None
        return Suggestion(text, confidence)

    @property
    def stats(self) -> EngineStats:
        """Documents, bytes learned, contexts held, and an estimate of the memory used."""
        with self._lock:
            entries = len(self._table)
            overlay_entries = sum(len(overlay.table) for overlay in self._overlays.values())
            compressed = sum(len(document.compressed) for document in self._documents.values())
            return EngineStats(
                documents=len(self._documents),
                bytes_learned=self._bytes,
                entries=entries,
                approx_memory_bytes=(entries + overlay_entries) * BYTES_PER_ENTRY + compressed,
            )

    def _make_room(self, uri: str, size: int, from_disk: bool) -> bool:
        """Check the file and byte bounds, evicting disk files for an editor document."""

        def fits() -> bool:
            current = self._documents.get(uri)
            files = len(self._documents) + (0 if current is not None else 1)
            return (
                files <= self._max_files
                and self._bytes - (current.size if current else 0) + size <= self._max_bytes
            )

        if fits():
            return True
        if from_disk or size > self._max_bytes:
            return False
        for candidate in [u for u, d in self._documents.items() if d.from_disk and u != uri]:
            self._forget(candidate)
            if fits():
                return True
        return False

    def _forget(self, uri: str) -> None:
        """Remove a document's counts (caller holds the update lock)."""
        with self._lock:
            document = self._documents.pop(uri, None)
            self._drop_overlay(uri)
            if document is not None:
                self._bytes -= document.size
        if document is not None:
            self._apply(self._table, Counter(learnable_lines(_decompress(document))), add=False)

    def _update_overlay(
        self, uri: str, overlay: _Overlay | None, new_lines: Counter[str], size: int
    ) -> None:
        """Bring the document's own table up to date (caller holds the update lock).

        Only the changed lines are counted in or out; a table is built from scratch only for a
        document new to the engine or one whose table was dropped to stay within the bounds.
        """
        if size > _MAX_OVERLAY_BYTES:
            with self._lock:
                self._drop_overlay(uri)
            return
        if overlay is None:
            overlay = _Overlay()
        self._apply(overlay.table, overlay.lines - new_lines, add=False)
        self._apply(overlay.table, new_lines - overlay.lines, add=True)
        with self._lock:
            self._overlay_bytes += size - (overlay.size if uri in self._overlays else 0)
            overlay.lines, overlay.size = new_lines, size
            self._overlays[uri] = overlay
            self._overlays.move_to_end(uri)
            while self._overlay_bytes > _MAX_OVERLAY_TOTAL_BYTES and len(self._overlays) > 1:
                self._drop_overlay(next(iter(self._overlays)))

    def _drop_overlay(self, uri: str) -> None:
        """Forget a document's own table (caller holds the table lock)."""
        overlay = self._overlays.pop(uri, None)
        if overlay is not None:
            self._overlay_bytes -= overlay.size

    def _apply(self, table: CountTable, lines: Counter[str], *, add: bool) -> None:
        """Add or remove the counts of `lines`, holding the table lock one batch at a time."""
        batch: list[tuple[int, int, str]] = []
        pending = 0
        for line, times in lines.items():
            events = line_events(tokenize(line))
            for _ in range(times):
                batch.extend(events)
            pending += 1
            if pending >= _LINES_PER_BATCH:
                self._apply_batch(table, batch, add)
                batch, pending = [], 0
        if batch:
            self._apply_batch(table, batch, add)

    def _apply_batch(
        self, table: CountTable, batch: Iterable[tuple[int, int, str]], add: bool
    ) -> None:
        with self._lock:
            if add:
                for key, order, token in batch:
                    table.add(key, order, token)
            else:
                for key, _order, token in batch:
                    table.remove(key, token)

    def _prune_if_full(self) -> None:
        """Forget the oldest rarely-seen contexts once the table passes `max_entries`."""
        if len(self._table) <= self._max_entries:
            return
        target = self._max_entries * 3 // 5
        with self._lock:
            keys = self._table.keys_snapshot()
        max_total = 1
        while len(self._table) > target:
            for start in range(0, len(keys), _PRUNE_CHUNK):
                with self._lock:
                    self._table.prune(keys[start : start + _PRUNE_CHUNK], max_total)
                    if len(self._table) <= target:
                        return
            max_total *= 2


def _decompress(document: _Document) -> str:
    """Return the text of a learned document."""
    return zlib.decompress(document.compressed).decode("utf-8", "surrogatepass")
