r"""Find the code an action applies to: the enclosing function, or the selected text.

Positions follow LSP: 0-based lines, columns in UTF-16 code units (an emoji is two), lines
ending in `\n`, `\r\n` or `\r`. Python functions come from the `ast` module; brace languages
from a brace-matching scan over the text with strings and comments blanked out; the rest (and
Python that does not parse) from indentation.
"""

from __future__ import annotations

import ast
import bisect
import re

from beastmode.generation.languages import Language
from beastmode.textpos import utf16_to_index

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_MASK_START = re.compile(r"//|/\*|[\"'`#]")  # where a comment or string may begin
BRACE_LANGUAGES = frozenset(
    {
        "javascript",
        "typescript",
        "javascriptreact",
        "typescriptreact",
        "go",
        "rust",
        "java",
        "c",
        "cpp",
        "csharp",
        "kotlin",
        "swift",
        "php",
        "shell",
    }
)
_HASH_LINE_LANGUAGES = frozenset({"c", "cpp", "csharp"})  # preprocessor lines
_CONTROL_WORDS = frozenset(
    {
        "if",
        "else",
        "for",
        "while",
        "do",
        "switch",
        "catch",
        "try",
        "finally",
        "match",
        "loop",
        "with",
        "synchronized",
        "using",
        "lock",
        "foreach",
        "unless",
        "when",
        "guard",
        "defer",
        "select",
        "return",
        "new",
        "case",
        "until",
    }
)
_FUNCTION_WORD = re.compile(r"\b(function|fn|func|fun)\b")
_AFTER_PARAMETERS = re.compile(r"\)[^()=]*$")
_ANONYMOUS_CLASS = re.compile(r"\bnew\s+[\w.<>]+\s*\([^()]*\)\s*$")
_CONTINUATION = re.compile(
    r"^(?:->|:|(?:throws|where|extends|implements|const|noexcept|override)\b)"
)
_ANNOTATION = re.compile(r"^\s*(@\w|#\[)")
_ATTRIBUTE = re.compile(r"@[\w.]+(?:\([^()]*\))?|#!?\[[^\]]*\]")
_INDENT_HEADERS = {
    "python": re.compile(r"^\s*(async\s+def|def)\s+\w"),
    "ruby": re.compile(r"^\s*def\s"),
    "lua": re.compile(r"^\s*(local\s+)?function\b|=\s*function\s*\("),
}
_GENERIC_HEADER = re.compile(r"^\s*(async\s+)?(def|function|func|fn|fun|sub|proc)\b")


def split_lines(text: str) -> list[str]:
    """Split `text` into lines the way LSP counts them, without their line breaks."""
    return _LINE_BREAK.split(text)


def _offset(text: str, position: tuple[int, int]) -> int:
    line, col = position
    offset = 0
    for number, match in enumerate(_iter_lines(text)):
        start, end, next_start = match
        if number == line:
            return start + utf16_to_index(text[start:end], col)
        offset = next_start
    return offset if line >= 0 else 0


def _iter_lines(text: str) -> list[tuple[int, int, int]]:
    """(start, end without break, start of next line) for every line of `text`."""
    spans: list[tuple[int, int, int]] = []
    start = 0
    for match in _LINE_BREAK.finditer(text):
        spans.append((start, match.start(), match.end()))
        start = match.end()
    spans.append((start, len(text), len(text)))
    return spans


def selection_text(text: str, start: tuple[int, int], end: tuple[int, int]) -> str:
    """Return the text between two LSP positions (line, UTF-16 column); reversed ranges swap."""
    first, last = sorted((_offset(text, start), _offset(text, end)))
    return text[first:last]


def enclosing_function(text: str, line: int, language: Language) -> tuple[int, int] | None:
    """Return the (start, end) lines, inclusive, of the innermost function holding `line`."""
    if language.id == "python":
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            return _by_indentation(split_lines(text), line, _INDENT_HEADERS["python"])
        return _python_function(tree, line)
    if language.id in BRACE_LANGUAGES:
        return _brace_function(text, line, language)
    header = _INDENT_HEADERS.get(language.id, _GENERIC_HEADER)
    return _by_indentation(split_lines(text), line, header)


def _innermost(spans: list[tuple[int, int]], line: int) -> tuple[int, int] | None:
    holding = [(start, end) for start, end in spans if start <= line <= end]
    if not holding:
        return None
    return max(holding, key=lambda span: (span[0], -span[1]))


