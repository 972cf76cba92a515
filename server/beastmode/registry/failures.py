"""Turning SQLite and file-system failures of the registry into one-line `StorageError`s.

A raw `sqlite3.DatabaseError` says "file is not a database" and nothing about which file or
what to do; these messages name the file and the next step.
"""

from __future__ import annotations

import errno
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from beastmode.errors import StorageError

NEARLY_FULL_BYTES = 1 << 20


def describe_failure(path: Path, error: BaseException) -> str:
    """One line saying what is wrong with the registry at `path` and what to do about it."""
    text = str(error).lower()
    number = getattr(error, "errno", None)
    if "locked" in text or "busy" in text:
        return (
            f"The BEAST MODE registry {path} is locked by another process: close other "
            "BEAST MODE windows or commands that may be writing to it, then try again."
        )
    if "full" in text or number in (errno.ENOSPC, errno.EDQUOT) or _disk_nearly_full(path, text):
        return (
            f"The disk holding the BEAST MODE registry {path} is full: free some space "
            "and try again."
        )
    if "readonly" in text or "read-only" in text or number in (errno.EROFS, errno.EACCES):
        return (
            f"The BEAST MODE registry {path} cannot be written (read-only file or directory): "
            f"make {path.parent} writable, or set BEASTMODE_HOME to a writable directory."
        )
    if "disk i/o error" in text:
        return (
            f"The BEAST MODE registry {path} could not be read or written (disk I/O error): "
            "check the disk and free some space, then try again."
        )
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return (
            f"The BEAST MODE registry {path} is damaged ({error}): move it aside "
            f"(mv '{path}' '{path}.damaged') and register your models again, or restore it "
            "from a backup."
        )
    return (
        f"The BEAST MODE registry {path} cannot be used ({error}): check the file and its "
        "directory, or set BEASTMODE_HOME to another directory."
    )


def _disk_nearly_full(path: Path, text: str) -> bool:
    """SQLite reports a full disk under WAL as a plain I/O error: look at the free space."""
    if "i/o" not in text:
        return False
    try:
        return shutil.disk_usage(path.parent).free < NEARLY_FULL_BYTES
    except OSError:
        return False


def database_path(db: sqlite3.Connection) -> Path:
    """The file behind a connection (for messages), or a placeholder when it cannot be read."""
    try:
        return Path(db.execute("PRAGMA database_list").fetchone()[2] or ":memory:")
    except sqlite3.Error:
        return Path("registry.sqlite3")


@contextmanager
def storage_errors(path: Path) -> Iterator[None]:
    """Re-raise SQLite and OS errors met while using the registry at `path` as StorageError."""
    try:
        yield
    except (sqlite3.Error, OSError) as exc:
        raise StorageError(describe_failure(path, exc)) from exc
