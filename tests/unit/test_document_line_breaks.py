r"""The document store against a plain reference model: LSP line breaks, UTF-16 positions.

The reference keeps the whole text as one string and finds lines with a regex over `\r\n`,
`\r` and `\n` only (exactly what LSP defines). Random incremental edits in UTF-16 positions are
applied to both, then the text, every line, the line count and offsets must agree.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from beastmode.lsp.documents import CHUNK_LINES, Document
from beastmode.textpos import index_to_utf16, utf16_to_index

ALPHABET = ["a", "b", "\r", "\n", "\r\n", "😀", "é", "\x0c", "\u2028", "\x85"]
LINE = re.compile(r"([^\r\n]*)(\r\n|\r|\n|$)")


def reference_lines(text: str) -> list[str]:
    """The LSP lines of `text`, without their breaks (a final break starts an empty line)."""
    lines, start = [], 0
    while True:
        match = LINE.match(text, start)
        assert match is not None
        lines.append(match.group(1))
        if not match.group(2):
            return lines
        start = match.end()


def reference_offset(text: str, line: int, character: int) -> int:
    """The offset of an LSP position in `text`, clamped the way LSP clamps."""
    offset = 0
    for number, match in enumerate(LINE.finditer(text)):
        if number == line:
            return offset + utf16_to_index(match.group(1), character)
        offset = match.end()
        if not match.group(2):
            break
    return len(text)


texts = st.lists(st.sampled_from(ALPHABET), max_size=40).map("".join)


@st.composite
def positions(draw: st.DrawFn, text: str) -> tuple[int, int]:
    """A position on a line of `text` (the column may run past the line's end)."""
    lines = reference_lines(text)
    line = draw(st.integers(0, len(lines) - 1))
    width = index_to_utf16(lines[line], len(lines[line]))
    return line, draw(st.integers(0, width + 2))


def check_same(document: Document, text: str) -> None:
    """The document and the reference agree on everything the server reads."""
    lines = reference_lines(text)
    assert document.text == text
    assert document.line_count == len(lines)
    assert [document.line(n) for n in range(len(lines))] == lines
    assert document.lines(0, len(lines)) == lines


@settings(max_examples=400, deadline=None)
@given(initial=texts, data=st.data())
def test_incremental_edits_match_the_reference_text(initial: str, data: st.DataObject) -> None:
    document = Document("file:///t.txt", initial)
    text = initial
    check_same(document, text)
    for _ in range(data.draw(st.integers(1, 12))):
        start = data.draw(positions(text))
        end = data.draw(positions(text))
        new_text = data.draw(texts)
        first, last = sorted((reference_offset(text, *start), reference_offset(text, *end)))
        start, end = (start, end) if reference_offset(text, *start) == first else (end, start)
        document.apply_change(start, end, new_text)
        text = text[:first] + new_text + text[last:]
        check_same(document, text)
        line, character = data.draw(positions(text))
        assert document.offset_at(line, character) == reference_offset(text, line, character)


def test_newline_after_a_lone_carriage_return_joins_the_two_lines() -> None:
    document = Document("file:///t.py", "a = 1\rb = 2\n")
    document.apply_change((1, 0), (1, 0), "\n")
    check_same(document, "a = 1\r\nb = 2\n")
    assert document.line(1) == "b = 2"


def test_deleting_between_a_carriage_return_and_a_newline_joins_them() -> None:
    document = Document("file:///t.py", "x\rY\nz")
    document.apply_change((1, 0), (1, 1), "")
    check_same(document, "x\r\nz")


def test_form_feed_and_unicode_separators_are_not_line_breaks() -> None:
    text = "a\x0cb\u2028c\x85d\ne"
    document = Document("file:///t.py", text)
    check_same(document, text)
    assert document.line_count == 2


def test_edits_across_chunk_boundaries_match_the_reference() -> None:
    text = "".join(f"line {n}\r" if n % 3 else f"line {n}\n" for n in range(3 * CHUNK_LINES))
    document = Document("file:///big.py", text)
    for line in (CHUNK_LINES, 2 * CHUNK_LINES + 1, 5):
        document.apply_change((line, 0), (line, 0), "\n")
        first = reference_offset(text, line, 0)
        text = text[:first] + "\n" + text[first:]
        check_same(document, text)
