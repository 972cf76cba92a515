"""Turn a model's answer into the code to apply, or into a markdown reply.

Models wrap code in fences, chat around it, think aloud in `<think>` tags and drop the
indentation of the lines they were given. `extract_code` undoes all of that, and refuses an
answer with no code in it rather than letting an empty edit wipe the user's selection.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from beastmode.errors import ModelOutputError
from beastmode.generation.languages import Language, fence_tags

_THINK_BLOCK = re.compile(r"<(think|thinking|reasoning)>.*?</\1>", re.IGNORECASE | re.DOTALL)
_THINK_OPEN = re.compile(r"<(think|thinking|reasoning)>", re.IGNORECASE)
_THINK_CLOSE = re.compile(r"</(?:think|thinking|reasoning)>", re.IGNORECASE)
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n]*?)[ \t]*$")
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+\S")
_WORD = re.compile(r"^[A-Za-z][A-Za-z'’-]*[,.:;!?]?$")
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_CODE_CHARS = re.compile(r"[=;{}<>\[\]]|\w\(|^\s*(?:#|//|--|/\*|\*|@)")
_PREVIEW = 80


@dataclass(frozen=True)
class CodeBlock:
    """One fenced block of an answer: its info string and its content."""

    info: str
    content: str


def strip_reasoning(answer: str) -> str:
    """Remove `<think>` reasoning: closed blocks, a dangling closer's prefix, an unclosed opener."""
    text = _THINK_BLOCK.sub("", answer)
    # Some chat templates put the opening tag in the prompt: the answer starts mid-thought.
    closers = list(_THINK_CLOSE.finditer(text))
    if closers:
        text = text[closers[-1].end() :]
    opener = _THINK_OPEN.search(text)
    if opener:
        # Cut off mid-thought: whatever follows is reasoning, not an answer.
        text = text[: opener.start()]
    return text


def closing_fence(lines: list[str], start: int, fence: str) -> int:
    """Index of the line closing a block opened by `fence`, from `start`; len(lines) if none."""
    for index in range(start, len(lines)):
        closing = _FENCE.match(lines[index])
        if (
            closing
            and not closing["info"]
            and closing["fence"][0] == fence[0]
            and len(closing["fence"]) >= len(fence)
        ):
            return index
    return len(lines)


def fenced_blocks(text: str) -> list[CodeBlock]:
    """Return the fenced code blocks of markdown `text`; an unclosed last fence runs to the end."""
    blocks: list[CodeBlock] = []
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if not opening or "`" in opening["info"]:
            index += 1
            continue
        fence, indent = opening["fence"], opening["indent"]
        end = closing_fence(lines, index + 1, fence)
        body = [
            line[len(indent) :] if line.startswith(indent) else line.lstrip()
            for line in lines[index + 1 : end]
        ]
        blocks.append(CodeBlock(opening["info"].strip(), "\n".join(body)))
        index = end + 1
    return blocks


def _plain_ratio(words: list[str]) -> float:
    plain = sum(1 for word in words if _WORD.match(word.strip("`*\"'()")))
    return plain / len(words)


def _is_prose(line: str) -> bool:
    """Guess whether a line opens a piece of natural language rather than code."""
    stripped = _INLINE_CODE.sub("code", line.strip())
    bullet = _BULLET.match(stripped)
    if bullet:
        stripped = stripped[bullet.end() - 1 :]
    if not stripped or _CODE_CHARS.search(stripped):
        return False
    words = stripped.split()
    if bullet:
        return _plain_ratio(words) >= 0.6
    if not words[0][0].isupper():
        return False
    if len(words) == 1:
        return stripped.endswith(":") and stripped[:-1].isalpha()
    return _plain_ratio(words) >= 0.6 and (len(words) >= 3 or stripped[-1] in ".:!?")


def _continues_prose(line: str) -> bool:
    """Whether a line can continue a prose paragraph (a wrapped sentence starts lowercase)."""
    stripped = _INLINE_CODE.sub("code", line.strip())
    if _is_prose(line):
        return True
    return not _CODE_CHARS.search(stripped) and _plain_ratio(stripped.split()) >= 0.6


def _strip_prose(text: str) -> str:
    """Drop prose lines before the first code line and prose paragraphs after the last one."""
    lines = text.split("\n")
    start = 0
    while start < len(lines) and (not lines[start].strip() or _is_prose(lines[start])):
        start += 1
    end = len(lines)
    while True:
        while end > start and not lines[end - 1].strip():
            end -= 1
        first = end
        while first > start and lines[first - 1].strip():
            first -= 1
        paragraph = lines[first:end]
        if first == start or not (
            _is_prose(paragraph[0]) and all(map(_continues_prose, paragraph))
        ):
            break
        end = first
    # A closing remark glued to the code without a blank line.
    while end > start + 1 and _is_prose(lines[end - 1]):
        end -= 1
    return "\n".join(lines[start:end])


def _pick_block(blocks: list[CodeBlock], language: Language | None) -> CodeBlock:
    if len(blocks) == 1:
        return blocks[0]
    if language is not None:
        tags = set(fence_tags(language))
        matching = [b for b in blocks if b.info.split()[:1] and b.info.split()[0].lower() in tags]
        if matching:
            return max(matching, key=lambda b: len(b.content))
    return max(blocks, key=lambda b: len(b.content))


def _leading_indent(text: str) -> str:
    first = next((line for line in text.split("\n") if line.strip()), "")
    return first[: len(first) - len(first.lstrip())]


def _restore_indent(code: str, original: str) -> str:
    """Shift `code` right when the model dropped (part of) the original's first-line indent."""
    wanted, got = _leading_indent(original), _leading_indent(code)
    if wanted == got or not wanted.startswith(got):
        return code
    extra = wanted[len(got) :]
    return "\n".join(extra + line if line.strip() else line for line in code.split("\n"))


def _preview(text: str) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= _PREVIEW else one_line[: _PREVIEW - 1] + "…"


def extract_code(
    answer: str, *, original: str | None = None, language: Language | None = None
) -> str:
    """Return the code in a model's answer, ready to replace `original`.

    Reasoning tags are dropped; of several fenced blocks the one tagged with `language` (else the
    longest) wins; an unfenced answer loses its leading and trailing prose. With `original`, a
    dropped first-line indent is restored and the trailing newline matches the original's.
    Raises ModelOutputError when nothing that looks like code remains.
    """
    text = strip_reasoning(answer)
    blocks = [block for block in fenced_blocks(text) if block.content.strip()]
    if blocks:
        code = _pick_block(blocks, language).content
    else:
        if any(_FENCE.match(line) for line in text.split("\n")):
            raise ModelOutputError(
                "The model's answer held only empty code blocks; nothing was applied."
            )
        code = _strip_prose(text)
    code = "\n".join(line.rstrip() for line in code.strip("\n").split("\n"))
    if not code.strip():
        if not text.strip():
            raise ModelOutputError(
                "The model returned an empty answer; nothing was applied. "
                "Try again, or pick another model."
            )
        raise ModelOutputError(
            f"The model's answer held no code, only prose: “{_preview(text)}”. Nothing was applied."
        )
    if original is None:
        return code
    code = _restore_indent(code, original)
    return code + "\n" if original.endswith("\n") else code


def extract_markdown_reply(answer: str) -> str:
    """Return a chat reply with reasoning removed and whitespace trimmed."""
    reply = strip_reasoning(answer).strip()
    if not reply:
        raise ModelOutputError(
            "The model returned an empty reply. Try again or pick another model."
        )
    return reply
