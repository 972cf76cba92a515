"""Prompt builders: the pieces each prompt holds, and what a budget cuts first."""

from __future__ import annotations

import pytest

from beastmode.generation.languages import language_for
from beastmode.generation.messages import (
    DiagnosticInfo,
    PromptMessages,
    build_chat_prompt,
    build_docs_prompt,
    build_feature_prompt,
    build_fix_prompt,
    build_refactor_prompt,
    build_tests_prompt,
    estimate_tokens,
    fenced,
    prompt_tokens,
)

PYTHON = language_for("python", "a.py")
BIG = 100_000


@pytest.mark.parametrize(("text", "tokens"), [("", 0), ("abc", 1), ("a" * 7, 2), ("a" * 8, 3)])
def test_estimate_tokens_is_ceil_of_chars_over_3_5(text: str, tokens: int) -> None:
    assert estimate_tokens(text) == tokens


def test_prompt_tokens_counts_system_and_every_message() -> None:
    prompt = PromptMessages("a" * 7, (("user", "abc"), ("assistant", "a" * 8)))
    assert prompt_tokens(prompt) == 2 + 1 + 3


def test_fenced_outgrows_backticks_in_the_text() -> None:
    assert fenced("x = 1\n", "py") == "```py\nx = 1\n```"
    assert fenced("a ```` b") == "`````\na ```` b\n`````"


def test_refactor_prompt_exact_text() -> None:
    prompt = build_refactor_prompt(
        "    def f(self):\n        return 1\n",
        language=PYTHON,
        instruction="  use a named constant ",
        path="src/a.py",
        max_prompt_tokens=BIG,
    )
    assert prompt.system == (
        "You are BEAST MODE, an expert Python programmer working inside the user's editor. Your "
        "answer is applied to the file automatically, so answer with code only: one fenced code "
        "block, no explanation before or after it."
    )
    assert prompt.messages == (
        (
            "user",
            "Refactor this Python code from `src/a.py`.\n\n"
            "Instruction: use a named constant\n\n"
            "Rules:\n"
            "- Change only what the instruction asks; keep the behaviour exactly the same "
            "(inputs, outputs, side effects, public names).\n"
            "- The first line is indented with 4 spaces; keep that indentation level. Your answer "
            "replaces exactly these lines.\n"
            "- Answer with only the rewritten code in one fenced code block (```python), with no "
            "explanation before or after it.\n\n"
            "```python\n    def f(self):\n        return 1\n```",
        ),
    )


@pytest.mark.parametrize("instruction", [None, "", "   "])
def test_refactor_without_instruction_asks_for_general_improvement(instruction: str | None) -> None:
    prompt = build_refactor_prompt(
        "x=1", language=PYTHON, instruction=instruction, path="a.py", max_prompt_tokens=BIG
    )
    assert "Instruction: Improve readability, naming and structure." in prompt.messages[0][1]
    assert "The first line starts at column 0; keep it there." in prompt.messages[0][1]


def test_refactor_never_cuts_the_code_or_instruction_even_over_budget() -> None:
    code = "x = 1\n" * 200
    prompt = build_refactor_prompt(
        code, language=PYTHON, instruction="rename x", path="a.py", max_prompt_tokens=10
    )
    assert code.rstrip("\n") in prompt.messages[0][1]
    assert "Instruction: rename x" in prompt.messages[0][1]


@pytest.mark.parametrize(
    ("language_id", "path", "style", "tag"),
    [
        ("python", "a.py", "PEP 257 docstrings", "```python"),
        ("javascript", "a.js", "JSDoc comments", "```javascript"),
        ("typescript", "a.ts", "JSDoc comments", "```typescript"),
        ("go", "a.go", "Go doc comments", "```go"),
        ("rust", "a.rs", "/// doc comments", "```rust"),
        ("java", "A.java", "Javadoc comments", "```java"),
    ],
)
def test_docs_prompt_names_the_language_style(
    language_id: str, path: str, style: str, tag: str
) -> None:
    prompt = build_docs_prompt(
        "\tcode()", language=language_for(language_id, path), path=path, max_prompt_tokens=BIG
    )
    user = prompt.messages[0][1]
    assert f"Style: {style}" in user
    assert "Do not change the code otherwise" in user
    assert "The first line is indented with 1 tabs; keep that indentation level." in user
    assert user.endswith(f"{tag}\n\tcode()\n```")


