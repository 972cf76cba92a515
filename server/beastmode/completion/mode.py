"""Single-line or multi-line: how much a suggestion should cover, and what ends it.

Mid-line the user wants the rest of the line; on an empty line or right after a block opener
they want the block. The mode then sets the stop sequences and the `max_tokens` of the request.
"""

from __future__ import annotations

import enum
import re

from beastmode.completion.templates import FimTemplate

SINGLE_LINE_MAX_TOKENS = 64
MULTI_LINE_MAX_TOKENS = 256
# OpenAI's chat and completions endpoints accept at most four stop sequences.
MAX_STOP_SEQUENCES = 4

_CLOSERS = frozenset(")]}")
_SYMBOL_OPENERS = ("{", "(", "[", "=>")
_WORD_OPENERS = re.compile(r"(?:^|[^A-Za-z0-9_])(?:do|then|begin)$")
_COLON_LANGUAGES = frozenset({"", "python", "cython", "nim", "yaml", "gdscript"})


class Mode(enum.Enum):
    """How much text a suggestion may span."""

    SINGLE_LINE = "single-line"
    MULTI_LINE = "multi-line"


def opens_block(line_prefix: str, language: str = "") -> bool:
    """Tell whether the text before the cursor ends with something that opens a block.

    `:` counts only for indentation languages (and an unknown language), where it starts a
    suite; elsewhere it is a type annotation, a ternary or an object key.
    """
    text = line_prefix.rstrip()
    if not text:
        return False
    if text.endswith(_SYMBOL_OPENERS):
        return True
    if text.endswith(":") and language.lower() in _COLON_LANGUAGES:
        return True
    return _WORD_OPENERS.search(text) is not None


def decide_mode(
    line_prefix: str, line_suffix: str, *, setting: str = "auto", language: str = ""
) -> Mode:
    """Choose the mode from the cursor's line (`inline.multiline`: auto, always, never).

    In `auto`: text after the cursor means single-line, except closing brackets right after a
    `{` (an editor's auto-closed block, `{|}`); a blank line or a line ending with a block opener
    means multi-line; anything else (the middle or end of a statement) single-line.
    """
    choice = setting.strip().lower()
    if choice == "always":
        return Mode.MULTI_LINE
    if choice == "never":
        return Mode.SINGLE_LINE
    if choice != "auto":
        raise ValueError(f"Unknown inline.multiline {setting!r}; valid values: auto, always, never")
    rest = line_suffix.strip()
    if rest:
        auto_closed = line_prefix.rstrip().endswith("{") and set(rest) <= _CLOSERS | {";", " "}
        return Mode.MULTI_LINE if auto_closed else Mode.SINGLE_LINE
    if not line_prefix.strip() or opens_block(line_prefix, language):
        return Mode.MULTI_LINE
    return Mode.SINGLE_LINE


def stop_sequences(mode: Mode, template: FimTemplate | None, *, chat: bool = False) -> list[str]:
    """Return at most four stop sequences, most important first.

    Single-line stops at the first newline; multi-line at two blank lines in a row (the end of
    a top-level definition). The template's own end tokens follow. A chat hole-filling prompt
    (`chat=True`) stops only at the closing `</COMPLETION>` tag: its answer opens with a tag
    that may be followed by a newline, so a newline stop would end it before the code.
    """
    if chat:
        return ["</COMPLETION>"]
    stops = ["\n"] if mode is Mode.SINGLE_LINE else ["\n\n\n"]
    if template is not None:
        stops.extend(s for s in template.stop if s not in stops)
    return stops[:MAX_STOP_SEQUENCES]


def max_tokens_for(mode: Mode, model_max_tokens: int) -> int:
    """Return the request's `max_tokens`: 64 for a line, 256 for a block, at most the model's."""
    wanted = SINGLE_LINE_MAX_TOKENS if mode is Mode.SINGLE_LINE else MULTI_LINE_MAX_TOKENS
    return max(1, min(wanted, model_max_tokens))
