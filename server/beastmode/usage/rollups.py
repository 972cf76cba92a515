"""Daily usage rollups in SQLite: rolling raw rows up, pruning expired ones, reading totals.

Raw rows up to `meta.usage_rollup_cursor` are counted in `usage_daily`; the usage writer rolls
up the rest after each batch. Raw rows older than the retention period are deleted only once
rolled up, so the report's totals never drop. Reading the report touches the rollups (a few
rows per day) plus the few raw rows not rolled up yet, never every row.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta

from beastmode.usage.totals import (
    ATTEMPT_COLUMNS,
    SUMMED_COLUMNS,
    Attempt,
    GroupKey,
    Totals,
    roll_up,
)

ROLLUP_CHUNK = 20_000
PRUNE_CHUNK = 5_000
_IN_LIST = 500
_CURSOR_KEY = "usage_rollup_cursor"


def rollup_cursor(db: sqlite3.Connection) -> int:
    """The id of the last raw row counted in the rollups."""
    row = db.execute("SELECT value FROM meta WHERE key = ?", (_CURSOR_KEY,)).fetchone()
    return int(row[0]) if row else 0


def _attempts(
    db: sqlite3.Connection, where: str, params: Sequence[object], limit: int = -1
) -> list[Attempt]:
    rows = db.execute(
        f"SELECT {ATTEMPT_COLUMNS} FROM usage WHERE {where} ORDER BY id LIMIT ?", [*params, limit]
    )
    return [Attempt(*row) for row in rows]


def _earlier_requests(
    db: sqlite3.Connection, attempts: Iterable[Attempt], before_id: int
) -> dict[str, tuple[int, bool]]:
    """(attempts, answered) of these attempts' requests among rows with id <= before_id."""
    wanted = sorted({a.request_id for a in attempts if a.request_id})
    found: dict[str, tuple[int, bool]] = {}
    for start in range(0, len(wanted), _IN_LIST):
        chunk = wanted[start : start + _IN_LIST]
        marks = ", ".join("?" * len(chunk))
        for request_id, count, answered in db.execute(
            f"SELECT request_id, COUNT(*), MAX(outcome = 'ok') FROM usage "
            f"WHERE request_id IN ({marks}) AND id <= ? GROUP BY request_id",
            [*chunk, before_id],
        ):
            found[request_id] = (int(count), bool(answered))
    return found


def roll_up_pending(db: sqlite3.Connection, chunk: int = ROLLUP_CHUNK) -> int:
    """Roll up raw rows past the cursor, `chunk` rows per transaction; returns how many."""
    done = 0
    while True:
        db.execute("BEGIN IMMEDIATE")
        try:
            cursor = rollup_cursor(db)
            attempts = _attempts(db, "id > ?", (cursor,), chunk)
            if attempts:
                groups = roll_up(attempts, _earlier_requests(db, attempts, cursor))
                for key, totals in groups.items():
                    _add_to_rollup(db, key, totals)
                db.execute(
                    "UPDATE meta SET value = ? WHERE key = ?", (attempts[-1].id, _CURSOR_KEY)
                )
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        done += len(attempts)
        if len(attempts) < chunk:
            return done


def _add_to_rollup(db: sqlite3.Connection, key: GroupKey, totals: Totals) -> None:
    stored = db.execute(
        f"SELECT {', '.join(SUMMED_COLUMNS)}, latency_histogram FROM usage_daily "
        "WHERE day = ? AND task = ? AND model_ref = ? AND model_kind = ?",
        key,
    ).fetchone()
    if stored is not None:
        totals.merge(
            Totals.from_stored(dict(zip(SUMMED_COLUMNS, stored, strict=False)), stored[-1])
        )
    columns = ("day", "task", "model_ref", "model_kind", *SUMMED_COLUMNS, "latency_histogram")
    values = [*key, *(getattr(totals, name) for name in SUMMED_COLUMNS), totals.histogram_json()]
    db.execute(
        f"INSERT OR REPLACE INTO usage_daily ({', '.join(columns)}) "
        f"VALUES ({', '.join('?' * len(columns))})",
        values,
    )