def test_fix_prompt_lists_diagnostics_with_their_lines() -> None:
    prompt = build_fix_prompt(
        "x = foo(\ny = 2\n",
        language=PYTHON,
        path="a.py",
        diagnostics=[
            DiagnosticInfo(1, "'(' was never closed", "Pylance", None),
            DiagnosticInfo(2, "undefined name", "ruff", "F821"),
            DiagnosticInfo(9, "outside the code", None, None),
        ],
        max_prompt_tokens=BIG,
    )
    assert (
        "Diagnostics (line 1 is the first line of the code below):\n"
        "- line 1: '(' was never closed (Pylance)\n"
        "  > x = foo(\n"
        "- line 2: undefined name (ruff, F821)\n"
        "  > y = 2\n"
        "- line 9: outside the code\n\n"
    ) in prompt.messages[0][1]
    assert prompt.messages[0][1].startswith(
        "Fix the problems reported in this Python code from `a.py`."
    )


CODE = "def add(a, b):\n    return a + b\n"


def test_tests_prompt_for_a_new_file_asks_for_a_complete_file() -> None:
    prompt = build_tests_prompt(
        CODE,
        language=PYTHON,
        path="calc.py",
        module_name="calc",
        existing_tests=None,
        max_prompt_tokens=BIG,
    )
    user = prompt.messages[0][1]
    assert "pytest" in prompt.system
    assert user.startswith(
        "Write pytest tests for this Python code from `calc.py` (import it as `calc`)."
    )
    assert (
        "Answer with a complete test file, including every import, in one fenced code block."
        in user
    )
    assert "Existing test file" not in user


def test_tests_prompt_for_an_existing_file_asks_only_for_new_tests() -> None:
    existing = "import calc\n\n\ndef test_add():\n    assert calc.add(1, 1) == 2\n"
    prompt = build_tests_prompt(
        CODE,
        language=PYTHON,
        path="calc.py",
        module_name="calc",
        existing_tests=existing,
        max_prompt_tokens=BIG,
    )
    user = prompt.messages[0][1]
    assert "Answer with only the new tests to append to it" in user
    assert "Do not repeat imports already present" in user
    assert user.endswith("Existing test file:\n\n" + fenced(existing, "python"))


def test_tests_prompt_asks_class_languages_for_methods_and_rust_for_a_module() -> None:
    java = build_tests_prompt(
        "class A {}", language=language_for("java", "A.java"), path="A.java",
        module_name="A", existing_tests="class ATest {}", max_prompt_tokens=BIG,
    )  # fmt: skip
    assert "only the new test methods to add to the existing test class" in java.messages[0][1]
    rust = build_tests_prompt(
        "fn a() {}", language=language_for("rust", "a.rs"), path="a.rs",
        module_name="a", existing_tests="#[cfg(test)] mod tests {}", max_prompt_tokens=BIG,
    )  # fmt: skip
    assert "`#[cfg(test)] mod tests { use super::*; ... }`" in rust.messages[0][1]
    assert "Existing test file" not in rust.messages[0][1]


def _tests_prompt(existing: str, budget: int) -> PromptMessages:
    return build_tests_prompt(
        CODE,
        language=PYTHON,
        path="calc.py",
        module_name="calc",
        existing_tests=existing,
        max_prompt_tokens=budget,
    )


