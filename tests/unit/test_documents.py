"""The chunked document store agrees with plain string editing on random edits."""

from __future__ import annotations

import random

import pytest

from beastmode.lsp.documents import CHUNK_LINES, Document, index_to_utf16, utf16_to_index


def naive_apply(text: str, start: tuple[int, int], end: tuple[int, int], new: str) -> str:
    lines = text.split("\n")

    def offset(line: int, col: int) -> int:
        line = min(line, len(lines) - 1)
        return sum(len(x) + 1 for x in lines[:line]) + min(col, len(lines[line]))

    a, b = sorted((offset(*start), offset(*end)))
    return text[:a] + new + text[b:]


@pytest.mark.parametrize("seed", range(6))
def test_random_edits_match_string_edits(seed: int) -> None:
    rng = random.Random(seed)
    text = "\n".join(f"line {i} " + "x" * rng.randint(0, 8) for i in range(rng.choice([3, 1500])))
    document = Document("file:///t.py", text)
    for _ in range(300):
        lines = text.split("\n")
        sl = rng.randrange(len(lines))
        el = min(len(lines) - 1, sl + rng.choice([0, 0, 0, 1, 3, 700]))
        start = (sl, rng.randint(0, len(lines[sl]) + 2))
        end = (el, rng.randint(0, len(lines[el]) + 2))
        if end < start:
            start, end = end, start
        new = rng.choice(["", "a", "\n", "foo\nbar", "\n\n", "z" * 5, "\n".join(["q"] * 600)])
        text = naive_apply(text, start, end, new)
        document.apply_change(start, end, new)
    assert document.text == text
    assert document.line_count == text.count("\n") + 1
    probe = rng.randrange(document.line_count)
    assert document.line(probe) == text.split("\n")[probe]
    assert document.offset_at(probe, 2) == sum(len(x) + 1 for x in text.split("\n")[:probe]) + min(
        2, len(text.split("\n")[probe])
    )


def test_whole_document_change_and_trailing_newline() -> None:
    document = Document("file:///t.py", "a\nb\n")
    assert document.line_count == 3 and document.line(2) == ""
    document.apply_change(None, None, "x")
    assert document.text == "x" and document.line_count == 1
    document.apply_change((0, 1), (0, 1), "\n")
    assert document.text == "x\n" and document.line_count == 2


def test_large_inserts_split_into_chunks() -> None:
    document = Document("file:///t.py", "")
    document.apply_change((0, 0), (0, 0), "y\n" * (5 * CHUNK_LINES))
    assert document.line_count == 5 * CHUNK_LINES + 1
    assert len(document._chunks) >= 5
    assert document.line(4 * CHUNK_LINES) == "y"


def test_utf16_columns_with_astral_characters() -> None:
    line = "a😀b"
    assert utf16_to_index(line, 0) == 0
    assert utf16_to_index(line, 1) == 1
    assert utf16_to_index(line, 3) == 2  # after the emoji (two UTF-16 units)
    assert utf16_to_index(line, 2) == 1  # inside the pair: before the emoji
    assert utf16_to_index(line, 99) == 3
    assert index_to_utf16(line, 2) == 3
    document = Document("file:///t.py", line)
    document.apply_change((0, 3), (0, 3), "X")
    assert document.text == "a😀Xb"
