"""API key encryption at rest: Fernet tokens from `ENCRYPTION_KEY` or a generated `secret.key`.

`ENCRYPTION_KEY` may hold a comma-separated list: the first key encrypts, every key decrypts
(`MultiFernet`), which is how a key is rotated. When it is set it is the only key source; otherwise
a key is generated once into `BEASTMODE_HOME/secret.key` with mode 0600.

A key ring read from `secret.key` follows the file: before each encrypt or decrypt it compares
the file's inode, size and timestamps with what it loaded (one `os.stat`) and reloads on a
change. So `beastmode rotate-key` run beside an editor's server leaves that server decrypting
every re-encrypted key and never encrypting under the key the rotation dropped.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from beastmode.errors import ConfigurationError
from beastmode.registry.home import SECRET_KEY_NAME, create_private_file

ENVIRONMENT_SOURCE = "ENCRYPTION_KEY"
_MAKE_KEY_HINT = (
    '(make one with `python -c "from cryptography.fernet import Fernet; '
    'print(Fernet.generate_key().decode())"`).'
)

FileState = tuple[int, int, int, int]
"""What identifies one version of the key file: inode, size, mtime and ctime in nanoseconds."""


class KeyDecryptFailed(Exception):
    """A token could not be decrypted by any configured key (the caller adds the model id)."""


class KeyRing:
    """Encrypts and decrypts API keys with the configured Fernet key(s)."""

    def __init__(self, keys: list[bytes], *, key_file: Path | None = None) -> None:
        """Use `keys` (the first encrypts); `key_file` names where they came from, if a file."""
        self._key_file = key_file
        self.source = ENVIRONMENT_SOURCE if key_file is None else key_file_source(key_file)
        self._fernet, self.key_count = _multi_fernet(keys, key_file)
        self._following: FileState | None = None
        self._reload_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"KeyRing(keys={self.key_count}, source={self.source!r})"

    @classmethod
    def from_environment(cls, home: Path, environ: Mapping[str, str] | None = None) -> KeyRing:
        """Build the key ring from `ENCRYPTION_KEY`, or from (a new) `secret.key` in `home`."""
        env = os.environ if environ is None else environ
        configured = env.get("ENCRYPTION_KEY", "").strip()
        if configured:
            keys = [part.strip().encode() for part in configured.split(",") if part.strip()]
            return cls(keys)
        return cls.from_key_file(home / SECRET_KEY_NAME)

    @classmethod
    def from_key_file(cls, path: Path) -> KeyRing:
        """A key ring that follows `path` (created on first use), reloading when it changes."""
        state, keys = _load_or_create_secret_keys(path)
        ring = cls(keys, key_file=path)
        ring._following = state
        return ring

    def encrypt(self, plaintext: str) -> str:
        """Encrypt under the first key; returns the Fernet token as text.

        Raises ConfigurationError when the key file changed into something unusable.
        """
        return self._current().encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        """Decrypt with any configured key, or raise KeyDecryptFailed."""
        try:
            return self._current().decrypt(token.encode()).decode()
        except ConfigurationError as exc:
            raise KeyDecryptFailed(str(exc)) from exc
        except (InvalidToken, ValueError) as exc:
            raise KeyDecryptFailed from exc

    def rotate(self, token: str) -> str:
        """Re-encrypt a token under the first key, or raise KeyDecryptFailed."""
        try:
            return self._current().rotate(token.encode()).decode()
        except ConfigurationError as exc:
            raise KeyDecryptFailed(str(exc)) from exc
        except (InvalidToken, ValueError) as exc:
            raise KeyDecryptFailed from exc

    def _current(self) -> MultiFernet:
        """The keys to use now: reloaded first if the key file changed since it was read."""
        path = self._key_file
        if path is None or self._following is None or _file_state(path) == self._following:
            return self._fernet
        with self._reload_lock:
            if _file_state(path) != self._following:
                state, keys = _load_or_create_secret_keys(path)
                # Validate before adopting: a bad file leaves the state stale, so it is retried.
                self._fernet, self.key_count = _multi_fernet(keys, path)
                self._following = state
        return self._fernet


def key_file_source(path: Path) -> str:
    """How messages name a key file as the key source."""
    return f"the key file {path}"


def describe_key_source(home: Path, environ: Mapping[str, str]) -> str:
    """The key source in use, as a decryption error names it (with what is wrong with it)."""
    if environ.get("ENCRYPTION_KEY", "").strip():
        return ENVIRONMENT_SOURCE
    path = home / SECRET_KEY_NAME
    try:
        problem = _key_file_problem(_parse_keys(path.read_bytes()))
    except OSError as exc:
        problem = f"it cannot be read ({exc.strerror})"
    if problem is None:
        return key_file_source(path)
    return f"{key_file_source(path)}, which does not hold a valid key: {problem}"


def _multi_fernet(keys: list[bytes], key_file: Path | None) -> tuple[MultiFernet, int]:
    """The keys as a MultiFernet (the first encrypts); ConfigurationError names a bad source."""
    if key_file is None:
        if not keys:
            raise ConfigurationError("No encryption key configured.")
        try:
            return MultiFernet([Fernet(key) for key in keys]), len(keys)
        except (ValueError, TypeError) as exc:
            raise ConfigurationError(
                "ENCRYPTION_KEY is malformed: each key must be 32 url-safe base64-encoded bytes "
                + _MAKE_KEY_HINT
            ) from exc
    problem = _key_file_problem(keys)
    if problem is not None:
        raise ConfigurationError(
            f"{key_file} does not hold a valid key: {problem}. Restore the file from a backup, "
            "or move it away to have a new key generated (stored API keys must then be "
            "registered again)."
        )
    return MultiFernet([Fernet(key) for key in keys]), len(keys)


def _key_file_problem(keys: list[bytes]) -> str | None:
    """What is wrong with a key file's keys, or None when every line is a Fernet key."""
    if not keys:
        return "the file is empty"
    for number, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            return f"line {number} is not a key (32 url-safe base64-encoded bytes)"
    return None


