"""The usage report: custom vs provider share, cost per request, latency, error rates, savings.

`build_report` reads the usage table and returns the same object the `beastmode.usage` command
and `beastmode usage --json` return: `{summary, byModel, byTask, markdown}`.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any


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


def _percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return round(ordered[index], 1)


def _group_stats(rows: list[sqlite3.Row]) -> dict[str, Any]:
    attempts = len(rows)
    ok = [r for r in rows if r["outcome"] == "ok"]
    errors = sum(1 for r in rows if r["outcome"] == "error")
    latencies = [float(r["latency_ms"]) for r in ok]
    ttfts = [float(r["ttft_ms"]) for r in ok if r["ttft_ms"] is not None]
    cost = sum(float(r["cost_usd"]) for r in rows)
    baseline = sum(float(r["baseline_cost_usd"]) for r in ok)
    return {
        "attempts": attempts,
        "ok": len(ok),
        "errors": errors,
        "cancelled": sum(1 for r in rows if r["outcome"] == "cancelled"),
        "errorRate": round(errors / attempts, 4) if attempts else 0.0,
        "avgLatencyMs": round(sum(latencies) / len(latencies), 1) if latencies else None,
        "p50LatencyMs": _percentile(latencies, 0.5),
        "p95LatencyMs": _percentile(latencies, 0.95),
        "avgTtftMs": round(sum(ttfts) / len(ttfts), 1) if ttfts else None,
        "promptTokens": sum(int(r["prompt_tokens"]) for r in rows),
        "completionTokens": sum(int(r["completion_tokens"]) for r in rows),
        "costUsd": round(cost, 6),
        "baselineCostUsd": round(baseline, 6),
        "savingsUsd": round(baseline - cost, 6),
        "accepted": sum(int(r["accepted"]) for r in rows),
    }


def build_report(db: sqlite3.Connection, since: str | None = None) -> UsageReport:
    """Summarise usage rows at or after `since` (an ISO date or timestamp; all rows if None)."""
    db.row_factory = sqlite3.Row
    query = "SELECT * FROM usage" + (" WHERE ts >= ?" if since else "") + " ORDER BY id"
    rows = db.execute(query, (since,) if since else ()).fetchall()
    db.row_factory = None

    requests: dict[str, list[sqlite3.Row]] = {}
    for row in rows:
        requests.setdefault(row["request_id"] or f"row-{row['id']}", []).append(row)
    answered = [
        next((r for r in attempts if r["outcome"] == "ok"), None) for attempts in requests.values()
    ]
    answered_rows = [r for r in answered if r is not None]
    by_kind = {
        kind: sum(1 for r in answered_rows if r["model_kind"] == kind)
        for kind in ("custom", "provider", "local")
    }
    total = _group_stats(rows)
    summary: dict[str, Any] = {
        "since": since,
        "requests": len(requests),
        "answered": len(answered_rows),
        "fallbacks": sum(
            1
            for attempts in requests.values()
            if len(attempts) > 1 and any(r["outcome"] == "ok" for r in attempts)
        ),
        "customShare": _share(by_kind["custom"], len(answered_rows)),
        "providerShare": _share(by_kind["provider"], len(answered_rows)),
        "localShare": _share(by_kind["local"], len(answered_rows)),
        "costPerRequestUsd": round(total["costUsd"] / len(requests), 6) if requests else 0.0,
        **total,
    }
    summary["savingsPct"] = (
        round(100 * summary["savingsUsd"] / summary["baselineCostUsd"], 1)
        if summary["baselineCostUsd"]
        else None
    )
    by_model = [
        {"model": ref, "kind": group[0]["model_kind"], **_group_stats(group)}
        for ref, group in sorted(_group(rows, "model_ref").items())
    ]
    by_task = [
        {"task": task, **_group_stats(group)}
        for task, group in sorted(_group(rows, "task").items())
    ]
    return UsageReport(summary, by_model, by_task, render_markdown(summary, by_model, by_task))


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _group(rows: list[sqlite3.Row], column: str) -> dict[str, list[sqlite3.Row]]:
    groups: dict[str, list[sqlite3.Row]] = {}
    for row in rows:
        groups.setdefault(row[column], []).append(row)
    return groups


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
