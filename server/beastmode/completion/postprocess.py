"""Turn a model's raw answer into the text to show as ghost text, or None to show nothing.

Models wrap code in fences, think aloud, repeat the code after the cursor, close brackets the
editor already closed, and loop. Each step below removes one of those habits; the order
matters (unwrap first, then cut by mode, then compare with the suffix).
"""

from __future__ import annotations

import re

from beastmode.completion.earlystop import StreamCutter, indent_width, leading_whitespace
from beastmode.completion.mode import Mode, opens_block

_REASONING = re.compile(
    r"<(think|thinking|reasoning)>.*?(?:</\1>\s*|\Z)", re.DOTALL | re.IGNORECASE
)
_STRAY_REASONING_CLOSE = re.compile(r"^.*?</(?:think|thinking|reasoning)>\s*", re.DOTALL)
_FENCE_OPEN = re.compile(r"^[ \t]*(`{3,}|~{3,})[^\n`]*\n")
_PAIRS = {")": "(", "]": "[", "}": "{"}
_OPENERS = frozenset(_PAIRS.values())
_QUOTES = frozenset("\"'`")
# A looping tail: the shortest unit this long or shorter, repeated at least this many times.
_MAX_LOOP_UNIT = 64
_MIN_LOOP_REPEATS = 4
_MIN_LOOP_CHARS = 12
_MAX_SAME_LINES = 2  # a third identical line in a row is a loop


def strip_reasoning(text: str) -> str:
    """Remove `<think>`/`<thinking>`/`<reasoning>` blocks (an unclosed one runs to the end)."""
    text = _REASONING.sub("", text)
    return _STRAY_REASONING_CLOSE.sub("", text, count=1)


def strip_code_fence(text: str, *, anywhere: bool = False) -> str:
    """Return the inside of a fenced block, or `text` when it holds none.

    By default only a fence that opens the text counts (a FIM model writing Markdown may mean
    its fences); `anywhere=True` takes the first fenced block after any chatter, as chat models
    write them. An opening fence without a closing one (a cut stream) keeps everything after
    it; a lone closing fence at the end is dropped.
    """
    lines = text.split("\n")
    for number, line in enumerate(lines):
        if not anywhere and line.strip() and _FENCE_OPEN.match(line + "\n") is None:
            break
        match = _FENCE_OPEN.match(line + "\n")
        if match is None:
            continue
        fence = match.group(1)
        for end in range(number + 1, len(lines)):
            if lines[end].strip() == fence:
                return "\n".join(lines[number + 1 : end])
        return "\n".join(lines[number + 1 :])
    stripped = text.rstrip()
    last_line = stripped.rsplit("\n", 1)[-1].strip()
    if last_line == "```" and stripped.count("```") == 1:
        return stripped[: stripped.rfind("```")].rstrip(" \t")
    return text


def cut_repeated_lines(text: str) -> str:
    """Cut a loop of one line: the first occurrence of a line repeated 3+ times in a row stays.

    Everything from its second occurrence on is dropped.
    """
    lines = text.split("\n")
    run = 1
    for number in range(1, len(lines)):
        if lines[number] == lines[number - 1] and lines[number].strip():
            run += 1
            if run > _MAX_SAME_LINES:
                return "\n".join(lines[: number - _MAX_SAME_LINES + 1])
        else:
            run = 1
    return text


