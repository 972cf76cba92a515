"""The benchmark scenarios that drive the real server over stdio against the loopback fake.

Each scenario returns raw samples (seconds or counts); `bench_report` turns them into the table.
The fake runs in this process, so the fake's timestamps and the client's are on one clock.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from httpx_sse import EventSource
from tests.fakes import Fault, RecordedRequest, Reply

from bench_client import Pending, StdioClient, inline_text
from bench_rig import CURSOR_COLUMN, Rig, cursor_line, python_source

BIG_FILE_LINES = 10_000
FUNCTIONS = BIG_FILE_LINES // 4
REPLY_TEXT = "a + b * 2"
TYPED = "compute_total_amount"  # 20 keystrokes
KEYSTROKE_INTERVAL_S = 0.040
SHOWN_SUGGESTION = "compute_total_amount(a, b) * 2"
TYPED_THROUGH_CHARS = 10
# server.py relearns a changed document 0.75 s after the change (ENGINE_UPDATE_DELAY_SECONDS).
RELEARN_DELAY_S = 0.85
RELEARN_PROBES = 3


@dataclass
class LatencySamples:
    """Paired round trips: through the server, and straight to the same endpoint."""

    server: list[float] = field(default_factory=list)
    direct: list[float] = field(default_factory=list)
    relearn_stall: list[float] = field(default_factory=list)
    """Round trip of a ping sent as the local engine starts relearning the file (a pause)."""

    @property
    def added(self) -> list[float]:
        """Per-pair difference, server minus direct."""
        return [s - d for s, d in zip(self.server, self.direct, strict=True)]


@dataclass
class TypingRun:
    """One burst of keystrokes, each followed by an automatic inline request."""

    upstream_requests: int
    final_suggestion: str | None
    expected: str
    non_empty_answers: int
    mean_interval_s: float
    max_interval_s: float


@dataclass
class TypedThroughRun:
    """Typing the first characters of a shown suggestion."""

    upstream_requests: int
    all_answers_right: bool
    answer_seconds: list[float]


@dataclass
class CloseSamples:
    """Seconds from the superseding request / the cancel to the upstream connection's close."""

    superseded: list[float] = field(default_factory=list)
    cancelled: list[float] = field(default_factory=list)
    all_disconnected: bool = True


@dataclass
class StartupRun:
    """One process start."""

    initialize_s: float
    cpu_s: float
    """CPU time (user + system) the server had used when `initialize` was answered."""
    rss_kb: int
    hwm_kb: int


async def _direct_round_trip(http: httpx.AsyncClient, url: str, body: bytes) -> float:
    """Stream the same request body straight to the endpoint and read it to its end.

    Reading past `[DONE]` to the end of the body lets httpx keep the connection for the next
    call, as a plain client of the endpoint would.
    """
    headers = {"Accept": "text/event-stream", "Content-Type": "application/json"}
    started = time.monotonic()
    async with http.stream("POST", url, content=body, headers=headers) as response:
        async for event in EventSource(response).aiter_sse():
            if event.data != "[DONE]":
                json.loads(event.data)
    return time.monotonic() - started


async def _settle(client: StdioClient) -> None:
    """Let the server finish the one-off work after a document opens.

    The server relearns a changed document in the local engine 0.75 s after the change; waiting
    past that (and for a ping) keeps the one-off learning of the opened file out of the samples.
    """
    await asyncio.sleep(RELEARN_DELAY_S)
    await client.ping()


def _function_order(count: int, start: int = 0) -> list[int]:
    """Distinct functions spread over the file (each cursor position used once: no cache hits)."""
    step = 617  # coprime with FUNCTIONS
    return [(start + k * step) % FUNCTIONS for k in range(count)]


async def added_latency(rig: Rig, samples: int, warmup: int = 10) -> LatencySamples:
    """Invoked inline requests on a 10k-line file vs the same bodies sent directly, interleaved."""
    client = await rig.client(debounceMs=0)
    fake = rig.fake
    fake.reset()
    fake.default_reply = Reply(text=REPLY_TEXT)
    uri = rig.uri("big.py")
    result = LatencySamples()
    try:
        client.open_document(uri, python_source(BIG_FILE_LINES))
        await client.ping()
        async with httpx.AsyncClient(timeout=10) as http:
            for index, function in enumerate(_function_order(warmup + samples)):
                if index == warmup:
                    await _settle(client)
                before = len(fake.requests)
                response = await client.inline(
                    uri, cursor_line(function), CURSOR_COLUMN, invoked=True
                ).response()
                if inline_text(response) != REPLY_TEXT:
                    raise RuntimeError(f"unexpected inline answer {response.message!r}")
                body = fake.requests[before].body
                direct = await _direct_round_trip(http, fake.openai_completions_url, body)
                if index >= warmup:
                    result.server.append(response.seconds)
                    result.direct.append(direct)
        for attempt in range(RELEARN_PROBES):
            # A one-character edit, then a typing pause: the relearn starts 0.75 s later.
            line = cursor_line(FUNCTIONS - 1 - attempt)
            client.insert(uri, 2 + attempt, line, CURSOR_COLUMN, " ")
            await asyncio.sleep(RELEARN_DELAY_S - 0.05)
            probe = await client.ping()
            result.relearn_stall.append(probe.seconds)
            await client.ping()
    finally:
        await client.close()
    return result


