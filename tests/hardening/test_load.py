"""Load: 20 open documents, rounds of 100 concurrent inline requests, a slow upstream.

Every request must be answered (a suggestion, an empty answer when superseded, or
RequestCancelled for the ones the test cancels). The event loop's worst stall is measured inside
the server by a heartbeat (`stallprobe.py`, the same server plus one probe request) and from
outside by timing a cheap request while the load runs. Resident memory and live state (pending
request futures, tasks, in-flight requests) must come back to their level after a warm-up round.

The design target is a worst stall under 10 ms; measured on 2 cores with this test's own clients
saturating them, 7-8 ms. What used to break it: full garbage collections (`gc.freeze()` after
start-up), first-use imports inside httpcore/anyio (loaded right after `initialized` now),
responses arriving together (at most 6 suggestions in flight), buffered messages read in one loop
turn, and blocking writes to a slow editor. A stall is wall-clock time, so on a machine whose
cores are busy with other work the scheduler alone stalls the loop for 100 ms and more: the
suite asserts the behaviour (every request answered, nothing leaked) and prints the measurement;
the stall bound is the benchmark's (`scripts/bench_load.py` runs this test with
BEASTMODE_STALL_LIMIT_MS set, on an otherwise idle machine).
"""

from __future__ import annotations

import os
import random
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from beastmode.registry import Registry
from tests.conftest import private_environ, register
from tests.fakes import FakeModelServer, Reply
from tests.hardening.client import STALL_PROBE, LspProcess, unhandled_errors

DOCUMENTS = 20
REQUESTS = 100
CANCELLED = 10
ROUNDS = 4
SEED = 20250107
TARGET_STALL_MS = 10.0
MEMORY_SLACK_KIB = 10 * 1024
ROUND_GROWTH_KIB = 3 * 1024
SUGGESTION = "return total"
SETTINGS = {
    "model": "custom:slow",
    "inline": {"debounceMs": 0},
    "timeouts": {"completionMs": 5000},
}


def document_text(number: int) -> str:
    """A realistic Python module of about 150 lines, different for every document."""
    functions = [
        f"def compute_{number}_{i}(values, factor={i}):\n"
        f'    """Scale and sum values ({number}, {i})."""\n'
        f"    total = 0\n"
        f"    for value in values:\n"
        f"        total += value * factor  # 😀 {i}\n"
        f"    \n"
        for i in range(25)
    ]
    return "import os\nimport sys\n\n" + "\n".join(functions)


@dataclass
class RoundResult:
    """What one round of requests produced."""

    suggestions: int = 0
    empty: int = 0
    cancelled: int = 0
    seconds: float = 0.0
    round_trips_ms: list[float] = field(default_factory=list)


@pytest.fixture
def loaded(tmp_path: Path, fake: FakeModelServer) -> Iterator[tuple[LspProcess, FakeModelServer]]:
    """The probed server with a slow model and 20 documents open."""
    env = private_environ(tmp_path / "home")
    workspace = tmp_path / "ws"
    workspace.mkdir()
    # Slow: 0.4 s to the headers, then the answer in chunks 50 ms apart.
    fake.default_reply = Reply(text=SUGGESTION, delay_before_headers=0.4, chunk_interval=0.05)
    registry = Registry.open(env)
    register(
        registry,
        "slow",
        fake.openai_chat_url,
        api_key=None,
        completions_url=fake.openai_completions_url,
        upstream_model="qwen2.5-coder:7b",
    )
    registry.close()
    server = LspProcess(env, workspace, command=(sys.executable, str(STALL_PROBE)))
    try:
        server.initialize(workspace, SETTINGS)
        for number in range(DOCUMENTS):
            server.open(_uri(number), document_text(number))
        yield server, fake
    finally:
        server.close()


def _uri(number: int) -> str:
    return f"file:///ws/module_{number}.py"


def _probe(server: LspProcess, reset: bool = False) -> dict[str, Any]:
    return server.request("hardening/probe", {"reset": reset})["result"]


