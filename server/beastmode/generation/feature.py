"""Parse a feature-generation answer into files, and refuse any path outside the workspace.

The model is asked for `File: <relative/path>` lines each followed by a fenced block holding the
whole file (DESIGN.md). Models drift into habits, which are accepted too: a markdown heading,
bold or inline-code path line before the fence, or a path in the fence's info string. Before
anything is written, `check_paths` places every path in the workspace and refuses the whole
answer if one of them escapes it on its face (absolute, `..`, `.git`); the checks that need the
disk (symlinks, file types) are the workspace guard's (`beastmode.guard`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

from beastmode.errors import ModelOutputError, UnsafePathError
from beastmode.generation.parsing import closing_fence, strip_reasoning

_FENCE = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`\n]*?)[ \t]*$")
_FILE_LINE = re.compile(
    r"^(?:[-*+]\s+|\d+[.)]\s+|#{1,6}\s+)?[*_`]*(?:file(?:name)?|path)[*_`]*\s*:[*_`]*\s*(?P<path>.+)$",
    re.IGNORECASE,
)
_HABIT_LINE = re.compile(
    r"^(?:#{1,6}\s+(?P<heading>.+?)|(?:[-*+]\s+|\d+[.)]\s+)?\*\*(?P<bold>[^*]+)\*\*"
    r"|(?:[-*+]\s+|\d+[.)]\s+)?`(?P<code>[^`]+)`)\s*:?\s*$"
)
_BARE_FILENAMES = frozenset(
    {"Makefile", "Dockerfile", "Procfile", "Gemfile", "Rakefile", "Jenkinsfile", "Vagrantfile"}
)
_ANNOTATION = re.compile(r"\s+\([^()]*\)\s*:?$")
_DRIVE = re.compile(r"^[A-Za-z]:")
_VERSION_CONTROL = frozenset({".git", ".hg", ".svn"})


@dataclass(frozen=True)
class GeneratedFile:
    """One file of a generated feature: a workspace-relative path and the whole content."""

    path: str
    content: str


def _clean(candidate: str) -> str:
    # Models annotate: "File: src/app.py (new file)".
    path = _ANNOTATION.sub("", candidate.strip()).strip("*_`\"'").strip()
    if path.endswith(":"):
        path = path[:-1].rstrip("*_`\"'")
    while path.startswith("./"):
        path = path[2:]
    return path


def _looks_like_path(candidate: str, *, spaces: bool = False) -> bool:
    if not candidate or (not spaces and any(ch.isspace() for ch in candidate)):
        return False
    name = re.split(r"[/\\]", candidate)[-1]
    return "/" in candidate or "\\" in candidate or "." in name or name in _BARE_FILENAMES


def _path_from_line(line: str) -> str | None:
    """The path a line announces, if it is a `File:` line or a heading/bold/code path line."""
    stripped = line.strip()
    strict = _FILE_LINE.match(stripped)
    if strict:
        path = _clean(strict["path"])
        return path if _looks_like_path(path, spaces=True) else None
    habit = _HABIT_LINE.match(stripped)
    if habit:
        path = _clean(habit["heading"] or habit["bold"] or habit["code"] or "")
        return path if _looks_like_path(path) else None
    return None


def _path_from_info(info: str) -> str | None:
    """A path in a fence's info string: `python src/app.py`, `src/app.py`, `python:src/app.py`."""
    for raw in re.split(r"\s+", info.strip()):
        token = raw
        if "=" in token:
            token = token.split("=", 1)[1]
        elif ":" in token and not _DRIVE.match(token):
            token = token.split(":", 1)[1]
        token = _clean(token)
        if _looks_like_path(token):
            return token
    return None


def _dedupe_key(path: str) -> str:
    return path.replace("\\", "/")


def parse_feature_answer(answer: str) -> list[GeneratedFile]:
    """Return the files of a feature answer, in order; the last block wins for a repeated path."""
    lines = strip_reasoning(answer).split("\n")
    files: dict[str, GeneratedFile] = {}
    pending: str | None = None
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if not opening:
            announced = _path_from_line(lines[index])
            if announced is not None:
                pending = announced
            index += 1
            continue
        end = closing_fence(lines, index + 1, opening["fence"])
        body = lines[index + 1 : end]
        index = end + 1
        path = pending or _path_from_info(opening["info"])
        pending = None
        if path is None:
            continue  # an example or a shell command, not a file
        content = "\n".join(body) + "\n" if body else ""
        key = _dedupe_key(path)
        files.pop(key, None)  # a repeated path moves to where its last version stands
        files[key] = GeneratedFile(path, content)
    if not files:
        raise ModelOutputError(
            "The model's answer named no files: expected `File: <relative/path>` lines each "
            "followed by a fenced code block. Nothing was written; try again, or rephrase the "
            "request."
        )
    return list(files.values())


def _refusal(path: str) -> bool:
    """Whether `path`, as written, is unsafe to place under a workspace root."""
    if not path or "\x00" in path:
        return True
    if path.startswith(("/", "\\")) or _DRIVE.match(path):
        return True  # POSIX absolute, UNC (\\server\share), rooted or drive paths
    segments = re.split(r"[/\\]", path)
    if any(segment == ".." for segment in segments):
        return True
    if any(segment.lower() in _VERSION_CONTROL for segment in segments):
        return True  # hooks and config there would run code on the next git command
    return all(segment in ("", ".") for segment in segments)  # the root itself


def _relative(path: str) -> str:
    # Models with Windows habits write `src\app.py`; nobody means a backslash inside a name.
    return path.replace("\\", "/")


def _shown(path: str) -> str:
    return path.replace("\x00", "\\x00")


def check_paths(
    files: Sequence[GeneratedFile], workspace_root: str
) -> list[tuple[str, GeneratedFile]]:
    """Place each file under `workspace_root`, or refuse them all naming every unsafe path.

    Refused: absolute paths (POSIX, Windows drive, UNC), `..` segments, NUL bytes and `.git`,
    `.hg` or `.svn` segments. Purely lexical: the caller passes every placed path through the
    workspace guard, which resolves symlinks. Two spellings of one path keep the last content at
    the first one's place.
    """
    refused = [_shown(f.path) for f in files if _refusal(f.path)]
    if refused:
        raise UnsafePathError(refused)
    placed: dict[str, GeneratedFile] = {}
    for generated in files:
        placed[os.path.normpath(os.path.join(workspace_root, _relative(generated.path)))] = (
            generated
        )
    return list(placed.items())