def _parse_keys(content: bytes) -> list[bytes]:
    """The keys of a key file: one per line, blank lines ignored."""
    return [line.strip() for line in content.splitlines() if line.strip()]


def _file_state(path: Path) -> FileState | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns


def _load_or_create_secret_keys(path: Path) -> tuple[FileState | None, list[bytes]]:
    """Read `secret.key` (one key per line, the first encrypts), creating it on first use.

    Returns the state of the file version read alongside its keys: the state is taken from the
    open file, so a replacement landing between stat and read is noticed on the next use.
    """
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        create_private_file(temporary, Fernet.generate_key() + b"\n")
        try:
            # link() is atomic and refuses to replace: of two processes racing, one key wins.
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink(missing_ok=True)
        handle = path.open("rb")
    with handle:
        stat = os.fstat(handle.fileno())
        content = handle.read()
    if stat.st_mode & 0o077:
        path.chmod(0o600)
    state = (stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
    return state, _parse_keys(content)


def rotate_secret_key_file(home: Path, rotate_tokens: Callable[[KeyRing], int]) -> int:
    """Put a new key first in `secret.key`, re-encrypt with `rotate_tokens`, drop the old keys.

    The file holds both keys while tokens are re-encrypted, so a crash at any point leaves every
    token decryptable. A running server picks up each version of the file before its next use.
    """
    path = home / SECRET_KEY_NAME
    _, old_keys = _load_or_create_secret_keys(path)
    _multi_fernet(old_keys, path)  # refuse to rotate away from a garbage file
    new_key = Fernet.generate_key()
    both = KeyRing([new_key, *old_keys], key_file=path)
    create_private_file(path, b"\n".join([new_key, *old_keys]) + b"\n")
    count = rotate_tokens(both)
    create_private_file(path, new_key + b"\n")
    # A server that encrypted under the old key just before the new file appeared may have
    # committed after the first pass: a second pass, still holding the old key, catches it.
    rotate_tokens(both)
    return count