def _python_function(tree: ast.AST, line: int) -> tuple[int, int] | None:
    spans: list[tuple[int, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            spans.append((first - 1, (node.end_lineno or node.lineno) - 1))
    return _innermost(spans, line)


def _indent_width(line: str) -> int:
    return len(line) - len(line.lstrip())


def _by_indentation(lines: list[str], line: int, header: re.Pattern[str]) -> tuple[int, int] | None:
    """The closest header above `line` whose indented block (or `end`) reaches `line`."""
    probe = min(line, len(lines) - 1)
    while probe + 1 < len(lines) and lines[probe].lstrip().startswith("@"):
        probe += 1  # on a decorator: the function is below
    for start in range(probe, -1, -1):
        if not header.search(lines[start]):
            continue
        end = _indented_block_end(lines, start)
        while start > 0 and lines[start - 1].lstrip().startswith("@"):
            start -= 1
        if start <= line <= end:
            return start, end
    return None


def _indented_block_end(lines: list[str], start: int) -> int:
    depth = _indent_width(lines[start])
    end = start
    for number in range(start + 1, len(lines)):
        current = lines[number]
        if not current.strip():
            continue
        if _indent_width(current) > depth or current.lstrip().startswith((")", "]")):
            end = number
            continue
        if _indent_width(current) == depth and current.lstrip().startswith(("end", "}")):
            end = number
        break
    return end


def mask_code(text: str, language: Language) -> str:
    """Return `text` with comments and string contents blanked (same length, newlines kept)."""
    out = list(text)
    index, length = 0, len(text)
    lid = language.id

    def blank(start: int, stop: int) -> None:
        for position in range(start, min(stop, length)):
            if out[position] not in "\r\n":
                out[position] = " "

    while index < length:
        interesting = _MASK_START.search(text, index)
        if interesting is None:
            break
        index = interesting.start()
        char = text[index]
        pair = text[index : index + 2]
        if (pair == "//" and lid != "shell") or (char == "#" and _hash_comment(text, index, lid)):
            stop = _line_end(text, index)
            blank(index, stop)
            index = stop
        elif pair == "/*" and lid != "shell":
            stop = text.find("*/", index + 2)
            stop = length if stop < 0 else stop + 2
            blank(index, stop)
            index = stop
        elif text.startswith('"""', index) and lid in {"kotlin", "swift", "java"}:
            stop = text.find('"""', index + 3)
            stop = length if stop < 0 else stop + 3
            blank(index + 3, stop - 3)
            index = stop
        elif char == "`" and lid in {
            "go",
            "javascript",
            "typescript",
            "javascriptreact",
            "typescriptreact",
            "shell",
        }:
            stop = _string_end(text, index, "`", escapes=lid != "go", multiline=True)
            blank(index + 1, stop - 1)
            index = stop
        elif char == '"' or (char == "'" and not (lid == "rust" and _is_lifetime(text, index))):
            escapes = not (char == "'" and lid == "shell")
            stop = _string_end(text, index, char, escapes=escapes, multiline=lid == "shell")
            blank(index + 1, stop - 1)
            index = stop
        else:
            index += 1
    return "".join(out)


def _hash_comment(text: str, index: int, lid: str) -> bool:
    """Whether a `#` starts a comment: shell words, PHP (not `#[`), C preprocessor lines."""
    if lid == "shell":
        return index == 0 or text[index - 1].isspace()
    if lid == "php":
        return text[index + 1 : index + 2] != "["
    if lid in _HASH_LINE_LANGUAGES:
        before = index
        while before > 0 and text[before - 1] in " \t":
            before -= 1
        return before == 0 or text[before - 1] in "\r\n"
    return False


def _line_end(text: str, index: int) -> int:
    match = _LINE_BREAK.search(text, index)
    return match.start() if match else len(text)


def _string_end(text: str, start: int, quote: str, *, escapes: bool, multiline: bool) -> int:
    """Offset just past the closing quote; an unterminated string stops at the line's end."""
    index = start + 1
    while index < len(text):
        char = text[index]
        if escapes and char == "\\":
            index += 2
            continue
        if char == quote:
            return index + 1
        if char in "\r\n" and not multiline:
            return index
        index += 1
    return len(text)


def _is_lifetime(text: str, index: int) -> bool:
    r"""Rust: `'a` is a lifetime unless it closes as a char literal (`'a'`, `'\n'`)."""
    if text[index + 1 : index + 2] == "\\":
        return False
    return text[index + 2 : index + 3] != "'"


def _brace_pairs(masked: str) -> list[tuple[int, int]]:
    pairs: list[tuple[int, int]] = []
    stack: list[int] = []
    for index, char in enumerate(masked):
        if char == "{":
            stack.append(index)
        elif char == "}" and stack:
            pairs.append((stack.pop(), index))
    return pairs


def _header(lines: list[str], line: int, column: int) -> tuple[int, str]:
    """The start line and text of the declaration a `{` at (line, column) opens."""
    start = line
    text = lines[line][:column]
    if not text.strip():
        previous = start - 1
        while previous >= 0 and not lines[previous].strip():
            previous -= 1
        if previous < 0 or lines[previous].rstrip()[-1] in ";{}":
            return line, ""
        start, text = previous, lines[previous] + "\n"
    while start > 0 and (text.count("(") < text.count(")") or _CONTINUATION.match(text.strip())):
        above = lines[start - 1]
        if above.rstrip().endswith((";", "{", "}")):
            break
        start -= 1
        text = above + "\n" + text
    cut = max(text.rfind(";"), text.rfind("{"), text.rfind("}"))
    if cut >= 0:
        start += text[: cut + 1].count("\n")
        text = text[cut + 1 :]
    while start > 0 and _ANNOTATION.match(lines[start - 1]):
        start -= 1
        text = lines[start] + "\n" + text
    while start < line and not lines[start].strip():
        start += 1
    return start, " ".join(text.split())


def _is_function_header(header: str) -> bool:
    if not header:
        return False
    if _FUNCTION_WORD.search(header) or header.endswith(("=>", "->")):
        return True
    header = _ATTRIBUTE.sub(" ", header).strip()
    words = header.split()
    if not words or words[0].split("(")[0] in _CONTROL_WORDS:
        return False
    if header.count("(") != header.count(")") or _ANONYMOUS_CLASS.search(header):
        return False
    return "(" in header and bool(_AFTER_PARAMETERS.search(header))


def _brace_function(text: str, line: int, language: Language) -> tuple[int, int] | None:
    masked = mask_code(text, language)
    spans = _iter_lines(masked)
    starts = [span[0] for span in spans]
    lines = [masked[start:end] for start, end, _ in spans]
    functions: list[tuple[int, int]] = []
    for open_at, close_at in _brace_pairs(masked):
        open_line = bisect.bisect_right(starts, open_at) - 1
        close_line = bisect.bisect_right(starts, close_at) - 1
        if close_line < line:
            continue
        header_line, header = _header(lines, open_line, open_at - starts[open_line])
        if header_line <= line and _is_function_header(header):
            functions.append((header_line, close_line))
    return _innermost(functions, line)
