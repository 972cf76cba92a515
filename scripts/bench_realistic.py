"""Added latency with a realistic editor state, and the per-run report for both scenarios.

The plain scenario (`bench_lsp.added_latency`) has one open document and no edits. Here ten
documents of 2,000 to 10,000 lines are open and also on disk (so the workspace scan learns them);
every request follows an edit of its document (a character typed, 80 ms before the next), and the
user moves to the next document every 15 requests, as one does: the document left behind is then
relearned by the local engine and re-indexed for cross-file snippets in the background while the
requests in the next one run, and the other nine documents are snippet sources throughout.

Every run records the machine's load average at its start and the server's CPU time per request
(the process's user + system time over the run divided by the requests; it includes the
background learning, so it is an upper bound on the inline path's own CPU).
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field

import httpx
from tests.fakes import Reply

from bench_client import inline_text
from bench_lsp import REPLY_TEXT, LatencySamples, _cpu_seconds, _direct_round_trip, _settle
from bench_report import Row, median, ms, percentile
from bench_rig import CURSOR_COLUMN, Rig, cursor_line, python_source

DOCUMENT_LINES = (2000, 2800, 3600, 4400, 5200, 6000, 6800, 7600, 8800, 10000)
PAUSE_S = 0.08
REQUESTS_PER_DOCUMENT = 15
TARGET_P50_S = 0.002
TARGET_P99_S = 0.010


@dataclass
class RunSamples:
    """One run (a fresh server): paired round trips, the load at its start, server CPU."""

    scenario: str
    load: tuple[float, float, float]
    server: list[float] = field(default_factory=list)
    direct: list[float] = field(default_factory=list)
    cpu_per_request_s: float | None = None

    @property
    def added(self) -> list[float]:
        """Per-pair difference, server minus direct."""
        return [s - d for s, d in zip(self.server, self.direct, strict=True)]

    @property
    def ratio(self) -> float:
        """Added p50 over the direct call's own p50, measured in this run."""
        return percentile(self.added, 0.5) / percentile(self.direct, 0.5)


def from_plain(samples: LatencySamples, load: tuple[float, float, float]) -> RunSamples:
    """A run of the plain scenario (`bench_lsp.added_latency`) as a `RunSamples`."""
    run = RunSamples("one 10k-line document, no edits", load)
    run.server, run.direct = list(samples.server), list(samples.direct)
    return run


async def _until_idle(pid: int, timeout: float = 60.0) -> None:
    """Wait for the one-off work after opening (scan, first learning and indexing) to finish."""
    deadline = time.monotonic() + timeout
    used = _cpu_seconds(pid)
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        now = _cpu_seconds(pid)
        if now - used < 0.05:
            return
        used = now


async def realistic_latency(rig: Rig, samples: int, warmup: int = 20) -> RunSamples:
    """Invoked requests after an edit, rotating over ten open documents, vs direct calls."""
    names = [f"module_{k}.py" for k in range(len(DOCUMENT_LINES))]
    texts = [python_source(lines) for lines in DOCUMENT_LINES]
    for name, text in zip(names, texts, strict=True):
        (rig.workspace / name).write_text(text)
    run = RunSamples("ten documents of 2k-10k lines, an edit before each request", os.getloadavg())
    client = await rig.client(debounceMs=0)
    fake = rig.fake
    fake.reset()
    fake.default_reply = Reply(text=REPLY_TEXT)
    versions = [1] * len(names)
    try:
        for name, text in zip(names, texts, strict=True):
            client.open_document(rig.uri(name), text)
        await _settle(client)
        await _until_idle(client.process.pid)
        cpu_started = None
        async with httpx.AsyncClient(timeout=10) as http:
            for index in range(warmup + samples):
                if index == warmup:
                    cpu_started = _cpu_seconds(client.process.pid)
                document = (index // REQUESTS_PER_DOCUMENT) % len(names)
                functions = DOCUMENT_LINES[document] // 4
                function = (index * 617 + document * 101) % functions
                uri = rig.uri(names[document])
                versions[document] += 1
                # The edit: a character typed at the start of the function's docstring line.
                client.insert(uri, versions[document], cursor_line(function) - 1, 0, " ")
                before = len(fake.requests)
                response = await client.inline(
                    uri, cursor_line(function), CURSOR_COLUMN, invoked=True
                ).response()
                if inline_text(response) != REPLY_TEXT:
                    raise RuntimeError(f"unexpected inline answer {response.message!r}")
                body = fake.requests[before].body
                direct = await _direct_round_trip(http, fake.openai_completions_url, body)
                if index >= warmup:
                    run.server.append(response.seconds)
                    run.direct.append(direct)
                await asyncio.sleep(PAUSE_S)
        if cpu_started is not None:
            used = _cpu_seconds(client.process.pid) - cpu_started
            run.cpu_per_request_s = used / samples
    finally:
        await client.close()
        for name in names:  # later scenarios' servers must not scan them
            (rig.workspace / name).unlink(missing_ok=True)
    return run


def _run_line(number: int, run: RunSamples) -> str:
    cpu = f"; server CPU {ms(run.cpu_per_request_s)}/request" if run.cpu_per_request_s else ""
    return (
        f"run {number}: added p50 {ms(percentile(run.added, 0.5))} "
        f"p99 {ms(percentile(run.added, 0.99))} max {ms(max(run.added))}; direct p50 "
        f"{ms(percentile(run.direct, 0.5))} p99 {ms(percentile(run.direct, 0.99))}; added/direct "
        f"p50 {run.ratio:.2f}; load {' / '.join(f'{v:.2f}' for v in run.load)}{cpu}"
    )


def latency_row(runs: list[RunSamples]) -> tuple[Row, list[str]]:
    """Added latency of one scenario: medians over runs, every run's ratio and load."""
    p50 = median([percentile(r.added, 0.50) for r in runs])
    p99 = median([percentile(r.added, 0.99) for r in runs])
    direct = median([percentile(r.direct, 0.50) for r in runs])
    worst_ratio = max(r.ratio for r in runs)
    loads = ", ".join(f"{r.load[0]:.1f}" for r in runs)
    pairs = sum(len(r.added) for r in runs)
    measured = (
        f"added p50 {ms(p50)}, p99 {ms(p99)}; direct p50 {ms(direct)}; added/direct p50 at most "
        f"{worst_ratio:.2f} ({len(runs)} runs, {pairs} pairs; 1-min load {loads})"
    )
    passed = p50 <= TARGET_P50_S and p99 <= TARGET_P99_S and worst_ratio <= 1.0
    row = Row(
        f"latency the server adds over calling the endpoint directly: {runs[0].scenario}",
        "p50 <= 2 ms, p99 <= 10 ms (quiet machine); added p50 <= direct p50 in every run",
        measured,
        passed,
    )
    return row, [_run_line(i + 1, run) for i, run in enumerate(runs)]
