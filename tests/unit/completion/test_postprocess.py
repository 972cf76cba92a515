"""Post-processing matrix: unwrap, cut by mode, suffix overlap, brackets, repetition, empty."""

import pytest

from beastmode.completion.mode import Mode
from beastmode.completion.postprocess import (
    bracket_mismatches,
    cut_looping_tail,
    cut_repeated_lines,
    drop_repeated_indentation,
    drop_suffix_overlap,
    postprocess,
    strip_code_fence,
    strip_reasoning,
)

S, M = Mode.SINGLE_LINE, Mode.MULTI_LINE

CASES = [
    # (name, raw, line_prefix, line_suffix, suffix, mode, indent, expected)
    ("plain single line", "compute(a)", "x = ", "", "\n", S, "", "compute(a)"),
    ("single keeps first line only", "compute(a)\nprint(x)", "x = ", "", "\n", S, "", "compute(a)"),
    ("fence stripped", "```python\nreturn x\n```", "    ", "", "\n", M, "    ", "return x"),
    ("unclosed fence", "```\nreturn x", "    ", "", "\n", M, "    ", "return x"),
    ("lone closing fence", "return x\n```", "    ", "", "\n", M, "    ", "return x"),
    ("think block", "<think>hmm\nok</think>return x", "    ", "", "", S, "    ", "return x"),
    ("reasoning block", "<reasoning>a</reasoning>\nreturn x", "    ", "", "", M, "", "return x"),
    ("unclosed think is all reasoning", "<think>let me see", "x = ", "", "", S, "", None),
    ("stray closing think", "plan...</think>return 1", "    ", "", "", S, "", "return 1"),
    ("closer the suffix provides", "x)", "foo(", ")", ")\n", S, "", "x"),
    ("two closers the suffix provides", "a, b))", "f(g(", "))", "))\n", S, "", "a, b"),
    ("call inside call keeps its closer", "foo()", "print(", ")", ")\n", S, "", "foo()"),
    ("closing quote the suffix provides", 'hello"', 'name = "', '"', '"\n', S, "", "hello"),
    ("suffix text overlap", "a, b):", "def f(", "):", "):\n", S, "", "a, b"),
    ("only the closer", ")", "foo(", ")", ")\n", S, "", None),
    ("identical to suffix start", "return y", "    ", "", "\n    return y\n", M, "    ", None),
    (
        "python block cut at dedent",
        "\n    return 1\n\ndef g():\n    pass",
        "def f():",
        "",
        "\n",
        M,
        "",
        "\n    return 1",
    ),
    (
        "auto-closed brace keeps closer on its own line",
        "\n  return 1;\n}",
        "function f() {",
        "}",
        "}\n",
        M,
        "",
        "\n  return 1;\n",
    ),
    (
        "auto-closed brace, model left the closer out",
        "\n    return 1;",
        "    void f() {",
        "}",
        "}\n",
        M,
        "    ",
        "\n    return 1;\n    ",
    ),
    (
        "indentation kept",
        "if x:\n        y = 1\n    z = 2",
        "    ",
        "",
        "\n",
        M,
        "    ",
        "if x:\n        y = 1\n    z = 2",
    ),
    (
        "repeated indentation removed",
        "    x = 1\n    y = 2",
        "    ",
        "",
        "\n",
        M,
        "    ",
        "x = 1\n    y = 2",
    ),
    (
        "extra indentation that fits is kept",
        "    for i in xs:\n            y(i)",
        "    ",
        "",
        "\n",
        M,
        "    ",
        "    for i in xs:\n            y(i)",
    ),
    ("repeated line", "a = 1\nfoo()\nfoo()\nfoo()\nfoo()", "", "", "", M, "", "a = 1\nfoo()"),
    ("looping tail", "x = [foo(foo(foo(foo(foo(foo(foo(", "", "", "", S, "", "x = [foo("),
    ("trailing blank lines trimmed", "x = 1\n\n   \n", "    ", "", "\n", M, "    ", "x = 1"),
    ("whitespace only", "   \n  ", "x = ", "", "", M, "", None),
    ("empty", "", "x = ", "", "", S, "", None),
    ("single line empty after newline", "\nfoo()", "x = 1", "", "\n", S, "", None),
]