def test_tests_prompt_truncates_existing_tests_keeping_the_imports() -> None:
    existing = "import calc\n" + "".join(f"def test_{i}():\n    assert {i}\n" for i in range(40))
    full = prompt_tokens(_tests_prompt(existing, BIG))
    prompt = _tests_prompt(existing, full - 40)
    user = prompt.messages[0][1]
    assert prompt_tokens(prompt) <= full - 40
    shown = user.split("Existing test file:\n\n```python\n")[1]
    kept, marker = shown.removesuffix("\n```").rsplit("\n", 1)
    assert kept.startswith("import calc\n")
    kept_lines = kept.count("\n") + 1
    assert marker == f"... (truncated: {81 - kept_lines} more lines)"
    # One more line would not have fitted.
    longer = "\n".join(existing.splitlines()[: kept_lines + 1])
    bigger = user.replace(kept, longer).replace(
        marker, f"... (truncated: {80 - kept_lines} more lines)"
    )
    assert prompt_tokens(PromptMessages(prompt.system, (("user", bigger),))) > full - 40


def test_tests_prompt_drops_existing_tests_that_do_not_fit_at_all() -> None:
    existing = "import calc\n" + "x" * 4000 + "\n"
    bare = _tests_prompt(existing, 0)  # not even the note fits: it goes too
    assert "Existing test file" not in bare.messages[0][1]
    noted = bare.messages[0][1] + "\n\nExisting test file: not shown (over the context budget)"
    budget = prompt_tokens(PromptMessages(bare.system, (("user", noted),)))
    assert _tests_prompt(existing, budget).messages == (("user", noted),)


# ---------------------------------------------------------------- chat

HISTORY = (
    ("user", "first question"),
    ("assistant", "first answer"),
    ("user", "second question"),
    ("assistant", "second answer"),
)
ACTIVE = ("src/a.py", "def f():\n    return 1\n")
FILES = (("src/b.py", "B = 2\n"), ("src/c.py", "C = " + "3" * 400 + "\n"))


def _chat(budget: int, history: tuple[tuple[str, str], ...] = HISTORY) -> PromptMessages:
    return build_chat_prompt(
        "What does f return?",
        history=history,
        files=FILES,
        active_document=ACTIVE,
        max_prompt_tokens=budget,
    )


def test_chat_prompt_exact_layout() -> None:
    prompt = build_chat_prompt(
        "What does f return?",
        history=HISTORY[:2],
        files=[("src/b.py", "B = 2\n"), ACTIVE],  # the active document is not repeated
        active_document=ACTIVE,
        max_prompt_tokens=BIG,
    )
    assert "Answer in Markdown" in prompt.system
    assert prompt.messages == (
        ("user", "first question"),
        ("assistant", "first answer"),
        (
            "user",
            "Context from the workspace:\n\n"
            "Active document: src/a.py\n```python\ndef f():\n    return 1\n```\n\n"
            "File: src/b.py\n```python\nB = 2\n```\n\n"
            "Question:\nWhat does f return?",
        ),
    )


def test_chat_prompt_without_context_is_just_the_message() -> None:
    prompt = build_chat_prompt(
        "hi", history=(), files=(), active_document=None, max_prompt_tokens=BIG
    )
    assert prompt.messages == (("user", "hi"),)


def test_chat_budget_cuts_the_last_file_first() -> None:
    expected_user = (
        "Context from the workspace:\n\n"
        "Active document: src/a.py\n```python\ndef f():\n    return 1\n```\n\n"
        "File: src/b.py\n```python\nB = 2\n```\n\n"
        "Not shown (over the context budget): src/c.py\n\n"
        "Question:\nWhat does f return?"
    )
    system = _chat(BIG).system
    budget = prompt_tokens(PromptMessages(system, (*HISTORY, ("user", expected_user))))
    assert prompt_tokens(_chat(BIG)) > budget
    assert _chat(budget).messages == (*HISTORY, ("user", expected_user))


