"""Recording usage rows without blocking the request path.

`record()` only appends to a queue; a daemon thread with its own SQLite connection writes rows in
batches. `flush()` waits until everything queued so far is on disk (reports and tests use it).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import sqlite3
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from beastmode.errors import StorageError
from beastmode.registry.failures import describe_failure
from beastmode.registry.store import connect
from beastmode.usage import rollups
from beastmode.usage.totals import row_problem

log = logging.getLogger(__name__)
DEFAULT_BASELINE_PRICE_PER_1K = 0.03
DEFAULT_RETENTION_DAYS = 90
MAX_BATCH = 5_000
MAX_PENDING_ROWS = 100_000
RETRY_FIRST_SECONDS = 0.5
RETRY_MAX_SECONDS = 30.0
PRUNE_INTERVAL_SECONDS = 3600.0


@dataclass(frozen=True)
class UsageRow:
    """One model attempt: what was called, how it went, and what it cost."""

    task: str
    model_ref: str
    model_kind: str  # custom | provider | local
    outcome: str  # ok | error | cancelled
    latency_ms: float
    request_id: str | None = None
    error_kind: str | None = None
    http_status: int | None = None
    ttft_ms: float | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    tokens_estimated: bool = False
    cost_usd: float = 0.0
    baseline_cost_usd: float = 0.0
    ts: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="milliseconds"))


@dataclass(frozen=True)
class _Accept:
    request_id: str


@dataclass
class _Flush:
    """A flush() waiting for everything queued before it; `written` says whether it was."""

    done: threading.Event = field(default_factory=threading.Event)
    written: bool = False


_COLUMNS = tuple(UsageRow.__dataclass_fields__)
_INSERT = (
    f"INSERT INTO usage ({', '.join(_COLUMNS)}) VALUES ({', '.join(':' + c for c in _COLUMNS)})"
)
_BAD_ROW_ERRORS = (sqlite3.IntegrityError, sqlite3.InterfaceError, OverflowError, TypeError)
_Item = UsageRow | _Accept | _Flush | None


class UsageRecorder:
    """Queues usage rows and writes them to the registry database in a background thread.

    The writer survives anything: a row the database cannot hold is logged and skipped; a
    database that is locked, full or broken is retried with backoff while the rows wait in
    memory (up to `MAX_PENDING_ROWS`); a writer thread that died anyway is restarted by the next
    call. After each batch it rolls the new rows up into daily totals and, once an hour, deletes
    raw rows older than the retention period.
    """

    def __init__(self, database: Path, *, retention_days: int = DEFAULT_RETENTION_DAYS) -> None:
        self._database = database
        self.retention_days = retention_days
        self._queue: queue.Queue[_Item] = queue.Queue()
        self._batch: list[_Item] = []  # taken from the queue, not yet committed
        self._start_lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self._pruned_at = float("-inf")
        self.skipped_rows = 0
        self.dropped_rows = 0
        self.last_error: str | None = None
        self._thread = self._start()

    def _start(self) -> threading.Thread:
        thread = threading.Thread(target=self._run, name="usage-writer", daemon=True)
        thread.start()
        return thread

    def _ensure_running(self) -> None:
        with self._start_lock:
            if not self._closed and not self._thread.is_alive():
                log.error("The usage writer had stopped; starting it again")
                self._thread = self._start()

    def record(self, row: UsageRow) -> None:
        """Queue one row; never blocks on the database."""
        self._queue.put(row)
        self._ensure_running()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every row queued before this call is written; False if it was not."""
        ticket = _Flush()
        self._queue.put(ticket)
        self._ensure_running()
        return ticket.done.wait(timeout) and ticket.written

    def mark_accepted(self, request_id: str) -> None:
        """Count a shown suggestion as accepted (`beastmode.didAcceptCompletion`)."""
        self._queue.put(_Accept(request_id))
        self._ensure_running()

    def set_retention_days(self, days: int) -> None:
        """Keep raw rows this many days (rollups are kept for good); applied by the next batch."""
        if days != self.retention_days:
            self.retention_days = days
            self._pruned_at = float("-inf")

    def close(self) -> None:
        """Write what is queued and stop the writer thread."""
        self._queue.put(None)
        self._wake.set()
        self._thread.join(timeout=10)
        self._closed = True

    # The writer thread ---------------------------------------------------------------------

    def _run(self) -> None:
        db: sqlite3.Connection | None = None
        delay = RETRY_FIRST_SECONDS
        try:
            while True:
                try:
                    if db is None:
                        db = connect(self._database)
                    if not self._write_next_batch(db):
                        return
                    delay = RETRY_FIRST_SECONDS
                    self.last_error = None
                except Exception as exc:
                    self._failed(exc)
                    if db is not None:
                        with contextlib.suppress(Exception):
                            db.close()
                        db = None
                    if None in self._batch:
                        return  # closing: what could not be written is given up
                    self._wake.wait(delay)
                    delay = min(delay * 2, RETRY_MAX_SECONDS)
        finally:
            if db is not None:
                db.close()

    def _take(self) -> None:
        if not self._batch:
            self._batch.append(self._queue.get())
        while len(self._batch) < MAX_BATCH:
            try:
                self._batch.append(self._queue.get_nowait())
            except queue.Empty:
                break

    def _write_next_batch(self, db: sqlite3.Connection) -> bool:
        """Write one batch; False once the recorder is closing."""
        self._take()
        rows = [asdict(item) for item in self._batch if isinstance(item, UsageRow)]
        accepts = [item.request_id for item in self._batch if isinstance(item, _Accept)]
        if rows or accepts:
            db.execute("BEGIN IMMEDIATE")
            try:
                self._insert(db, rows)
                for request_id in accepts:
                    rollups.mark_accepted(db, request_id)
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        batch, self._batch = self._batch, []
        if rows:
            self._maintain(db)
        for item in batch:
            if isinstance(item, _Flush):
                item.written = True
                item.done.set()
        return None not in batch

    def _insert(self, db: sqlite3.Connection, rows: list[dict[str, object]]) -> None:
        good = []
        for values in rows:
            problem = row_problem(values)
            if problem is None:
                good.append(values)
            else:
                self._skip(values, problem)
        db.execute("SAVEPOINT usage_rows")
        try:
            db.executemany(_INSERT, good)
        except _BAD_ROW_ERRORS:
            # Undo the rows before the refused one, then insert one by one, skipping bad ones.
            db.execute("ROLLBACK TO usage_rows")
            for values in good:
                try:
                    db.execute(_INSERT, values)
                except _BAD_ROW_ERRORS as exc:
                    self._skip(values, str(exc))
        db.execute("RELEASE usage_rows")

    def _skip(self, values: dict[str, object], problem: str) -> None:
        self.skipped_rows += 1
        log.warning(
            "Skipped a usage row the database cannot store (%s): task %s, model %s",
            problem,
            values.get("task"),
            values.get("model_ref"),
        )

    def _maintain(self, db: sqlite3.Connection) -> None:
        """Roll up new rows and prune expired ones; a failure here loses nothing (retried)."""
        try:
            rollups.roll_up_pending(db)
            if time.monotonic() - self._pruned_at > PRUNE_INTERVAL_SECONDS:
                self._pruned_at = time.monotonic()
                pruned = rollups.prune(db, self.retention_days)
                if pruned:
                    log.info("Pruned %d usage rows older than %d days", pruned, self.retention_days)
        except Exception as exc:  # the raw rows are committed; the next batch tries again
            log.warning("Usage rollup deferred: %s", exc)

    def _failed(self, exc: Exception) -> None:
        message = (
            str(exc) if isinstance(exc, StorageError) else describe_failure(self._database, exc)
        )
        if message != self.last_error:
            log.error("Usage rows are waiting to be written: %s", message)
        self.last_error = message
        with contextlib.suppress(queue.Empty):
            while True:
                self._batch.append(self._queue.get_nowait())
        kept: list[_Item] = []
        for item in self._batch:
            if isinstance(item, _Flush):
                item.done.set()  # not written: tell the waiter now rather than at its timeout
            else:
                kept.append(item)
        rows = [item for item in kept if isinstance(item, UsageRow)]
        excess = len(rows) - MAX_PENDING_ROWS
        if excess > 0:
            oldest = set(map(id, rows[:excess]))
            kept = [item for item in kept if id(item) not in oldest]
            self.dropped_rows += excess
            log.error("Dropped %d unwritten usage rows (the database is unusable)", excess)
        self._batch = kept