def _typed_so_far(request: RecordedRequest) -> str:
    body = request.json if isinstance(request.json, dict) else {}
    prompt = str(body.get("prompt", ""))
    before_cursor = prompt.split("<|fim_suffix|>", 1)[0]
    return before_cursor.rsplit("\n", 1)[-1].removeprefix("    total = ")


def _answer_for_typed(request: RecordedRequest) -> Reply:
    """A suggestion that names how much had been typed, so a stale one is recognisable."""
    return Reply(text=f"_of({len(_typed_so_far(request))})")


async def _sleep_until(moment: float) -> None:
    delay = moment - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)


async def typing_bursts(rig: Rig, runs: int) -> list[TypingRun]:
    """20 keystrokes 40 ms apart, an automatic request after each, default (auto) debounce."""
    client = await rig.client()
    fake = rig.fake
    fake.reset()
    fake.set_responder(_answer_for_typed)
    results = []
    try:
        for run in range(runs):
            uri = rig.uri(f"typing_{run}.py")
            client.open_document(uri, python_source(BIG_FILE_LINES))
            await _settle(client)
            line = cursor_line(run * 37)
            before = len(fake.requests)
            pending: list[Pending] = []
            sent: list[float] = []
            started = time.monotonic()
            for index, char in enumerate(TYPED):
                await _sleep_until(started + index * KEYSTROKE_INTERVAL_S)
                sent.append(client.insert(uri, index + 2, line, CURSOR_COLUMN + index, char))
                pending.append(client.inline(uri, line, CURSOR_COLUMN + index + 1, invoked=False))
            answers = [await p.response() for p in pending]
            await asyncio.sleep(0.5)  # a late upstream request would still be counted
            intervals = [b - a for a, b in itertools.pairwise(sent)]
            results.append(
                TypingRun(
                    upstream_requests=len(fake.requests) - before,
                    final_suggestion=inline_text(answers[-1]),
                    expected=f"_of({len(TYPED)})",
                    non_empty_answers=sum(inline_text(a) is not None for a in answers),
                    mean_interval_s=sum(intervals) / len(intervals),
                    max_interval_s=max(intervals),
                )
            )
            client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    finally:
        await client.close()
    return results


async def typed_through(rig: Rig, runs: int) -> list[TypedThroughRun]:
    """Show a suggestion, then type its first 10 characters 40 ms apart."""
    client = await rig.client()
    fake = rig.fake
    fake.reset()
    fake.default_reply = Reply(text=SHOWN_SUGGESTION)
    results = []
    try:
        uri = rig.uri("through.py")
        client.open_document(uri, python_source(BIG_FILE_LINES))
        await _settle(client)
        version = 1
        for run in range(runs):
            line = cursor_line(run * 53)
            shown = await client.inline(uri, line, CURSOR_COLUMN, invoked=True).response()
            right = inline_text(shown) == SHOWN_SUGGESTION
            before = len(fake.requests)
            seconds = []
            started = time.monotonic()
            for index in range(TYPED_THROUGH_CHARS):
                await _sleep_until(started + index * KEYSTROKE_INTERVAL_S)
                version += 1
                client.insert(uri, version, line, CURSOR_COLUMN + index, SHOWN_SUGGESTION[index])
                answer = await client.inline(
                    uri, line, CURSOR_COLUMN + index + 1, invoked=False
                ).response()
                seconds.append(answer.seconds)
                right = right and inline_text(answer) == SHOWN_SUGGESTION[index + 1 :]
            await asyncio.sleep(0.3)
            results.append(TypedThroughRun(len(fake.requests) - before, right, seconds))
    finally:
        await client.close()
    return results


async def _arrived(rig: Rig, index: int, streaming: bool) -> RecordedRequest:
    requests = await rig.fake.wait_for_requests_async(index + 1)
    request = requests[index]
    while streaming and not request.chunk_sent_at:
        await asyncio.sleep(0.002)
    await asyncio.sleep(0.05)  # the server is now waiting on (or reading) the upstream
    return request


async def _closed_after(request: RecordedRequest, since: float) -> tuple[float, bool]:
    await asyncio.to_thread(request.wait_finished, 5.0)
    if request.finished_at is None:
        return float("inf"), False
    return request.finished_at - since, request.client_disconnected


