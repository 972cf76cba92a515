"""Named, append-only schema migrations for `registry.sqlite3`.

Each migration is a function applied once, in order, inside a transaction, and recorded by name in
`_migrations`. Never edit or reorder one that has shipped: add the next one at the end.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime

from beastmode.registry.failures import database_path, storage_errors

Migration = Callable[[sqlite3.Connection], None]


def m001_models(db: sqlite3.Connection) -> None:
    """Registered custom models, with the API key as a Fernet token."""
    db.execute(
        """
        CREATE TABLE models (
            model_id TEXT PRIMARY KEY,
            model_name TEXT NOT NULL,
            endpoint_url TEXT NOT NULL,
            provider TEXT NOT NULL,
            api_key_token TEXT,
            description TEXT NOT NULL DEFAULT '',
            context_window INTEGER NOT NULL,
            max_tokens INTEGER NOT NULL,
            temperature REAL NOT NULL,
            upstream_model TEXT NOT NULL,
            fim_template TEXT NOT NULL DEFAULT 'auto',
            completions_url TEXT,
            input_cost_per_1k REAL NOT NULL,
            output_cost_per_1k REAL NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )
        """
    )


def m002_defaults(db: sqlite3.Connection) -> None:
    """The default model per task (`*` = every task), set by `beastmode.setDefaultModel`."""
    db.execute("CREATE TABLE defaults (task TEXT PRIMARY KEY, model_ref TEXT NOT NULL)")


def m003_usage(db: sqlite3.Connection) -> None:
    """One row per model attempt: what was called, how it went, what it cost."""
    db.execute(
        """
        CREATE TABLE usage (
            id INTEGER PRIMARY KEY,
            ts TEXT NOT NULL,
            request_id TEXT,
            task TEXT NOT NULL,
            model_ref TEXT NOT NULL,
            model_kind TEXT NOT NULL,
            outcome TEXT NOT NULL,
            error_kind TEXT,
            http_status INTEGER,
            latency_ms REAL NOT NULL,
            ttft_ms REAL,
            prompt_tokens INTEGER NOT NULL DEFAULT 0,
            completion_tokens INTEGER NOT NULL DEFAULT 0,
            tokens_estimated INTEGER NOT NULL DEFAULT 0,
            cost_usd REAL NOT NULL DEFAULT 0,
            baseline_cost_usd REAL NOT NULL DEFAULT 0,
            accepted INTEGER NOT NULL DEFAULT 0
        )
        """
    )
    db.execute("CREATE INDEX usage_ts ON usage (ts)")
    db.execute("CREATE INDEX usage_request ON usage (request_id)")


def m004_chat(db: sqlite3.Connection) -> None:
    """Codebase chat sessions and their messages, kept across restarts."""
    db.execute(
        """
        CREATE TABLE chat_messages (
            id INTEGER PRIMARY KEY,
            session_id TEXT NOT NULL,
            role TEXT NOT NULL,
            content TEXT NOT NULL,
            model_ref TEXT,
            ts TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX chat_session ON chat_messages (session_id, id)")


def m005_models_version(db: sqlite3.Connection) -> None:
    """A counter bumped with every change to models or defaults, so readers can cache them.

    (SQLite's `PRAGMA data_version` also moves on every usage row written, which is far too often.)
    """
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)")
    db.execute("INSERT INTO meta (key, value) VALUES ('models_version', 0)")


def m006_usage_rollups(db: sqlite3.Connection) -> None:
    """Daily usage totals per task and model, kept after raw rows pass their retention period.

    `requests`, `answered` and `fallbacks` count requests (not attempts): a request belongs to
    the group of its first attempt, an answer to the group that gave it. `latency_histogram`
    is JSON `[[bucket, count], ...]` of answered attempts' latency (`usage/totals.py`), from
    which the report reads percentiles. Raw rows up to `meta.usage_rollup_cursor` (an id) are
    counted here; the usage writer rolls up the rest (existing rows included) in the background.
    """
    db.execute(
        """
        CREATE TABLE usage_daily (
            day TEXT NOT NULL,
            task TEXT NOT NULL,
            model_ref TEXT NOT NULL,
            model_kind TEXT NOT NULL,
            requests INTEGER NOT NULL DEFAULT 0,
            answered INTEGER NOT NULL DEFAULT 0,
            fallbacks INTEGER NOT NULL DEFAULT 0,
            attempts INTEGER NOT NULL DEFAULT 0,
            ok INTEGER NOT NULL DEFAULT 0,
            errors INTEGER NOT NULL DEFAULT 0,
            cancelled INTEGER NOT NULL DEFAULT 0,
            latency_sum_ms REAL NOT NULL DEFAULT 0,
            ttft_sum_ms REAL NOT NULL DEFAULT 0,
            ttft_count INTEGER NOT NULL DEFAULT 0,
            prompt_tokens INTEGER NOT NULL DEFAULT 0,
            completion_tokens INTEGER NOT NULL DEFAULT 0,
            cost_usd REAL NOT NULL DEFAULT 0,
            baseline_cost_usd REAL NOT NULL DEFAULT 0,
            accepted INTEGER NOT NULL DEFAULT 0,
            latency_histogram TEXT NOT NULL DEFAULT '[]',
            PRIMARY KEY (day, task, model_ref, model_kind)
        )
        """
    )
    db.execute("INSERT INTO meta (key, value) VALUES ('usage_rollup_cursor', 0)")


MIGRATIONS: tuple[Migration, ...] = (
    m001_models,
    m002_defaults,
    m003_usage,
    m004_chat,
    m005_models_version,
    m006_usage_rollups,
)


def pending_migrations(db: sqlite3.Connection) -> list[str]:
    """Names of migrations not yet applied (a plain read: no write lock needed)."""
    exists = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_migrations'"
    ).fetchone()
    done = {row[0] for row in db.execute("SELECT name FROM _migrations")} if exists else set()
    return [m.__name__ for m in MIGRATIONS if m.__name__ not in done]


def migrate(db: sqlite3.Connection) -> list[str]:
    """Apply every migration not yet recorded; return the names applied (safe across processes).

    An up-to-date database is only read, so opening it never waits for another process's write.
    """
    with storage_errors(database_path(db)):
        return _migrate(db)


def _migrate(db: sqlite3.Connection) -> list[str]:
    applied_now: list[str] = []
    if not pending_migrations(db):
        return applied_now
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute(
            "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT)"
        )
        done = {row[0] for row in db.execute("SELECT name FROM _migrations")}
        for migration in MIGRATIONS:
            if migration.__name__ in done:
                continue
            migration(db)
            db.execute(
                "INSERT INTO _migrations (name, applied_at) VALUES (?, ?)",
                (migration.__name__, datetime.now(UTC).isoformat()),
            )
            applied_now.append(migration.__name__)
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return applied_now
