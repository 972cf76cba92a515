"""Where BEAST MODE keeps its files: `BEASTMODE_HOME`, or the platform's user data directory."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import platformdirs

from beastmode.errors import ConfigurationError

DATABASE_NAME = "registry.sqlite3"
SECRET_KEY_NAME = "secret.key"


def home_directory(environ: Mapping[str, str] | None = None) -> Path:
    """Return the data directory, creating it with mode 0700 (owner only) if needed."""
    env = os.environ if environ is None else environ
    configured = env.get("BEASTMODE_HOME")
    path = (
        Path(configured).expanduser()
        if configured
        else Path(platformdirs.user_data_dir("beastmode"))
    )
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        if path.stat().st_mode & 0o077:
            path.chmod(0o700)
    except OSError as exc:
        raise ConfigurationError(
            f"Cannot use {path} as the BEAST MODE home directory ({exc.strerror}). "
            "Set BEASTMODE_HOME to a writable directory."
        ) from exc
    return path


def create_private_file(path: Path, data: bytes) -> None:
    """Write `data` to a new file readable only by its owner (0600), atomically."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, path)
