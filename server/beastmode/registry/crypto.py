"""API key encryption at rest: Fernet tokens from `ENCRYPTION_KEY` or a generated `secret.key`.

`ENCRYPTION_KEY` may hold a comma-separated list: the first key encrypts, every key decrypts
(`MultiFernet`), which is how a key is rotated. When it is set it is the only key source; otherwise
a key is generated once into `BEASTMODE_HOME/secret.key` with mode 0600.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from beastmode.errors import ConfigurationError
from beastmode.registry.home import SECRET_KEY_NAME, create_private_file


class KeyDecryptFailed(Exception):
    """A token could not be decrypted by any configured key (the caller adds the model id)."""


class KeyRing:
    """Encrypts and decrypts API keys with the configured Fernet key(s)."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise ConfigurationError("No encryption key configured.")
        try:
            fernets = [Fernet(key) for key in keys]
        except (ValueError, TypeError) as exc:
            raise ConfigurationError(
                "ENCRYPTION_KEY is malformed: each key must be 32 url-safe base64-encoded bytes "
                '(make one with `python -c "from cryptography.fernet import Fernet; '
                'print(Fernet.generate_key().decode())"`).'
            ) from exc
        self._fernet = MultiFernet(fernets)
        self.key_count = len(fernets)

    def __repr__(self) -> str:
        return f"KeyRing(keys={self.key_count})"

    @classmethod
    def from_environment(cls, home: Path, environ: Mapping[str, str] | None = None) -> KeyRing:
        """Build the key ring from `ENCRYPTION_KEY`, or from (a new) `secret.key` in `home`."""
        env = os.environ if environ is None else environ
        configured = env.get("ENCRYPTION_KEY", "").strip()
        if configured:
            keys = [part.strip().encode() for part in configured.split(",") if part.strip()]
            return cls(keys)
        return cls(_load_or_create_secret_keys(home / SECRET_KEY_NAME))

    def encrypt(self, plaintext: str) -> str:
        """Encrypt under the first key; returns the Fernet token as text."""
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        """Decrypt with any configured key, or raise KeyDecryptFailed."""
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except (InvalidToken, ValueError) as exc:
            raise KeyDecryptFailed from exc

    def rotate(self, token: str) -> str:
        """Re-encrypt a token under the first key, or raise KeyDecryptFailed."""
        try:
            return self._fernet.rotate(token.encode()).decode()
        except (InvalidToken, ValueError) as exc:
            raise KeyDecryptFailed from exc


def _load_or_create_secret_keys(path: Path) -> list[bytes]:
    """Read `secret.key` (one key per line, the first encrypts), creating it on first use."""
    try:
        content = path.read_bytes()
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
        content = path.read_bytes()
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
    return [line.strip() for line in content.splitlines() if line.strip()]


def rotate_secret_key_file(home: Path, rotate_tokens: Callable[[KeyRing], int]) -> int:
    """Put a new key first in `secret.key`, re-encrypt with `rotate_tokens`, drop the old keys.

    The file holds both keys while tokens are re-encrypted, so a crash at any point leaves every
    token decryptable.
    """
    path = home / SECRET_KEY_NAME
    old_keys = _load_or_create_secret_keys(path)
    new_key = Fernet.generate_key()
    create_private_file(path, b"\n".join([new_key, *old_keys]) + b"\n")
    count = rotate_tokens(KeyRing([new_key, *old_keys]))
    create_private_file(path, new_key + b"\n")
    return count