def cut_looping_tail(text: str) -> str:
    """Cut a tail that repeats one unit of text over and over, keeping the unit once.

    The tail must run to the end of the text (a model looping until `max_tokens`). A unit is
    2 to 64 characters holding a letter or digit and two different characters, and must
    repeat at least four times over at least 12 characters, so `# =====` and `1000000000000`
    are left alone.
    """
    n = len(text)
    for unit in range(2, min(_MAX_LOOP_UNIT, n // _MIN_LOOP_REPEATS) + 1):
        j = n - 1 - unit
        while j >= 0 and text[j] == text[j + unit]:
            j -= 1
        span = n - 1 - unit - j + unit
        if span < max(_MIN_LOOP_CHARS, unit * _MIN_LOOP_REPEATS):
            continue
        start = j + 1
        pattern = text[start : start + unit]
        if len(set(pattern)) > 1 and any(ch.isalnum() for ch in pattern):
            return text[: start + unit]
    return text


def trim_trailing_blank_lines(text: str) -> str:
    """Drop trailing whitespace-only lines and trailing spaces of the last line."""
    return text.rstrip()


def drop_repeated_indentation(text: str, line_prefix: str) -> str:
    """Remove indentation the model repeated after the cursor's own indentation.

    On an indented blank line, a model (chat models especially) may write the first line with
    its full indentation again. That is only undone when the next lines prove it: they sit at
    the first line's indentation as if it were absolute (or deeper, after a block opener),
    which does not fit the first line's indentation being extra.
    """
    if not line_prefix or line_prefix.strip() or not text.startswith(line_prefix):
        return text
    first, _, rest = text.partition("\n")
    following = next((line for line in rest.split("\n") if line.strip()), None)
    if following is None:
        return text
    first_width = indent_width(leading_whitespace(first))
    relative_width = indent_width(line_prefix) + first_width
    next_width = indent_width(leading_whitespace(following))
    if opens_block(first):
        absolute_fits = next_width > first_width
        relative_fits = next_width > relative_width
    else:
        absolute_fits = next_width == first_width
        relative_fits = next_width == relative_width
    return text[len(line_prefix) :] if absolute_fits and not relative_fits else text


def bracket_mismatches(text: str) -> int:
    """Count closers without a matching opener, wrong-kind closers and an unclosed string.

    A rough scanner (strings end at a newline, no comments): it only has to rank variants of
    the same line against each other.
    """
    stack: list[str] = []
    bad = 0
    quote = ""
    escaped = False
    for ch in text:
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote or ch == "\n":
                quote = ""
            continue
        if ch in _QUOTES:
            quote = ch
        elif ch in _OPENERS:
            stack.append(ch)
        elif ch in _PAIRS:
            if stack and stack[-1] == _PAIRS[ch]:
                stack.pop()
            else:
                bad += 1
    return bad + (1 if quote else 0)


def drop_suffix_overlap(completion: str, *, line_prefix: str, line_suffix: str) -> str:
    """Remove an end of `completion` that the rest of the cursor's line already provides.

    Candidates drop the longest to the shortest overlap between the completion's end and the
    start of `line_suffix`; one is taken only when it leaves the line with fewer bracket and
    quote mismatches than keeping the completion whole (so `print(|)` + `foo()` keeps its `)`,
    `foo(|)` + `x)` loses it).
    """
    rest = line_suffix.lstrip(" \t")
    if not rest or not completion:
        return completion
    head = line_prefix + completion
    best, best_bad = completion, bracket_mismatches(head + line_suffix)
    for size in range(min(len(rest), len(completion)), 0, -1):
        overlap = rest[:size]
        body = completion.rstrip(" \t")
        if not body.endswith(overlap):
            continue
        candidate = body[: len(body) - size]
        bad = bracket_mismatches(line_prefix + candidate + line_suffix)
        if bad < best_bad:
            best, best_bad = candidate, bad
    return best


def postprocess(
    raw: str, *, line_prefix: str, line_suffix: str, suffix: str, mode: Mode, indent: str
) -> str | None:
    """Clean a raw answer for display; None when nothing useful is left.

    `line_prefix`/`line_suffix` are the cursor line's text before/after the cursor, `suffix`
    the document after the cursor (starting with `line_suffix`), `indent` the cursor line's
    leading whitespace. Indentation is kept as the model wrote it, except a first line that
    repeats the cursor's own indentation (`drop_repeated_indentation`).
    A multi-line suggestion followed by more text on the cursor's line ends with a newline and
    `indent`, so that text lands on its own line.
    """
    text = strip_code_fence(strip_reasoning(raw))
    cutter = StreamCutter(mode, line_prefix=line_prefix, suffix=suffix, indent=indent)
    cutter.feed(text)
    text = cut_looping_tail(cut_repeated_lines(cutter.text))
    text = drop_repeated_indentation(trim_trailing_blank_lines(text), line_prefix)
    if not text.strip():
        return None
    text = drop_suffix_overlap(text, line_prefix=line_prefix, line_suffix=line_suffix).rstrip()
    if not text.strip():
        return None
    if suffix.lstrip().startswith(text.strip()):
        return None
    if mode is Mode.MULTI_LINE and "\n" in text and line_suffix.strip():
        # The rest of the cursor's line (`}` of an auto-closed `{|}`) goes on a line of its own.
        text += "\n" + indent
    return text
