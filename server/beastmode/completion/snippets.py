"""Snippets from other open documents that look like the code around the cursor.

The same idea as Copilot's "neighboring tabs": slide a window of lines over every other open
document, score each window by the Jaccard similarity of its identifier set with the identifiers
around the cursor, and keep the best windows that do not overlap. `SnippetIndex` precomputes the
windows' identifier sets when a document changes, so a query only intersects sets. A file whose
name marks it as secret (`.env`, `*.pem`, ...: `beastmode.secrets.is_secret_file`) is never
indexed, so it never becomes a snippet.
"""

from __future__ import annotations

import heapq
import operator
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain, repeat

from beastmode.secrets import is_secret_file

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]+")


@dataclass(frozen=True)
class Snippet:
    """A window of lines from another document, with its similarity to the cursor's window."""

    path: str
    text: str
    score: float


def identifiers(text: str) -> frozenset[str]:
    """Return the set of identifiers (two characters or more) in `text`."""
    return frozenset(_IDENTIFIER.findall(text))


@dataclass(frozen=True)
class _Document:
    lines: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]  # (first line, end line) of each window
    sizes: tuple[int, ...]  # identifiers in each window
    postings: dict[str, list[int]]  # identifier -> windows holding it (not those in every one)
    everywhere: frozenset[str]  # identifiers in every window
    by_size: tuple[int, ...]  # windows, fewest identifiers first (then earlier)


class SnippetIndex:
    """Per-document windows and identifier sets, updated one document at a time.

    Each document keeps an inverted index (identifier -> windows), so a query counts shared
    identifiers for all windows at C speed instead of intersecting one set per window. `update`
    may run in a worker thread while `query` runs on the event loop: a document's index is
    built aside and swapped in whole.
    """

    def __init__(self, *, window_lines: int = 20, step: int | None = None) -> None:
        if window_lines < 1:
            raise ValueError("window_lines must be at least 1")
        self._window_lines = window_lines
        self._step = step if step is not None else max(1, window_lines // 2)
        if self._step < 1:
            raise ValueError("step must be at least 1")
        self._documents: dict[str, _Document] = {}

    def __len__(self) -> int:
        return len(self._documents)

    def __contains__(self, path: object) -> bool:
        return path in self._documents

    def update(self, path: str, text: str) -> None:
        """Index (or re-index) one document; the cost is proportional to its length.

        A secret file (by its name) is not indexed.
        """
        if is_secret_file(path):
            self._documents.pop(path, None)
            return
        lines = tuple(text.splitlines())
        line_tokens = [frozenset(_IDENTIFIER.findall(line)) for line in lines]
        size, step = self._window_lines, self._step
        last_start = max(0, len(lines) - size)
        starts = list(range(0, last_start + 1, step))
        if starts[-1] != last_start:
            # The tail of the document gets a window of its own rather than being skipped.
            starts.append(last_start)
        spans: list[tuple[int, int]] = []
        sizes: list[int] = []
        postings: dict[str, list[int]] = {}
        for start in starts:
            end = min(len(lines), start + size)
            tokens = frozenset().union(*line_tokens[start:end])
            if not tokens:
                continue
            window = len(spans)
            spans.append((start, end))
            sizes.append(len(tokens))
            for token in tokens:
                postings.setdefault(token, []).append(window)
        everywhere = frozenset(t for t, windows in postings.items() if len(windows) == len(spans))
        for token in everywhere:
            del postings[token]
        by_size = tuple(sorted(range(len(spans)), key=sizes.__getitem__))
        self._documents[path] = _Document(
            lines, tuple(spans), tuple(sizes), postings, everywhere, by_size
        )

    def remove(self, path: str) -> None:
        """Forget a document (closed in the editor); unknown paths are ignored."""
        self._documents.pop(path, None)

    def query(
        self,
        cursor_window: str,
        exclude_path: str | None = None,
        *,
        max_snippets: int = 3,
        min_score: float = 0.1,
    ) -> list[Snippet]:
        """Return up to `max_snippets` non-overlapping windows most similar to `cursor_window`.

        Best score first; ties go to the path and then the earlier line, so results are stable.
        """
        wanted = identifiers(cursor_window)
        if not wanted or max_snippets <= 0:
            return []
        documents = {
            path: document
            # A snapshot: `update` may add a document from a worker thread meanwhile.
            for path, document in list(self._documents.items())
            if path != exclude_path
        }
        # Every window's score is computed and sorted at C speed per document; the documents'
        # orders are merged, and only the windows walked until the choice is made cost Python.
        ranked = heapq.merge(
            *(_ranked(path, document, wanted) for path, document in documents.items())
        )
        chosen: list[tuple[float, str, int, int]] = []
        for negative_score, path, window in ranked:
            if -negative_score < min_score:
                break
            start, end = documents[path].spans[window]
            if any(p == path and start < e and s < end for _, p, s, e in chosen):
                continue
            chosen.append((-negative_score, path, start, end))
            if len(chosen) == max_snippets:
                break
        return [
            Snippet(path, "\n".join(documents[path].lines[start:end]), score)
            for score, path, start, end in chosen
        ]


def _ranked(
    path: str, document: _Document, wanted: frozenset[str]
) -> Iterator[tuple[float, str, int]]:
    """(-score, path, window) for each window sharing an identifier with `wanted`, best first.

    Ties fall to the earlier window, i.e. the earlier line. An identifier found in every window
    (`def`, `self`, ... in code that repeats itself) adds the same to every window, so it is
    counted once rather than window by window; the windows sharing nothing else then score by
    their size alone, and are walked in size order only as far as the caller reads.
    """
    everywhere = len(wanted & document.everywhere)
    rare = wanted - document.everywhere
    shared = Counter(chain.from_iterable(filter(None, map(document.postings.get, rare))))
    windows = list(shared)
    commons = [everywhere + count for count in shared.values()]
    unions = map(
        operator.sub,
        map(operator.add, map(document.sizes.__getitem__, windows), repeat(len(wanted))),
        commons,
    )
    scores = map(operator.neg, map(operator.truediv, commons, unions))
    ranked = sorted(zip(scores, repeat(path), windows, strict=False))
    if not everywhere:
        return iter(ranked)
    union_base = len(wanted) - everywhere
    rest = (
        (-everywhere / (union_base + document.sizes[window]), path, window)
        for window in document.by_size
        if window not in shared
    )
    return heapq.merge(ranked, rest)


def similar_snippets(
    cursor_window: str,
    documents: Iterable[tuple[str, str]],
    *,
    max_snippets: int = 3,
    window_lines: int = 20,
    min_score: float = 0.1,
) -> list[Snippet]:
    """One-shot form of `SnippetIndex`: index `(path, text)` pairs and query them once."""
    index = SnippetIndex(window_lines=window_lines)
    for path, text in documents:
        index.update(path, text)
    return index.query(cursor_window, max_snippets=max_snippets, min_score=min_score)
