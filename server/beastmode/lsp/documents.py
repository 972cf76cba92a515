r"""Open documents, stored so that a keystroke costs the same in a 10-line and a 100k-line file.

pygls 2.1.1's own store re-splits the whole text on every change and every `lines` access (about
12 ms per one-character change on a 100,000-line file). Here a document is a list of chunks of at
most `CHUNK_LINES` lines; an edit touches only the lines it spans, and a character offset is the
sum of cached chunk sizes plus a walk inside one chunk. Positions are LSP positions: lines and
UTF-16 code units. Lines end exactly where LSP says: at `\n`, `\r\n` or `\r` (not at the other
breaks `str.splitlines` knows, such as form feed or U+2028), and an edit that joins a `\r` with a
following `\n` joins their lines too.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import chain

from beastmode.textpos import index_to_utf16, utf16_to_index

CHUNK_LINES = 512
__all__ = [
    "CHUNK_LINES",
    "Document",
    "DocumentStore",
    "index_to_utf16",
    "split_lines_keepends",
    "utf16_to_index",
]
# Line breaks `str.splitlines` honours that LSP does not: where they occur, split by hand.
_OTHER_BREAKS = re.compile("[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_LSP_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def split_lines_keepends(text: str) -> list[str]:
    r"""`text` split after each LSP line break (`\n`, `\r\n`, `\r`), breaks kept."""
    if _OTHER_BREAKS.search(text) is None:
        return text.splitlines(keepends=True)  # the same split, at C speed
    return _LSP_LINE.findall(text)


@dataclass
class _Chunk:
    lines: list[str]  # each line keeps its line ending, except possibly the document's last
    chars: int


class Document:
    """One open document: text in line chunks, with its version and language."""

    def __init__(self, uri: str, text: str, *, version: int = 0, language_id: str = "") -> None:
        self.uri = uri
        self.version = version
        self.language_id = language_id
        self._chunks: list[_Chunk] = []
        self._starts: list[int] = []
        self._set_lines(split_lines_keepends(text))

    def _set_lines(self, lines: list[str]) -> None:
        if not lines or lines[-1].endswith(("\n", "\r")):
            lines.append("")
        self._chunks = [
            _Chunk(part, sum(map(len, part)))
            for part in (lines[i : i + CHUNK_LINES] for i in range(0, len(lines), CHUNK_LINES))
        ]
        self._reindex()

    def _reindex(self) -> None:
        starts, total = [], 0
        for chunk in self._chunks:
            starts.append(total)
            total += len(chunk.lines)
        self._starts = starts
        self._line_count = total

    @property
    def line_count(self) -> int:
        """Number of lines (a trailing newline starts one more, empty line)."""
        return self._line_count

    def _locate(self, line: int) -> tuple[int, int]:
        index = bisect_right(self._starts, line) - 1
        return index, line - self._starts[index]

    def line(self, number: int) -> str:
        """Line `number` without its line ending ('' past the end)."""
        if number < 0 or number >= self._line_count:
            return ""
        chunk, offset = self._locate(number)
        return self._chunks[chunk].lines[offset].rstrip("\r\n")

    def lines(self, start: int, end: int) -> list[str]:
        """Lines `start` to `end` (exclusive), clamped, without line endings."""
        start, end = max(0, start), min(end, self._line_count)
        return [self.line(n) for n in range(start, end)]

    @property
    def text(self) -> str:
        """The whole text (costs a full join: not for the typing path)."""
        return "".join(line for chunk in self._chunks for line in chunk.lines)

    def snapshot(self) -> Callable[[], list[str]]:
        """A copy of the lines as they are now (one list copy per chunk), listed later.

        Each line keeps its break. The listing of a big document can then run in a worker
        thread, off the typing path.
        """
        parts = [list(chunk.lines) for chunk in self._chunks]
        return lambda: list(chain.from_iterable(parts))

    def clamp(self, line: int, character: int) -> tuple[int, int]:
        """A position made valid: (line, python index within the line)."""
        if line < 0:
            return 0, 0
        if line >= self._line_count:
            last = self._line_count - 1
            return last, len(self.line(last))
        text = self.line(line)
        return line, utf16_to_index(text, max(0, character))

    def text_range(self, start: tuple[int, int], end: tuple[int, int]) -> str:
        """The text between two LSP positions (swapped if reversed), read from their lines only."""
        (first, first_index), (last, last_index) = sorted((self.clamp(*start), self.clamp(*end)))
        if first == last:
            return self._raw_line(first)[first_index:last_index]
        middle = [self._raw_line(number) for number in range(first + 1, last)]
        return "".join(
            [self._raw_line(first)[first_index:], *middle, self._raw_line(last)[:last_index]]
        )

    def offset_at(self, line: int, character: int) -> int:
        """Character offset of an LSP position in the whole text."""
        line, index = self.clamp(line, character)
        chunk_index, within = self._locate(line)
        before = sum(chunk.chars for chunk in self._chunks[:chunk_index])
        return before + sum(map(len, self._chunks[chunk_index].lines[:within])) + index

    def apply_change(
        self, start: tuple[int, int] | None, end: tuple[int, int] | None, new_text: str
    ) -> None:
        """Apply one content change: a range replacement, or the whole text when range is None."""
        if start is None or end is None:
            self._set_lines(split_lines_keepends(new_text))
            return
        (start_line, start_index) = self.clamp(*start)
        (end_line, end_index) = self.clamp(*end)
        if (end_line, end_index) < (start_line, start_index):
            start_line, start_index, end_line, end_index = (
                end_line,
                end_index,
                start_line,
                start_index,
            )
        head = self._raw_line(start_line)[:start_index]
        tail = self._raw_line(end_line)[end_index:]
        if start_index == 0 and start_line > 0 and self._raw_line(start_line - 1).endswith("\r"):
            # A `\n` arriving right after a lone `\r` makes them one line break: re-split the
            # line before too.
            start_line -= 1
            head = self._raw_line(start_line)
        first_chunk, first_offset = self._locate(start_line)
        last_chunk, last_offset = self._locate(end_line)
        replacement = split_lines_keepends(head + new_text + tail) or [""]
        if end_line == self._line_count - 1 and replacement[-1].endswith(("\n", "\r")):
            replacement.append("")  # the document's last line stays a line of its own
        if first_chunk == last_chunk:
            chunk = self._chunks[first_chunk]
            chunk.lines[first_offset : last_offset + 1] = replacement
            chunk.chars = sum(map(len, chunk.lines))
            if len(chunk.lines) > 2 * CHUNK_LINES:
                self._split(first_chunk)
            elif len(replacement) != last_offset - first_offset + 1:
                self._reindex()
            return
        merged = (
            self._chunks[first_chunk].lines[:first_offset]
            + replacement
            + self._chunks[last_chunk].lines[last_offset + 1 :]
        )
        self._chunks[first_chunk : last_chunk + 1] = [_Chunk(merged, sum(map(len, merged)))]
        self._split(first_chunk)

    def _raw_line(self, number: int) -> str:
        """Line `number` with its line break."""
        chunk, offset = self._locate(number)
        return self._chunks[chunk].lines[offset]

    def _split(self, index: int) -> None:
        lines = self._chunks[index].lines
        if not lines:
            del self._chunks[index]
            if not self._chunks:
                self._chunks = [_Chunk([""], 0)]
        else:
            self._chunks[index : index + 1] = [
                _Chunk(part, sum(map(len, part)))
                for part in (lines[i : i + CHUNK_LINES] for i in range(0, len(lines), CHUNK_LINES))
            ]
        self._reindex()


class DocumentStore:
    """The open documents by URI."""

    def __init__(self) -> None:
        self._documents: dict[str, Document] = {}

    def open(self, uri: str, text: str, version: int, language_id: str) -> Document:
        """Start tracking a document (replacing any earlier copy)."""
        document = Document(uri, text, version=version, language_id=language_id)
        self._documents[uri] = document
        return document

    def get(self, uri: str) -> Document | None:
        """The open document, or None."""
        return self._documents.get(uri)

    def close(self, uri: str) -> None:
        """Stop tracking a document."""
        self._documents.pop(uri, None)

    def __iter__(self) -> Iterator[Document]:
        return iter(list(self._documents.values()))

    def __len__(self) -> int:
        return len(self._documents)
