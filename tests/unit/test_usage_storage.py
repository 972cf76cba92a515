"""The usage writer under bad rows and a dead thread; rollups, retention and the SQL report."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from beastmode.registry import Registry
from beastmode.registry.store import connect
from beastmode.settings import parse_settings
from beastmode.usage import UsageRecorder, UsageRow, build_report
from beastmode.usage import recorder as recorder_module
from beastmode.usage.rollups import prune, roll_up_pending
from beastmode.usage.totals import Totals, latency_bucket, row_problem
from tests.hardening.usage_rows import fill_usage


def rows_in(registry: Registry) -> list[tuple[Any, ...]]:
    with sqlite3.connect(registry.path) as db:
        return db.execute("SELECT task, model_ref, prompt_tokens FROM usage ORDER BY id").fetchall()


def test_writer_survives_an_absurd_token_count_and_keeps_writing(registry: Registry) -> None:
    usage = UsageRecorder(registry.path)
    try:
        usage.record(UsageRow("completion", "custom:a", "custom", "ok", 10.0, prompt_tokens=1))
        usage.record(
            UsageRow("completion", "custom:bad", "custom", "ok", 10.0, prompt_tokens=10**20)
        )
        usage.record(UsageRow("completion", "custom:b", "custom", "ok", 10.0, prompt_tokens=2))
        started = time.monotonic()
        assert usage.flush(timeout=10)
        usage.record(UsageRow("chat", "custom:c", "custom", "ok", 10.0, prompt_tokens=3))
        assert usage.flush(timeout=10)
        assert time.monotonic() - started < 5
        assert rows_in(registry) == [
            ("completion", "custom:a", 1),
            ("completion", "custom:b", 2),
            ("chat", "custom:c", 3),
        ]
        assert usage.skipped_rows == 1
        with registry.read_connection() as db:
            report = build_report(db)
        assert report.summary["attempts"] == 3
        assert report.summary["promptTokens"] == 6
    finally:
        usage.close()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_writer_thread_that_died_is_restarted_without_losing_its_rows(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = UsageRecorder._write_next_batch
    deaths = []

    def dies_once(self: UsageRecorder, db: sqlite3.Connection) -> bool:
        if not deaths:
            deaths.append(1)
            self._take()  # the row is taken off the queue, then the thread dies
            raise SystemExit("simulated thread death")
        return original(self, db)

    monkeypatch.setattr(UsageRecorder, "_write_next_batch", dies_once)
    usage = UsageRecorder(registry.path)
    try:
        usage.record(UsageRow("completion", "custom:a", "custom", "ok", 10.0, prompt_tokens=1))
        deadline = time.monotonic() + 10
        while usage._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        usage.record(UsageRow("completion", "custom:b", "custom", "ok", 10.0, prompt_tokens=2))
        assert usage.flush(timeout=10)
        assert rows_in(registry) == [("completion", "custom:a", 1), ("completion", "custom:b", 2)]
    finally:
        usage.close()


def test_rows_wait_in_memory_while_the_database_is_unusable(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recorder_module, "RETRY_FIRST_SECONDS", 0.05)
    failures = []

    def flaky_connect(path: Path) -> sqlite3.Connection:
        if len(failures) < 2:
            failures.append(1)
            raise sqlite3.OperationalError("database or disk is full")
        return connect(path)

    monkeypatch.setattr(recorder_module, "connect", flaky_connect)
    usage = UsageRecorder(registry.path)
    try:
        usage.record(UsageRow("completion", "custom:a", "custom", "ok", 10.0))
        deadline = time.monotonic() + 10
        while not usage.flush(timeout=1) and time.monotonic() < deadline:
            pass
        assert rows_in(registry) == [("completion", "custom:a", 0)]
        assert usage.last_error is None
    finally:
        usage.close()


def test_row_problem_names_what_sqlite_cannot_store() -> None:
    assert row_problem({"prompt_tokens": 10**20}) is not None
    assert row_problem({"cost_usd": float("nan")}) is not None
    assert row_problem({"prompt_tokens": 5, "cost_usd": 0.1, "ttft_ms": None}) is None


def test_percentiles_from_the_histogram_are_within_two_percent() -> None:
    totals = Totals()
    values = [float(v) for v in range(1, 1001)]
    for value in values:
        totals.latency_histogram[latency_bucket(value)] += 1
    p50, p95 = totals.percentile(0.5), totals.percentile(0.95)
    assert p50 is not None and abs(p50 - 500) / 500 < 0.02
    assert p95 is not None and abs(p95 - 950) / 950 < 0.02


def _row(
    ts: str, request: str | None, model: str, kind: str, outcome: str, latency: float
) -> dict[str, Any]:
    return {
        "ts": ts,
        "request_id": request,
        "task": "completion",
        "model_ref": model,
        "model_kind": kind,
        "outcome": outcome,
        "latency_ms": latency,
        "prompt_tokens": 10,
        "completion_tokens": 5,
        "cost_usd": 0.01 if kind == "custom" else 0.0,
        "baseline_cost_usd": 0.05,
    }


def _insert(db: sqlite3.Connection, rows: list[dict[str, Any]]) -> None:
    columns = list(rows[0])
    db.executemany(
        f"INSERT INTO usage ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})",
        rows,
    )


def test_report_counts_requests_fallbacks_and_shares_from_rollups(registry: Registry) -> None:
    day = "2026-11-01T10:00:00.000+00:00"
    with registry.read_connection() as db:
        _insert(
            db,
            [
                _row(day, "r1", "custom:a", "custom", "error", 100),
                _row(day, "r1", "local", "local", "ok", 5),
                _row(day, "r2", "custom:a", "custom", "ok", 200),
                _row(day, None, "custom:a", "custom", "cancelled", 50),
            ],
        )
        assert roll_up_pending(db, chunk=2) == 4  # request r1 spans two rollup chunks
        # One more attempt of an already rolled-up request: not a new request.
        _insert(db, [_row(day, "r2", "custom:a", "custom", "error", 10)])
        summary = build_report(db).summary
    assert summary["requests"] == 3
    assert summary["answered"] == 2
    assert summary["fallbacks"] == 1
    assert summary["attempts"] == 5
    assert summary["errors"] == 2 and summary["cancelled"] == 1
    assert summary["customShare"] == 0.5 and summary["localShare"] == 0.5
    assert summary["avgLatencyMs"] == 102.5
    assert summary["costUsd"] == pytest.approx(0.04)


def test_expired_raw_rows_leave_the_report_totals_unchanged(registry: Registry) -> None:
    now = datetime.now(UTC)
    old = (now - timedelta(days=200)).isoformat()
    recent = (now - timedelta(days=1)).isoformat()
    with registry.read_connection() as db:
        _insert(
            db,
            [
                _row(old, "old", "custom:a", "custom", "ok", 40),
                _row(recent, "new", "custom:a", "custom", "ok", 60),
            ],
        )
        roll_up_pending(db)
        before = build_report(db).as_dict()
        assert prune(db, retention_days=90) == 1
        assert db.execute("SELECT COUNT(*) FROM usage").fetchone() == (1,)
        after = build_report(db).as_dict()
        recent_only = build_report(db, (now - timedelta(days=30)).date().isoformat()).summary
    assert after == before
    assert before["summary"]["requests"] == 2
    assert recent_only["requests"] == 1


def test_report_leaves_a_shared_connection_as_it_was(registry: Registry) -> None:
    with registry.read_connection() as db:
        factory = db.row_factory
        build_report(db, "2026-01-01T12:00:00")
        assert db.row_factory is factory


def test_bulk_usage_fixture_matches_what_the_writer_rolls_up(tmp_path: Path) -> None:
    reports = []
    for rolled_by_sql in (True, False):
        home = tmp_path / f"home-{rolled_by_sql}"
        Registry.open({"BEASTMODE_HOME": str(home)}).close()
        fill_usage(home / "registry.sqlite3", 2000, rollups=rolled_by_sql)
        db = connect(home / "registry.sqlite3")
        if not rolled_by_sql:
            roll_up_pending(db)
        reports.append(build_report(db).as_dict())
        db.close()
    assert reports[0]["summary"]["requests"] == 2000
    assert reports[0] == reports[1]


def test_report_on_a_million_rows_reads_rollups_not_rows(tmp_path: Path) -> None:
    home = tmp_path / "home"
    Registry.open({"BEASTMODE_HOME": str(home)}).close()
    fill_usage(home / "registry.sqlite3", 1_000_000)
    db = connect(home / "registry.sqlite3")
    try:
        timings = {}
        for since in (None, (datetime.now(UTC) - timedelta(days=7)).isoformat()):
            started = time.perf_counter()
            report = build_report(db, since)
            timings[since or "all"] = time.perf_counter() - started
        assert report.summary["requests"] > 0
        assert build_report(db).summary["requests"] == 1_000_000
    finally:
        db.close()
    print(
        f"usage report on 1M rows: {', '.join(f'{k}: {v * 1000:.0f} ms' for k, v in timings.items())}"
    )
    # Target 200 ms (see docs/BENCHMARKS.md); the bound is loose for busy CI machines.
    assert max(timings.values()) < 2.0


def test_a_row_the_database_refuses_is_skipped_and_the_others_written_once(
    registry: Registry,
) -> None:
    usage = UsageRecorder(registry.path)
    try:
        refused = UsageRow("completion", "custom:x", "custom", None, 1.0)  # type: ignore[arg-type]
        for row in (
            UsageRow("completion", "custom:a", "custom", "ok", 1.0, prompt_tokens=1),
            refused,
            UsageRow("completion", "custom:b", "custom", "ok", 1.0, prompt_tokens=2),
        ):
            usage.record(row)
        assert usage.flush(timeout=10)
        assert rows_in(registry) == [("completion", "custom:a", 1), ("completion", "custom:b", 2)]
        assert usage.skipped_rows == 1
    finally:
        usage.close()


def test_writer_prunes_rows_past_retention_and_the_report_keeps_them(registry: Registry) -> None:
    old = (datetime.now(UTC) - timedelta(days=40)).isoformat(timespec="milliseconds")
    usage = UsageRecorder(registry.path, retention_days=30)
    try:
        usage.record(UsageRow("completion", "custom:a", "custom", "ok", 10.0, ts=old))
        usage.record(UsageRow("completion", "custom:a", "custom", "ok", 30.0))
        assert usage.flush(timeout=10)
        with registry.read_connection() as db:
            kept = db.execute("SELECT latency_ms FROM usage").fetchall()
            summary = build_report(db).summary
    finally:
        usage.close()
    assert kept == [(30.0,)]
    assert summary["requests"] == 2 and summary["avgLatencyMs"] == 20.0


def test_retention_days_setting_is_validated() -> None:
    settings, problems = parse_settings({"usage": {"retentionDays": 30}})
    assert settings.usage.retention_days == 30 and not problems
    settings, problems = parse_settings({"usage": {"retentionDays": 0}})
    assert settings.usage.retention_days == 90
    assert problems and "usage.retentionDays" in problems[0]