def mark_accepted(db: sqlite3.Connection, request_id: str) -> None:
    """Count the answer of `request_id` as accepted, in its raw row and, if rolled up, its day."""
    row = db.execute(
        "SELECT id, accepted, ts, task, model_ref, model_kind FROM usage WHERE id = "
        "(SELECT MAX(id) FROM usage WHERE request_id = ? AND outcome = 'ok')",
        (request_id,),
    ).fetchone()
    if row is None or row[1]:
        return
    row_id, _, ts, task, model_ref, model_kind = row
    db.execute("UPDATE usage SET accepted = 1 WHERE id = ?", (row_id,))
    if row_id <= rollup_cursor(db):
        db.execute(
            "UPDATE usage_daily SET accepted = accepted + 1 "
            "WHERE day = ? AND task = ? AND model_ref = ? AND model_kind = ?",
            (ts[:10], task, model_ref, model_kind),
        )


def prune(db: sqlite3.Connection, retention_days: int, now: datetime | None = None) -> int:
    """Delete rolled-up raw rows older than `retention_days`, in small transactions."""
    cutoff = ((now or datetime.now(UTC)) - timedelta(days=retention_days)).isoformat()
    deleted = 0
    while True:
        db.execute("BEGIN IMMEDIATE")
        try:
            count = db.execute(
                "DELETE FROM usage WHERE id IN (SELECT id FROM usage WHERE ts < ? AND id <= ? "
                "ORDER BY ts LIMIT ?)",
                (cutoff, rollup_cursor(db), PRUNE_CHUNK),
            ).rowcount
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        deleted += count
        if count < PRUNE_CHUNK:
            return deleted


def totals_since(db: sqlite3.Connection, since: str | None) -> dict[GroupKey, Totals]:
    """Usage totals per group at or after `since` (an ISO date or timestamp; None = all)."""
    cursor = rollup_cursor(db)
    groups: dict[GroupKey, Totals] = {}
    since_day = since[:10] if since else None
    partial_day = since is not None and len(since) > 10
    day_clause = ""
    params: list[object] = []
    if since_day is not None:
        day_clause = " WHERE day > ?" if partial_day else " WHERE day >= ?"
        params.append(since_day)
    for row in db.execute(
        f"SELECT day, task, model_ref, model_kind, {', '.join(SUMMED_COLUMNS)}, "
        f"latency_histogram FROM usage_daily{day_clause}",
        params,
    ):
        key: GroupKey = (row[0], row[1], row[2], row[3])
        summed = dict(zip(SUMMED_COLUMNS, row[4:-1], strict=True))
        _add(groups, {key: Totals.from_stored(summed, row[-1])})
    if partial_day and since is not None and since_day is not None:
        # The first day, from `since` on: rolled-up raw rows of that day (if still kept).
        next_day = (date.fromisoformat(since_day) + timedelta(days=1)).isoformat()
        # `+id`: find that day's rows by the ts index, not by walking every id up to the cursor.
        first = _attempts(db, "+id <= ? AND ts >= ? AND ts < ?", (cursor, since, next_day))
        _add(groups, roll_up(first, {}))
    # Rows written since the last rollup (normally none: the writer rolls up after each batch).
    pending = _attempts(
        db, "id > ?" + (" AND ts >= ?" if since else ""), [cursor, since][: 2 if since else 1]
    )
    if pending:
        _add(groups, roll_up(pending, _earlier_requests(db, pending, cursor)))
    return groups


def _add(groups: dict[GroupKey, Totals], more: dict[GroupKey, Totals]) -> None:
    for key, totals in more.items():
        if key in groups:
            groups[key].merge(totals)
        else:
            groups[key] = totals
