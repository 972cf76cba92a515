"""Usage totals per (day, task, model): what the daily rollups and the report are made of.

Pure: attempts in, totals out. Latencies are kept as a histogram of 2 % wide logarithmic
buckets, so percentiles come from a few hundred numbers instead of every row (within 1 %).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields

BUCKET_RATIO = 1.02
_LOG_RATIO = math.log(BUCKET_RATIO)
_SMALLEST_MS = 0.01
# SQLite's INTEGER range: a larger count (an absurd token figure) cannot be stored.
SQLITE_MAX_INTEGER = 2**63 - 1

GroupKey = tuple[str, str, str, str]  # day, task, model_ref, model_kind


@dataclass(frozen=True)
class Attempt:
    """The columns of one raw usage row that the totals need."""

    id: int
    ts: str
    request_id: str | None
    task: str
    model_ref: str
    model_kind: str
    outcome: str
    latency_ms: float
    ttft_ms: float | None
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    baseline_cost_usd: float
    accepted: int

    @property
    def request_key(self) -> str:
        """The request this attempt belongs to (a row without an id is a request of its own)."""
        return self.request_id if self.request_id else f"row-{self.id}"


ATTEMPT_COLUMNS = ", ".join(f.name for f in fields(Attempt))


@dataclass
class Totals:
    """Summed usage of one group (or of many groups merged)."""

    requests: int = 0
    answered: int = 0
    fallbacks: int = 0
    attempts: int = 0
    ok: int = 0
    errors: int = 0
    cancelled: int = 0
    latency_sum_ms: float = 0.0
    ttft_sum_ms: float = 0.0
    ttft_count: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    baseline_cost_usd: float = 0.0
    accepted: int = 0
    latency_histogram: Counter[int] = field(default_factory=Counter)

    def merge(self, other: Totals) -> None:
        """Add `other` into these totals."""
        for name in _SUMMED:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.latency_histogram.update(other.latency_histogram)

    def percentile(self, fraction: float) -> float | None:
        """The answered-latency percentile (0..1), from the histogram; None without answers."""
        count = sum(self.latency_histogram.values())
        if not count:
            return None
        rank = min(count - 1, max(0, round(fraction * (count - 1))))
        seen = 0
        for bucket in sorted(self.latency_histogram):
            seen += self.latency_histogram[bucket]
            if seen > rank:
                return round(bucket_latency(bucket), 1)
        return None  # pragma: no cover - the loop always reaches the rank

    def histogram_json(self) -> str:
        """The histogram as stored in `usage_daily.latency_histogram`: `[[bucket, count], ...]`."""
        return json.dumps(sorted(self.latency_histogram.items()), separators=(",", ":"))

    @classmethod
    def from_stored(cls, values: Mapping[str, object], histogram: str) -> Totals:
        """Totals from a `usage_daily` row's summed columns and its histogram JSON."""
        totals = cls(**{name: values[name] for name in _SUMMED})  # type: ignore[arg-type]
        totals.latency_histogram = Counter(dict(json.loads(histogram)))
        return totals


_SUMMED = tuple(f.name for f in fields(Totals) if f.name != "latency_histogram")
SUMMED_COLUMNS = _SUMMED


def latency_bucket(latency_ms: float) -> int:
    """The histogram bucket of a latency."""
    return round(math.log(max(latency_ms, _SMALLEST_MS)) / _LOG_RATIO)


def bucket_latency(bucket: int) -> float:
    """The latency a bucket stands for."""
    return float(BUCKET_RATIO**bucket)


def roll_up(
    attempts: Iterable[Attempt], earlier: Mapping[str, tuple[int, bool]]
) -> dict[GroupKey, Totals]:
    """Totals per (day, task, model_ref, model_kind) of `attempts` (in id order).

    `earlier` maps a request to (attempts already counted, whether one of them answered), for
    requests whose first attempts were rolled up before.
    """
    groups: dict[GroupKey, Totals] = {}
    state = dict(earlier)
    for attempt in attempts:
        key = (attempt.ts[:10], attempt.task, attempt.model_ref, attempt.model_kind)
        totals = groups.get(key)
        if totals is None:
            totals = groups[key] = Totals()
        before, answered_before = state.get(attempt.request_key, (0, False))
        answered = attempt.outcome == "ok"
        if before == 0:
            totals.requests += 1
        if answered and not answered_before:
            totals.answered += 1
            if before > 0:
                totals.fallbacks += 1
        state[attempt.request_key] = (before + 1, answered_before or answered)
        totals.attempts += 1
        totals.errors += attempt.outcome == "error"
        totals.cancelled += attempt.outcome == "cancelled"
        totals.prompt_tokens += attempt.prompt_tokens
        totals.completion_tokens += attempt.completion_tokens
        totals.cost_usd += attempt.cost_usd
        totals.accepted += attempt.accepted
        if answered:
            totals.ok += 1
            totals.latency_sum_ms += attempt.latency_ms
            totals.latency_histogram[latency_bucket(attempt.latency_ms)] += 1
            totals.baseline_cost_usd += attempt.baseline_cost_usd
            if attempt.ttft_ms is not None:
                totals.ttft_sum_ms += attempt.ttft_ms
                totals.ttft_count += 1
    return groups


def row_problem(values: Mapping[str, object]) -> str | None:
    """Why a usage row cannot be stored (an integer SQLite cannot hold, a NaN), or None."""
    for name, value in values.items():
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, int) and not -SQLITE_MAX_INTEGER <= value <= SQLITE_MAX_INTEGER:
            return f"{name} = {value} does not fit a 64-bit integer"
        if isinstance(value, float) and not math.isfinite(value):
            return f"{name} = {value} is not a finite number"
    return None
