"""Decide, while a suggestion streams in, the moment it is complete.

Returning as soon as the suggestion is whole (and closing the upstream stream) is most of the
perceived speed of inline completion: the model would otherwise go on writing text we throw
away. The rules, per mode:

Single-line: the suggestion ends at the first newline, even one that arrives before any other
text (the suggestion is then empty and nothing is shown). A suggestion is inserted at the
cursor, so a line break would split the user's line or start one they did not ask for; the
endpoint's own newline stop sequence ends the stream at the same place.

Multi-line: the first line (the rest of the cursor's line) is always kept. After it, with
`indent` the leading whitespace of the cursor's line:
- a line whose stripped text equals the first non-blank line of the suffix ends the suggestion
  before it: the model has started to repeat code that is already there;
- on a line ending with a block opener (`def f():`, `if (x) {`), the block is the lines indented
  deeper than `indent`. The first non-blank line back at `indent` or shallower ends it: a
  closing line (`}`, `)`, `]`, `end`, `fi`, `done`, `esac`) at exactly `indent` is included, as
  it closes this block; any other line is cut off (Python's dedent);
- elsewhere (a blank line inside a block, or a forced multi-line request mid-line), the first
  non-blank line shallower than `indent` leaves the enclosing block and is cut off.
A line is judged when its newline arrives, or earlier when its first word already shows it is a
dedented line that is not a closer.
"""

from __future__ import annotations

import re

from beastmode.completion.mode import Mode, opens_block

_CLOSER_CHARS = ")]}"
_CLOSER_WORDS = frozenset({"end", "fi", "done", "esac"})
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def indent_width(whitespace: str) -> int:
    """Return the column width of leading whitespace, a tab counting as four columns."""
    return len(whitespace.expandtabs(4))


def leading_whitespace(line: str) -> str:
    """Return the spaces and tabs a line starts with."""
    return line[: len(line) - len(line.lstrip(" \t"))]


def is_closing_line(stripped: str) -> bool:
    """Tell whether a (stripped) line starts by closing a block."""
    if stripped[:1] in _CLOSER_CHARS and stripped:
        return True
    match = _WORD.match(stripped)
    return match is not None and match.group() in _CLOSER_WORDS


def first_nonblank_line(text: str) -> str:
    """Return the first line of `text` with non-whitespace content, stripped ('' if none)."""
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


class StreamCutter:
    """Accumulate streamed deltas and say when the suggestion is complete (see module doc)."""

    def __init__(self, mode: Mode, *, line_prefix: str, suffix: str, indent: str) -> None:
        self._mode = mode
        self._base = indent_width(indent)
        self._after_opener = opens_block(line_prefix)
        self._suffix_line = first_nonblank_line(suffix)
        self._text = ""
        self._cut: int | None = None
        self._line_start = 0
        self._line_number = 0
        self._deeper_seen = False

    @property
    def done(self) -> bool:
        """True once the suggestion is complete; later deltas are ignored."""
        return self._cut is not None

    @property
    def text(self) -> str:
        """The suggestion so far, cut at the stop point once there is one."""
        return self._text if self._cut is None else self._text[: self._cut]

    def feed(self, delta: str) -> bool:
        """Add a streamed delta; return True once the suggestion is complete."""
        if self._cut is not None:
            return True
        self._text += delta
        if self._mode is Mode.SINGLE_LINE:
            newline = self._text.find("\n", len(self._text) - len(delta))
            if newline != -1:
                self._stop_at(newline)
            return self.done
        self._scan_lines()
        return self.done

    def _stop_at(self, index: int) -> None:
        if index > 0 and self._text[index - 1] == "\r":
            index -= 1
        self._cut = index

    def _scan_lines(self) -> None:
        text = self._text
        while self._cut is None:
            newline = text.find("\n", self._line_start)
            if newline == -1:
                break
            self._judge(text[self._line_start : newline].rstrip("\r"), newline, complete=True)
            self._line_start = newline + 1
            self._line_number += 1
        if self._cut is None:
            self._judge(text[self._line_start :], len(text), complete=False)

    def _judge(self, line: str, line_end: int, *, complete: bool) -> None:
        stripped = line.strip()
        if self._line_number == 0 or not stripped:
            return
        cut_before = self._line_start - 1
        if complete and self._suffix_line and stripped == self._suffix_line:
            self._stop_at(cut_before)
            return
        if not complete and not self._word_settled(stripped):
            return
        width = indent_width(leading_whitespace(line))
        closing = is_closing_line(stripped)
        if self._after_opener:
            if width > self._base:
                self._deeper_seen = True
            elif width == self._base and closing:
                if complete:
                    self._stop_at(line_end)
            elif width < self._base or self._deeper_seen:
                self._stop_at(cut_before)
        elif width < self._base:
            self._stop_at(cut_before)

    @staticmethod
    def _word_settled(stripped: str) -> bool:
        """Tell whether a partial line shows enough to know it is not a closing line."""
        if stripped[0] in _CLOSER_CHARS:
            return False
        match = _WORD.match(stripped)
        if match is None or match.end() < len(stripped):
            return True
        return not any(word.startswith(match.group()) for word in _CLOSER_WORDS)
