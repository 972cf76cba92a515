"""LSP positions count UTF-16 code units; Python strings count code points. Converting between them.

A character outside the Basic Multilingual Plane (most emoji) is one Python character but two
UTF-16 units; a column that falls between those two units stays before the character.
"""

from __future__ import annotations


def utf16_to_index(line: str, column: int) -> int:
    """The Python string index of a UTF-16 column in `line` (clamped to the line)."""
    if line.isascii():
        return max(0, min(column, len(line)))
    units = 0
    for index, char in enumerate(line):
        if units >= column:
            return index
        units += 2 if ord(char) > 0xFFFF else 1
        if units > column:
            return index  # inside a surrogate pair: stay before the character
    return len(line)


def index_to_utf16(line: str, index: int) -> int:
    """The UTF-16 column of a Python string index in `line`."""
    prefix = line[: max(0, index)]
    if prefix.isascii():
        return len(prefix)
    return len(prefix) + sum(1 for char in prefix if ord(char) > 0xFFFF)
