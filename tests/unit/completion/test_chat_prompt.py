"""Hole-filling chat prompt and extraction of the hole's text from answers (whole and streamed)."""

import pytest

from beastmode.completion.chat_prompt import (
    HOLE,
    SYSTEM_PROMPT,
    CompletionTagStream,
    build_hole_filling_prompt,
    extract_hole_fill,
)
from beastmode.completion.snippets import Snippet


def test_prompt_marks_the_hole_between_prefix_and_suffix() -> None:
    system, user = build_hole_filling_prompt(
        "def f(x):\n    return ",
        "\n\nprint(f(2))\n",
        language="python",
        file_path="src/m.py",
        snippets=(),
        multiline=False,
    )
    assert system == SYSTEM_PROMPT
    assert user == (
        "Language: python\n"
        "File: src/m.py\n"
        "<QUERY>\n"
        "def f(x):\n    return {{FILL_HERE}}\n\nprint(f(2))\n\n"
        "</QUERY>\n"
        "Fill the hole with the rest of the current line only: no line breaks."
        " Answer with <COMPLETION>...</COMPLETION> only."
    )


def test_prompt_includes_snippets_and_block_scope() -> None:
    _, user = build_hole_filling_prompt(
        "a",
        "b",
        language="",
        file_path=None,
        snippets=(Snippet("lib/x.py", "def x(): ...", 0.4),),
        multiline=True,
    )
    assert user == (
        "Code from other open files, for reference:\n"
        '<FILE path="lib/x.py">\ndef x(): ...\n</FILE>\n'
        "\n"
        "Language: unknown\n"
        "<QUERY>\na{{FILL_HERE}}b\n</QUERY>\n"
        "Fill the hole with the lines the code needs there, at most one complete block."
        " Answer with <COMPLETION>...</COMPLETION> only."
    )


def test_system_prompt_has_one_tagged_example() -> None:
    assert SYSTEM_PROMPT.count("<QUERY>") == 1
    assert "<COMPLETION>3.14159 * radius * radius</COMPLETION>" in SYSTEM_PROMPT
    assert HOLE in SYSTEM_PROMPT


@pytest.mark.parametrize(
    ("answer", "multiline", "expected"),
    [
        ("<COMPLETION>x + 1</COMPLETION>", True, "x + 1"),
        ("Sure! <completion>x + 1</completion> Hope it helps.", True, "x + 1"),
        ("<COMPLETION>\nx = 1\ny = 2\n</COMPLETION>", True, "x = 1\ny = 2"),
        ("<COMPLETION>\n    return 1</COMPLETION>", True, "\n    return 1"),
        ("<COMPLETION>\nx + 1</COMPLETION>", False, "x + 1"),
        ("<think>the user wants</think><COMPLETION>a</COMPLETION>", True, "a"),
        ("<COMPLETION>```python\nreturn 1\n```</COMPLETION>", True, "return 1"),
        ("<COMPLETION>half an answ", True, "half an answ"),
        ("x + 1</COMPLETION>", True, "x + 1"),
        ("no tags at all", True, "no tags at all"),
        ("Here:\n```py\nreturn 2\n```", True, "return 2"),
        ("<COMPLETION>f({{FILL_HERE}})</COMPLETION>", True, "f()"),
        ("<COMPLETION></COMPLETION>", True, ""),
    ],
)
def test_extract_hole_fill(answer: str, multiline: bool, expected: str) -> None:
    assert extract_hole_fill(answer, multiline=multiline) == expected


def stream(deltas: list[str], *, multiline: bool = True) -> tuple[str, bool]:
    tags = CompletionTagStream(multiline=multiline)
    out = "".join(tags.feed(delta) for delta in deltas)
    return out, tags.finished


@pytest.mark.parametrize(
    "deltas",
    [
        ["<COMPLETION>x + 1</COMPLETION> trailing chatter"],
        list("<COMPLETION>x + 1</COMPLETION> trailing chatter"),
        ["<think>hm</think><COMP", "LETION>x +", " 1</COMP", "LETION>", "more"],
        ["ok <completion>x + 1<", "/completion>"],
    ],
)
def test_tag_stream_passes_only_the_hole_text(deltas: list[str]) -> None:
    assert stream(deltas) == ("x + 1", True)


def test_tag_stream_holds_back_a_possible_closing_tag() -> None:
    tags = CompletionTagStream()
    assert tags.feed("<COMPLETION>a < b </COMPL") == "a < b "
    assert tags.feed("EX") == "</COMPLEX"
    assert not tags.finished


def test_tag_stream_yields_nothing_before_the_opening_tag() -> None:
    assert stream(["some reasoning", " and more"]) == ("", False)


def test_tag_stream_drops_layout_newline_in_single_line_mode() -> None:
    assert stream(["<COMPLETION>", "\nx + 1</COMPLETION>"], multiline=False) == ("x + 1", True)
    assert stream(["<COMPLETION>", "\nx + 1</COMPLETION>"]) == ("\nx + 1", True)
