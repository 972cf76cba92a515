"""Chat streaming costs the server linear CPU: a 1 MB reply in small deltas stays cheap.

Found by hand: the whole reply was re-joined and re-split on every delta (250 KB 9 s, 500 KB
35 s, 1 MB 164 s of server CPU). The bound here is loose for a busy CI machine; the measured
figure is printed (run with -s).
"""

from __future__ import annotations

import os
from pathlib import Path

from beastmode.registry import Registry
from tests.conftest import register
from tests.fakes import FakeModelServer, Reply
from tests.hardening.client import LspProcess
from tests.hardening.conftest import StartServer

REPLY_BYTES = 1024 * 1024
DELTA_CHARS = 128  # the raw SSE stream stays under the providers' 4 MB answer cap
CPU_BOUND_SECONDS = 5.0  # the target is 1 s on a quiet machine


def server_cpu_seconds(server: LspProcess) -> float:
    """User + system CPU time the server process has used so far."""
    fields = Path(f"/proc/{server.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return ticks / os.sysconf("SC_CLK_TCK")


def test_one_megabyte_chat_reply_costs_little_server_cpu(
    start_server: StartServer, server_env: dict[str, str]
) -> None:
    words = "stream linear text, "
    text = (words * (REPLY_BYTES // len(words) + 1))[:REPLY_BYTES]
    with FakeModelServer() as fake:
        registry = Registry.open(server_env)
        register(registry, "big", fake.openai_chat_url, api_key=None)
        registry.close()
        chunks = [text[i : i + DELTA_CHARS] for i in range(0, len(text), DELTA_CHARS)]
        fake.script(Reply(text=text, chunks=chunks))
        settings = {"models": {"chat": "custom:big"}, "fallback": []}
        server = start_server(settings, configuration=settings)
        assert "error" in server.request("x/warm-up")
        before = server_cpu_seconds(server)
        answer = server.command(
            "beastmode.chat", {"sessionId": "big", "message": "Say a lot."}, timeout=300
        )
        spent = server_cpu_seconds(server) - before
    assert "result" in answer, answer
    print(f"\n1 MB chat reply in {len(chunks):,} deltas: server CPU {spent:.2f} s")
    assert answer["result"]["reply"] == text.strip() or len(answer["result"]["reply"]) > 1_000_000
    deltas = "".join(p["delta"] for p in server.notifications("beastmode/chatDelta"))
    assert deltas == text
    assert spent <= CPU_BOUND_SECONDS, f"server CPU {spent:.2f} s for a 1 MB reply"
