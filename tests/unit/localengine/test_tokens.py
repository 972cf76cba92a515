"""The tokenizer keeps spacing inside tokens and treats the last typed piece as a fragment."""

import pytest

from beastmode.localengine.tokens import (
    END_OF_LINE,
    learnable_lines,
    line_events,
    split_fragment,
    tokenize,
)


@pytest.mark.parametrize(
    ("content", "tokens"),
    [
        ("x = foo(a, b)", ["x", " =", " foo", "(", "a", ",", " b", ")"]),
        ("def f(self) -> None:", ["def", " f", "(", "self", ")", " ->", " None", ":"]),
        ("a  **= 10.5e3", ["a", "  **=", " 10.5e3"]),
        ("x == y != z", ["x", " ==", " y", " !=", " z"]),
        ("return   ", ["return"]),
        ("", []),
    ],
)
def test_tokenize_keeps_the_blanks_before_each_token(content: str, tokens: list[str]) -> None:
    assert tokenize(content) == tokens


@pytest.mark.parametrize(
    ("content", "complete", "fragment"),
    [
        ("self.ass", ["self", "."], "ass"),
        ("foo(", ["foo"], "("),
        ("x = ", ["x", " ="], " "),
        ("x =", ["x"], " ="),
        ("", [], ""),
    ],
)
def test_split_fragment_treats_the_last_piece_as_unfinished(
    content: str, complete: list[str], fragment: str
) -> None:
    assert split_fragment(content) == (complete, fragment)


def test_line_events_end_every_line_with_end_of_line() -> None:
    events = line_events(["import", " os"])
    assert [token for _, _, token in events] == [
        "import",
        " os",
        " os",
        END_OF_LINE,
        END_OF_LINE,
        END_OF_LINE,
    ]
    assert [order for _, order, _ in events] == [0, 0, 1, 0, 2, 1]


def test_learnable_lines_drop_indentation_blank_and_overlong_lines() -> None:
    text = "def f():\n    return 1   \n\n\t\n" + "x" * 401 + "\n"
    assert learnable_lines(text) == ["def f():", "return 1"]