def _slow_replies() -> list[tuple[Reply, bool]]:
    """An upstream that never answers, and one that streams a long line slowly."""
    return [
        (Reply(fault=Fault.HANG), False),
        (Reply(text="x" * 4000, chunk_interval=0.02), True),
    ]


async def supersede_and_cancel(rig: Rig, rounds: int) -> CloseSamples:
    """Close of the upstream call after a newer request for the document, or `$/cancelRequest`."""
    client = await rig.client(debounceMs=0)
    fake = rig.fake
    fake.reset()
    result = CloseSamples()
    uri = rig.uri("cancel.py")
    version = 1
    try:
        client.open_document(uri, python_source(BIG_FILE_LINES))
        await _settle(client)
        for round_index in range(rounds):
            slow, streaming = _slow_replies()[round_index % 2]
            line = cursor_line(round_index * 11)
            # A newer request for the same document (after a keystroke) supersedes the older.
            fake.script(slow, Reply(text=REPLY_TEXT))
            before = len(fake.requests)
            first = client.inline(uri, line, CURSOR_COLUMN, invoked=True)
            upstream = await _arrived(rig, before, streaming)
            version += 1
            client.insert(uri, version, line, CURSOR_COLUMN, "a")
            newer = client.inline(uri, line, CURSOR_COLUMN + 1, invoked=True)
            closed, disconnected = await _closed_after(upstream, newer.sent_at)
            result.superseded.append(closed)
            old, new = await first.response(), await newer.response()
            right = inline_text(old) is None and inline_text(new) is not None
            result.all_disconnected = result.all_disconnected and disconnected and right
            # `$/cancelRequest` from the editor.
            fake.script(slow)
            before = len(fake.requests)
            pending = client.inline(uri, line + 1, 4, invoked=True)
            upstream = await _arrived(rig, before, streaming)
            cancel_sent = client.cancel(pending.msg_id)
            closed, disconnected = await _closed_after(upstream, cancel_sent)
            result.cancelled.append(closed)
            error = (await pending.response()).message.get("error") or {}
            cancelled_right = error.get("code") == -32800
            result.all_disconnected = result.all_disconnected and disconnected and cancelled_right
    finally:
        await client.close()
    return result


async def streaming_first_line(rig: Rig, runs: int) -> list[float]:
    """Seconds from the fake writing the chunk with the newline to the client having the answer."""
    client = await rig.client(debounceMs=0)
    fake = rig.fake
    fake.reset()
    chunks = ["a + ", "b * ", "2\n", *(["    return total  # more\n"] * 60)]
    newline_chunk = 2
    samples = []
    uri = rig.uri("stream.py")
    try:
        client.open_document(uri, python_source(BIG_FILE_LINES))
        await _settle(client)
        for run in range(runs):
            fake.script(Reply(chunks=chunks, chunk_interval=0.05))
            before = len(fake.requests)
            answer = await client.inline(
                uri, cursor_line(run * 29), CURSOR_COLUMN, invoked=True
            ).response()
            if inline_text(answer) != REPLY_TEXT:
                raise RuntimeError(f"unexpected streamed answer {answer.message!r}")
            request = fake.requests[before]
            samples.append(answer.received_at - request.chunk_sent_at[newline_chunk])
            await asyncio.to_thread(request.wait_finished, 5.0)
    finally:
        await client.close()
    return samples


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _proc_status_kb(pid: int) -> dict[str, int]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0])
    return values


async def startup(rig: Rig, runs: int) -> list[StartupRun]:
    """Spawn to `initialize` answered; resident memory once `initialized` has been handled."""
    results = []
    for _ in range(runs):
        client = await StdioClient.spawn(rig.env, rig.workspace, {"model": "custom:coder"})
        try:
            answer = await client.initialize(rig.workspace)
            cpu = _cpu_seconds(client.process.pid)
            client.notify("initialized", {})
            await client.ping()
            status = _proc_status_kb(client.process.pid)
            results.append(
                StartupRun(
                    answer.received_at - client.spawned_at, cpu, status["VmRSS"], status["VmHWM"]
                )
            )
        finally:
            await client.close()
    return results


async def bare_interpreter(runs: int) -> tuple[list[float], list[int]]:
    """The floor: `python -c ...` spawn to exit, and its resident memory."""
    seconds, rss = [], []
    code = "print(open('/proc/self/status').read())"
    for _ in range(runs):
        started = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", code, stdout=asyncio.subprocess.PIPE
        )
        out, _ = await process.communicate()
        seconds.append(time.monotonic() - started)
        for line in out.decode().splitlines():
            if line.startswith("VmRSS:"):
                rss.append(int(line.split()[1]))
    return seconds, rss
