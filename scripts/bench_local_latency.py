"""Measure the `local` engine's suggest() latency and memory on a 10k-file-sized index.

The workspace is made from a real package's sources (default: pytest): 10,000 files of about
4.5 kB, each a window of one of its files with every identifier renamed per copy, so that no two
copies share their contexts (a worst case for memory: real workspaces repeat themselves far
more). All of it is learned as a workspace scan would; a few files are then opened as the editor
would send them, and suggest() is timed at random cuts in them and across the workspace.
Memory is the process's resident-size growth while indexing, next to the engine's own estimate.

    .venv/bin/python scripts/bench_local_latency.py [--files 10000] [--queries 5000]
"""

from __future__ import annotations

import argparse
import builtins
import functools
import gc
import importlib.metadata
import keyword
import random
import re
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

from beastmode.localengine import LocalEngine

_IDENTIFIER = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]{2,})\b")
_KEEP = frozenset(keyword.kwlist) | frozenset(dir(builtins)) | {"self", "cls"}
_WINDOW = 4_500


def resident_bytes() -> int:
    """Return this process's resident set size."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


def _rename(match: re.Match[str], copy: int) -> str:
    """Return the matched identifier as it is spelled in the given copy."""
    name = match.group(1)
    return name if name in _KEEP else f"{name}_{copy}"


def synthetic_workspace(package: str, count: int) -> dict[str, str]:
    """Return `count` documents (uri -> text) derived from the package's Python files."""
    distribution = importlib.metadata.distribution(package)
    sources = [
        Path(str(distribution.locate_file(entry))).read_text(encoding="utf-8")
        for entry in distribution.files or []
        if entry.suffix == ".py"
    ]
    sources = [text for text in sources if text.strip()]
    documents = {}
    for index in range(count):
        copy, which = divmod(index, len(sources))
        text = sources[which]
        start = (copy * _WINDOW) % max(len(text) - _WINDOW, 1) if len(text) > _WINDOW else 0
        start = text.rfind("\n", 0, start) + 1
        window = text[start : start + _WINDOW]
        window = window[: window.rfind("\n") + 1] or window
        renamed = _IDENTIFIER.sub(functools.partial(_rename, copy=copy), window)
        documents[f"file:///workspace/copy{copy}/file{which}.py"] = renamed
    return documents


def time_suggestions(
    engine: LocalEngine, documents: dict[str, str], uris: list[str], queries: int, seed: int
) -> list[float]:
    """Return suggest() durations in milliseconds at random cuts of the given documents."""
    rng = random.Random(seed)
    durations = []
    for _ in range(queries):
        uri = rng.choice(uris)
        text = documents[uri]
        cut = rng.randrange(len(text))
        line_end = text.find("\n", cut)
        # Typing at the end of a line: the rest of this line is not there yet.
        prefix, suffix = text[:cut], "" if line_end < 0 else text[line_end:]
        started = time.perf_counter()
        engine.suggest(prefix, suffix, uri=uri, language="python")
        durations.append((time.perf_counter() - started) * 1000)
    return durations


def percentile(values: list[float], share: float) -> float:
    """Return the value below which `share` of `values` fall."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", default="pytest")
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="also report the bytes the engine holds (live Python allocations; indexing is slower)",
    )
    args = parser.parse_args()

    documents = synthetic_workspace(args.package, args.files)
    size = sum(len(text.encode()) for text in documents.values())
    gc.collect()
    before = resident_bytes()
    if args.tracemalloc:
        tracemalloc.start()
    engine = LocalEngine()
    started = time.perf_counter()
    for uri, text in documents.items():
        engine.update_document(uri, text, from_disk=True)
    indexing = time.perf_counter() - started
    gc.collect()
    grown = resident_bytes() - before
    held = tracemalloc.get_traced_memory()[0] if args.tracemalloc else None
    tracemalloc.stop()
    stats = engine.stats

    rng = random.Random(args.seed)
    opened = rng.sample(sorted(documents), 4)
    for uri in opened:
        engine.update_document(uri, documents[uri])
    workspace = time_suggestions(engine, documents, sorted(documents), args.queries, args.seed)
    editor = time_suggestions(engine, documents, opened, args.queries, args.seed + 1)
    huge_prefix = "x = 1\n" * 1_000_000 + "import o"
    huge = []
    for _ in range(200):
        started = time.perf_counter()
        engine.suggest(huge_prefix, "", uri=opened[0])
        huge.append((time.perf_counter() - started) * 1000)

    print(f"## `local` engine, latency and memory ({args.package} sources, renamed per copy)\n")
    print(
        f"Indexed {stats.documents} files, {stats.bytes_learned / 1e6:.1f} MB "
        f"(of {len(documents)} files, {size / 1e6:.1f} MB offered) in {indexing:.0f} s; "
        f"{stats.entries:,} contexts; resident memory +{grown / 1e6:.0f} MB (peak, allocator "
        f"included); engine's estimate {stats.approx_memory_bytes / 1e6:.0f} MB"
        + ("" if held is None else f"; live allocations {held / 1e6:.0f} MB")
        + ".\n"
    )
    print("| suggest() on | calls | p50 ms | p99 ms | max ms |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, durations in (
        ("workspace files", workspace),
        ("open editor files", editor),
        ("a 6 MB prefix", huge),
    ):
        print(
            f"| {label} | {len(durations)} | {statistics.median(durations):.3f} "
            f"| {percentile(durations, 0.99):.3f} | {max(durations):.3f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
