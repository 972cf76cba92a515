"""Secrets in the workspace never become context or suggestions (issue 10, item 4).

Reproduces the finding against the real server: an open `.env` with a Stripe key and a database
URL, a scanned `deploy.sh` exporting an AWS secret and a scanned `settings.py` holding Django's
`SECRET_KEY`. The `local` engine must not complete those assignments with their values in another
file, the `.env` text must never reach a model as a cross-file snippet, and a remote model that
answers with a secret value must not have its suggestion shown.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from beastmode.registry import Registry
from tests.conftest import register
from tests.fakes import FakeModelServer, Reply
from tests.hardening.client import LspProcess, unhandled_errors
from tests.hardening.conftest import StartServer

STRIPE_KEY = "sk_live_51HxYzAbCdEf123456"
DATABASE_URL = "postgres://user:pass@host/db"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
DJANGO_SECRET = "django-insecure-9x!k2@p#l0q$zv8r&m4n"
ENV_TEXT = f"STRIPE_SECRET_KEY={STRIPE_KEY}\nDATABASE_URL={DATABASE_URL}\n"
DEPLOY_SH = (
    "#!/bin/sh\n"
    f"export AWS_SECRET_ACCESS_KEY={AWS_SECRET}\n"
    "aws s3 sync ./build s3://release-bucket --delete --exact-timestamps\n"
)
SETTINGS_PY = (
    f'SECRET_KEY = "{DJANGO_SECRET}"\nDEFAULT_FROM_EMAIL = "billing-noreply@example.com"\n'
)
CONFIG_PY = 'RETRY_POLICY = "exponential-backoff-with-jitter-and-cap"\n'
EVERY_SECRET = [STRIPE_KEY, DATABASE_URL, AWS_SECRET, DJANGO_SECRET]


def _suggestions(server: LspProcess, name: str, line: str) -> list[str]:
    """Open a fresh document holding `line` and ask for a suggestion at its end."""
    uri = f"file:///elsewhere/{name}"
    server.open(uri, line + "\n")
    answer = server.response(server.inline(uri, 0, len(line)), timeout=30)
    # Closed at once, before the engine learns it: its half line must not vote in later asks.
    server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    return [item["insertText"] for item in answer["result"]["items"]]


def _wait_for_suggestion(server: LspProcess, name: str, line: str, expected: str) -> None:
    """Ask until the local engine offers `expected` (it learns in the background)."""
    deadline = time.monotonic() + 60
    attempt = 0
    while time.monotonic() < deadline:
        attempt += 1
        if any(expected in text for text in _suggestions(server, f"{attempt}-{name}", line)):
            return
        time.sleep(0.3)
    raise AssertionError(f"the local engine never completed {line!r} with {expected!r}")


def test_local_engine_completes_no_secret_from_an_open_env_or_scanned_files(
    start_server: StartServer, workspace: Path
) -> None:
    (workspace / ".env").write_text(ENV_TEXT)
    (workspace / "deploy.sh").write_text(DEPLOY_SH)
    (workspace / "settings.py").write_text(SETTINGS_PY)
    server = start_server({"inline": {"debounceMs": 0}})
    server.open((workspace / ".env").as_uri(), ENV_TEXT, language="dotenv")
    server.open((workspace / "config.py").as_uri(), CONFIG_PY)

    # Controls: the scan learned both files, and the documents opened with `.env` were learned.
    _wait_for_suggestion(server, "a.sh", "aws s3 sync ./build ", "release-bucket")
    _wait_for_suggestion(server, "b.py", "DEFAULT_FROM_EMAIL = ", "billing-noreply")
    _wait_for_suggestion(server, "c.py", "RETRY_POLICY = ", "exponential-backoff")

    asked = {
        "STRIPE_SECRET_KEY=": "stripe.py",
        "DATABASE_URL=": "db.py",
        "export AWS_SECRET_ACCESS_KEY=": "upload.sh",
        "SECRET_KEY = ": "prod_settings.py",
        'SECRET_KEY = "django-insecure-': "partial_settings.py",
    }
    offered = {line: _suggestions(server, name, line) for line, name in asked.items()}
    leaked = {
        line: texts
        for line, texts in offered.items()
        if any(secret in line + text for text in texts for secret in EVERY_SECRET)
    }
    assert leaked == {}
    assert unhandled_errors(server.stderr) == []


def _request_text(request: Any) -> str:
    return request.body.decode("utf-8", "replace")


def test_remote_model_gets_no_env_snippet_and_its_secret_answers_are_withheld(
    start_server: StartServer,
    workspace: Path,
    fake: FakeModelServer,
    registry: Registry,
) -> None:
    register(
        registry,
        "remote",
        fake.openai_chat_url,
        api_key=None,
        completions_url=fake.openai_completions_url,
        upstream_model="qwen2.5-coder:7b",
    )
    harmless = 'os.environ["STRIPE_SECRET_KEY"]'
    fake.script(Reply(text=STRIPE_KEY), Reply(text=DATABASE_URL), Reply(text=harmless))
    (workspace / ".env").write_text(ENV_TEXT)
    billing = (
        "import os\nimport stripe\n\n"
        "STRIPE_SECRET_KEY = load('STRIPE_SECRET_KEY')  # billing-marker\n"
        "DATABASE_URL = load('DATABASE_URL')\n"
        "stripe.api_key = STRIPE_SECRET_KEY\n"
    )
    server = start_server({"model": "custom:remote", "inline": {"debounceMs": 0}})
    server.open((workspace / ".env").as_uri(), ENV_TEXT, language="dotenv")
    server.open((workspace / "billing.py").as_uri(), billing)
    app = (workspace / "app.py").as_uri()
    lines = ["import os", "STRIPE_SECRET_KEY=", "DATABASE_URL=", "STRIPE_SECRET_KEY = "]
    server.open(app, "\n".join(lines) + "\n")

    shown = []
    for row in (1, 2, 3):
        answer = server.response(server.inline(app, row, len(lines[row])), timeout=30)
        shown.append([item["insertText"] for item in answer["result"]["items"]])

    assert shown[0] == [] and shown[1] == []  # the secret values the model answered with
    assert shown[2] == [harmless]  # an ordinary answer still shows
    bodies = [_request_text(request) for request in fake.requests]
    assert len(bodies) == 3
    # Snippets were sent (billing.py's marker), but nothing of `.env`.
    assert all("billing-marker" in body for body in bodies)
    sent = json.dumps(bodies)
    assert [secret for secret in (STRIPE_KEY, DATABASE_URL) if secret in sent] == []
    assert ".env" not in sent
    assert unhandled_errors(server.stderr) == []
