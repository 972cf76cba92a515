"""Workspace secrets: the secret-file name rule, value harvesting, and the refusal rule."""

from __future__ import annotations

import asyncio

import pytest

from beastmode.completion.snippets import SnippetIndex
from beastmode.localengine import LocalEngine
from beastmode.secrets import WorkspaceSecrets, is_secret_file

STRIPE_KEY = "sk_live_51HxYzAbCdEf123456"
ENV_TEXT = f"STRIPE_SECRET_KEY={STRIPE_KEY}\nDATABASE_URL=postgres://user:pass@host/db\n"


@pytest.mark.parametrize(
    "name",
    [
        ".env",
        ".env.production",
        "file:///ws/config/.env.local",
        "server.pem",
        "tls.KEY",
        "id_rsa",
        "id_rsa.pub",
        "id_ed25519",
        "cert.p12",
        "cert.pfx",
        ".netrc",
        ".npmrc",
        ".pypirc",
        "credentials",
        "credentials.json",
        "client_secret.json",
        "file:///ws/k8s/db-Secrets.yaml",
        "file:///ws/my%20secret%20notes.txt",
    ],
)
def test_secret_file_names_are_recognised(name: str) -> None:
    assert is_secret_file(name)


@pytest.mark.parametrize(
    "name",
    ["settings.py", "deploy.sh", "environment.py", "keys.py", "file:///ws/.envy/x.py", "README"],
)
def test_ordinary_file_names_are_not_secret(name: str) -> None:
    assert not is_secret_file(name)


def _harvested(name: str, text: str) -> WorkspaceSecrets:
    secrets = WorkspaceSecrets()
    secrets.harvest(f"file:///ws/{name}", text)
    return secrets


@pytest.mark.parametrize(
    ("name", "line", "value"),
    [
        (".env", f"STRIPE_SECRET_KEY={STRIPE_KEY}", STRIPE_KEY),
        (".env", "DATABASE_URL=postgres://user:pass@host/db", "postgres://user:pass@host/db"),
        (
            "deploy.sh",
            "export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG",
            "wJalrXUtnFEMI/K7MDENG",
        ),
        ("settings.py", 'SECRET_KEY = "django-insecure-9x!k2@p"', "django-insecure-9x!k2@p"),
        ("app.py", 'GITHUB_TOKEN = "ghp_abcdefgh12345678"', "ghp_abcdefgh12345678"),
        ("app.js", 'const db_password = "Tr0ub4dor&3x";', "Tr0ub4dor&3x"),
        ("app.py", 'blob = "8Fq2Zp0vRk7Lm3Xc9Ny4Tb6Hs1Wd5Ge"', "8Fq2Zp0vRk7Lm3Xc9Ny4Tb6Hs1Wd5Ge"),
        ("main.go", 'dsn := "mysql://app:hunter2hunter2@db/app"', "hunter2hunter2"),
    ],
)
def test_secret_values_are_harvested(name: str, line: str, value: str) -> None:
    secrets = _harvested(name, line)
    assert secrets.completes_secret("", value)


@pytest.mark.parametrize(
    ("name", "line", "innocent"),
    [
        ("app.py", "password = get_password()", "get_password()"),
        ("app.py", 'author = "Jane Doe Smith"', "Jane Doe Smith"),
        ("deploy.sh", 'export API_TOKEN="$CI_TOKEN_FROM_VAULT"', "$CI_TOKEN_FROM_VAULT"),
        (".env", "API_HOST=localhost", "localhost"),
        (".env", "SECRET=short", "short"),
    ],
)
def test_ordinary_values_are_not_harvested(name: str, line: str, innocent: str) -> None:
    secrets = _harvested(name, line)
    assert len(secrets) == 0
    assert not secrets.completes_secret("x = ", innocent)


def test_a_suggestion_is_refused_when_it_or_its_line_completes_a_secret() -> None:
    secrets = _harvested(".env", ENV_TEXT)
    assert secrets.completes_secret("STRIPE_SECRET_KEY=", STRIPE_KEY)
    assert secrets.completes_secret('key = "sk_live_51Hx', 'YzAbCdEf123456"')  # finishes it
    assert secrets.completes_secret("", f'{{"key": "{STRIPE_KEY}"}}')
    assert secrets.completes_secret("url = ", "postgres%3A%2F%2Fuser%3Apass%40host%2Fdb")
    assert not secrets.completes_secret("STRIPE_SECRET_KEY=", 'os.environ["STRIPE"]')
    # The user typed the secret already: only the suggestion itself is judged.
    assert not secrets.completes_secret(f"key = '{STRIPE_KEY}'", "  # from the dashboard")


def test_snippet_text_is_redacted_of_known_secrets() -> None:
    secrets = _harvested(".env", ENV_TEXT)
    assert secrets.redact(f"stripe.api_key = '{STRIPE_KEY}'") == "stripe.api_key = '[redacted]'"


async def test_settled_waits_for_background_harvests() -> None:
    secrets = WorkspaceSecrets()
    secrets.harvest_in_background("file:///ws/.env", ENV_TEXT)
    assert await secrets.settled(timeout=30)
    assert secrets.completes_secret("", STRIPE_KEY)
    assert await asyncio.wait_for(secrets.settled(timeout=0), timeout=1)


def test_snippet_index_never_indexes_a_secret_file() -> None:
    index = SnippetIndex()
    index.update("file:///ws/.env", ENV_TEXT)
    index.update("file:///ws/billing.py", "STRIPE_SECRET_KEY = load('STRIPE_SECRET_KEY')\n")
    found = index.query("STRIPE_SECRET_KEY DATABASE_URL", min_score=0.0)
    assert [snippet.path for snippet in found] == ["file:///ws/billing.py"]
    assert "file:///ws/.env" not in index


@pytest.mark.parametrize("from_disk", [False, True])
def test_local_engine_never_learns_a_secret_file_but_harvests_it(from_disk: bool) -> None:
    secrets = WorkspaceSecrets()
    engine = LocalEngine(secrets=secrets)
    engine.update_document("file:///ws/.env", ENV_TEXT, from_disk=from_disk)
    engine.update_document("file:///ws/notes.py", "RETRY = 'backoff-with-jitter'\n")
    assert engine.stats.documents == 1
    assert engine.suggest("STRIPE_SECRET_KEY=", "") is None
    assert secrets.completes_secret("STRIPE_SECRET_KEY=", STRIPE_KEY)


def test_local_engine_harvests_lines_as_they_change() -> None:
    secrets = WorkspaceSecrets()
    engine = LocalEngine(secrets=secrets)
    engine.update_document("file:///ws/settings.py", "DEBUG = False\n")
    assert len(secrets) == 0
    engine.update_document(
        "file:///ws/settings.py", 'DEBUG = False\nSECRET_KEY = "django-insecure-9x!k2@p"\n'
    )
    assert secrets.completes_secret("SECRET_KEY = ", '"django-insecure-9x!k2@p"')
