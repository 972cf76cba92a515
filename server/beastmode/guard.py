"""The one gate for every file the server reads, writes or lists on the user's behalf.

Test generation, feature generation, chat `files`, the local engine's scan and the Python API
all reach the disk through a `WorkspaceGuard`. Its rules, checked on the real path (every
symlink resolved) at the moment of use:

- the path lies inside one of the workspace folders, and not inside `.git`, `.hg` or `.svn` at
  any depth (hooks and config there run code on the next version-control command);
- only regular files are read: never a FIFO, device, socket or directory, nothing under
  `/proc`, `/sys` or `/dev`, and never more than a size cap. Files are opened with `O_NONBLOCK`
  and `O_NOFOLLOW`, so a FIFO swapped in at the last moment cannot block the reader;
- nothing is created through a symlinked directory that leads outside: a new file's nearest
  existing parent must itself resolve inside.

A refusal raises `PathRefusedError` naming the path and why; nothing was read or written.
`walk` lists a workspace without recursion (any depth of tree is safe), regular files only,
within depth and entry bounds, never following a symlink out of the workspace nor round a loop.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from beastmode.errors import PathRefusedError

MAX_FILE_BYTES = 2_000_000
VERSION_CONTROL_DIRECTORIES = frozenset({".git", ".hg", ".svn"})
SKIPPED_DIRECTORIES = VERSION_CONTROL_DIRECTORIES | frozenset(
    {
        "node_modules",
        "vendor",
        ".venv",
        "venv",
        "__pycache__",
        "build",
        "dist",
        "target",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
    }
)
"""Directory names no walk enters: version control, dependencies, virtualenvs, caches, builds."""

SPECIAL_FILE_SYSTEMS = ("/proc", "/sys", "/dev")
MAX_WALK_DEPTH = 64
MAX_WALK_ENTRIES = 200_000
# A FIFO never blocks the open, a last-moment symlink fails it; flags this OS lacks are 0.
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
_FD_LINKS = Path("/proc/self/fd")


@dataclass
class WalkStep:
    """One directory of a walk: like a step of `os.walk`, names sorted.

    Remove names from `subdirectories` to keep the walk out of them. `files` holds regular
    files only (and symlinks to regular files inside the workspace, when links are followed).
    """

    directory: Path
    depth: int
    subdirectories: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


def _kind(mode: int) -> str:
    """A file type as the user would name it."""
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISLNK(mode):
        return "a symlink"
    return "not a regular file"


def _is_under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


class WorkspaceGuard:
    """Checks and performs every file access inside the workspace folders `roots`."""

    def __init__(self, roots: Sequence[str | Path], *, max_file_bytes: int = MAX_FILE_BYTES):
        self._given = [os.path.normpath(os.path.abspath(root)) for root in roots]
        self._real = [os.path.realpath(root) for root in self._given]
        self.max_file_bytes = max_file_bytes

    @property
    def roots(self) -> list[Path]:
        """The workspace folders, as given."""
        return [Path(root) for root in self._given]

    # Checks ----------------------------------------------------------------------------------

    def _outside(self, how: str) -> str:
        """Why a path outside every workspace folder is refused."""
        if not self._given:
            return "no workspace folder is open (open the project's folder in the editor first)"
        if len(self._given) == 1:
            return f"{how} outside the workspace {self._given[0]}"
        return f"{how} outside the workspace folders " + ", ".join(self._given)

    def _how_reached(self, given: str, real: str) -> str:
        """`it is a symlink to X` / `it resolves to X` / `it is`, for a refusal message."""
        if real == given:
            return "it is"
        if os.path.islink(given):
            return f"it is a symlink to {real},"
        return f"it resolves to {real} (through a symlink),"

    def _real_root(self, real: str) -> tuple[str, str] | None:
        """(given root, real root) of the deepest workspace folder holding `real`."""
        found = [
            (given, root)
            for given, root in zip(self._given, self._real, strict=True)
            if _is_under(real, root)
        ]
        return max(found, key=lambda pair: len(pair[1])) if found else None

    def _checked(self, path: str | Path, action: str) -> tuple[str, str]:
        """(absolute path as given, real path) when both pass the place rules; else refuse."""
        given = os.path.normpath(os.path.abspath(path))
        if "\x00" in given:
            raise PathRefusedError(given, "the name holds a NUL byte", action)
        real = os.path.realpath(given)
        if any(_is_under(real, special) for special in SPECIAL_FILE_SYSTEMS):
            how = self._how_reached(given, real)
            raise PathRefusedError(given, f"{how} a special system file", action)
        roots = self._real_root(real)
        if roots is None:
            raise PathRefusedError(given, self._outside(self._how_reached(given, real)), action)
        for candidate, root in ((real, roots[1]), (given, roots[0]), (given, roots[1])):
            if not _is_under(candidate, root):
                continue
            parts = Path(os.path.relpath(candidate, root)).parts
            vcs = next((p for p in parts if p.lower() in VERSION_CONTROL_DIRECTORIES), None)
            if vcs is not None:
                how = self._how_reached(given, real)
                where = f"inside {vcs} (version-control data, which BEAST MODE never touches)"
                raise PathRefusedError(given, f"{how} {where}", action)
        return given, real

    def root_of(self, path: str | Path, action: str = "use") -> Path:
        """The workspace folder holding `path` (as given when it lies lexically under it).

        Refuses a path outside every folder or inside version-control data.
        """
        given, real = self._checked(path, action)
        lexical = [root for root in self._given if _is_under(given, root)]
        if lexical:
            return Path(max(lexical, key=len))
        roots = self._real_root(real)
        assert roots is not None  # _checked refused it otherwise
        return Path(roots[1])

    def allows(self, path: str | Path) -> bool:
        """Whether `path` lies inside the workspace, outside version-control data."""
        try:
            self._checked(path, "use")
        except PathRefusedError:
            return False
        return True

    # Reading ---------------------------------------------------------------------------------

    def read_bytes(self, path: str | Path, *, max_bytes: int | None = None) -> bytes | None:
        """A regular file's bytes, or None when it does not exist; any other problem refuses."""
        given, real = self._checked(path, "read")
        limit = self.max_file_bytes if max_bytes is None else min(max_bytes, self.max_file_bytes)
        try:
            status = os.lstat(real)  # devices are never opened: opening some has side effects
            if not stat.S_ISREG(status.st_mode):
                raise PathRefusedError(
                    given, f"it is {_kind(status.st_mode)}, not a regular file", "read"
                )
            fd = os.open(real, _OPEN_FLAGS)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # swapped for a symlink since it was resolved
                raise PathRefusedError(
                    given, "it changed into a symlink while read", "read"
                ) from None
            raise PathRefusedError(given, f"it cannot be opened ({exc.strerror})", "read") from None
        try:
            self._check_opened(fd, given, limit)
            return _read_at_most(fd, limit, given)
        except OSError as exc:
            raise PathRefusedError(given, f"it cannot be read ({exc.strerror})", "read") from None
        finally:
            os.close(fd)

    def _check_opened(self, fd: int, given: str, limit: int) -> None:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise PathRefusedError(
                given, f"it is {_kind(status.st_mode)}, not a regular file", "read"
            )
        if status.st_size > limit:
            raise PathRefusedError(given, _too_large(limit), "read")
        if _FD_LINKS.is_dir():  # where the open really landed, whatever changed on the way
            opened = os.readlink(_FD_LINKS / str(fd))
            if not self.allows(opened):
                raise PathRefusedError(given, f"it changed into {opened} while read", "read")

    def read_text(self, path: str | Path) -> str | None:
        """A regular file's UTF-8 text, or None when it does not exist; otherwise refuses."""
        data = self.read_bytes(path)
        if data is None:
            return None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise PathRefusedError(str(path), "it is not UTF-8 text", "read") from None

    # Writing ---------------------------------------------------------------------------------

    def writable(self, path: str | Path) -> Path:
        """The real path a write to `path` would land on, when it may be written; else refuses.

        An existing target must be a regular file; a new one's nearest existing parent must be a
        directory whose real path lies inside the workspace (so no symlinked directory can
        carry it outside).
        """
        given, real = self._checked(path, "write")
        try:
            status = os.lstat(real)
        except FileNotFoundError:
            status = None
        if status is not None and not stat.S_ISREG(status.st_mode):
            raise PathRefusedError(
                given, f"it is {_kind(status.st_mode)}, not a regular file", "write"
            )
        parent = os.path.dirname(real)
        while not os.path.lexists(parent):
            parent = os.path.dirname(parent)
        real_parent = os.path.realpath(parent)
        if not os.path.isdir(real_parent):
            raise PathRefusedError(given, f"{parent} is not a directory", "write")
        if not self.allows(real_parent):
            how = f"its folder {parent} resolves to {real_parent},"
            raise PathRefusedError(given, self._outside(how), "write")
        return Path(real)

    # Walking ---------------------------------------------------------------------------------

    def walk(
        self,
        top: str | Path,
        *,
        skip: Callable[[str], bool] = SKIPPED_DIRECTORIES.__contains__,
        follow_symlinks: bool = True,
        max_depth: int = MAX_WALK_DEPTH,
        max_entries: int = MAX_WALK_ENTRIES,
    ) -> Iterator[WalkStep]:
        """Every directory under `top`, depth first, without recursion.

        Directories named by `skip` are never entered, nor any deeper than `max_depth`; the walk
        ends after looking at `max_entries` directory entries. Symlinks are followed (when
        `follow_symlinks`) only when they resolve inside the workspace, and symlinked
        directories only after the real ones, each directory once: loops end there.
        """
        start = Path(os.path.normpath(os.path.abspath(top)))
        self._checked(start, "list")
        visited: set[tuple[int, int]] = set()
        stack: list[tuple[Path, int]] = [(start, 0)]
        linked: list[tuple[Path, int]] = []
        entries = 0
        while stack or linked:
            directory, depth = stack.pop() if stack else linked.pop(0)
            try:
                status = os.stat(directory)
            except OSError:
                continue
            if (status.st_dev, status.st_ino) in visited:
                continue  # a loop, or a second way into a directory already listed
            visited.add((status.st_dev, status.st_ino))
            step = WalkStep(directory, depth)
            links: list[str] = []
            try:
                with os.scandir(directory) as listing:
                    for entry in listing:
                        entries += 1
                        if entries > max_entries:
                            break
                        self._sort_entry(entry, step, links, skip, follow_symlinks)
            except OSError:
                continue
            step.files.sort()
            step.subdirectories.sort()
            yield step
            if entries > max_entries:
                return
            if depth + 1 > max_depth:
                continue
            for name in reversed(step.subdirectories):
                (linked if name in links else stack).append((directory / name, depth + 1))

    def _sort_entry(
        self,
        entry: os.DirEntry[str],
        step: WalkStep,
        links: list[str],
        skip: Callable[[str], bool],
        follow_symlinks: bool,
    ) -> None:
        """File `entry` under the step's files or subdirectories, or drop it."""
        try:
            if entry.is_symlink():
                if not follow_symlinks or not self.allows(entry.path):
                    return
                mode = os.stat(entry.path).st_mode
                if stat.S_ISDIR(mode) and not skip(entry.name):
                    step.subdirectories.append(entry.name)
                    links.append(entry.name)
                elif stat.S_ISREG(mode):
                    step.files.append(entry.name)
            elif entry.is_dir(follow_symlinks=False):
                if not skip(entry.name):
                    step.subdirectories.append(entry.name)
            elif entry.is_file(follow_symlinks=False):
                step.files.append(entry.name)
        except OSError:
            return  # vanished or unreadable: not listed


def _too_large(limit: int) -> str:
    return f"it is larger than the {limit:,}-byte limit for files BEAST MODE reads"


def _read_at_most(fd: int, limit: int, given: str) -> bytes:
    """Read the whole file, refusing once it passes `limit` (it may grow after the stat)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = os.read(fd, min(1 << 20, limit + 1 - size))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise PathRefusedError(given, _too_large(limit), "read")
