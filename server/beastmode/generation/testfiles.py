"""Where generated tests go, and how they join a test file that already exists.

Each language's convention (DESIGN.md "Code action kinds and places"): Python
`tests/test_<module>.py` at the workspace root, JS/TS `<name>.test.<ext>` and Go `<name>_test.go`
beside the file, Java `src/test/java/...` mirroring `src/main/java/...`, Rust a `#[cfg(test)]`
module in the file itself, anything else `<name>_test.<ext>` beside it. Tests are only ever
added: an existing file keeps every line, gains the imports it lacks, and gets the new tests
after a blank line (test names it already has are renamed, so nothing is shadowed).
"""

from __future__ import annotations

import os
import re
import textwrap
from dataclasses import dataclass
from types import MappingProxyType

from beastmode.generation.imports import add_imports, missing_imports, split_source
from beastmode.generation.languages import Language
from beastmode.generation.regions import mask_code

_JS_IDS = frozenset({"javascript", "typescript", "javascriptreact", "typescriptreact"})
_CLASS_LANGUAGES = frozenset({"java", "kotlin", "csharp", "php", "swift"})
_TEST_DEFINITIONS = MappingProxyType(
    {
        "python": re.compile(r"^(?P<head>\s*(?:async\s+)?def\s+)(?P<name>test\w*)", re.MULTILINE),
        "go": re.compile(r"^(?P<head>func\s+)(?P<name>(?:Test|Benchmark|Example|Fuzz)\w*)", re.M),
        "rust": re.compile(r"^(?P<head>\s*(?:pub\s+)?(?:async\s+)?fn\s+)(?P<name>\w+)", re.M),
        **{
            lid: re.compile(
                r"^(?P<head>[ \t]*(?:[\w<>\[\]]+[ \t]+)*(?:void|fun|func|function|Task)[ \t]+)"
                r"(?P<name>\w+)(?=\s*\()",
                re.MULTILINE,
            )
            for lid in _CLASS_LANGUAGES
        },
    }
)
_RUST_TEST_MODULE = re.compile(r"#\[cfg\(test\)\]\s*(?:pub\s+)?mod\s+\w+\s*\{")
_ANY_TEST_MODULE = re.compile(r"(?:#\[cfg\(test\)\]\s*)?(?:pub\s+)?mod\s+tests\s*\{")
_CLASS_OPEN = re.compile(r"\b(?:class|object|struct)\s+\w+[^{;]*\{")
_INDENT_UNIT = "    "
_PY_DOCSTRING = re.compile(r'\A\s*(?:"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\')\s*')


@dataclass(frozen=True)
class TestFileTarget:
    """Where tests for a source file go; `inline_module` means inside the source file itself."""

    __test__ = False  # not a pytest test class, despite the name

    path: str
    inline_module: bool


def _is_test_file(name: str, language: Language) -> bool:
    stem, _ = os.path.splitext(name)
    if language.id == "python":
        return stem.startswith("test_") or stem.endswith("_test")
    if language.id in _JS_IDS:
        return ".test." in name or ".spec." in name
    if language.id in {"java", "kotlin"}:
        return stem.endswith(("Test", "Tests"))
    return stem.endswith("_test")


def test_file_for(source_path: str, workspace_root: str, language: Language) -> TestFileTarget:
    """Return the conventional test file for `source_path` (the file itself if it is a test)."""
    directory, name = os.path.split(source_path)
    stem, extension = os.path.splitext(name)
    if language.id == "rust":
        return TestFileTarget(source_path, inline_module=True)
    if _is_test_file(name, language):
        return TestFileTarget(source_path, inline_module=False)
    if language.id == "python":
        module = os.path.basename(directory) if stem == "__init__" else stem
        if not module:
            module = os.path.basename(os.path.normpath(workspace_root))
        return TestFileTarget(os.path.join(workspace_root, "tests", f"test_{module}.py"), False)
    if language.id in _JS_IDS:
        return TestFileTarget(os.path.join(directory, f"{stem}.test{extension}"), False)
    if language.id == "java":
        return TestFileTarget(_java_test_path(directory, stem), False)
    return TestFileTarget(os.path.join(directory, f"{stem}_test{extension}"), False)


test_file_for.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def _java_test_path(directory: str, stem: str) -> str:
    parts = directory.split(os.sep)
    for index in range(len(parts) - 3, -1, -1):
        if parts[index : index + 3] == ["src", "main", "java"]:
            parts[index : index + 3] = ["src", "test", "java"]
            break
    return os.path.join(os.sep.join(parts), f"{stem}Test.java")


