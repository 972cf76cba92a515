"""Prompts for refactor, docs, fix, tests, chat and feature generation, within a token budget.

Each builder returns a provider-neutral `PromptMessages` (a system prompt and role/content
pairs); the router formats it for the endpoint. Budgets use a rough `estimate_tokens` (3.5
characters a token). What gets cut, in order: context files (the last listed first, a file that
half fits is truncated at a line), then the file tree, then chat history oldest-first. The code
an action works on and the user's own instruction or message are never cut, so a prompt can
still exceed the budget when they alone do: check `prompt_tokens` before sending.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from beastmode.generation.languages import Language, fence_tags, language_for

CHARS_PER_TOKEN = 3.5
MAX_OMITTED_LISTED = 20
_CLASS_TEST_LANGUAGES = frozenset({"java", "kotlin", "csharp", "php", "swift"})


@dataclass(frozen=True)
class PromptMessages:
    """A plain chat request: a system prompt and (role, content) messages, oldest first."""

    system: str
    messages: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class DiagnosticInfo:
    """One diagnostic to fix; `line` is 1-based and counts from the first line of the code."""

    line: int
    message: str
    source: str | None
    code: str | None


def estimate_tokens(text: str) -> int:
    """Estimate the tokens of `text` (3.5 characters a token, rounded up)."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def prompt_tokens(prompt: PromptMessages) -> int:
    """Estimate the tokens of a whole prompt: the system prompt plus every message."""
    return estimate_tokens(prompt.system) + sum(estimate_tokens(c) for _, c in prompt.messages)


def fenced(text: str, info: str = "") -> str:
    """Wrap `text` in a code fence longer than any backtick run inside it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text.rstrip(chr(10))}\n{fence}"


def _tag(language: Language) -> str:
    return "" if language.id == "plaintext" else fence_tags(language)[0]


def _file_block(header: str, path: str, text: str) -> str:
    return f"{header}: {path}\n{fenced(text, _tag(language_for(None, path)))}"


def _indent_note(code: str) -> str:
    first = next((line for line in code.splitlines() if line.strip()), "")
    indent = first[: len(first) - len(first.lstrip())]
    if not indent:
        return "The first line starts at column 0; keep it there."
    kind = "tabs" if set(indent) == {"\t"} else "spaces"
    count = len(indent)
    return f"The first line is indented with {count} {kind}; keep that indentation level."


def _truncated(text: str, keep_lines: int) -> str:
    lines = text.splitlines()
    dropped = len(lines) - keep_lines
    return "\n".join([*lines[:keep_lines], f"... (truncated: {dropped} more lines)"])


# A context file: (header word, path, text).
_Context = tuple[str, str, str]
_Render = Callable[[Sequence[_Context], Sequence[str]], PromptMessages]


def _fit_contexts(contexts: Sequence[_Context], render: _Render, budget: int) -> PromptMessages:
    """Keep as many contexts as fit, in order, truncating the first one that only half fits."""
    kept: list[_Context] = []
    omitted: list[str] = []
    for index, (header, path, text) in enumerate(contexts):
        later = [p for _, p, _ in contexts[index + 1 :]]
        best = _best_fit(render, kept, omitted, later, (header, path, text), budget)
        if best is not None:
            kept.append(best)
        else:
            omitted.append(path)
    prompt = render(kept, omitted)
    if omitted and prompt_tokens(prompt) > budget:
        return render(kept, [])  # even the note on what was left out does not fit
    return prompt


def _best_fit(
    render: _Render,
    kept: Sequence[_Context],
    omitted: Sequence[str],
    later: Sequence[str],
    context: _Context,
    budget: int,
) -> _Context | None:
    """Return `context` whole, or cut to the most lines that fit, or None when nothing fits."""
    header, path, text = context

    def fits(candidate: _Context) -> bool:
        return prompt_tokens(render([*kept, candidate], [*omitted, *later])) <= budget

    if fits(context):
        return context
    lines = _largest_prefix(
        len(text.splitlines()) - 1, lambda n: fits((header, path, _truncated(text, n)))
    )
    return (header, path, _truncated(text, lines)) if lines > 0 else None


def _largest_prefix(limit: int, fits: Callable[[int], bool]) -> int:
    """Return the largest n in 1..limit with fits(n) (fits is monotone), or 0 if none."""
    low, high = 0, limit
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low


def _omitted_note(omitted: Sequence[str]) -> str:
    if not omitted:
        return ""
    shown = ", ".join(omitted[:MAX_OMITTED_LISTED])
    more = len(omitted) - MAX_OMITTED_LISTED
    suffix = f" and {more} more" if more > 0 else ""
    return f"Not shown (over the context budget): {shown}{suffix}"


def _join(*parts: str) -> str:
    return "\n\n".join(part for part in parts if part)


def _code_task_system(language: Language) -> str:
    return (
        f"You are BEAST MODE, an expert {language.name} programmer working inside the user's "
        "editor. Your answer is applied to the file automatically, so answer with code only: "
        "one fenced code block, no explanation before or after it."
    )


def build_refactor_prompt(
    code: str,
    *,
    language: Language,
    instruction: str | None,
    path: str,
    max_prompt_tokens: int,
) -> PromptMessages:
    """Ask for `code` rewritten per `instruction` (or generally improved), behaviour unchanged."""
    del max_prompt_tokens  # nothing here may be cut: the code and the instruction are the task
    tag = _tag(language)
    wanted = instruction.strip() if instruction and instruction.strip() else None
    task = wanted or "Improve readability, naming and structure."
    user = _join(
        f"Refactor this {language.name} code from `{path}`.",
        f"Instruction: {task}",
        "Rules:\n"
        "- Change only what the instruction asks; keep the behaviour exactly the same "
        "(inputs, outputs, side effects, public names).\n"
        f"- {_indent_note(code)} Your answer replaces exactly these lines.\n"
        f"- Answer with only the rewritten code in one fenced code block (```{tag}), "
        "with no explanation before or after it.",
        fenced(code, tag),
    )
    return PromptMessages(_code_task_system(language), (("user", user),))


def build_docs_prompt(
    code: str, *, language: Language, path: str, max_prompt_tokens: int
) -> PromptMessages:
    """Ask for `code` with documentation added in the language's style and nothing else changed."""
    del max_prompt_tokens  # the code is the task: nothing here may be cut
    tag = _tag(language)
    user = _join(
        f"Add documentation to this {language.name} code from `{path}`.",
        f"Style: {language.doc_style}. Say what each function and class does, its parameters, "
        "its return value and the errors it raises, where relevant.",
        "Rules:\n"
        "- Do not change the code otherwise: keep every statement, name and blank line as it is; "
        "only add documentation.\n"
        f"- {_indent_note(code)} Your answer replaces exactly these lines.\n"
        f"- Answer with only the whole documented code in one fenced code block (```{tag}).",
        fenced(code, tag),
    )
    return PromptMessages(_code_task_system(language), (("user", user),))


