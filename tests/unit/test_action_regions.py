"""The cheap check behind offering code actions agrees with the exact region finder.

`may_be_in_function` reads only lines near the cursor; on the region finder's own test sources it
must say "inside a function" exactly where `enclosing_function` finds one, and it must never read
more than a bounded number of lines, however big the document.
"""

from __future__ import annotations

import pytest

from beastmode.generation.languages import language_for
from beastmode.generation.regions import enclosing_function, split_lines
from beastmode.lsp.action_regions import (
    SCAN_LINES,
    WHOLE_PARSE_LINES,
    enclosing_nearby,
    may_be_in_function,
)
from tests.unit.generation import test_regions as sources

SOURCES = [
    ("python", "a.py", sources.PY_SOURCE),
    ("javascript", "a.js", sources.JS_SOURCE),
    ("go", "a.go", sources.GO_SOURCE),
    ("java", "A.java", sources.JAVA_SOURCE),
    ("rust", "a.rs", sources.RUST_SOURCE),
    ("ruby", "a.rb", sources.RUBY_SOURCE),
    ("shellscript", "a.sh", sources.SHELL_SOURCE),
]


@pytest.mark.parametrize(("language_id", "name", "source"), SOURCES, ids=[s[0] for s in SOURCES])
def test_cheap_check_agrees_with_the_exact_region(language_id: str, name: str, source: str) -> None:
    language = language_for(language_id, name)
    lines = split_lines(source)

    def line_at(number: int) -> str:
        return lines[number] if 0 <= number < len(lines) else ""

    for number in range(len(lines)):
        exact = enclosing_function(source, number, language) is not None
        assert may_be_in_function(line_at, number, language.id) == exact, (number, lines[number])


def test_cheap_check_reads_a_bounded_number_of_lines() -> None:
    body = ["def huge():"] + ["    x = 1"] * 100_000
    read: list[int] = []

    def line_at(number: int) -> str:
        read.append(number)
        return body[number] if 0 <= number < len(body) else ""

    assert may_be_in_function(line_at, 99_000, "python")
    assert len(read) <= SCAN_LINES + 100


def big_python_module() -> str:
    """A Python module past WHOLE_PARSE_LINES: classes, decorators, top-level code."""
    block = (
        "import os\n\n\n"
        "@decorator\n"
        "def outer(x):\n"
        "    def inner(y):\n"
        "        return y\n"
        "    return inner(x)\n"
        "\n"
        "class Thing:\n"
        "    size = 3\n"
        "\n"
        "    @property\n"
        "    def area(self):\n"
        '        """Doc\n'
        "text in the docstring at column 0\n"
        '        """\n'
        "        return self.size ** 2\n"
        "\n"
        "value = outer(2)\n"
    )
    return block * (WHOLE_PARSE_LINES // block.count("\n") + 5)


def test_local_parse_of_a_big_python_file_matches_the_whole_parse() -> None:
    source = big_python_module()
    python = language_for("python", "a.py")
    lines = source.splitlines(keepends=True)
    assert len(lines) > WHOLE_PARSE_LINES
    for number in range(len(lines) - 40, len(lines)):
        expected = enclosing_function(source, number, python)
        assert enclosing_nearby(lines, number, python) == expected, number
