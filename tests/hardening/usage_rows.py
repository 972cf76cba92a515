"""A registry with many usage rows, made fast: raw rows and their daily rollups written by SQL.

Rolling a million rows up through the usage writer takes tens of seconds of CPU (it happens once,
in the background, on an upgrade); tests about the report only need the resulting tables. Every
attempt is its own request here, so the rollups are plain GROUP BYs; `roll_up_pending` produces
the same rollups (a test checks it on a small table).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from beastmode.usage.totals import BUCKET_RATIO, latency_bucket

LATENCIES = [round(8 * BUCKET_RATIO**k * 1.003, 3) for k in range(256)]
TASKS = ("completion",) * 8 + ("chat", "refactor", "tests", "feature")
MODELS = (
    ("custom:a", "custom"),
    ("custom:b", "custom"),
    ("local", "local"),
    ("openai:x", "provider"),
)


def fill_usage(database: Path, count: int, *, days: int = 80, rollups: bool = True) -> None:
    """Add `count` usage rows spread over the last `days` days (and their rollups)."""
    db = sqlite3.connect(database, isolation_level=None)
    try:
        db.execute("CREATE TEMP TABLE lat (k INTEGER PRIMARY KEY, latency REAL, bucket INTEGER)")
        db.executemany(
            "INSERT INTO lat VALUES (?, ?, ?)",
            [(k, value, latency_bucket(value)) for k, value in enumerate(LATENCIES)],
        )
        db.execute(
            "CREATE TEMP TABLE names (k INTEGER PRIMARY KEY, task TEXT, model TEXT, kind TEXT)"
        )
        db.executemany(
            "INSERT INTO names VALUES (?, ?, ?, ?)",
            [(k, TASKS[k % 12], *MODELS[k % 4]) for k in range(12)],
        )
        start = (datetime.now(UTC) - timedelta(days=days)).timestamp()
        first_id = (db.execute("SELECT COALESCE(MAX(id), 0) FROM usage").fetchone()[0]) + 1
        db.execute("BEGIN")
        db.execute(
            """
            INSERT INTO usage (ts, request_id, task, model_ref, model_kind, outcome, latency_ms,
                               ttft_ms, prompt_tokens, completion_tokens, cost_usd,
                               baseline_cost_usd)
            WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i + 1 < :count)
            SELECT strftime('%Y-%m-%dT%H:%M:%f', :start + i * :span / :count, 'unixepoch')
                       || '+00:00',
                   'bulk-' || i, names.task, names.model, names.kind,
                   CASE WHEN i % 7 = 0 THEN 'error' ELSE 'ok' END,
                   lat.latency, 40.0, 300, 20, 0.001, 0.01
            FROM c JOIN names ON names.k = c.i % 12 JOIN lat ON lat.k = (c.i * 7919) % 256
            """,
            {"count": count, "start": start, "span": days * 86400.0},
        )
        if rollups:
            _roll_up(db, first_id)
        db.execute("COMMIT")
    finally:
        db.close()


def _roll_up(db: sqlite3.Connection, first_id: int) -> None:
    db.execute(
        """
        INSERT INTO usage_daily (day, task, model_ref, model_kind, requests, answered, fallbacks,
                                 attempts, ok, errors, cancelled, latency_sum_ms, ttft_sum_ms,
                                 ttft_count, prompt_tokens, completion_tokens, cost_usd,
                                 baseline_cost_usd, accepted, latency_histogram)
        WITH groups AS (
            SELECT substr(ts, 1, 10) AS day, task, model_ref, model_kind, COUNT(*) AS attempts,
                   SUM(outcome = 'ok') AS ok, SUM(outcome = 'error') AS errors,
                   TOTAL(CASE WHEN outcome = 'ok' THEN latency_ms END) AS latency_sum,
                   TOTAL(CASE WHEN outcome = 'ok' THEN ttft_ms END) AS ttft_sum,
                   SUM(prompt_tokens) AS prompt, SUM(completion_tokens) AS completion,
                   TOTAL(cost_usd) AS cost,
                   TOTAL(CASE WHEN outcome = 'ok' THEN baseline_cost_usd END) AS baseline
            FROM usage WHERE id >= :first GROUP BY 1, 2, 3, 4
        ),
        buckets AS (
            SELECT substr(ts, 1, 10) AS day, task, model_ref, model_kind, lat.bucket AS bucket,
                   COUNT(*) AS n
            FROM usage JOIN lat ON lat.latency = usage.latency_ms
            WHERE id >= :first AND outcome = 'ok' GROUP BY 1, 2, 3, 4, 5
        ),
        histograms AS (
            SELECT day, task, model_ref, model_kind,
                   json_group_array(json_array(bucket, n)) AS histogram
            FROM (SELECT * FROM buckets ORDER BY bucket) GROUP BY 1, 2, 3, 4
        )
        SELECT g.day, g.task, g.model_ref, g.model_kind, g.attempts, g.ok, 0, g.attempts, g.ok,
               g.errors, 0, g.latency_sum, g.ttft_sum, g.ok, g.prompt, g.completion, g.cost,
               g.baseline, 0, COALESCE(h.histogram, '[]')
        FROM groups g LEFT JOIN histograms h USING (day, task, model_ref, model_kind)
        """,
        {"first": first_id},
    )
    db.execute(
        "UPDATE meta SET value = (SELECT MAX(id) FROM usage) WHERE key = 'usage_rollup_cursor'"
    )
