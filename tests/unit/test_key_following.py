"""A key ring read from secret.key follows the file; decryption errors name the key source."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from beastmode.errors import ConfigurationError, DecryptionError
from beastmode.registry import Registry
from beastmode.registry.crypto import (
    KeyDecryptFailed,
    KeyRing,
    describe_key_source,
    rotate_secret_key_file,
)
from beastmode.registry.home import create_private_file
from tests.conftest import CANARY_KEY, register


def _write_keys(path: Path, *keys: bytes) -> None:
    create_private_file(path, b"\n".join(keys) + b"\n")


def test_a_ring_on_the_key_file_reloads_when_the_file_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    ring = KeyRing.from_key_file(path)
    old = path.read_bytes().strip()
    token = ring.encrypt("sk-stored-before")
    new = Fernet.generate_key()
    _write_keys(path, new, old)  # what rotate-key writes while it re-encrypts
    assert ring.decrypt(token) == "sk-stored-before"
    fresh = ring.encrypt("sk-stored-during")
    assert Fernet(new).decrypt(fresh.encode()) == b"sk-stored-during"  # never the old key
    _write_keys(path, new)  # the old key dropped
    with pytest.raises(KeyDecryptFailed):
        ring.decrypt(token)
    assert ring.decrypt(fresh) == "sk-stored-during"
    assert ring.key_count == 1


def test_an_explicit_ring_does_not_follow_any_file(tmp_path: Path) -> None:
    key = Fernet.generate_key()
    ring = KeyRing([key], key_file=tmp_path / "secret.key")
    assert ring.source == f"the key file {tmp_path / 'secret.key'}"
    assert ring.decrypt(ring.encrypt("sk-explicit")) == "sk-explicit"
    assert not (tmp_path / "secret.key").exists()


def test_a_garbage_key_file_is_reported_at_load_and_after_a_change(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    _write_keys(path, b"not a key")
    with pytest.raises(ConfigurationError, match=f"{path} does not hold a valid key: line 1"):
        KeyRing.from_key_file(path)
    _write_keys(path, b"")
    with pytest.raises(ConfigurationError, match="does not hold a valid key: the file is empty"):
        KeyRing.from_key_file(path)

    good = Fernet.generate_key()
    _write_keys(path, good)
    ring = KeyRing.from_key_file(path)
    token = ring.encrypt("sk-kept")
    _write_keys(path, good, b"garbage-line")
    with pytest.raises(KeyDecryptFailed, match="does not hold a valid key: line 2"):
        ring.decrypt(token)
    with pytest.raises(ConfigurationError, match="does not hold a valid key"):
        ring.encrypt("sk-new")
    _write_keys(path, good)  # repaired: the next use reloads it
    assert ring.decrypt(token) == "sk-kept"


def test_describe_key_source_names_the_source_in_use(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    assert describe_key_source(tmp_path, {"ENCRYPTION_KEY": "x"}) == "ENCRYPTION_KEY"
    assert "cannot be read" in describe_key_source(tmp_path, {})
    _write_keys(path, Fernet.generate_key())
    assert describe_key_source(tmp_path, {}) == f"the key file {path}"
    _write_keys(path, b"junk")
    assert describe_key_source(tmp_path, {}) == (
        f"the key file {path}, which does not hold a valid key: "
        "line 1 is not a key (32 url-safe base64-encoded bytes)"
    )


def test_decryption_error_blames_only_the_source_it_is_given() -> None:
    from_file = str(DecryptionError("m1", "the key file /h/secret.key"))
    assert "with the key file /h/secret.key" in from_file
    assert "ENCRYPTION_KEY" not in from_file
    assert "with ENCRYPTION_KEY" in str(DecryptionError("m1", "ENCRYPTION_KEY"))
    unknown = str(DecryptionError("m1"))
    assert unknown.startswith("Failed to decrypt API key for custom:m1")
    assert "beastmode models add --id m1" in unknown


def test_rotation_refuses_to_start_from_a_garbage_key_file(environ: dict[str, str]) -> None:
    registry = Registry.open(environ)
    path = registry.home / "secret.key"
    _write_keys(path, b"junk")
    with pytest.raises(ConfigurationError, match="does not hold a valid key"):
        rotate_secret_key_file(registry.home, registry.rotate_keys)
    assert path.read_bytes() == b"junk\n"  # nothing was rewritten


def test_a_registry_beside_a_rotation_reads_and_writes_under_the_new_key(
    environ: dict[str, str],
) -> None:
    running = Registry.open(environ)  # the editor's server
    register(running, "before", "http://127.0.0.1:9/v1")
    running.all_credentials()
    rotator = Registry.open(environ)  # `beastmode rotate-key`
    assert rotate_secret_key_file(rotator.home, rotator.rotate_keys) == 1
    assert running.credentials("before").api_key == CANARY_KEY
    register(running, "after", "http://127.0.0.1:9/v1", api_key="sk-after-rotation-0123")
    newcomer = Registry.open(environ)
    assert newcomer.credentials("after").api_key == "sk-after-rotation-0123"
    assert newcomer.credentials("before").api_key == CANARY_KEY


def test_a_key_stored_under_the_old_key_during_a_rotation_is_caught(
    environ: dict[str, str],
) -> None:
    rotator = Registry.open(environ)
    old_key = (rotator.home / "secret.key").read_bytes().strip()
    # A server that read the key file just before the rotation began, committing during it.
    stale = Registry(rotator.home, KeyRing([old_key]))
    passes = []

    def rotate_while_a_stale_server_registers(ring: KeyRing) -> int:
        count = rotator.rotate_keys(ring)
        if not passes:
            register(stale, "racer", "http://127.0.0.1:9/v1", api_key="sk-racing-0123456789")
        passes.append(count)
        return count

    rotate_secret_key_file(rotator.home, rotate_while_a_stale_server_registers)
    assert Registry.open(environ).credentials("racer").api_key == "sk-racing-0123456789"