@pytest.mark.parametrize(
    ("raw", "line_prefix", "line_suffix", "suffix", "mode", "indent", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_postprocess_matrix(
    raw: str,
    line_prefix: str,
    line_suffix: str,
    suffix: str,
    mode: Mode,
    indent: str,
    expected: str | None,
) -> None:
    result = postprocess(
        raw,
        line_prefix=line_prefix,
        line_suffix=line_suffix,
        suffix=suffix,
        mode=mode,
        indent=indent,
    )
    assert result == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<think>a</think>b", "b"),
        ("<THINKING>a\nb</THINKING>\n\ncode", "code"),
        ("x <think>a</think>y", "x y"),
        ("no tags", "no tags"),
    ],
)
def test_strip_reasoning(text: str, expected: str) -> None:
    assert strip_reasoning(text) == expected


@pytest.mark.parametrize(
    ("text", "anywhere", "expected"),
    [
        ("```py\na\nb\n```\ntrailing", False, "a\nb"),
        ("~~~\na\n~~~", False, "a"),
        ("Here you go:\n```js\nf()\n```", False, "Here you go:\n```js\nf()\n```"),
        ("Here you go:\n```js\nf()\n```", True, "f()"),
        ("\n```\na\n```", False, "a"),
        ("a = '```'", False, "a = '```'"),
    ],
)
def test_strip_code_fence(text: str, anywhere: bool, expected: str) -> None:
    assert strip_code_fence(text, anywhere=anywhere) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a\nb\nb\nc", "a\nb\nb\nc"),  # two in a row is allowed
        ("a\nb\nb\nb\nc", "a\nb"),
        ("}\n}\n}", "}"),
        ("x\n\n\n\ny", "x\n\n\n\ny"),  # blank lines are not a loop
    ],
)
def test_cut_repeated_lines(text: str, expected: str) -> None:
    assert cut_repeated_lines(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call(a, b, c)", "call(a, b, c)"),
        ("# " + "=" * 40, "# " + "=" * 40),
        ("n = 1000000000000000", "n = 1000000000000000"),
        # The loop's unit is " 1, 2," (it starts right after "="), kept once.
        ("x = 1, 2, 1, 2, 1, 2, 1, 2, 1, 2", "x = 1, 2,"),
        ("ab" * 3, "ab" * 3),  # too short to call a loop
        ("    pass\n" * 4, "    pass\n"),
    ],
)
def test_cut_looping_tail(text: str, expected: str) -> None:
    assert cut_looping_tail(text) == expected


@pytest.mark.parametrize(
    ("text", "count"),
    [("f(a)", 0), ("f(a))", 1), ("f(a]", 1), ('"abc', 1), ('"a)b"', 0), ("'it\\'s'", 0), ("f(", 0)],
)
def test_bracket_mismatches(text: str, count: int) -> None:
    assert bracket_mismatches(text) == count


@pytest.mark.parametrize(
    ("text", "line_prefix", "expected"),
    [
        ("    if x:\n        y()", "    ", "if x:\n        y()"),
        ("    a\n        b", "    ", "    a\n        b"),  # relative reading fits
        ("    a", "    ", "    a"),  # one line: no evidence
        ("  a\n  b", "x = ", "  a\n  b"),  # not on a blank line
    ],
)
def test_drop_repeated_indentation(text: str, line_prefix: str, expected: str) -> None:
    assert drop_repeated_indentation(text, line_prefix) == expected


def test_overlap_without_bracket_gain_is_kept() -> None:
    # `x` also starts the suffix, but removing it fixes nothing.
    assert drop_suffix_overlap("a + x", line_prefix="y = ", line_suffix="x") == "a + x"