def _diagnostic_line(diagnostic: DiagnosticInfo, code_lines: Sequence[str]) -> str:
    origin = ", ".join(part for part in (diagnostic.source, diagnostic.code) if part)
    text = f"- line {diagnostic.line}: {diagnostic.message}"
    if origin:
        text += f" ({origin})"
    if 1 <= diagnostic.line <= len(code_lines):
        text += f"\n  > {code_lines[diagnostic.line - 1].strip()}"
    return text


def build_fix_prompt(
    code: str,
    *,
    language: Language,
    path: str,
    diagnostics: Sequence[DiagnosticInfo],
    max_prompt_tokens: int,
) -> PromptMessages:
    """Ask for `code` corrected so the listed diagnostics go away."""
    del max_prompt_tokens  # the code and its diagnostics are the task: nothing here may be cut
    tag = _tag(language)
    lines = code.splitlines()
    listed = "\n".join(_diagnostic_line(d, lines) for d in diagnostics) or "- (none given)"
    user = _join(
        f"Fix the problems reported in this {language.name} code from `{path}`.",
        "Diagnostics (line 1 is the first line of the code below):\n" + listed,
        "Rules:\n"
        "- Fix the cause with the smallest change that keeps the intended behaviour.\n"
        f"- {_indent_note(code)} Your answer replaces exactly these lines.\n"
        f"- Answer with only the whole corrected code in one fenced code block (```{tag}).",
        fenced(code, tag),
    )
    return PromptMessages(_code_task_system(language), (("user", user),))


def _tests_answer_rule(language: Language, appending: bool) -> str:
    if language.id == "rust":
        return (
            "Answer with one `#[cfg(test)] mod tests { use super::*; ... }` module, to be added at "
            "the end of the same file, in one fenced code block."
        )
    if not appending:
        return "Answer with a complete test file, including every import, in one fenced code block."
    unit = (
        "only the new test methods to add to the existing test class"
        if language.id in _CLASS_TEST_LANGUAGES
        else "only the new tests to append to it"
    )
    return (
        f"The test file already exists (below). Answer with {unit}, in one fenced code block. "
        "Do not repeat imports already present (add an import only if it is missing) and do not "
        "repeat existing tests."
    )


def build_tests_prompt(
    code: str,
    *,
    language: Language,
    path: str,
    module_name: str,
    existing_tests: str | None,
    max_prompt_tokens: int,
) -> PromptMessages:
    """Ask for unit tests of `code`: a whole test file, or only new tests for an existing one."""
    tag = _tag(language)
    appending = existing_tests is not None and language.id != "rust"
    system = (
        f"You are BEAST MODE, an expert {language.name} programmer who writes thorough, runnable "
        f"unit tests with {language.test_framework}. Your answer is written to a file "
        "automatically, so answer with code only: one fenced code block."
    )

    def render(contexts: Sequence[_Context], omitted: Sequence[str]) -> PromptMessages:
        existing = [fenced(text, tag) for _, _, text in contexts]
        user = _join(
            f"Write {language.test_framework} tests for this {language.name} code from `{path}` "
            f"(import it as `{module_name}`).",
            fenced(code, tag),
            "Cover the normal cases, the edge cases and the errors it raises.",
            _tests_answer_rule(language, appending),
            *(["Existing test file:", *existing] if existing else []),
            "Existing test file: not shown (over the context budget)" if omitted else "",
        )
        return PromptMessages(system, (("user", user),))

    contexts: list[_Context] = []
    if appending and existing_tests is not None:
        contexts.append(("Existing tests", "existing tests", existing_tests))
    return _fit_contexts(contexts, render, max_prompt_tokens)