def _rename_clashes(code: str, existing: set[str], language: Language) -> str:
    """Rename test definitions in `code` that `existing` (or `code` itself) already defines."""
    pattern = _TEST_DEFINITIONS.get(language.id)
    if pattern is None:
        return code
    taken = existing | {match["name"] for match in pattern.finditer(code)}
    seen: set[str] = set()

    def rename(match: re.Match[str]) -> str:
        name = match["name"]
        if name not in existing and name not in seen:
            seen.add(name)
            return match.group(0)
        number = 2
        while f"{name}_{number}" in taken:
            number += 1
        taken.add(f"{name}_{number}")
        return f"{match['head']}{name}_{number}"

    return pattern.sub(rename, code)


def _defined(code: str, language: Language) -> set[str]:
    pattern = _TEST_DEFINITIONS.get(language.id)
    return {m["name"] for m in pattern.finditer(code)} if pattern else set()


def _block_inner(text: str, opener: re.Pattern[str], language: Language) -> tuple[int, int] | None:
    """(start, end) offsets of the inside of the first block `opener` opens, braces matched."""
    masked = mask_code(text, language)
    found = opener.search(masked)
    if not found:
        return None
    depth = 0
    for index in range(found.end() - 1, len(masked)):
        if masked[index] == "{":
            depth += 1
        elif masked[index] == "}":
            depth -= 1
            if depth == 0:
                return found.end(), index
    return None


def _indented(code: str, indent: str) -> str:
    body = textwrap.dedent(code).strip("\n")
    return "\n".join(indent + line if line.strip() else "" for line in body.split("\n"))


def _insert_before_last_brace(existing: str, members: str, language: Language) -> str | None:
    masked = mask_code(existing, language)
    close = masked.rfind("}")
    if close < 0:
        return None
    line_start = existing.rfind("\n", 0, close) + 1
    if existing[line_start:close].strip():
        return None  # `}` shares its line with code: no clean place to insert
    indent = existing[line_start:close] + _INDENT_UNIT
    head = existing[:line_start].rstrip("\n")
    return f"{head}\n\n{_indented(members, indent)}\n{existing[line_start:]}"


def merge_test_file(existing: str | None, generated: str, language: Language) -> str:
    """Return the test file: `generated` when there is none yet, else `existing` plus new tests."""
    generated = generated.strip("\n") + "\n"
    if language.id == "rust":
        return rust_inline_tests(existing or "", generated)
    if existing is None or not existing.strip():
        return generated
    have, new = split_source(existing, language), split_source(generated, language)
    body = _rename_clashes(new.body, _defined(existing, language), language)
    if language.id == "python":
        body = _PY_DOCSTRING.sub("", body, count=1)  # the new part is not the module's docstring
    merged = add_imports(existing, missing_imports(have.imports, new.imports, language), language)
    if not body.strip():
        return merged if merged.endswith("\n") else merged + "\n"
    if language.id in _CLASS_LANGUAGES:
        inner = _block_inner(body, _CLASS_OPEN, language)
        members = body[inner[0] : inner[1]] if inner else body
        inserted = _insert_before_last_brace(merged, members, language)
        if inserted is not None:
            return inserted
    gap = "\n\n\n" if language.id == "python" else "\n\n"
    return merged.rstrip("\n") + gap + body.strip("\n") + "\n"


def rust_inline_tests(source: str, generated: str) -> str:
    """Add generated Rust tests to `source`'s `#[cfg(test)]` module, creating it if missing."""
    rust = Language("rust", "Rust", "//", "", "")
    inner_span = _block_inner(generated, _ANY_TEST_MODULE, rust)
    if inner_span:
        tests = generated[inner_span[0] : inner_span[1]]
    else:
        tests = re.sub(r"^\s*#\[cfg\(test\)\]\s*$", "", generated, flags=re.MULTILINE)
    tests = textwrap.dedent(tests).strip("\n")
    existing_span = _block_inner(source, _RUST_TEST_MODULE, rust)
    if existing_span is None:
        if not re.search(r"^\s*use\s+super::\*;", tests, re.MULTILINE):
            tests = f"use super::*;\n\n{tests}"
        block = f"#[cfg(test)]\nmod tests {{\n{_indented(tests, _INDENT_UNIT)}\n}}\n"
        head = source.rstrip("\n")
        return f"{head}\n\n{block}" if head else block
    module = source[existing_span[0] : existing_span[1]]
    present = {" ".join(line.split()) for line in module.split("\n")}
    kept = [
        line
        for line in tests.split("\n")
        if not (line.lstrip().startswith("use ") and " ".join(line.split()) in present)
    ]
    tests = _rename_clashes("\n".join(kept).strip("\n"), _defined(module, rust), rust)
    close = existing_span[1]
    line_start = source.rfind("\n", 0, close) + 1
    indent = source[line_start:close] + _INDENT_UNIT
    head = source[:line_start].rstrip("\n")
    return f"{head}\n\n{_indented(tests, indent)}\n{source[line_start:]}"
