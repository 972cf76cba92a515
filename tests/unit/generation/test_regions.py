"""Enclosing functions (Python via ast, brace languages, indentation) and UTF-16 positions."""

from __future__ import annotations

import time

import pytest

from beastmode.generation.languages import language_for
from beastmode.generation.regions import enclosing_function, mask_code, selection_text
from beastmode.textpos import index_to_utf16, utf16_to_index

PYTHON = language_for("python", "a.py")

PY_SOURCE = '''import functools

CONSTANT = 1


@functools.cache
@staticmethod
def decorated(x):
    def inner(y):
        return y

    return inner(x)


class Service:
    """A service."""

    limit = 3

    async def fetch(self, url):
        async with self.session() as s:
            return await s.get(url)

    def helper(self):
        return [
            1,
        ]
'''


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (0, None),  # import
        (2, None),  # module-level constant
        (5, (5, 11)),  # decorator line belongs to the function
        (6, (5, 11)),
        (7, (5, 11)),  # the def line
        (8, (8, 9)),  # nested def: the innermost
        (9, (8, 9)),
        (11, (5, 11)),  # back in the outer body
        (14, None),  # class line
        (17, None),  # class attribute, not in a method
        (19, (19, 21)),  # async method
        (21, (19, 21)),
        (25, (23, 26)),  # inside a multi-line expression of a method
    ],
)
def test_python_enclosing_function_uses_ast(line: int, expected: tuple[int, int] | None) -> None:
    assert enclosing_function(PY_SOURCE, line, PYTHON) == expected


PY_BROKEN = """def ok(a):
    return a

@decorator
def broken(b:
    x = (
    return x

value = 1
"""


@pytest.mark.parametrize(
    ("line", "expected"), [(1, (0, 1)), (3, (3, 6)), (5, (3, 6)), (6, (3, 6)), (8, None)]
)
def test_python_syntax_error_falls_back_to_indentation(
    line: int, expected: tuple[int, int] | None
) -> None:
    assert enclosing_function(PY_BROKEN, line, PYTHON) == expected


JS_SOURCE = """import x from "y";

function outer(a) {
  const s = "}{";   // } comment {
  /* { */
  const f = (b) => {
    return b + '{' + `${b}}`;
  };
  return f(a);
}

class A {
  method(x) {
    if (x) {
      return 1;
    }
  }
}
const obj = {
  k: 1,
};
"""


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (0, None),
        (2, (2, 9)),
        (3, (2, 9)),  # braces in a string and a comment do not count
        (4, (2, 9)),
        (5, (5, 7)),  # arrow function: innermost
        (6, (5, 7)),
        (8, (2, 9)),
        (9, (2, 9)),
        (11, None),  # class body is not a function
        (13, (12, 16)),  # an `if` block is not a function: the method is
        (14, (12, 16)),
        (19, None),  # object literal
    ],
)
def test_javascript_enclosing_function_skips_strings_and_comments(
    line: int, expected: tuple[int, int] | None
) -> None:
    assert enclosing_function(JS_SOURCE, line, language_for("javascript", "a.js")) == expected


GO_SOURCE = """package main

import "fmt"

// Hello says { hi
func (s *Server) Hello(name string) (string, error) {
\tmsg := `raw {`
\tif name == "" {
\t\treturn "", fmt.Errorf("x: %c", '}')
\t}
\treturn msg, nil
}
"""


@pytest.mark.parametrize(("line", "expected"), [(2, None), (4, None), (5, (5, 11)), (8, (5, 11))])
def test_go_method_with_braces_in_raw_strings_and_runes(
    line: int, expected: tuple[int, int] | None
) -> None:
    assert enclosing_function(GO_SOURCE, line, language_for("go", "a.go")) == expected


JAVA_SOURCE = """package a;

public class Foo {
    /** Docs { */
    @Override
    public String toString()
        throws Exception {
        char c = '{';
        return "}" + new Object() {
        };
    }

    static int twice(int x) { return x * 2; }
}
"""


@pytest.mark.parametrize(
    ("line", "expected"),
    [(2, None), (3, None), (4, (4, 10)), (7, (4, 10)), (9, (4, 10)), (12, (12, 12))],
)
def test_java_method_includes_annotations_and_throws_clause(
    line: int, expected: tuple[int, int] | None
) -> None:
    assert enclosing_function(JAVA_SOURCE, line, language_for("java", "A.java")) == expected


RUST_SOURCE = """#[derive(Debug)]
struct S<'a> { s: &'a str }

impl<'a> S<'a> {
    #[inline]
    fn first(&self) -> char {
        let q = '{';
        self.s.chars().next().unwrap_or(q)
    }
}
"""