def test_chat_budget_cuts_all_files_before_any_history() -> None:
    expected_user = (
        "Not shown (over the context budget): src/a.py, src/b.py, src/c.py\n\n"
        "Question:\nWhat does f return?"
    )
    system = _chat(BIG).system
    budget = prompt_tokens(PromptMessages(system, (*HISTORY, ("user", expected_user))))
    assert _chat(budget).messages == (*HISTORY, ("user", expected_user))


def test_chat_budget_then_cuts_history_oldest_first_starting_with_a_user_turn() -> None:
    expected_user = (
        "Not shown (over the context budget): src/a.py, src/b.py, src/c.py\n\n"
        "Question:\nWhat does f return?"
    )
    system = _chat(BIG).system
    budget = prompt_tokens(PromptMessages(system, (*HISTORY[2:], ("user", expected_user))))
    # Dropping only the first user turn would leave an assistant turn first: it goes too.
    assert _chat(budget).messages == (*HISTORY[2:], ("user", expected_user))
    assert _chat(budget + 3).messages == (*HISTORY[2:], ("user", expected_user))


def test_chat_never_cuts_the_users_message() -> None:
    assert _chat(1).messages == (("user", "What does f return?"),)


def test_chat_prompt_stays_within_every_budget_its_message_fits() -> None:
    smallest = prompt_tokens(_chat(1))
    for budget in range(smallest, prompt_tokens(_chat(BIG)) + 1):
        assert prompt_tokens(_chat(budget)) <= budget


def test_feature_prompt_stays_within_every_budget_its_request_fits() -> None:
    smallest = prompt_tokens(_feature(1))
    for budget in range(smallest, prompt_tokens(_feature(BIG)) + 1, 3):
        assert prompt_tokens(_feature(budget)) <= budget


# ---------------------------------------------------------------- feature


def test_feature_prompt_asks_for_the_file_format() -> None:
    prompt = build_feature_prompt(
        "Add a /health endpoint",
        file_tree=["app.py", "tests/test_app.py"],
        files=[("app.py", "from flask import Flask\n")],
        max_prompt_tokens=BIG,
    )
    assert (
        "File: relative/path/from/the/workspace/root.ext\n```language\n"
        "<the whole content of the file>\n```"
    ) in prompt.system
    assert "never an absolute path and never `..`" in prompt.system
    assert prompt.messages == (
        (
            "user",
            "Workspace files (relative to the workspace root):\napp.py\ntests/test_app.py\n\n"
            "Existing files that matter for this feature:\n\n"
            "File: app.py\n```python\nfrom flask import Flask\n```\n\n"
            "Feature request:\nAdd a /health endpoint\n\n"
            "Answer in the format described: a `File: <relative/path>` line followed directly by "
            "a fenced code block holding the whole file, for every file.",
        ),
    )


def _feature(budget: int) -> PromptMessages:
    return build_feature_prompt(
        "Add login",
        file_tree=[f"src/module_{i}.py" for i in range(50)],
        files=[("src/module_0.py", "x = 0\n" * 50)],
        max_prompt_tokens=budget,
    )


def test_feature_budget_cuts_files_before_the_tree() -> None:
    no_files = _feature(BIG).messages[0][1].split("Existing files")[0] + (
        "Not shown (over the context budget): src/module_0.py\n\nFeature request:\nAdd login\n\n"
        "Answer in the format described: a `File: <relative/path>` line followed directly by "
        "a fenced code block holding the whole file, for every file."
    )
    budget = prompt_tokens(PromptMessages(_feature(BIG).system, (("user", no_files),)))
    assert _feature(budget).messages == (("user", no_files),)


def test_feature_budget_then_shortens_the_tree() -> None:
    prompt = _feature(prompt_tokens(_feature(BIG)) // 2)
    user = prompt.messages[0][1]
    assert prompt_tokens(prompt) <= prompt_tokens(_feature(BIG)) // 2
    assert "src/module_0.py\nsrc/module_1.py\n" in user
    assert "src/module_49.py" not in user
    assert "more\n\nNot shown (over the context budget): src/module_0.py" in user
    assert user.endswith("for every file.")
