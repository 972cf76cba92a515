"""The registry database: registered models, task defaults and chat history in one SQLite file.

WAL mode, a busy timeout and `BEGIN IMMEDIATE` writes let several processes (two editor windows,
the CLI) register and remove models at the same time without losing anything. Every SQLite or
file-system failure leaves as a one-line `StorageError` (corrupt, read-only, locked, full).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from beastmode.errors import DecryptionError, ModelNotFoundError
from beastmode.registry.crypto import KeyDecryptFailed, KeyRing
from beastmode.registry.failures import storage_errors
from beastmode.registry.home import DATABASE_NAME, home_directory
from beastmode.registry.migrations import migrate
from beastmode.registry.records import ModelRecord, ModelRegistration

BUSY_TIMEOUT_MS = 30_000
_RECORD_COLUMNS = (
    "model_name, model_id, endpoint_url, provider, description, context_window, max_tokens, "
    "temperature, upstream_model, fim_template, completions_url, input_cost_per_1k, "
    "output_cost_per_1k, api_key_token IS NOT NULL AS has_api_key, created_at, updated_at"
)


@dataclass(frozen=True)
class Credentials:
    """A model record with its decrypted API key; lives only in the router's memory."""

    record: ModelRecord
    api_key: str | None

    def __repr__(self) -> str:
        return f"Credentials(model_id={self.record.model_id!r}, api_key=<hidden>)"


@dataclass(frozen=True)
class ChatMessage:
    """One stored chat turn."""

    role: str
    content: str
    model_ref: str | None


