"""Turning model answers into code to apply, or a markdown reply."""

from __future__ import annotations

import pytest

from beastmode.errors import ModelOutputError
from beastmode.generation.languages import language_for
from beastmode.generation.parsing import (
    extract_code,
    extract_markdown_reply,
    fenced_blocks,
    strip_reasoning,
)

PYTHON = language_for("python", "a.py")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        pytest.param("```python\ndef f():\n    pass\n```", "def f():\n    pass", id="single-fence"),
        pytest.param(
            "Here is the refactored code:\n\n```py\nx = 1\n```\n\nThis is shorter.",
            "x = 1",
            id="fence-with-prose-around",
        ),
        pytest.param("```\nx = 1\n", "x = 1", id="unclosed-fence"),
        pytest.param("~~~\ny = 2\n~~~", "y = 2", id="tilde-fence"),
        pytest.param(
            "````python\ns = '''\n```\n'''\n````", "s = '''\n```\n'''", id="longer-fence-nests"
        ),
        pytest.param(
            "  ```js\n  let a = 1;\n    b();\n  ```", "let a = 1;\n  b();", id="indented-fence"
        ),
        pytest.param(
            "Here is the refactored code:\n\ndef f(x):\n    return x + 1\n\n"
            "This version is shorter and\nclearer than before.\n",
            "def f(x):\n    return x + 1",
            id="unfenced-with-prose",
        ),
        pytest.param(
            "Sure! Here's the code (with types):\ndef f(x: int) -> int:\n    return x\n"
            "The function now has types.",
            "def f(x: int) -> int:\n    return x",
            id="unfenced-prose-glued-to-code",
        ),
        pytest.param(
            "def f():\n    return 1\n\nChanges:\n- Renamed `g()` to `f()`\n- Removed the loop",
            "def f():\n    return 1",
            id="trailing-bullet-list",
        ),
        pytest.param("x = compute()  \ny = 2\t\n", "x = compute()\ny = 2", id="trailing-spaces"),
        pytest.param(
            "<think>Let me see. ```x```</think>\n```py\nx = 1\n```", "x = 1", id="think-block"
        ),
        pytest.param(
            "the user wants a rename...</think>\n```py\nrenamed = 1\n```",
            "renamed = 1",
            id="think-closer-only",
        ),
        pytest.param(
            "<THINKING>plan</THINKING>value = 3", "value = 3", id="thinking-tag-case-insensitive"
        ),
    ],
)
def test_extract_code(answer: str, expected: str) -> None:
    assert extract_code(answer) == expected


def test_several_fences_pick_the_one_in_the_language() -> None:
    answer = (
        "Install first:\n```bash\npip install something-long-enough-to-be-longest\n```\n"
        "Then:\n```python\nimport x\n```"
    )
    assert extract_code(answer, language=PYTHON) == "import x"


def test_several_fences_without_language_match_pick_the_longest() -> None:
    answer = "```\nshort\n```\n\n```\nmuch = longer + block\n```\n```text\nmid one\n```"
    assert extract_code(answer, language=PYTHON) == "much = longer + block"
    assert extract_code(answer) == "much = longer + block"


def test_several_matching_fences_pick_the_longest_of_them() -> None:
    answer = "```python\na = 1\n```\n```python\nb = 2\nc = 3\n```\n```\nzzzzzzzzzzzzzzzzzzzz\n```"
    assert extract_code(answer, language=PYTHON) == "b = 2\nc = 3"


@pytest.mark.parametrize(
    ("answer", "original", "expected"),
    [
        pytest.param(
            "```python\ndef f(self):\n    return 2\n```",
            "    def f(self):\n        return 1\n",
            "    def f(self):\n        return 2\n",
            id="dropped-indent-restored",
        ),
        pytest.param(
            "```python\n    def f(self):\n\n        return 2\n```",
            "    def f(self):\n        return 1",
            "    def f(self):\n\n        return 2",
            id="kept-indent-untouched-no-trailing-newline",
        ),
        pytest.param(
            "```\n  x = 1\n  y = 2\n```",
            "        x = 0\n",
            "        x = 1\n        y = 2\n",
            id="partially-dropped-indent",
        ),
        pytest.param(
            "```\n\tif x:\n\t\treturn\n```",
            "\tif x:\n\t\tpass\n",
            "\tif x:\n\t\treturn\n",
            id="tabs-kept",
        ),
        pytest.param(
            "```\nx = 1\n```", "x = 0\n", "x = 1\n", id="module-level-gets-newline-of-original"
        ),
    ],
)
def test_extract_code_matches_the_original_layout(
    answer: str, original: str, expected: str
) -> None:
    assert extract_code(answer, original=original) == expected


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("", "The model returned an empty answer"),
        ("   \n\n", "The model returned an empty answer"),
        ("<think>I need to think about this</think>", "The model returned an empty answer"),
        ("<think>cut off mid-thought", "The model returned an empty answer"),
        ("```python\n\n```", "only empty code blocks"),
        (
            "I cannot do that. The code is already fine as it is.",
            "held no code, only prose: “I cannot do that. The code is already fine as it is.”",
        ),
    ],
)
def test_unusable_answers_raise_model_output_error(answer: str, message: str) -> None:
    with pytest.raises(ModelOutputError) as raised:
        extract_code(answer, original="x = 1\n")
    assert message in str(raised.value)
    assert "Nothing was applied" in str(raised.value) or "nothing was applied" in str(raised.value)


def test_strip_reasoning_keeps_the_answer_between_blocks() -> None:
    assert strip_reasoning("a<think>x</think>b<think>y</think>c") == "abc"


def test_fenced_blocks_report_info_strings() -> None:
    blocks = fenced_blocks("```python src/app.py\nx\n```\ntext\n```\ny\n```")
    assert [(b.info, b.content) for b in blocks] == [("python src/app.py", "x"), ("", "y")]


def test_extract_markdown_reply_strips_reasoning_and_whitespace() -> None:
    answer = "<think>hmm</think>\n\n## Answer\n\nUse `foo()`.\n\n"
    assert extract_markdown_reply(answer) == "## Answer\n\nUse `foo()`."


@pytest.mark.parametrize("answer", ["", "  \n", "<think>only thinking</think>"])
def test_extract_markdown_reply_refuses_empty(answer: str) -> None:
    with pytest.raises(ModelOutputError, match="empty reply"):
        extract_markdown_reply(answer)
