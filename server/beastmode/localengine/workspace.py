"""Feed a workspace's source files to the local engine: the engine's only I/O.

`scan_workspace` walks the tree file by file, so a worker thread running it gives the event loop
the interpreter often and can be stopped between any two files. It lists and reads only through
the workspace guard (`beastmode.guard`): no recursion, regular files only (a FIFO never stalls
it), bounded depth, no symlinks. It honours every `.gitignore` on the way (a deeper file's rules
win over a shallower one's, the last matching rule in a file wins, as git does), always skips
the guard's `SKIPPED_DIRECTORIES` (version control, dependencies, virtualenvs, caches, builds),
reads only source-like extensions, and skips binary, non-UTF-8 and oversized files.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pathspec

from beastmode.errors import PathRefusedError
from beastmode.guard import WorkspaceGuard
from beastmode.localengine.engine import LocalEngine

SOURCE_EXTENSIONS = frozenset(
    [
        ".py",
        ".pyi",
        ".js",
        ".jsx",
        ".mjs",
        ".cjs",
        ".ts",
        ".tsx",
        ".vue",
        ".svelte",
        ".go",
        ".rs",
        ".java",
        ".kt",
        ".kts",
        ".scala",
        ".c",
        ".h",
        ".cc",
        ".cpp",
        ".cxx",
        ".hpp",
        ".hh",
        ".cs",
        ".fs",
        ".rb",
        ".php",
        ".swift",
        ".m",
        ".mm",
        ".lua",
        ".sh",
        ".bash",
        ".zsh",
        ".sql",
        ".r",
        ".jl",
        ".dart",
        ".ex",
        ".exs",
        ".erl",
        ".hs",
        ".ml",
        ".mli",
        ".clj",
        ".el",
        ".vim",
        ".zig",
        ".nim",
        ".pl",
        ".pm",
    ]
)
"""File extensions learned (lower-cased)."""

_BINARY_PROBE_BYTES = 8192


@dataclass(frozen=True)
class ScanResult:
    """What a scan learned and why it may have stopped early."""

    files_learned: int
    bytes_learned: int
    files_skipped: int
    """Source-like files not learned: ignored, binary, not UTF-8, too large, unreadable."""
    complete: bool
    """False when the scan stopped early (file bound reached or `should_stop`)."""


def scan_workspace(
    root: str,
    engine: LocalEngine,
    *,
    guard: WorkspaceGuard | None = None,
    max_files: int = 10_000,
    max_bytes: int = 50_000_000,
    max_file_bytes: int = 1_000_000,
    should_stop: Callable[[], bool] = lambda: False,
) -> ScanResult:
    """Learn the source files under `root` into `engine`, within the file and byte bounds.

    Files are listed and read through `guard` (by default one rooted at `root`).
    """
    learned = learned_bytes = skipped = 0
    root_path = Path(root).resolve()
    guard = guard or WorkspaceGuard([root_path])
    ignore_stack: list[tuple[Path, pathspec.GitIgnoreSpec]] = []
    for step in guard.walk(root_path, follow_symlinks=False):
        here = step.directory
        while ignore_stack and not here.is_relative_to(ignore_stack[-1][0]):
            ignore_stack.pop()
        spec = _read_gitignore(guard, here)
        if spec is not None:
            ignore_stack.append((here, spec))
        step.subdirectories[:] = [
            name
            for name in step.subdirectories
            if not _ignored(here / name, ignore_stack, is_directory=True)
        ]
        for name in step.files:
            if should_stop():
                return ScanResult(learned, learned_bytes, skipped, complete=False)
            if learned >= max_files:
                return ScanResult(learned, learned_bytes, skipped, complete=False)
            path = here / name
            if os.path.splitext(name)[1].lower() not in SOURCE_EXTENSIONS:
                continue
            text = None
            if not _ignored(path, ignore_stack, is_directory=False):
                text = _read_source(guard, path, min(max_file_bytes, max_bytes - learned_bytes))
            if text is None:
                skipped += 1
                continue
            engine.update_document(path.as_uri(), text, from_disk=True)
            learned += 1
            learned_bytes += len(text.encode("utf-8"))
    return ScanResult(learned, learned_bytes, skipped, complete=True)


def _read_source(guard: WorkspaceGuard, path: Path, max_bytes: int) -> str | None:
    """Return a file's text, or None if it must not be learned."""
    if max_bytes < 0:
        return None
    try:
        data = guard.read_bytes(path, max_bytes=max_bytes)
    except PathRefusedError:
        return None
    if data is None or b"\0" in data[:_BINARY_PROBE_BYTES]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _read_gitignore(guard: WorkspaceGuard, directory: Path) -> pathspec.GitIgnoreSpec | None:
    """Return the rules of `directory/.gitignore`, if there is one."""
    try:
        data = guard.read_bytes(directory / ".gitignore")
    except PathRefusedError:
        return None
    if data is None:
        return None
    lines = data.decode("utf-8", errors="replace")
    return pathspec.GitIgnoreSpec.from_lines(lines.splitlines())


def _ignored(
    path: Path, ignore_stack: list[tuple[Path, pathspec.GitIgnoreSpec]], *, is_directory: bool
) -> bool:
    """Apply the `.gitignore` files from the root down; the deepest one with an opinion wins."""
    verdict = False
    for base, spec in ignore_stack:
        relative = path.relative_to(base).as_posix() + ("/" if is_directory else "")
        result = spec.check_file(relative)
        if result.include is not None:
            verdict = bool(result.include)
    return verdict