@pytest.mark.parametrize(("line", "expected"), [(1, None), (3, None), (4, (4, 8)), (6, (4, 8))])
def test_rust_fn_with_lifetimes_and_char_literals(
    line: int, expected: tuple[int, int] | None
) -> None:
    assert enclosing_function(RUST_SOURCE, line, language_for("rust", "a.rs")) == expected


def test_c_function_with_brace_on_its_own_line_and_preprocessor() -> None:
    source = '#include <stdio.h>\n#define OPEN {\n\nint\nmain(void)\n{\n    puts("{");\n    return 0;\n}\n'
    c = language_for("c", "a.c")
    assert enclosing_function(source, 6, c) == (4, 8)
    assert enclosing_function(source, 1, c) is None


RUBY_SOURCE = """class Greeter
  def greet(name)
    if name
      "hi #{name}"
    end
  end
end
"""


@pytest.mark.parametrize(("line", "expected"), [(0, None), (1, (1, 5)), (3, (1, 5)), (5, (1, 5))])
def test_ruby_uses_indentation_and_end(line: int, expected: tuple[int, int] | None) -> None:
    assert enclosing_function(RUBY_SOURCE, line, language_for("ruby", "a.rb")) == expected


def test_mask_code_keeps_length_and_newlines() -> None:
    source = 'a = "x{y" // c{\n/* {\n} */ b\n'
    masked = mask_code(source, language_for("javascript", "a.js"))
    assert masked == 'a = "   "' + " " * 6 + "\n    \n     b\n"
    assert len(masked) == len(source)


@pytest.mark.parametrize(
    ("line", "col", "index"),
    [
        ("abc", 0, 0),
        ("abc", 2, 2),
        ("abc", 9, 3),  # past the end: clamped
        ("😀x", 0, 0),
        ("😀x", 2, 1),  # the emoji is two UTF-16 units
        ("😀x", 3, 2),
        ("😀x", 1, 0),  # inside the surrogate pair: before the emoji
        ("a😀b😀c", 4, 3),
        ("é", 1, 1),  # BMP characters are one unit
        ("abc", -1, 0),
    ],
)
def test_utf16_to_index(line: str, col: int, index: int) -> None:
    assert utf16_to_index(line, col) == index


@pytest.mark.parametrize(
    ("line", "index", "col"), [("😀x", 1, 2), ("😀x", 2, 3), ("a😀b😀c", 3, 4), ("abc", 10, 3)]
)
def test_index_to_utf16(line: str, index: int, col: int) -> None:
    assert index_to_utf16(line, index) == col


def test_utf16_round_trip_on_every_index() -> None:
    line = "x😀é🎉 y"
    for index in range(len(line) + 1):
        assert utf16_to_index(line, index_to_utf16(line, index)) == index


@pytest.mark.parametrize(
    ("text", "start", "end", "expected"),
    [
        ("hello\nworld", (0, 1), (1, 3), "ello\nwor"),
        ("a😀b\nc", (0, 1), (0, 3), "😀"),
        ("a😀b\nc", (0, 3), (1, 1), "b\nc"),
        ("one\r\ntwo\rthree", (1, 0), (2, 5), "two\rthree"),
        ("abc", (0, 2), (0, 1), "b"),  # reversed range
        ("abc\n", (5, 0), (9, 9), ""),  # past the end
        ("abc\ndef", (0, 1), (0, 99), "bc"),  # column clamped to the line
    ],
)
def test_selection_text_uses_lsp_positions(
    text: str, start: tuple[int, int], end: tuple[int, int], expected: str
) -> None:
    assert selection_text(text, start, end) == expected


def test_brace_scan_is_fast_on_a_large_file() -> None:
    function = 'function f{n}(a) {{\n  const s = "x{{";\n  // }}\n  return a;\n}}\n'
    source = "".join(function.format(n=n) for n in range(4000))  # 20k lines
    started = time.perf_counter()
    assert enclosing_function(source, 19_998, language_for("javascript", "a.js")) == (
        19_995,
        19_999,
    )
    assert time.perf_counter() - started < 2.0


SHELL_SOURCE = """#!/bin/sh
count() {
  echo "$# args, ${#1} chars }"  # }
}
main() { count "$@"; }
"""


@pytest.mark.parametrize(("line", "expected"), [(0, None), (2, (1, 3)), (4, (4, 4))])
def test_shell_functions_with_hash_inside_words(
    line: int, expected: tuple[int, int] | None
) -> None:
    assert enclosing_function(SHELL_SOURCE, line, language_for("shellscript", "a.sh")) == expected


def test_lua_function_until_end() -> None:
    source = "local M = {}\n\nfunction M.add(a, b)\n  return a + b\nend\n\nreturn M\n"
    lua = language_for("lua", "m.lua")
    assert [enclosing_function(source, n, lua) for n in range(7)] == [
        None, None, (2, 4), (2, 4), (2, 4), None, None,
    ]  # fmt: skip
