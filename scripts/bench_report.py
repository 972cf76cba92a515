"""Turn benchmark samples into the README's table (measured value and PASS/MISS per row)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from bench_documents import DocumentCosts
from bench_lsp import CloseSamples, StartupRun, TypedThroughRun, TypingRun


@dataclass(frozen=True)
class Row:
    """One line of the table."""

    measure: str
    target: str
    measured: str
    passed: bool

    def markdown(self) -> str:
        """The row as a markdown table line."""
        verdict = "PASS" if self.passed else "**MISS**"
        return f"| {self.measure} | {self.target} | {self.measured} | {verdict} |"


HEADER = "| measure | target | measured | result |\n| --- | --- | --- | --- |"


def ms(seconds: float) -> str:
    """Seconds as milliseconds, with precision that suits the size."""
    value = seconds * 1000
    if value < 0.1:
        return f"{value:.4f} ms"
    if value < 10:
        return f"{value:.2f} ms"
    return f"{value:.0f} ms"


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (`fraction` in 0..1)."""
    ordered = sorted(values)
    rank = max(1, round(fraction * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def median(values: Sequence[float]) -> float:
    """The median."""
    return statistics.median(values)


def typing_row(runs: list[TypingRun]) -> tuple[Row, list[str]]:
    """Upstream requests for a burst of 20 keystrokes; the last answer must fit the final text."""
    counts = [r.upstream_requests for r in runs]
    matched = sum(r.final_suggestion == r.expected for r in runs)
    measured = (
        f"{median(counts):g} (median of {len(runs)} runs, max {max(counts)}); last suggestion "
        f"matched the final text in {matched}/{len(runs)}"
    )
    details = [
        f"run {i + 1}: {r.upstream_requests} upstream, last answer {r.final_suggestion!r} "
        f"(expected {r.expected!r}), {r.non_empty_answers} non-empty answers, mean keystroke "
        f"interval {ms(r.mean_interval_s)} (max {ms(r.max_interval_s)})"
        for i, r in enumerate(runs)
    ]
    row = Row(
        "upstream requests for 20 keystrokes typed 40 ms apart",
        "<= 2, and the last suggestion matches the final text",
        measured,
        median(counts) <= 2 and matched == len(runs),
    )
    return row, details


def typed_through_row(runs: list[TypedThroughRun]) -> tuple[Row, list[str]]:
    """Upstream requests while typing through a shown suggestion."""
    counts = [r.upstream_requests for r in runs]
    right = all(r.all_answers_right for r in runs)
    answers = [s for r in runs for s in r.answer_seconds]
    measured = (
        f"{median(counts):g} (median of {len(runs)} runs, max {max(counts)}); every answer the "
        f"rest of the suggestion: {'yes' if right else 'no'}; answer p50 "
        f"{ms(percentile(answers, 0.5))}, p99 {ms(percentile(answers, 0.99))}"
    )
    details = [
        f"run {i + 1}: {r.upstream_requests} upstream, answers right: {r.all_answers_right}"
        for i, r in enumerate(runs)
    ]
    row = Row(
        "upstream requests while typing 10 characters of a shown suggestion",
        "0",
        measured,
        max(counts) == 0 and right,
    )
    return row, details


def close_row(samples: CloseSamples) -> tuple[Row, list[str]]:
    """Upstream close after a superseding request or a `$/cancelRequest`."""
    sup, can = median(samples.superseded), median(samples.cancelled)
    measured = (
        f"superseded {ms(sup)} (max {ms(max(samples.superseded))}); cancelled {ms(can)} "
        f"(max {ms(max(samples.cancelled))}); medians of {len(samples.superseded)} each"
    )
    details = [
        "superseded: " + ", ".join(ms(s) for s in samples.superseded),
        "cancelled: " + ", ".join(ms(s) for s in samples.cancelled),
        f"every upstream call ended by the client, old request empty, cancel -32800: "
        f"{samples.all_disconnected}",
    ]
    row = Row(
        "superseded or cancelled request: upstream connection closed after",
        "<= 10 ms",
        measured,
        sup <= 0.010 and can <= 0.010 and samples.all_disconnected,
    )
    return row, details


def documents_row(costs: DocumentCosts) -> tuple[Row, list[str]]:
    """One-character change and offset lookup on a 100k-line document, vs pygls."""
    change, offset = median(costs.ours_change), median(costs.ours_offset)
    measured = (
        f"{ms(change)}; {ms(offset)} (pygls 2.1.1 TextDocument: {ms(median(costs.pygls_change))}; "
        f"{ms(median(costs.pygls_offset))})"
    )
    details = [
        f"text: {costs.text_bytes / 1e6:.1f} MB, 100,000 lines",
        f"ours: change p50 {ms(change)} p99 {ms(percentile(costs.ours_change, 0.99))} "
        f"(n={len(costs.ours_change)}); offset p50 {ms(offset)} p99 "
        f"{ms(percentile(costs.ours_offset, 0.99))}; line(i) p50 {ms(median(costs.ours_line))}",
        f"pygls: change p50 {ms(median(costs.pygls_change))} (n={len(costs.pygls_change)}); "
        f"offset p50 {ms(median(costs.pygls_offset))}; lines[i] p50 "
        f"{ms(median(costs.pygls_line))}",
    ]
    row = Row(
        "one-character change on a 100k-line document; offset lookup",
        "<= 0.5 ms; <= 0.1 ms",
        measured,
        change <= 0.0005 and offset <= 0.0001,
    )
    return row, details


def streaming_row(samples: list[float]) -> tuple[Row, list[str]]:
    """Time from the newline chunk leaving the fake to the client holding the answer."""
    value = median(samples)
    measured = (
        f"{ms(value)} after the newline chunk (median of {len(samples)}, max {ms(max(samples))})"
    )
    details = ["samples: " + ", ".join(ms(s) for s in samples)]
    row = Row(
        "single-line suggestion from a streaming endpoint",
        "returned within 2 ms of the first newline arriving",
        measured,
        value <= 0.002,
    )
    return row, details


def startup_row(
    runs: list[StartupRun], bare_seconds: list[float], bare_rss_kb: list[int]
) -> tuple[Row, list[str]]:
    """Spawn to `initialize` answered; resident memory after `initialized`; the interpreter floor."""
    init = median([r.initialize_s for r in runs])
    rss_mb = median([r.rss_kb for r in runs]) * 1024 / 1e6
    floor_rss = median(bare_rss_kb) * 1024 / 1e6
    measured = (
        f"{ms(init)}; {rss_mb:.1f} MB (bare `python -c` start {ms(median(bare_seconds))}, "
        f"{floor_rss:.1f} MB; median of {len(runs)})"
    )
    details = [
        f"run {i + 1}: initialize {ms(r.initialize_s)} (server CPU time by then "
        f"{ms(r.cpu_s)}), VmRSS {r.rss_kb * 1024 / 1e6:.1f} MB, "
        f"VmHWM {r.hwm_kb * 1024 / 1e6:.1f} MB"
        for i, r in enumerate(runs)
    ]
    details.append("bare interpreter: " + ", ".join(ms(s) for s in bare_seconds))
    row = Row(
        "`initialize` answered after process start; resident memory after initialize",
        "<= 350 ms; <= 80 MB",
        measured,
        init <= 0.350 and rss_mb <= 80,
    )
    return row, details


def table(rows: list[Row]) -> str:
    """The markdown table."""
    return "\n".join([HEADER, *(row.markdown() for row in rows)])