def _round(server: LspProcess, rng: random.Random) -> RoundResult:
    """Send 100 inline requests at once, cancel some, wait for every answer."""
    result = RoundResult()
    stop = threading.Event()

    def ping() -> None:
        while not stop.is_set():
            started = time.perf_counter()
            server.request("hardening/unknownMethod", {}, timeout=30)
            result.round_trips_ms.append((time.perf_counter() - started) * 1000)
            time.sleep(0.005)

    pinger = threading.Thread(target=ping)
    started = time.monotonic()
    ids = []
    for _ in range(REQUESTS):
        number = rng.randrange(DOCUMENTS)
        function = rng.randrange(25)
        line = 3 + function * 7 + 5  # the blank line inside each function
        ids.append(server.inline(_uri(number), line, 4, invoked=rng.random() < 0.5))
    pinger.start()
    for msg_id in rng.sample(ids, CANCELLED):
        server.notify("$/cancelRequest", {"id": msg_id})
    try:
        answers = server.responses(ids, timeout=60)
    finally:
        stop.set()
        pinger.join()
    result.seconds = time.monotonic() - started
    for answer in answers.values():
        if "error" in answer:
            assert answer["error"]["code"] == -32800, answer
            result.cancelled += 1
        elif answer["result"]["items"]:
            assert answer["result"]["items"][0]["insertText"] == SUGGESTION
            result.suggestions += 1
        else:
            result.empty += 1
    return result


def _settle(server: LspProcess) -> dict[str, Any]:
    """Probe until no request is in flight any more (upstream calls closing down)."""
    deadline = time.monotonic() + 10
    while True:
        snapshot = _probe(server)
        if snapshot["inflight"] == 0 and snapshot["requestFutures"] <= 1:
            return snapshot
        if time.monotonic() > deadline:
            return snapshot
        time.sleep(0.1)


def test_hundred_concurrent_inline_requests_are_all_answered_without_stalls_or_leaks(
    loaded: tuple[LspProcess, FakeModelServer],
) -> None:
    server, fake = loaded
    rng = random.Random(SEED)
    _probe(server)  # starts the heartbeat
    warm_up = _round(server, rng)
    assert warm_up.suggestions > 0
    baseline = _settle(server)
    baseline_rss = server.rss_kib()
    _probe(server, reset=True)

    rounds = []
    rss_by_round = []
    for _ in range(ROUNDS):
        rounds.append(_round(server, rng))
        _settle(server)
        rss_by_round.append(server.rss_kib())
    during = _probe(server)
    after = _settle(server)
    after_rss = server.rss_kib()

    report = {
        "worst_stall_ms": during["worstStallMs"],
        "stalls_over_10ms": during["stallsOver10ms"],
        "heartbeats": during["beats"],
        "worst_gc_ms": during["worstGcMs"],
        "worst_round_trip_ms": round(max(max(r.round_trips_ms) for r in rounds), 2),
        "rss_baseline_kib": baseline_rss,
        "rss_after_kib": after_rss,
        "rss_by_round_kib": rss_by_round,
        "round_seconds": [round(r.seconds, 2) for r in rounds],
        "answers": [(r.suggestions, r.empty, r.cancelled) for r in rounds],
        "upstream_requests": len(fake.requests),
        "stall_stacks": during["stallStacks"],
    }
    print("LOAD REPORT", report)
    for result in rounds:
        assert result.suggestions + result.empty + result.cancelled == REQUESTS
        assert result.suggestions >= DOCUMENTS // 2, report
    assert after["inflight"] == 0, after
    assert after["requestFutures"] <= baseline["requestFutures"], (baseline, after)
    assert after["tasks"] <= baseline["tasks"], (baseline, after)
    assert after_rss <= baseline_rss + MEMORY_SLACK_KIB, report
    assert rss_by_round[-1] <= rss_by_round[0] + ROUND_GROWTH_KIB, report
    stall_limit_ms = float(os.environ.get("BEASTMODE_STALL_LIMIT_MS", "inf"))
    assert during["worstStallMs"] < stall_limit_ms, report
    if during["worstStallMs"] >= TARGET_STALL_MS:
        print(
            f"worst loop stall {during['worstStallMs']} ms is above the {TARGET_STALL_MS} ms target"
        )
    assert unhandled_errors(server.stderr) == []
