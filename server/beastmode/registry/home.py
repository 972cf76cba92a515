"""Where BEAST MODE keeps its files: `BEASTMODE_HOME`, or the platform's user data directory.

The home holds API keys (encrypted) and the key that decrypts them, so it must be private: a new
home is created 0700; an existing one that other users can reach, or that another user owns, is
refused with a message rather than silently chmodded (it may be a shared directory such as /tmp).
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Mapping
from pathlib import Path

import platformdirs

from beastmode.errors import ConfigurationError, StorageError

DATABASE_NAME = "registry.sqlite3"
SECRET_KEY_NAME = "secret.key"


def home_directory(environ: Mapping[str, str] | None = None) -> Path:
    """Return the data directory, creating it with mode 0700 (owner only) if needed.

    An existing directory must be private already (ConfigurationError saying how otherwise).
    """
    env = os.environ if environ is None else environ
    configured = env.get("BEASTMODE_HOME")
    path = (
        Path(configured).expanduser()
        if configured
        else Path(platformdirs.user_data_dir("beastmode"))
    )
    try:
        with contextlib.suppress(FileExistsError):
            path.mkdir(mode=0o700, parents=True)
        status = path.stat()
    except OSError as exc:
        raise StorageError(
            f"Cannot use {path} as the BEAST MODE home directory ({exc.strerror}). "
            "Set BEASTMODE_HOME to a writable directory."
        ) from exc
    problem = home_problem(path, status.st_mode, status.st_uid, _current_uid())
    if problem is not None:
        raise ConfigurationError(problem)
    return path


def home_problem(path: Path, mode: int, owner: int, user: int | None) -> str | None:
    """Why `path` (with this mode and owner) is unfit as a home for keys, or None if it is fine."""
    if not stat.S_ISDIR(mode):
        return f"BEASTMODE_HOME {path} is not a directory: point BEASTMODE_HOME at a directory."
    if user is None:  # Windows: no POSIX owner or mode bits to check
        return None
    if owner != user:
        return (
            f"BEASTMODE_HOME {path} belongs to another user (uid {owner}), who could read your "
            "API keys: point BEASTMODE_HOME at a directory of your own."
        )
    if mode & 0o002 or mode & stat.S_ISVTX:
        return (
            f"BEASTMODE_HOME {path} is a shared directory (mode {stat.S_IMODE(mode):o}) and "
            "would expose your API keys: point BEASTMODE_HOME at a private directory, e.g. "
            f"{path / 'beastmode'} (created with mode 700)."
        )
    if mode & 0o077:
        return (
            f"BEASTMODE_HOME {path} can be read by other users (mode {stat.S_IMODE(mode):o}) "
            f"and holds your API keys: run `chmod 700 '{path}'` and start again."
        )
    return None


def _current_uid() -> int | None:
    getuid = getattr(os, "getuid", None)
    return getuid() if getuid is not None else None


def create_private_file(path: Path, data: bytes) -> None:
    """Write `data` to a new file readable only by its owner (0600), atomically."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        raise StorageError(
            f"Cannot write {path} ({exc.strerror}): make {path.parent} writable and free some "
            "disk space, or set BEASTMODE_HOME to another directory."
        ) from exc
