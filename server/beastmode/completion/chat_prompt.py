"""Hole-filling prompt for chat-only models, and reading the hole's text back out of the answer.

A chat model has no fill-in-the-middle tokens, so it gets the file with one marked hole and is
told to answer with the hole's text only, between `<COMPLETION>` tags (the approach of
Continue's and Tabby's hole fillers). Models still add reasoning, fences and chatter; the
extraction removes them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from beastmode.completion.postprocess import strip_code_fence, strip_reasoning
from beastmode.completion.snippets import Snippet

HOLE = "{{FILL_HERE}}"
OPEN_TAG = "<COMPLETION>"
CLOSE_TAG = "</COMPLETION>"

SYSTEM_PROMPT = f"""\
You are the code completion engine of a code editor. You receive one file in which the
cursor is marked with the hole {HOLE}, and you write exactly the text that belongs in that hole.

Rules:
- Answer with the hole's text only, inside {OPEN_TAG}{CLOSE_TAG} tags. No explanation, no
  code fences, and none of the code that comes before or after the hole.
- Follow the file's language, style and indentation; the text must join the code before the
  hole to the code after it.
- If nothing belongs in the hole, answer {OPEN_TAG}{CLOSE_TAG}.

Example:
<QUERY>
def circle_area(radius):
    return {HOLE}
</QUERY>
{OPEN_TAG}3.14159 * radius * radius{CLOSE_TAG}"""

_OPEN = re.compile(re.escape(OPEN_TAG), re.IGNORECASE)
_CLOSE = re.compile(re.escape(CLOSE_TAG), re.IGNORECASE)


def build_hole_filling_prompt(
    prefix: str,
    suffix: str,
    *,
    language: str,
    file_path: str | None,
    snippets: Sequence[Snippet],
    multiline: bool,
) -> tuple[str, str]:
    """Return the (system, user) messages asking a chat model to fill the hole at the cursor."""
    parts: list[str] = []
    if snippets:
        parts.append("Code from other open files, for reference:")
        parts.extend(f'<FILE path="{s.path}">\n{s.text}\n</FILE>' for s in snippets)
        parts.append("")
    header = f"Language: {language or 'unknown'}"
    if file_path:
        header += f"\nFile: {file_path}"
    parts.append(header)
    parts.append(f"<QUERY>\n{prefix}{HOLE}{suffix}\n</QUERY>")
    if multiline:
        scope = "Fill the hole with the lines the code needs there, at most one complete block."
    else:
        scope = "Fill the hole with the rest of the current line only: no line breaks."
    parts.append(f"{scope} Answer with {OPEN_TAG}...{CLOSE_TAG} only.")
    return SYSTEM_PROMPT, "\n".join(parts)


def extract_hole_fill(answer: str, *, multiline: bool = True) -> str:
    """Return the hole's text from a model's answer: tags, fences and reasoning removed.

    Without tags the whole answer (minus reasoning and fences) is taken. A newline right after
    the opening tag is layout, not code, when the closing tag also sits on its own line, and
    always in single-line requests (`multiline=False`).
    """
    text = strip_reasoning(answer)
    opening = _OPEN.search(text)
    if opening is not None:
        text = text[opening.end() :]
    closing = _CLOSE.search(text)
    closed = closing is not None
    if closing is not None:
        text = text[: closing.start()]
    text = strip_code_fence(text, anywhere=True)
    if opening is not None and text.startswith("\n"):
        if not multiline:
            text = text[1:]
        elif closed and text.endswith("\n"):
            text = text[1:-1]
    return text.replace(HOLE, "")


class CompletionTagStream:
    """Pass through, delta by delta, only the text between `<COMPLETION>` and `</COMPLETION>`.

    Lets a streamed chat answer drive the early stop: feed each delta, pass what comes out to
    `StreamCutter`. Text before the opening tag (reasoning, chatter) yields nothing; a possible
    start of the closing tag is held back until the next delta shows what it is. Use
    `extract_hole_fill` on the whole answer for the final text.
    """

    def __init__(self, *, multiline: bool = True) -> None:
        self._multiline = multiline
        self._pending = ""
        self._inside = False
        self._at_start = True
        self.finished = False

    def feed(self, delta: str) -> str:
        """Add a delta; return the new hole text it makes available ('' for none)."""
        if self.finished:
            return ""
        self._pending += delta
        if not self._inside:
            opening = _OPEN.search(self._pending)
            if opening is None:
                # Keep only what could still be the start of the tag.
                self._pending = self._pending[-(len(OPEN_TAG) - 1) :]
                return ""
            self._inside = True
            self._pending = self._pending[opening.end() :]
        closing = _CLOSE.search(self._pending)
        if closing is not None:
            out, self._pending, self.finished = self._pending[: closing.start()], "", True
        else:
            keep = _partial_tag_length(self._pending, CLOSE_TAG)
            cut = len(self._pending) - keep
            out, self._pending = self._pending[:cut], self._pending[cut:]
        return self._strip_layout_newline(out)

    def _strip_layout_newline(self, out: str) -> str:
        if self._at_start and out:
            self._at_start = False
            if not self._multiline and out.startswith("\n"):
                return out[1:]
        return out


def _partial_tag_length(text: str, tag: str) -> int:
    """Return the length of the longest end of `text` that is a start of `tag` (any case)."""
    lowered, tag = text[-len(tag) :].lower(), tag.lower()
    for size in range(min(len(lowered), len(tag) - 1), 0, -1):
        if tag.startswith(lowered[-size:]):
            return size
    return 0
