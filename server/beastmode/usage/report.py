"""The usage report: custom vs provider share, cost per request, latency, error rates, savings.

`build_report` reads the daily rollups (and the few raw rows not rolled up yet) with SQL and
returns the same object the `beastmode.usage` command and `beastmode usage --json` return:
`{summary, byModel, byTask, markdown}`.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from beastmode.registry.failures import database_path, storage_errors
from beastmode.usage.rollups import totals_since
from beastmode.usage.totals import Totals


@dataclass(frozen=True)
class UsageReport:
    """The report as data plus its markdown rendering."""

    summary: dict[str, Any]
    by_model: list[dict[str, Any]]
    by_task: list[dict[str, Any]]
    markdown: str

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of the report (DESIGN.md: `{summary, byModel, markdown}`)."""
        return {
            "summary": self.summary,
            "byModel": self.by_model,
            "byTask": self.by_task,
            "markdown": self.markdown,
        }


def _group_stats(totals: Totals) -> dict[str, Any]:
    attempts = totals.attempts
    return {
        "attempts": attempts,
        "ok": totals.ok,
        "errors": totals.errors,
        "cancelled": totals.cancelled,
        "errorRate": round(totals.errors / attempts, 4) if attempts else 0.0,
        "avgLatencyMs": round(totals.latency_sum_ms / totals.ok, 1) if totals.ok else None,
        "p50LatencyMs": totals.percentile(0.5),
        "p95LatencyMs": totals.percentile(0.95),
        "avgTtftMs": (
            round(totals.ttft_sum_ms / totals.ttft_count, 1) if totals.ttft_count else None
        ),
        "promptTokens": totals.prompt_tokens,
        "completionTokens": totals.completion_tokens,
        "costUsd": round(totals.cost_usd, 6),
        "baselineCostUsd": round(totals.baseline_cost_usd, 6),
        "savingsUsd": round(totals.baseline_cost_usd - totals.cost_usd, 6),
        "accepted": totals.accepted,
    }


def build_report(db: sqlite3.Connection, since: str | None = None) -> UsageReport:
    """Summarise usage at or after `since` (an ISO date or timestamp; everything if None).

    Reads the daily rollups plus the raw rows not rolled up yet (SQL, not every row), so it
    stays fast on millions of rows and keeps counting days whose raw rows have expired.
    Raises StorageError when the database cannot be read.
    """
    with storage_errors(database_path(db)):
        groups = totals_since(db, since)
    total = Totals()
    by_model: dict[tuple[str, str], Totals] = {}
    by_task: dict[str, Totals] = {}
    answered_by_kind = dict.fromkeys(("custom", "provider", "local"), 0)
    for (_, task, model_ref, model_kind), totals in groups.items():
        by_model.setdefault((model_ref, model_kind), Totals()).merge(totals)
        by_task.setdefault(task, Totals()).merge(totals)
        if model_kind in answered_by_kind:
            answered_by_kind[model_kind] += totals.answered
    for totals in by_model.values():
        total.merge(totals)
    stats = _group_stats(total)
    requests, answered = total.requests, total.answered
    summary: dict[str, Any] = {
        "since": since,
        "requests": requests,
        "answered": answered,
        "fallbacks": total.fallbacks,
        "customShare": _share(answered_by_kind["custom"], answered),
        "providerShare": _share(answered_by_kind["provider"], answered),
        "localShare": _share(answered_by_kind["local"], answered),
        "costPerRequestUsd": round(stats["costUsd"] / requests, 6) if requests else 0.0,
        **stats,
    }
    summary["savingsPct"] = (
        round(100 * summary["savingsUsd"] / summary["baselineCostUsd"], 1)
        if summary["baselineCostUsd"]
        else None
    )
    model_rows = [
        {"model": ref, "kind": kind, **_group_stats(totals)}
        for (ref, kind), totals in sorted(by_model.items())
    ]
    task_rows = [{"task": task, **_group_stats(totals)} for task, totals in sorted(by_task.items())]
    return UsageReport(
        summary, model_rows, task_rows, render_markdown(summary, model_rows, task_rows)
    )


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _fmt(value: Any, suffix: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.4f}{suffix}" if suffix == "$" else f"{value:,.1f}{suffix}"
    return f"{value}{suffix}"


def _money(value: float) -> str:
    return f"${value:,.4f}"


def render_markdown(
    summary: dict[str, Any], by_model: list[dict[str, Any]], by_task: list[dict[str, Any]]
) -> str:
    """The report as markdown tables (also what `beastmode usage` prints)."""
    since = f" since {summary['since']}" if summary["since"] else ""
    savings_pct = summary["savingsPct"]
    lines = [
        f"# BEAST MODE usage{since}",
        "",
        f"- Requests: {summary['requests']} ({summary['answered']} answered, "
        f"{summary['fallbacks']} after a fallback)",
        f"- Share of answers: custom {summary['customShare']:.0%}, provider "
        f"{summary['providerShare']:.0%}, local {summary['localShare']:.0%}",
        f"- Cost: {_money(summary['costUsd'])} ({_money(summary['costPerRequestUsd'])} per "
        f"request); at provider prices {_money(summary['baselineCostUsd'])}; saved "
        f"{_money(summary['savingsUsd'])}" + (f" ({savings_pct:.1f}%)" if savings_pct else ""),
        f"- Latency: p50 {_fmt(summary['p50LatencyMs'], ' ms')}, p95 "
        f"{_fmt(summary['p95LatencyMs'], ' ms')}; error rate {summary['errorRate']:.1%}",
        "",
    ]
    lines += _table(
        [
            "Model",
            "Kind",
            "Attempts",
            "OK",
            "Errors",
            "Error rate",
            "p50 ms",
            "p95 ms",
            "Tokens",
            "Cost",
            "Saved",
        ],
        [
            [
                m["model"],
                m["kind"],
                m["attempts"],
                m["ok"],
                m["errors"],
                f"{m['errorRate']:.1%}",
                _fmt(m["p50LatencyMs"]),
                _fmt(m["p95LatencyMs"]),
                m["promptTokens"] + m["completionTokens"],
                _money(m["costUsd"]),
                _money(m["savingsUsd"]),
            ]
            for m in by_model
        ],
    )
    lines.append("")
    lines += _table(
        ["Task", "Attempts", "OK", "Errors", "p50 ms", "Cost", "Accepted"],
        [
            [
                t["task"],
                t["attempts"],
                t["ok"],
                t["errors"],
                _fmt(t["p50LatencyMs"]),
                _money(t["costUsd"]),
                t["accepted"],
            ]
            for t in by_task
        ],
    )
    return "\n".join(lines) + "\n"


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    if not rows:
        return ["_No usage recorded yet._"]
    cells = [header, *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    out = ["| " + " | ".join(c.ljust(w) for c, w in zip(header, widths, strict=True)) + " |"]
    out.append("| " + " | ".join("-" * w for w in widths) + " |")
    for row in cells[1:]:
        out.append("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    return out
