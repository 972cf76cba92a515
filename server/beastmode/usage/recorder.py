"""Recording usage rows without blocking the request path.

`record()` only appends to a queue; a daemon thread with its own SQLite connection writes rows in
batches. `flush()` waits until everything queued so far is on disk (reports and tests use it).
"""

from __future__ import annotations

import queue
import sqlite3
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from beastmode.registry.store import connect

DEFAULT_BASELINE_PRICE_PER_1K = 0.03


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
    done: threading.Event


_COLUMNS = tuple(UsageRow.__dataclass_fields__)
_INSERT = (
    f"INSERT INTO usage ({', '.join(_COLUMNS)}) VALUES ({', '.join(':' + c for c in _COLUMNS)})"
)


class UsageRecorder:
    """Queues usage rows and writes them to the registry database in a background thread."""

    def __init__(self, database: Path) -> None:
        self._database = database
        self._queue: queue.Queue[UsageRow | _Accept | threading.Event | None] = queue.Queue()
        self._thread = threading.Thread(target=self._write_loop, name="usage-writer", daemon=True)
        self._thread.start()

    def record(self, row: UsageRow) -> None:
        """Queue one row; never blocks on the database."""
        self._queue.put(row)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every row queued before this call is written."""
        done = threading.Event()
        self._queue.put(done)
        return done.wait(timeout)

    def mark_accepted(self, request_id: str) -> None:
        """Count a shown suggestion as accepted (`beastmode.didAcceptCompletion`)."""
        done = threading.Event()
        self._queue.put(_Accept(request_id, done))

    def close(self) -> None:
        """Write what is queued and stop the writer thread."""
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _write_loop(self) -> None:
        db = connect(self._database)
        try:
            while True:
                item = self._queue.get()
                batch: list[object] = [item]
                while True:
                    try:
                        batch.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                if not self._write_batch(db, batch):
                    return
        finally:
            db.close()

    def _write_batch(self, db: sqlite3.Connection, batch: list[object]) -> bool:
        rows = [asdict(item) for item in batch if isinstance(item, UsageRow)]
        accepts = [item.request_id for item in batch if isinstance(item, _Accept)]
        if rows or accepts:
            db.execute("BEGIN IMMEDIATE")
            db.executemany(_INSERT, rows)
            for request_id in accepts:
                db.execute(
                    "UPDATE usage SET accepted = 1 WHERE id = (SELECT MAX(id) FROM usage "
                    "WHERE request_id = ? AND outcome = 'ok')",
                    (request_id,),
                )
            db.execute("COMMIT")
        keep_going = True
        for item in batch:
            if isinstance(item, threading.Event):
                item.set()
            elif isinstance(item, _Accept):
                item.done.set()
            elif item is None:
                keep_going = False
        return keep_going