_CHAT_SYSTEM = (
    "You are BEAST MODE, a coding assistant answering questions about the user's codebase inside "
    "their editor. Answer in Markdown and put code in fenced blocks with a language tag. Base "
    "your answer on the files provided; say so when they do not hold the answer."
)


def _drop_oldest(history: Sequence[tuple[str, str]], count: int) -> tuple[tuple[str, str], ...]:
    kept = list(history[count:])
    # Some providers require the first message to be the user's.
    while kept and kept[0][0] != "user":
        kept.pop(0)
    return tuple(kept)


def build_chat_prompt(
    message: str,
    *,
    history: Sequence[tuple[str, str]],
    files: Sequence[tuple[str, str]],
    active_document: tuple[str, str] | None,
    max_prompt_tokens: int,
) -> PromptMessages:
    """Build a chat turn: earlier history, then context files and the user's message."""
    contexts: list[_Context] = []
    if active_document is not None:
        contexts.append(("Active document", *active_document))
    seen = {path for _, path, _ in contexts}
    for path, text in files:
        if path not in seen:
            seen.add(path)
            contexts.append(("File", path, text))

    def renderer(kept_history: tuple[tuple[str, str], ...]) -> _Render:
        def render(kept: Sequence[_Context], omitted: Sequence[str]) -> PromptMessages:
            blocks = [_file_block(header, path, text) for header, path, text in kept]
            context = "\n\n".join(blocks)
            user = _join(
                "Context from the workspace:\n\n" + context if context else "",
                _omitted_note(omitted),
                ("Question:\n" + message) if (context or omitted) else message,
            )
            return PromptMessages(_CHAT_SYSTEM, (*kept_history, ("user", user)))

        return render

    all_paths = [path for _, path, _ in contexts]
    kept_history = tuple(history)
    for count in range(len(history) + 1):
        kept_history = _drop_oldest(history, count)
        if prompt_tokens(renderer(kept_history)([], all_paths)) <= max_prompt_tokens:
            break
    return _fit_contexts(contexts, renderer(kept_history), max_prompt_tokens)


FEATURE_FORMAT = (
    "Answer with one block per file you create or change, and nothing else between blocks:\n\n"
    "File: relative/path/from/the/workspace/root.ext\n"
    "```language\n"
    "<the whole content of the file>\n"
    "```\n\n"
    "Rules:\n"
    "- The `File:` line is followed directly by the fenced code block.\n"
    "- Paths are relative to the workspace root and use forward slashes; never an absolute path "
    "and never `..`.\n"
    "- Each block holds the complete file, also for a file that already exists (no diffs, no "
    "placeholders such as `...rest unchanged`).\n"
    "- If a file itself contains ``` fences, fence it with ```` (four backticks)."
)


def build_feature_prompt(
    feature_request: str,
    *,
    file_tree: Sequence[str],
    files: Sequence[tuple[str, str]],
    max_prompt_tokens: int,
) -> PromptMessages:
    """Ask for a feature as whole files in the `File: <path>` + fenced block format."""
    system = (
        "You are BEAST MODE, an expert software engineer implementing features in the user's "
        "workspace. Your answer is parsed and written to disk automatically.\n\n" + FEATURE_FORMAT
    )
    contexts: list[_Context] = [("File", path, text) for path, text in files]

    def renderer(tree_shown: int) -> _Render:
        def render(kept: Sequence[_Context], omitted: Sequence[str]) -> PromptMessages:
            tree = list(file_tree[:tree_shown])
            hidden = len(file_tree) - tree_shown
            if hidden:
                tree.append(f"... and {hidden} more")
            blocks = [_file_block(header, path, text) for header, path, text in kept]
            user = _join(
                "Workspace files (relative to the workspace root):\n" + "\n".join(tree)
                if file_tree
                else "",
                "Existing files that matter for this feature:\n\n" + "\n\n".join(blocks)
                if blocks
                else "",
                _omitted_note(omitted),
                "Feature request:\n" + feature_request,
                "Answer in the format described: a `File: <relative/path>` line followed directly "
                "by a fenced code block holding the whole file, for every file.",
            )
            return PromptMessages(system, (("user", user),))

        return render

    all_paths = [path for _, path, _ in contexts]
    shown = len(file_tree)
    if prompt_tokens(renderer(shown)([], all_paths)) > max_prompt_tokens:
        shown = _largest_prefix(
            len(file_tree),
            lambda n: prompt_tokens(renderer(n)([], all_paths)) <= max_prompt_tokens,
        )
    return _fit_contexts(contexts, renderer(shown), max_prompt_tokens)
