"""In-process cost of a keystroke and of an offset lookup on a 100k-line document.

Ours (`beastmode.lsp.documents.Document`) against pygls 2.1.1's own `TextDocument`, the baseline
the issue measured, driven the same way: one-character insertions at random positions, and
`offset_at` / `offset_at_position` at random positions. pygls is imported here only as that
baseline.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from lsprotocol import types
from pygls.workspace import TextDocument

from beastmode.lsp.documents import Document

LINES = 100_000
URI = "file:///bench/big.py"


@dataclass
class DocumentCosts:
    """Seconds per operation, one list per implementation and operation."""

    ours_change: list[float]
    ours_offset: list[float]
    ours_line: list[float]
    pygls_change: list[float]
    pygls_offset: list[float]
    pygls_line: list[float]
    text_bytes: int


def hundred_k_lines() -> str:
    """About 6 MB of Python-looking text in 100,000 lines (the issue's test file size)."""
    return "".join(
        f"    value_{i} = compute(alpha_{i % 97}, beta, gamma) + offset_{i}  # note {i % 13}\n"
        for i in range(LINES)
    )


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _positions(rng: random.Random, count: int) -> list[tuple[int, int]]:
    return [(rng.randrange(LINES), rng.randrange(40)) for _ in range(count)]


def measure(ours_n: int, pygls_n: int, seed: int = 1) -> DocumentCosts:
    """Time `ours_n` operations of each kind on ours and `pygls_n` on pygls's document."""
    text = hundred_k_lines()
    rng = random.Random(seed)
    ours = Document(URI, text, version=1, language_id="python")
    theirs = TextDocument(URI, text, version=1, language_id="python")

    ours_change = [_timed(partial(ours.apply_change, p, p, "x")) for p in _positions(rng, ours_n)]
    ours_offset = [_timed(partial(ours.offset_at, *p)) for p in _positions(rng, ours_n)]
    ours_line = [_timed(partial(ours.line, p[0])) for p in _positions(rng, ours_n)]

    def pygls_change(line: int, character: int) -> None:
        position = types.Position(line=line, character=character)
        theirs.apply_change(
            types.TextDocumentContentChangePartial(
                range=types.Range(start=position, end=position), text="x"
            )
        )

    shared = _positions(rng, pygls_n)

    def pygls_line(line: int) -> str:
        return theirs.lines[line]

    pygls_changes = [_timed(partial(pygls_change, *p)) for p in shared]
    pygls_offsets = [
        _timed(partial(theirs.offset_at_position, types.Position(line=p[0], character=p[1])))
        for p in _positions(rng, pygls_n)
    ]
    pygls_lines = [_timed(partial(pygls_line, p[0])) for p in _positions(rng, pygls_n)]
    check = Document(URI, text)
    for position in shared:
        check.apply_change(position, position, "x")
    if check.text != theirs.source:
        raise RuntimeError("ours and pygls's document disagree after the same edits")
    return DocumentCosts(
        ours_change,
        ours_offset,
        ours_line,
        pygls_changes,
        pygls_offsets,
        pygls_lines,
        len(text.encode()),
    )
