"""Import statements of generated test code, and how to add only the missing ones to a file.

Appending generated tests to an existing file must not repeat its imports: a repeated binding
is an error in JavaScript and Go, and noise elsewhere. Python and JavaScript/TypeScript imports
are compared name by name (only the names not yet imported are kept); Go by import spec; other
languages statement by statement.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from types import MappingProxyType

from beastmode.generation.languages import Language

_JS_IDS = ("javascript", "typescript", "javascriptreact", "typescriptreact")
_IMPORT_LINES = MappingProxyType(
    {
        "python": re.compile(r"^(?:import\s|from\s+\S+\s+import\b)"),
        **{
            lid: re.compile(r"^(?:import\b|(?:const|let|var)\s+.+=\s*require\()") for lid in _JS_IDS
        },
        "go": re.compile(r"^import\b"),
        "java": re.compile(r"^import\s"),
        "kotlin": re.compile(r"^import\s"),
        "swift": re.compile(r"^(?:@testable\s+)?import\s"),
        "rust": re.compile(r"^(?:pub\s+)?use\s"),
        "csharp": re.compile(r"^using\s(?!\s*\()"),
        "c": re.compile(r"^#\s*include\b"),
        "cpp": re.compile(r"^#\s*include\b"),
        "ruby": re.compile(r"^require(?:_relative)?\b"),
        "php": re.compile(r"^(?:use\s|require(?:_once)?\b|include(?:_once)?\b)"),
        "lua": re.compile(r"^(?:local\s+\w+\s*=\s*)?require\b"),
        "shell": re.compile(r"^(?:source|\.|load)\s"),
    }
)
_HEADER_LINE = re.compile(r"^(?:package\s|<\?php|#!|['\"]use strict['\"];?\s*$)")
_PY_FROM = re.compile(r"^from\s+(\S+)\s+import\s+\(?\s*(.*?)\s*,?\s*\)?\s*$", re.DOTALL)
_PY_IMPORT = re.compile(r"^import\s+(.+)$", re.DOTALL)
_JS_FROM = re.compile(
    r"^import\s+(?P<type>type\s+)?(?P<clause>.+?)\s+from\s+(?P<q>['\"])(?P<module>[^'\"]+)(?P=q)\s*;?$",
    re.DOTALL,
)
_GO_SPEC = re.compile(r"^(?:[\w.]+\s+)?\"[^\"]+\"$")


@dataclass(frozen=True)
class SplitSource:
    """A source text split into its import statements, header lines and everything else."""

    imports: tuple[str, ...]
    headers: tuple[str, ...]
    body: str
    last_import_line: int  # index of the last line of the last import, -1 when none
    header_end_line: int  # index of the first line after the leading header region


def _balance(text: str) -> int:
    return text.count("(") + text.count("{") - text.count(")") - text.count("}")


def split_source(text: str, language: Language) -> SplitSource:
    """Split `text` into top-level import statements (multi-line ones joined), headers and body."""
    pattern = _IMPORT_LINES.get(language.id)
    lines = text.split("\n")
    imports: list[str] = []
    headers: list[str] = []
    body: list[str] = []
    last_import = -1
    header_end = 0
    in_header = True
    index = 0
    while index < len(lines):
        line = lines[index]
        if pattern is not None and pattern.match(line):
            statement = [line]
            while _balance("\n".join(statement)) > 0 and index + 1 < len(lines):
                index += 1
                statement.append(lines[index])
            imports.append("\n".join(statement))
            last_import = index
        elif _HEADER_LINE.match(line):
            headers.append(line)
        elif line.strip() and in_header:
            in_header = False
            header_end = index
            body.append(line)
        else:
            body.append(line)
        if in_header:
            header_end = index + 1
        index += 1
    return SplitSource(
        tuple(imports), tuple(headers), "\n".join(body).strip("\n"), last_import, header_end
    )


def _key(statement: str) -> str:
    return " ".join(statement.split()).rstrip(";")


def _python_bindings(statement: str) -> tuple[str, list[tuple[str, str]]] | None:
    """(module, [(name, alias-or-name)]) of a Python import; None for `*` and odd shapes."""
    flat = " ".join(statement.replace("\\\n", " ").split())
    found = _PY_FROM.match(flat)
    if found:
        module, names = found[1], found[2]
        prefix = f"from {module} import"
    else:
        plain = _PY_IMPORT.match(flat)
        if not plain:
            return None
        module, names, prefix = "", plain[1], "import"
    items: list[tuple[str, str]] = []
    for item in names.strip("()").split(","):
        parts = item.split()
        if not parts or parts[0] == "*":
            return None
        items.append((parts[0], parts[2] if len(parts) == 3 and parts[1] == "as" else parts[0]))
    return prefix, items


def _python_missing(statement: str, bound: set[tuple[str, str, str]]) -> str | None:
    parsed = _python_bindings(statement)
    if parsed is None:
        return statement
    prefix, items = parsed
    keep = [(name, alias) for name, alias in items if (prefix, name, alias) not in bound]
    bound.update((prefix, name, alias) for name, alias in keep)
    if not keep:
        return None
    if len(keep) == len(items):
        return statement
    names = ", ".join(name if name == alias else f"{name} as {alias}" for name, alias in keep)
    return f"{prefix} {names}"


def _js_locals(statement: str) -> tuple[str, str, list[tuple[str, str]]] | None:
    """(quoted module, type prefix, [(specifier, local)]) of an ES import; None otherwise."""
    flat = " ".join(statement.split())
    found = _JS_FROM.match(flat)
    if not found:
        return None
    clause = found["clause"]
    items: list[tuple[str, str]] = []
    braced = re.search(r"\{(.*)\}", clause)
    outside = re.sub(r"\{.*\}", "", clause)
    for part in (p.strip() for p in outside.split(",")):
        if part.startswith("*"):
            items.append((part, part.split()[-1]))
        elif part:
            items.append((part, part))
    for part in (p.strip() for p in (braced[1] if braced else "").split(",")):
        if part:
            items.append(("{" + part + "}", part.split()[-1]))
    return found["q"] + found["module"] + found["q"], found["type"] or "", items


def _js_missing(statement: str, bound: set[str]) -> str | None:
    parsed = _js_locals(statement)
    if parsed is None:
        return statement
    module, type_prefix, items = parsed
    keep = [(spec, local) for spec, local in items if local not in bound]
    bound.update(local for _, local in keep)
    if not keep:
        return None
    if len(keep) == len(items):
        return statement
    plain = [spec for spec, _ in keep if not spec.startswith("{")]
    named = [spec[1:-1] for spec, _ in keep if spec.startswith("{")]
    clause = ", ".join([*plain, *(["{ " + ", ".join(named) + " }"] if named else [])])
    return f"import {type_prefix}{clause} from {module};"


def go_specs(statement: str) -> list[str]:
    """The import specs of a Go import statement: `"fmt"`, `str "strings"`."""
    inner = statement.strip()[len("import") :].strip()
    if inner.startswith("("):
        inner = inner.strip("()")
    specs = []
    for line in inner.split("\n"):
        spec = line.split("//")[0].strip()
        if _GO_SPEC.match(spec):
            specs.append(" ".join(spec.split()))
    return specs


def missing_imports(
    existing: Sequence[str], generated: Sequence[str], language: Language
) -> list[str]:
    """The generated import statements (or Go specs) that `existing` does not already provide."""
    if language.id == "go":
        have = {spec for statement in existing for spec in go_specs(statement)}
        wanted = [spec for statement in generated for spec in go_specs(statement)]
        return list(dict.fromkeys(spec for spec in wanted if spec not in have))
    missing: list[str] = []
    candidates: list[str | None]
    if language.id == "python":
        bound: set[tuple[str, str, str]] = set()
        for statement in existing:
            parsed = _python_bindings(statement)
            if parsed:
                bound.update((parsed[0], name, alias) for name, alias in parsed[1])
        candidates = [_python_missing(s, bound) for s in generated]
    elif language.id in _JS_IDS:
        locals_: set[str] = set()
        for statement in existing:
            parsed_js = _js_locals(statement)
            if parsed_js:
                locals_.update(local for _, local in parsed_js[2])
        candidates = [_js_missing(s, locals_) for s in generated]
    else:
        candidates = list(generated)
    seen = {_key(statement) for statement in existing}
    for candidate in candidates:
        if candidate is not None and _key(candidate) not in seen:
            seen.add(_key(candidate))
            missing.append(candidate)
    return missing


def add_imports(text: str, missing: Sequence[str], language: Language) -> str:
    """Insert `missing` imports (Go: specs) after the file's last import, or after its header."""
    if not missing:
        return text
    split = split_source(text, language)
    lines = text.split("\n")
    if language.id == "go":
        return _add_go_specs(lines, missing, split)
    if split.last_import_line >= 0:
        at = split.last_import_line + 1
        insert = list(missing)
    else:
        at = (
            _after_docstring(lines, split.header_end_line)
            if language.id == "python"
            else split.header_end_line
        )
        insert = [*missing, ""]
        if at > 0 and lines[at - 1].strip():
            insert.insert(0, "")
    return "\n".join([*lines[:at], *insert, *lines[at:]])


def _after_docstring(lines: list[str], start: int) -> int:
    index = start
    while index < len(lines) and not lines[index].strip():
        index += 1
    if index >= len(lines) or not lines[index].lstrip().startswith(('"""', "'''")):
        return start
    quote = lines[index].lstrip()[:3]
    if lines[index].count(quote) >= 2:
        return index + 1
    for end in range(index + 1, len(lines)):
        if quote in lines[end]:
            return end + 1
    return start


def _add_go_specs(lines: list[str], specs: Sequence[str], split: SplitSource) -> str:
    for index, line in enumerate(lines):
        if re.match(r"^import\s*\(", line):
            close = next((i for i in range(index + 1, len(lines)) if lines[i].strip() == ")"), None)
            if close is not None:
                return "\n".join([*lines[:close], *(f"\t{s}" for s in specs), *lines[close:]])
    if split.last_import_line >= 0:
        at = split.last_import_line + 1
        return "\n".join([*lines[:at], *(f"import {s}" for s in specs), *lines[at:]])
    at = split.header_end_line
    block = ["", "import (", *(f"\t{s}" for s in specs), ")"]
    return "\n".join([*lines[:at], *block, *lines[at:]])
