"""The language server with an event-loop stall probe, for load tests: run as a script.

`python tests/hardening/stallprobe.py [beastmode-lsp args]` starts the same server as
`python -m beastmode`, plus one extra request, `hardening/probe`. Its first call starts a heartbeat
task that sleeps `INTERVAL_SECONDS` and records how late it woke up: the worst lateness is the
longest time the loop was busy with something else (a stall). Each call returns the worst stall
and counters of live state (pending request futures, tasks, in-flight inline requests) and, with
`{"reset": true}`, starts a new measurement window.
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from beastmode import __main__ as entry
from beastmode.lsp import server as server_module

PROBE_METHOD = "hardening/probe"
INTERVAL_SECONDS = 0.002


class LoopProbe:
    """Measures how late a periodic heartbeat wakes up on the running loop."""

    def __init__(self) -> None:
        self.task: asyncio.Task[None] | None = None
        self._last_beat = time.monotonic()
        self._loop_thread = 0
        self.stall_stacks: dict[str, int] = {}
        self.reset()
        gc.callbacks.append(self._on_gc)
        self._gc_started = 0.0

    def reset(self) -> None:
        """Start a new measurement window."""
        self.worst = 0.0
        self.beats = 0
        self.over_10ms = 0
        self.worst_gc = 0.0
        self.stall_stacks = {}

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.worst_gc = max(self.worst_gc, time.perf_counter() - self._gc_started)

    def start(self) -> None:
        """Start the heartbeat on the running loop and the watchdog thread."""
        self.task = asyncio.get_running_loop().create_task(self.beat())
        self._loop_thread = threading.get_ident()
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self) -> None:
        """Sample the loop thread's stack while a heartbeat is overdue (what is it doing?)."""
        while True:
            time.sleep(0.001)
            overdue = time.monotonic() - self._last_beat
            if overdue > 0.008:
                frame = sys._current_frames().get(self._loop_thread)
                if frame is not None:
                    frames = [
                        f"{Path(f.filename).name}:{f.lineno}:{f.name}"
                        for f in reversed(traceback.extract_stack(frame))
                        if not f.filename.startswith("<frozen")
                    ]
                    where = " <- ".join(frames[:7])
                    self.stall_stacks[where] = self.stall_stacks.get(where, 0) + 1

    async def beat(self) -> None:
        """Sleep, wake, record the lateness; forever."""
        loop = asyncio.get_running_loop()
        while True:
            self._last_beat = time.monotonic()
            before = loop.time()
            await asyncio.sleep(INTERVAL_SECONDS)
            late = loop.time() - before - INTERVAL_SECONDS
            self.beats += 1
            self.worst = max(self.worst, late)
            if late > 0.010:
                self.over_10ms += 1


def build_probed_server() -> Any:
    """`build_server()` plus the `hardening/probe` request."""
    server = _build_server()
    probe = LoopProbe()

    @server.feature(PROBE_METHOD)
    def probe_request(ls: Any, params: Any) -> dict[str, Any]:
        if probe.task is None:
            probe.start()
            if os.environ.get("HARDENING_GC_FREEZE"):
                gc.freeze()
        inline = getattr(ls, "inline", None)
        snapshot = {
            "worstStallMs": round(probe.worst * 1000, 2),
            "beats": probe.beats,
            "stallsOver10ms": probe.over_10ms,
            "worstGcMs": round(probe.worst_gc * 1000, 2),
            "requestFutures": len(ls.protocol._request_futures),
            "tasks": len(asyncio.all_tasks()),
            "inflight": len(getattr(inline, "_inflight", {})),
            "documents": len(ls.documents),
            "stallStacks": sorted(probe.stall_stacks.items(), key=lambda kv: -kv[1])[:8],
        }
        if isinstance(params, dict) and params.get("reset"):
            probe.reset()
        return snapshot

    return server


_build_server = server_module.build_server

if __name__ == "__main__":
    server_module.build_server = build_probed_server
    sys.exit(entry.main())
