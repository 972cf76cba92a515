"""Measure the local engine's background CPU per relearn when the user edits many open documents.

The realistic inline scenario (scripts/bench_realistic.py) keeps ten documents of 2,000 to 10,000
lines open and edits them in turn; each document left behind is relearned once its typing pauses.
Here the same documents are learned as editor documents, then edited in turn (a few characters
typed into a few lines of one document, then that document relearned), and the CPU time of each
`update_document` call is reported (as the server runs it: with the search for secret values in
new lines), with the engine's own estimate of its memory.

    .venv/bin/python scripts/bench_local_relearn.py [--rounds 5] [--edits 15]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from beastmode.localengine import LocalEngine
from beastmode.secrets import WorkspaceSecrets
from bench_realistic import DOCUMENT_LINES
from bench_rig import python_source


def edited(text: str, round_number: int, edits: int) -> str:
    """`text` with a blank typed at the start of `edits` docstring lines spread over it."""
    lines = text.split("\n")
    step = max(1, len(lines) // (edits + 1))
    for index in range(edits):
        row = (index + 1) * step + round_number % step
        lines[row] = " " + lines[row]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="passes over the ten documents")
    parser.add_argument("--edits", type=int, default=15, help="lines edited per relearn")
    args = parser.parse_args()
    texts = {f"file:///ws/module_{k}.py": python_source(n) for k, n in enumerate(DOCUMENT_LINES)}
    engine = LocalEngine(secrets=WorkspaceSecrets())  # as the server makes it
    started = time.thread_time()
    for uri, text in texts.items():
        engine.update_document(uri, text)
    first = time.thread_time() - started
    costs = []
    for round_number in range(args.rounds):
        for uri, text in texts.items():
            texts[uri] = edited(text, round_number, args.edits)
            started = time.thread_time()
            engine.update_document(uri, texts[uri])
            costs.append(time.thread_time() - started)
    stats = engine.stats
    size = sum(len(text.encode()) for text in texts.values())
    print(
        f"{len(texts)} open documents, {size / 1e6:.2f} MB; first learning {first * 1000:.0f} ms "
        f"CPU; {len(costs)} relearns of {args.edits} edited lines each, CPU per relearn: "
        f"mean {statistics.fmean(costs) * 1000:.1f} ms, p50 {statistics.median(costs) * 1000:.1f} "
        f"ms, max {max(costs) * 1000:.1f} ms; engine memory about "
        f"{stats.approx_memory_bytes / 1e6:.0f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