def connect(path: Path) -> sqlite3.Connection:
    """Open the database file (created 0600) in WAL mode with a generous busy timeout.

    Raises StorageError when the file is corrupt, read-only, locked or on a full disk.
    """
    with storage_errors(path):
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
            os.close(fd)
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        try:
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            for suffix in ("", "-wal", "-shm"):
                sidecar = Path(f"{path}{suffix}")
                if sidecar.exists() and sidecar.stat().st_mode & 0o077:
                    sidecar.chmod(0o600)
        except BaseException:
            db.close()
            raise
        return db


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Registry:
    """Registered models, task defaults and chat history, stored in `registry.sqlite3`."""

    def __init__(self, home: Path, keyring: KeyRing) -> None:
        self.home = home
        self.path = home / DATABASE_NAME
        self._keyring = keyring
        self._lock = threading.RLock()
        self._db = connect(self.path)
        try:
            with storage_errors(self.path):
                migrate(self._db)
        except BaseException:
            self._db.close()
            raise
        self._local_writes = 0

    @classmethod
    def open(cls, environ: Mapping[str, str] | None = None) -> Registry:
        """Open the registry in `BEASTMODE_HOME` with keys from the environment."""
        home = home_directory(environ)
        with storage_errors(home / DATABASE_NAME):
            keyring = KeyRing.from_environment(home, environ)
        return cls(home, keyring)

    def __repr__(self) -> str:
        return f"Registry(path={str(self.path)!r})"

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock, storage_errors(self.path):
            yield self._db

    @contextmanager
    def _write(self, *, models_changed: bool = False) -> Iterator[sqlite3.Connection]:
        with self._lock, storage_errors(self.path):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                if models_changed:
                    self._db.execute(
                        "UPDATE meta SET value = value + 1 WHERE key = 'models_version'"
                    )
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            if models_changed:
                self._local_writes += 1

    @contextmanager
    def read_connection(self) -> Iterator[sqlite3.Connection]:
        """The database connection, held under this registry's lock (for reports)."""
        with self._read() as db:
            yield db

    @property
    def local_writes(self) -> int:
        """How many model/default changes this process committed (free to read, no query)."""
        return self._local_writes

    def change_counter(self) -> tuple[int, int]:
        """A value that changes whenever this or another process changed models or defaults."""
        with self._read() as db:
            (version,) = db.execute(
                "SELECT value FROM meta WHERE key = 'models_version'"
            ).fetchone()
            return int(version), self._local_writes

    # Models -------------------------------------------------------------------------------

    def register(self, registration: ModelRegistration) -> ModelRecord:
        """Store a model; registering an existing id updates it (keeping its key if none given)."""
        token = (
            self._keyring.encrypt(registration.api_key.get_secret_value())
            if registration.api_key is not None and registration.api_key.get_secret_value()
            else None
        )
        now = _now()
        values = {
            "model_id": registration.model_id,
            "model_name": registration.model_name,
            "endpoint_url": registration.endpoint_url,
            "provider": registration.provider,
            "api_key_token": token,
            "description": registration.description,
            "context_window": registration.context_window,
            "max_tokens": registration.max_tokens,
            "temperature": registration.temperature,
            "upstream_model": registration.upstream_model or registration.model_id,
            "fim_template": registration.fim_template,
            "completions_url": registration.completions_url,
            "input_cost_per_1k": registration.input_cost_per_1k,
            "output_cost_per_1k": registration.output_cost_per_1k,
            "created_at": now,
            "updated_at": now,
        }
        columns = ", ".join(values)
        placeholders = ", ".join(f":{name}" for name in values)
        updates = ", ".join(
            f"{name} = excluded.{name}" for name in values if name not in ("model_id", "created_at")
        ).replace(
            "api_key_token = excluded.api_key_token",
            "api_key_token = COALESCE(excluded.api_key_token, models.api_key_token)",
        )
        with self._write(models_changed=True) as db:
            db.execute(
                f"INSERT INTO models ({columns}) VALUES ({placeholders}) "
                f"ON CONFLICT (model_id) DO UPDATE SET {updates}",
                values,
            )
        return self.get(registration.model_id)

    def find(self, model_id: str) -> ModelRecord | None:
        """The model with this id, or None."""
        with self._read() as db:
            row = db.execute(
                f"SELECT {_RECORD_COLUMNS} FROM models WHERE model_id = ?", (model_id,)
            ).fetchone()
        return _record(row) if row else None

    def get(self, model_id: str) -> ModelRecord:
        """The model with this id, or ModelNotFoundError."""
        record = self.find(model_id)
        if record is None:
            raise ModelNotFoundError(model_id)
        return record

    def list_models(self) -> list[ModelRecord]:
        """Every registered model, by id."""
        with self._read() as db:
            rows = db.execute(f"SELECT {_RECORD_COLUMNS} FROM models ORDER BY model_id").fetchall()
        return [_record(row) for row in rows]

    def remove(self, model_id: str) -> None:
        """Delete a model (and any task default naming it), or ModelNotFoundError."""
        with self._write(models_changed=True) as db:
            deleted = db.execute("DELETE FROM models WHERE model_id = ?", (model_id,)).rowcount
            db.execute("DELETE FROM defaults WHERE model_ref = ?", (f"custom:{model_id}",))
        if not deleted:
            raise ModelNotFoundError(model_id)

    def drop_api_key(self, model_id: str) -> ModelRecord:
        """Forget the stored key of a model (its endpoint needs none now); the updated record."""
        with self._write(models_changed=True) as db:
            db.execute(
                "UPDATE models SET api_key_token = NULL, updated_at = ? WHERE model_id = ?",
                (_now(), model_id),
            )
        return self.get(model_id)

    def all_credentials(self) -> dict[str, Credentials]:
        """Every model with its decrypted key; a key that fails to decrypt maps to an error."""
        with self._read() as db:
            rows = db.execute(f"SELECT {_RECORD_COLUMNS}, api_key_token FROM models").fetchall()
        result: dict[str, Credentials] = {}
        for row in rows:
            record = _record(row[:-1])
            token = row[-1]
            try:
                api_key = self._keyring.decrypt(token) if token else None
            except KeyDecryptFailed:
                result[record.model_id] = _UndecryptableCredentials(record, None)
                continue
            result[record.model_id] = Credentials(record, api_key)
        return result

    def credentials(self, model_id: str) -> Credentials:
        """One model with its decrypted key; ModelNotFoundError or DecryptionError."""
        found = self.all_credentials().get(model_id)
        if found is None:
            raise ModelNotFoundError(model_id)
        if isinstance(found, _UndecryptableCredentials):
            raise DecryptionError(model_id)
        return found

    def rotate_keys(self, keyring: KeyRing | None = None) -> int:
        """Re-encrypt every stored key under the first key (of `keyring` if given); count them."""
        if keyring is not None:
            self._keyring = keyring
        with self._write(models_changed=True) as db:
            rows = db.execute(
                "SELECT model_id, api_key_token FROM models WHERE api_key_token IS NOT NULL"
            ).fetchall()
            for model_id, token in rows:
                try:
                    rotated = self._keyring.rotate(token)
                except KeyDecryptFailed:
                    raise DecryptionError(model_id) from None
                db.execute(
                    "UPDATE models SET api_key_token = ? WHERE model_id = ?", (rotated, model_id)
                )
        return len(rows)

    # Task defaults ------------------------------------------------------------------------

    def set_default(self, task: str, model_ref: str) -> None:
        """Make `model_ref` the default model for `task` (`*` for every task)."""
        with self._write(models_changed=True) as db:
            db.execute(
                "INSERT INTO defaults (task, model_ref) VALUES (?, ?) "
                "ON CONFLICT (task) DO UPDATE SET model_ref = excluded.model_ref",
                (task, model_ref),
            )

    def defaults(self) -> dict[str, str]:
        """The stored default model per task."""
        with self._read() as db:
            return dict(db.execute("SELECT task, model_ref FROM defaults").fetchall())

    # Chat history -------------------------------------------------------------------------

    def append_chat(self, session_id: str, role: str, content: str, model_ref: str | None) -> None:
        """Append one message to a chat session."""
        with self._write() as db:
            db.execute(
                "INSERT INTO chat_messages (session_id, role, content, model_ref, ts) "
                "VALUES (?, ?, ?, ?, ?)",
                (session_id, role, content, model_ref, _now()),
            )

    def chat_history(self, session_id: str, limit: int = 200) -> list[ChatMessage]:
        """The last `limit` messages of a session, oldest first."""
        with self._read() as db:
            rows = db.execute(
                "SELECT role, content, model_ref FROM chat_messages WHERE session_id = ? "
                "ORDER BY id DESC LIMIT ?",
                (session_id, limit),
            ).fetchall()
        return [ChatMessage(*row) for row in reversed(rows)]


class _UndecryptableCredentials(Credentials):
    """Marks a model whose stored key no longer decrypts."""


def _record(row: tuple[object, ...]) -> ModelRecord:
    names = (
        "model_name",
        "model_id",
        "endpoint_url",
        "provider",
        "description",
        "context_window",
        "max_tokens",
        "temperature",
        "upstream_model",
        "fim_template",
        "completions_url",
        "input_cost_per_1k",
        "output_cost_per_1k",
        "has_api_key",
        "created_at",
        "updated_at",
    )
    data = dict(zip(names, row, strict=True))
    data["has_api_key"] = bool(data["has_api_key"])
    return ModelRecord.model_validate(data)
