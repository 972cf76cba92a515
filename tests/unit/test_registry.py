"""The registry: validation, updates, migrations, file modes, concurrency, keys at rest."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from beastmode.errors import InvalidRegistrationError, ModelNotFoundError
from beastmode.registry import ModelRegistration, Registry
from beastmode.registry.migrations import MIGRATIONS
from tests.conftest import CANARY_KEY, register

GUIDE_BODY = {
    "model_name": "My Code Model",
    "model_id": "my-code-model",
    "endpoint_url": "https://your-model-api.com/v1/chat/completions",
    "provider": "openai-compatible",
    "api_key": CANARY_KEY,
    "description": "Custom model for code generation",
    "context_window": 8192,
    "max_tokens": 4000,
    "temperature": 0.7,
}


def test_guide_registration_body_is_accepted_with_defaults(registry: Registry) -> None:
    record = registry.register(ModelRegistration.parse(GUIDE_BODY))
    assert record.ref == "custom:my-code-model"
    assert record.upstream_model == "my-code-model"
    assert record.fim_template == "auto"
    assert record.input_cost_per_1k == 0.001
    assert record.has_api_key
    assert "api_key" not in record.public_dict()
    assert CANARY_KEY not in repr(record) + str(record.public_dict())


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("endpoint_url", "ftp://example.com", "http"),
        ("endpoint_url", "not a url", "http"),
        ("endpoint_url", "http://user:pw@example.com/v1", "credentials"),
        ("provider", "cohere-compatible", "openai-compatible"),
        ("model_id", "Bad_ID", "[a-z0-9]"),
        ("model_id", "-leading", "[a-z0-9]"),
        ("model_id", "x" * 65, "[a-z0-9]"),
        ("temperature", 3.5, "less than or equal to 2"),
        ("context_window", 10, "greater than or equal to 256"),
        ("max_tokens", 0, "greater than or equal to 1"),
        ("max_tokens", 9000, "smaller than context_window"),
        ("fim_template", "gpt", "auto"),
        ("colour", "blue", "unknown field"),
    ],
)
def test_invalid_registration_names_the_field(field: str, value: object, fragment: str) -> None:
    with pytest.raises(InvalidRegistrationError) as caught:
        ModelRegistration.parse({**GUIDE_BODY, field: value})
    assert caught.value.field == field
    assert fragment in str(caught.value)
    assert CANARY_KEY not in str(caught.value)


def test_missing_required_field_is_named() -> None:
    body = dict(GUIDE_BODY)
    del body["endpoint_url"]
    with pytest.raises(InvalidRegistrationError, match="endpoint_url"):
        ModelRegistration.parse(body)


def test_reregistering_updates_and_keeps_the_key_when_none_given(registry: Registry) -> None:
    register(registry, "m1", "http://127.0.0.1:1/v1")
    first = registry.get("m1")
    register(registry, "m1", "http://127.0.0.1:2/v1", api_key=None, temperature=0.1)
    second = registry.get("m1")
    assert second.endpoint_url == "http://127.0.0.1:2/v1"
    assert second.temperature == 0.1
    assert second.created_at == first.created_at
    assert registry.credentials("m1").api_key == CANARY_KEY
    assert len(registry.list_models()) == 1


def test_remove_and_missing_model_error(registry: Registry) -> None:
    register(registry, "gone", "http://127.0.0.1:1/v1")
    registry.remove("gone")
    with pytest.raises(ModelNotFoundError, match="Custom model not found: gone"):
        registry.get("gone")
    with pytest.raises(ModelNotFoundError):
        registry.remove("gone")


def test_files_are_private_and_database_is_wal(registry: Registry) -> None:
    register(registry, "m1", "http://127.0.0.1:1/v1")
    assert stat.S_IMODE(registry.home.stat().st_mode) == 0o700
    for name in ("registry.sqlite3", "secret.key"):
        assert stat.S_IMODE((registry.home / name).stat().st_mode) == 0o600, name
    with sqlite3.connect(registry.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_migrations_are_recorded_by_name_and_reapplied_never(registry: Registry) -> None:
    with sqlite3.connect(registry.path) as db:
        names = [row[0] for row in db.execute("SELECT name FROM _migrations ORDER BY rowid")]
    assert names == [m.__name__ for m in MIGRATIONS]
    again = Registry(registry.home, registry._keyring)  # opening twice must not fail
    again.close()


def test_plaintext_key_never_reaches_the_database_file(registry: Registry) -> None:
    register(registry, "m1", "http://127.0.0.1:1/v1")
    registry.close()
    for path in registry.home.iterdir():
        assert CANARY_KEY.encode() not in path.read_bytes(), path.name


def test_credentials_repr_hides_the_key(registry: Registry) -> None:
    register(registry, "m1", "http://127.0.0.1:1/v1")
    credentials = registry.credentials("m1")
    assert credentials.api_key == CANARY_KEY
    assert CANARY_KEY not in repr(credentials)


WRITER = """
import sys
from beastmode.registry import ModelRegistration, Registry
registry = Registry.open()
prefix = sys.argv[1]
for i in range(200):
    registry.register(ModelRegistration.parse({
        "model_name": f"{prefix}{i}", "model_id": f"{prefix}{i}",
        "endpoint_url": "http://127.0.0.1:9/v1", "api_key": f"key-{prefix}{i}"}))
"""


def test_two_processes_registering_200_models_each_lose_nothing(
    environ: dict[str, str], tmp_path: Path
) -> None:
    Registry.open(environ).close()  # create the home and key first, as the editor would
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, prefix], env=environ)
        for prefix in ("a", "b")
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    registry = Registry.open(environ)
    ids = {record.model_id for record in registry.list_models()}
    assert ids == {f"{p}{i}" for p in "ab" for i in range(200)}
    assert registry.credentials("b199").api_key == "key-b199"
