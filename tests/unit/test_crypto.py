"""Key encryption: ENCRYPTION_KEY lists, malformed and wrong keys, rotation, secret.key."""

from __future__ import annotations

import stat
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet

from beastmode.errors import AllModelsFailed, ConfigurationError, DecryptionError
from beastmode.providers.base import ChatRequest
from beastmode.registry import Registry
from beastmode.router import Router, Timeouts
from beastmode.usage import UsageRecorder
from tests.conftest import CANARY_KEY, register
from tests.fakes import FakeModelServer, Reply


def _chat(_info: object) -> ChatRequest:
    return ChatRequest(messages=(("user", "hi"),), max_tokens=16)


def test_malformed_encryption_key_is_a_clear_configuration_error(
    environ: dict[str, str],
) -> None:
    environ["ENCRYPTION_KEY"] = "not-a-fernet-key"
    with pytest.raises(ConfigurationError, match="ENCRYPTION_KEY is malformed"):
        Registry.open(environ)


def test_wrong_key_gives_failed_to_decrypt(environ: dict[str, str]) -> None:
    environ["ENCRYPTION_KEY"] = Fernet.generate_key().decode()
    register(Registry.open(environ), "m1", "http://127.0.0.1:9/v1")
    environ["ENCRYPTION_KEY"] = Fernet.generate_key().decode()
    with pytest.raises(DecryptionError, match="Failed to decrypt API key"):
        Registry.open(environ).credentials("m1")


async def test_undecryptable_key_makes_the_router_fall_back(
    environ: dict[str, str], fake: FakeModelServer
) -> None:
    environ["ENCRYPTION_KEY"] = Fernet.generate_key().decode()
    first = Registry.open(environ)
    register(first, "broken", fake.openai_chat_url)
    register(first, "backup", fake.openai_chat_url, api_key=None)
    first.close()
    environ["ENCRYPTION_KEY"] = Fernet.generate_key().decode()
    registry = Registry.open(environ)
    fake.script(Reply(text="from backup"))
    router = Router(registry, environ=environ)
    result = await router.complete(
        "chat", ["custom:broken", "custom:backup"], _chat, Timeouts(attempt_seconds=5)
    )
    await router.aclose()
    assert result.text == "from backup"
    assert result.model.ref == "custom:backup"
    assert isinstance(result.attempts[0].error, DecryptionError)
    assert len(fake.requests) == 1  # the broken model was never called


def test_key_list_rotation_reencrypts_under_the_first_key(environ: dict[str, str]) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    environ["ENCRYPTION_KEY"] = old
    register(Registry.open(environ), "m1", "http://127.0.0.1:9/v1")
    environ["ENCRYPTION_KEY"] = f"{new},{old}"
    registry = Registry.open(environ)
    assert registry.credentials("m1").api_key == CANARY_KEY  # old key still decrypts
    assert registry.rotate_keys() == 1
    environ["ENCRYPTION_KEY"] = new
    assert Registry.open(environ).credentials("m1").api_key == CANARY_KEY


def test_secret_key_is_generated_once_with_mode_0600(environ: dict[str, str]) -> None:
    registry = Registry.open(environ)
    path = registry.home / "secret.key"
    first = path.read_bytes()
    Registry.open(environ)
    assert path.read_bytes() == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_encryption_key_when_set_is_the_only_source(environ: dict[str, str]) -> None:
    environ["ENCRYPTION_KEY"] = Fernet.generate_key().decode()
    registry = Registry.open(environ)
    assert not (registry.home / "secret.key").exists()


def test_rotate_key_command_replaces_secret_key_and_keeps_keys_readable(
    environ: dict[str, str],
) -> None:
    registry = Registry.open(environ)
    register(registry, "m1", "http://127.0.0.1:9/v1")
    before = (registry.home / "secret.key").read_bytes()
    done = subprocess.run(
        [sys.executable, "-m", "beastmode.cli", "rotate-key"],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "re-encrypted 1 API key" in done.stdout
    after = (registry.home / "secret.key").read_bytes()
    assert after != before and len(after.split()) == 1
    assert Registry.open(environ).credentials("m1").api_key == CANARY_KEY
    assert CANARY_KEY not in done.stdout + done.stderr


async def test_rotated_registry_still_serves_requests(
    environ: dict[str, str], fake: FakeModelServer
) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    environ["ENCRYPTION_KEY"] = old
    register(Registry.open(environ), "m1", fake.openai_chat_url)
    environ["ENCRYPTION_KEY"] = f"{new},{old}"
    Registry.open(environ).rotate_keys()
    environ["ENCRYPTION_KEY"] = new
    registry = Registry.open(environ)
    usage = UsageRecorder(registry.path)
    router = Router(registry, usage, environ=environ)
    try:
        result = await router.complete("chat", ["custom:m1"], _chat, Timeouts())
    except AllModelsFailed as exc:  # pragma: no cover - shows the reason on failure
        pytest.fail(str(exc))
    finally:
        await router.aclose()
        usage.close()
    assert result.text == "Hello from the fake model"
    assert fake.requests[0].headers["authorization"] == f"Bearer {CANARY_KEY}"
