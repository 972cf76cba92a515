"""Where a code action applies: a cheap check for offering it, the exact region off the loop.

Editors ask for code actions on every cursor move, so offering them must not touch the whole
document (parsing a 100k-line Python file took 9.7 s, on the loop). `may_be_in_function` walks
up the indentation chain from the cursor for at most `SCAN_LINES` lines and answers whether a
function header encloses it: a line-local look that errs on the side of offering. The exact
region (an `ast` parse, a brace scan) is computed only when an action is picked, in a worker
thread, and cached per document URI and version (`RegionCache`); a result for a version that
was superseded while it was computed is used once but not kept. `ast.parse` holds the GIL for
its whole run (2.4 s on 100k lines, stalling the loop even from a thread), so a big Python file
is parsed only between the top-level definitions around the cursor (`enclosing_nearby`).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

from beastmode.generation.languages import Language
from beastmode.generation.regions import BRACE_LANGUAGES, enclosing_function

SCAN_LINES = 1000
WHOLE_PARSE_LINES = 2000  # Python files up to this size are parsed whole
_TOP_LEVEL_START = re.compile(r"(?:async\s+def|def|class)\b|@")
_PYTHON_HEADER = re.compile(r"^\s*(?:async\s+)?def\s")
_WORD_HEADER = re.compile(r"^\s*(?:[\w.]+\s+)*(?:async\s+)?(?:def|function|func|fn|fun|sub|proc)\b")
_FUNCTION_WORD = re.compile(r"\b(?:function|fn|func|fun)\b|=>\s*\{?\s*$")
_PARAMETERS_THEN_BODY = re.compile(
    r"\)[^()]*\{\s*$"  # f(x) {   f(x): T {   f(x) -> T {
    r"|^\s*\)\s*(?:[:\->].*)?\{?\s*$"  # the end of a signature split over lines
    r"|\)[^(){}]*\{.*\}\s*;?\s*$"  # a one-line function: f(x) { return x; }
    r"|^\s*throws\b"  # Java: throws on the line after the parameters
)
_OPEN_PARAMETERS = re.compile(r"\)\s*$")  # f(x) with its body on the next lines
_CLOSER = re.compile(r"^\s*(?:[}\])]|end\b)")
_ANNOTATION = re.compile(r"^\s*(?:@|#\[)")
_CONTROL = re.compile(
    r"^\s*\}?\s*(?:if|else|for|foreach|while|do|switch|catch|try|finally|match|loop|with|using|"
    r"lock|synchronized|select|return|case|when|guard|defer|unless|until)\b"
)


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip())


def _is_header(text: str, language_id: str, *, enclosing: bool = False) -> bool:
    """Whether a line looks like it starts a function (a hint, not a parse).

    `enclosing` (a line above the cursor with less indentation) also accepts a line ending in
    its parameter list, whose body follows on the next lines.
    """
    if language_id == "python":
        return bool(_PYTHON_HEADER.match(text))
    if _WORD_HEADER.match(text):
        return True
    if language_id not in BRACE_LANGUAGES or _CONTROL.match(text):
        return False
    if _FUNCTION_WORD.search(text) or _PARAMETERS_THEN_BODY.search(text):
        return True
    return enclosing and bool(_OPEN_PARAMETERS.search(text)) and not text.rstrip().endswith(";")


def may_be_in_function(line_at: Callable[[int], str], line: int, language_id: str) -> bool:
    """Whether the cursor at `line` may be inside a function, reading at most SCAN_LINES lines.

    `line_at(n)` returns line n without its break. True when a header encloses the cursor by
    indentation or when the scan runs out before deciding; False when the indentation chain
    reaches column 0 without meeting a header.
    """
    text = line_at(line)
    if _is_header(text, language_id):
        return True
    body_below = _next_indent(line_at, line) > _indent(text)
    if body_below and _is_header(text, language_id, enclosing=True):
        return True  # the parameters end here and the body follows, indented
    if _ANNOTATION.match(text):  # a decorator or annotation: the function is the next line
        following = (line_at(n) for n in range(line + 1, line + 20))
        declaration = next((t for t in following if not _ANNOTATION.match(t)), "")
        return _is_header(declaration, language_id, enclosing=True)
    level = _indent(text) if text.strip() else _indent(text) or _next_indent(line_at, line)
    if _CLOSER.match(text):
        level += 1  # a closing brace or `end` belongs to the header at its own indentation
    if level == 0:
        return False
    for number in range(line - 1, max(-1, line - 1 - SCAN_LINES), -1):
        above = line_at(number)
        if not above.strip() or _indent(above) >= level:
            continue
        if _is_header(above, language_id, enclosing=True):
            return True
        level = _indent(above)
        if level == 0:
            return False
    return line >= SCAN_LINES  # ran out of lines to look at: offer, resolve decides


def _next_indent(line_at: Callable[[int], str], line: int) -> int:
    """The indentation of the next non-blank line (a blank line belongs to what follows)."""
    for number in range(line + 1, line + 50):
        text = line_at(number)
        if text.strip():
            return _indent(text)
    return 0


def enclosing_nearby(lines: list[str], line: int, language: Language) -> tuple[int, int] | None:
    """`enclosing_function` over `lines` (each with its break), a big Python file parsed locally.

    Run it in a worker thread. For Python beyond `WHOLE_PARSE_LINES` lines only the slice from
    the top-level `def`/`class` (or its decorators) at or above `line` to the next one below is
    parsed: every function holding `line` lies inside it.
    """
    if language.id != "python" or len(lines) <= WHOLE_PARSE_LINES or not 0 <= line < len(lines):
        return enclosing_function("".join(lines), line, language)
    start = line
    while start > 0 and not _TOP_LEVEL_START.match(lines[start]):
        start -= 1
    while start > 0 and lines[start - 1].startswith("@"):
        start -= 1
    header = start
    while header < len(lines) - 1 and lines[header].startswith("@"):
        header += 1  # the decorated definition belongs to the slice too
    end = max(line, header) + 1
    while end < len(lines) and not _TOP_LEVEL_START.match(lines[end]):
        end += 1
    span = enclosing_function("".join(lines[start:end]), line - start, language)
    return None if span is None else (span[0] + start, span[1] + start)


class RegionCache:
    """Exact enclosing-function spans, computed in a worker thread, per document URI+version."""

    def __init__(self) -> None:
        self._spans: dict[str, tuple[int, dict[int, tuple[int, int] | None]]] = {}

    async def enclosing(
        self,
        uri: str,
        version: int,
        snapshot: Callable[[], Callable[[], list[str]]],
        line: int,
        language: Language,
        current_version: Callable[[], int | None],
    ) -> tuple[int, int] | None:
        """The function around `line` in version `version` of `uri` (computed off the loop).

        `snapshot()` runs on the loop and returns what lists the lines in the worker thread.
        """
        cached = self._spans.get(uri)
        if cached is not None and cached[0] == version and line in cached[1]:
            return cached[1][line]
        snapshot_lines = snapshot()

        def find() -> tuple[int, int] | None:
            return enclosing_nearby(snapshot_lines(), line, language)

        span = await asyncio.to_thread(find)
        if current_version() != version:
            return span  # superseded while computing: right for that version, not kept
        cached = self._spans.get(uri)
        if cached is None or cached[0] != version:
            cached = (version, {})
            self._spans[uri] = cached
        cached[1][line] = span
        return span

    def forget(self, uri: str) -> None:
        """Drop what is cached for a closed document."""
        self._spans.pop(uri, None)
