"""Code actions are offered from a cheap check: a 100k-line document never stalls the loop.

Found by hand: each `textDocument/codeAction` parsed the whole Python document on the event loop
(10k lines 1.5 s, 50k 6.2 s, 100k 9.7 s), and editors send one per cursor move. The stall probe
(tests/hardening/stallprobe.py) measures the worst loop stall while the cursor moves; the bound
is loose for a busy CI machine (the target is 10 ms) and the measurement is printed (run -s).
"""

from __future__ import annotations

import sys
import time
from typing import Any

from tests.hardening.client import STALL_PROBE, LspProcess
from tests.hardening.conftest import StartServer

FUNCTIONS = 25_000  # four lines each: 100k lines
CURSOR_MOVES = 60
# Loose for a shared CI machine, where the scheduler alone can pause the server for tens of
# milliseconds (68 ms was seen under scripts/stress); the regression it guards against stalled
# the loop for seconds (7.5 s on the original code). The benchmark figure is the printed one.
STALL_BOUND_MS = 500.0
URI = "file:///ws/huge.py"


def huge_module() -> str:
    """100k lines of small functions."""
    return "".join(f"def f{n}(x):\n    y = x + {n}\n    return y\n\n" for n in range(FUNCTIONS))


def code_actions(server: LspProcess, line: int) -> list[str]:
    """The titles offered with the cursor at (line, 4)."""
    position = {"line": line, "character": 4}
    answer = server.request(
        "textDocument/codeAction",
        {
            "textDocument": {"uri": URI},
            "range": {"start": position, "end": position},
            "context": {"diagnostics": []},
        },
        timeout=60,
    )
    result: list[dict[str, Any]] = answer["result"] or []
    return [action["title"] for action in result]


def test_code_actions_on_a_100k_line_document_do_not_stall_the_loop(
    start_server: StartServer,
) -> None:
    server = start_server({"inline": {"debounceMs": 0}}, command=(sys.executable, str(STALL_PROBE)))
    server.open(URI, huge_module())
    server.request("hardening/probe", timeout=60)  # starts the heartbeat
    assert code_actions(server, 1)  # the actions module is loaded before measuring
    time.sleep(2.0)  # the local engine learns the document in its thread meanwhile
    server.request("hardening/probe", {"reset": True})
    started = time.monotonic()
    offered = []
    for move in range(CURSOR_MOVES):
        line = (move * 1_667) % (4 * FUNCTIONS)
        offered.append((line, code_actions(server, line)))
    elapsed = time.monotonic() - started
    probe = server.request("hardening/probe")["result"]
    print(
        f"\n{CURSOR_MOVES} codeActions on 100k lines in {elapsed:.2f} s: worst loop stall "
        f"{probe['worstStallMs']} ms, stalls over 10 ms {probe['stallsOver10ms']}, "
        f"worst GC {probe['worstGcMs']} ms; stacks {probe['stallStacks'][:2]}"
    )
    for line, titles in offered:
        inside = line % 4 in (0, 1, 2)
        assert ("BEAST MODE: Refactor selection" in titles) == inside, (line, titles)
        assert "BEAST MODE: Generate tests" in titles
    assert probe["worstStallMs"] <= STALL_BOUND_MS, probe
