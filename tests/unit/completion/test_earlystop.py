"""StreamCutter: completion detection on streamed deltas, however the deltas are split."""

import pytest

from beastmode.completion.earlystop import StreamCutter, is_closing_line
from beastmode.completion.mode import Mode

S, M = Mode.SINGLE_LINE, Mode.MULTI_LINE


def splits(text: str) -> list[list[str]]:
    """The same stream cut whole, per character, in threes, and at every newline's edges."""
    threes = [text[i : i + 3] for i in range(0, len(text), 3)]
    around_newlines = text.replace("\n", "\x00\n\x00").split("\x00")
    return [[text], list(text), threes, [d for d in around_newlines if d]]


def run(
    deltas: list[str], mode: Mode, line_prefix: str, suffix: str, indent: str
) -> tuple[bool, str, int]:
    cutter = StreamCutter(mode, line_prefix=line_prefix, suffix=suffix, indent=indent)
    consumed = 0
    for delta in deltas:
        consumed += 1
        if cutter.feed(delta):
            break
    return cutter.done, cutter.text, consumed


CASES = [
    # (name, mode, line_prefix, suffix, indent, stream, done, text)
    ("single stops at newline", S, "x = ", "\n", "", "compute(a)\nprint(x)", True, "compute(a)"),
    ("single strips carriage return", S, "x = ", "", "", "f()\r\ng()", True, "f()"),
    ("single leading newline is empty", S, "x = 1", "", "", "\nfoo()", True, ""),
    ("single open line", S, "x = ", "", "", "compute(a", False, "compute(a"),
    (
        "python body ends at dedent",
        M,
        "def f(x):",
        "\n\nprint(f(1))\n",
        "",
        "\n    y = x * 2\n    return y\n\ndef g():\n    pass\n",
        True,
        "\n    y = x * 2\n    return y\n",
    ),
    (
        "brace block includes its closer",
        M,
        "int f(void) {",
        "\n\nint main() {}\n",
        "",
        "\n    return 1;\n}\n\nint g() {\n",
        True,
        "\n    return 1;\n}",
    ),
    (
        "indented brace block closer at same indent",
        M,
        "    if (x) {",
        "\n    return 0;\n",
        "    ",
        "\n        y();\n    }\n    z();\n",
        True,
        "\n        y();\n    }",
    ),
    (
        "closer of an outer block is cut",
        M,
        "    if (x) {",
        "\n",
        "    ",
        "\n        y();\n}\n",
        True,
        "\n        y();",
    ),
    (
        "blank line in body stops at dedent below indent",
        M,
        "    ",
        "\n    return total\n",
        "    ",
        "total = 0\n    for i in xs:\n        total += i\nprint(total)\n",
        True,
        "total = 0\n    for i in xs:\n        total += i",
    ),
    (
        "repeat of the suffix's first line stops",
        M,
        "    ",
        "\n    return total\n",
        "    ",
        "total = sum(xs)\n    return total\n    print(1)",
        True,
        "total = sum(xs)",
    ),
    (
        "auto-closed brace: suffix closer is not repeated",
        M,
        "function f() {",
        "}\n",
        "",
        "\n  return 1;\n}\n",
        True,
        "\n  return 1;",
    ),
    (
        "ruby end closes block",
        M,
        "5.times do",
        "\n",
        "",
        "\n  puts 1\nend\nputs 2\n",
        True,
        "\n  puts 1\nend",
    ),
    (
        "unindented first line after opener keeps going",
        M,
        "x = [",
        "\n",
        "",
        "\n1,\n2,\n]\nfoo()\n",
        True,
        "\n1,\n2,\n]",
    ),
    (
        "dedent decided on first word without waiting for newline",
        M,
        "def f():",
        "\n",
        "",
        "\n    return 1\nclass",
        True,
        "\n    return 1",
    ),
    (
        "still open block is not done",
        M,
        "def f():",
        "\n",
        "",
        "\n    a = 1\n    b = 2",
        False,
        "\n    a = 1\n    b = 2",
    ),
    (
        "a partial 'en' could still be 'end'",
        M,
        "5.times do",
        "\n",
        "",
        "\n  puts 1\nen",
        False,
        "\n  puts 1\nen",
    ),
    (
        "tabs count as indentation",
        M,
        "\tif x:",
        "\n",
        "\t",
        "\n\t\ty = 1\n\tz = 2\n",
        True,
        "\n\t\ty = 1",
    ),
]


@pytest.mark.parametrize(
    ("mode", "line_prefix", "suffix", "indent", "stream", "done", "text"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_cutter_gives_same_answer_however_stream_is_split(
    mode: Mode, line_prefix: str, suffix: str, indent: str, stream: str, done: bool, text: str
) -> None:
    for deltas in splits(stream):
        assert run(deltas, mode, line_prefix, suffix, indent)[:2] == (done, text), deltas


def test_single_line_is_done_on_the_delta_holding_the_newline() -> None:
    done, text, consumed = run(["foo", "(a)", "\nbar", "baz"], S, "x = ", "", "")
    assert (done, text, consumed) == (True, "foo(a)", 3)


def test_feed_after_done_is_ignored() -> None:
    cutter = StreamCutter(S, line_prefix="x = ", suffix="", indent="")
    assert cutter.feed("a\nb")
    assert cutter.feed("more text")
    assert cutter.text == "a"


def test_multi_line_first_line_is_never_cut() -> None:
    cutter = StreamCutter(M, line_prefix="        ", suffix="\n", indent="        ")
    cutter.feed("x = 1\n        y = 2\n")
    assert not cutter.done and cutter.text == "x = 1\n        y = 2\n"


@pytest.mark.parametrize(
    ("line", "closing"),
    [
        ("}", True),
        (") {", True),
        ("];", True),
        ("end", True),
        ("end.foo", True),
        ("ending()", False),
        ("done", True),
        ("fi", True),
        ("x", False),
        ("", False),
    ],
)
def test_is_closing_line(line: str, closing: bool) -> None:
    assert is_closing_line(line) is closing
