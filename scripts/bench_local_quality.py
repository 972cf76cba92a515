"""Measure the `local` engine's rest-of-line suggestions on a real package's source code.

The package is one installed from PyPI and not written here (default: pytest). With a fixed seed,
lines are cut at random points (from the first non-blank character to just before the last one).
For each cut the engine has learned every OTHER file of the package (as a workspace scan would)
plus the current file up to the cut (as the editor would send it), the rest of that file hidden,
and is asked for the rest of the line. Reported:

- coverage: share of cuts where it answers;
- precision: exact rest-of-line matches (trailing blanks ignored) among answers;
- chars saved: characters of exactly matched answers / all rest-of-line characters.

Decoding runs once with a permissive threshold and the table shows what each confidence
threshold would give (a stricter threshold only removes answers), the engine's default in bold.

`--end-to-end` asks through the real server instead, as an editor would: the package is copied
into a workspace without the files that hold cuts (the server's scan learns the rest), and for
each cut the file up to the cut is sent with didOpen, then `textDocument/inlineCompletion` is
asked at its end, cold (right after didOpen) and after a pause (once the server had time to learn
the document); the engine alone is measured on the same cuts with the same knowledge (it scans
the same workspace copy), at its default threshold, in the same run, and the last column counts
the cuts where the server's answer differs from the engine's.

    .venv/bin/python scripts/bench_local_quality.py [--package pytest] [--cuts 2000] [--seed 6]
    .venv/bin/python scripts/bench_local_quality.py --end-to-end [--cuts 150] [--files 6]
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.metadata
import os
import random
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from beastmode.localengine import DEFAULT_MAX_ENTRIES, DecodeParams, LocalEngine, scan_workspace

THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


@dataclasses.dataclass(frozen=True)
class Cut:
    """One place to ask for the rest of the line."""

    path: Path
    offset: int
    rest: str


@dataclasses.dataclass(frozen=True)
class Outcome:
    """The engine's answer at one cut."""

    rest: str
    answer: str | None
    confidence: float


def package_sources(name: str) -> tuple[str, list[Path]]:
    """Return the distribution's version and its Python source files."""
    distribution = importlib.metadata.distribution(name)
    files = sorted(
        Path(str(distribution.locate_file(entry)))
        for entry in distribution.files or []
        if entry.suffix == ".py"
    )
    return distribution.version, [path for path in files if path.is_file()]


def sample_cuts(texts: dict[Path, str], count: int, seed: int) -> list[Cut]:
    """Pick `count` random non-blank lines and a random cut inside each."""
    lines: list[tuple[Path, int, str]] = []
    for path, text in texts.items():
        offset = 0
        for line in text.splitlines(keepends=True):
            if line.strip():
                lines.append((path, offset, line.rstrip("\r\n")))
            offset += len(line)
    rng = random.Random(seed)
    cuts = []
    for path, line_offset, line in rng.sample(lines, min(count, len(lines))):
        content = line.rstrip()
        indent = len(line) - len(line.lstrip())
        position = rng.randrange(indent, len(content))
        cuts.append(Cut(path, line_offset + position, content[position:]))
    return cuts


def run(
    files: list[Path], cuts: list[Cut], params: DecodeParams, max_entries: int = DEFAULT_MAX_ENTRIES
) -> tuple[list[Outcome], float]:
    """Answer every cut; return the outcomes and the mean suggest() time in milliseconds."""
    texts = {path: path.read_text(encoding="utf-8") for path in files}
    engine = LocalEngine(params=params, max_entries=max_entries)
    for path in files:
        engine.update_document(path.as_uri(), texts[path], from_disk=True)
    by_file: dict[Path, list[Cut]] = defaultdict(list)
    for cut in cuts:
        by_file[cut.path].append(cut)
    outcomes = []
    spent = 0.0
    for path, file_cuts in by_file.items():
        uri = path.as_uri()
        text = texts[path]
        engine.remove_document(uri)
        for cut in sorted(file_cuts, key=lambda c: c.offset):
            engine.update_document(uri, text[: cut.offset])
            started = time.perf_counter()
            suggestion = engine.suggest(text[: cut.offset], "", uri=uri, language="python")
            spent += time.perf_counter() - started
            answer = None if suggestion is None else suggestion.text
            confidence = 0.0 if suggestion is None else suggestion.confidence
            outcomes.append(Outcome(cut.rest, answer, confidence))
        engine.remove_document(uri)
        engine.update_document(uri, text, from_disk=True)
    return outcomes, spent / max(len(cuts), 1) * 1000


def score(outcomes: list[Outcome], threshold: float) -> tuple[float, float, float]:
    """Return coverage, precision and chars saved when answering only at `threshold` or above."""
    answered = [o for o in outcomes if o.answer is not None and o.confidence >= threshold]
    exact = [o for o in answered if o.answer is not None and o.answer.rstrip() == o.rest.rstrip()]
    total_chars = sum(len(o.rest.rstrip()) for o in outcomes)
    coverage = len(answered) / len(outcomes)
    precision = len(exact) / len(answered) if answered else 0.0
    saved = sum(len(o.rest.rstrip()) for o in exact) / total_chars
    return coverage, precision, saved


def engine_alone(
    workspace: Path, root: Path, texts: dict[Path, str], cuts: list[Cut]
) -> list[Outcome]:
    """The engine with the server's knowledge: the workspace as scanned, and the file to the cut.

    It scans the very workspace the server scans: the order files are learned in decides which
    rare candidates a full context keeps, so another order would add noise of its own.
    """
    engine = LocalEngine()
    scan_workspace(str(workspace), engine)
    outcomes = []
    for cut in cuts:
        uri = (workspace / cut.path.relative_to(root)).as_uri()
        prefix = texts[cut.path][: cut.offset]
        engine.update_document(uri, prefix)
        suggestion = engine.suggest(prefix, "", uri=uri, language="python")
        engine.remove_document(uri)
        answer = None if suggestion is None else suggestion.text
        outcomes.append(Outcome(cut.rest, answer, 1.0))
    return outcomes


def through_server(
    workspace: Path, root: Path, cuts: list[Cut], pause: float
) -> tuple[list[Outcome], list[Outcome]]:
    """Ask each cut through the real server, cold and after `pause` seconds.

    The files holding cuts are not on disk, so closing one makes the server forget it, as the
    engine alone forgets it after each cut.
    """
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.conftest import private_environ
    from tests.hardening.client import LspProcess

    server = LspProcess(
        private_environ(workspace.parent / "home"),
        workspace,
        command=(sys.executable, "-m", "beastmode", "--log-level", "INFO"),
    )
    try:
        server.initialize(workspace, {"model": "local", "fallback": []})
        server.wait_for(lambda s: "Local engine learned" in s.stderr, timeout=600)
        cold, paused = [], []
        for cut in cuts:
            text = cut.path.read_text(encoding="utf-8")[: cut.offset]
            uri = (workspace / cut.path.relative_to(root)).as_uri()
            line, character = text.count("\n"), len(text) - (text.rfind("\n") + 1)
            for outcomes, wait in ((cold, 0.0), (paused, pause)):
                server.open(uri, text)
                time.sleep(wait)
                answer = server.response(server.inline(uri, line, character), timeout=30)
                items = (answer.get("result") or {}).get("items") or []
                suggestion = items[0]["insertText"] if items else None
                outcomes.append(Outcome(cut.rest, suggestion, 1.0))
                server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    finally:
        server.close()
    return cold, paused


def end_to_end(args: argparse.Namespace) -> int:
    """Compare the engine alone with the same engine asked through the server."""
    version, files = package_sources(args.package)
    root = Path(os.path.commonpath([str(path) for path in files]))
    texts = {path: path.read_text(encoding="utf-8") for path in files}
    rng = random.Random(args.seed)
    sized = [path for path in files if 2_000 < len(texts[path]) < 60_000]
    cut_files = set(rng.sample(sized, min(args.files, len(sized))))
    cuts = sample_cuts({path: texts[path] for path in sorted(cut_files)}, args.cuts, args.seed)
    started = time.perf_counter()
    scratch = Path(tempfile.mkdtemp(prefix="beastmode-bench-"))
    try:
        workspace = scratch / "ws"
        for path in files:
            if path not in cut_files:
                target = workspace / path.relative_to(root)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
        alone = engine_alone(workspace, root, texts, cuts)
        cold, paused = through_server(workspace, root, cuts, args.pause)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    elapsed = time.perf_counter() - started
    print(f"## `local` through the server vs alone, on {args.package} {version}\n")
    print(
        f"{len(cuts)} cuts in {len(cut_files)} files the engine never saw, seed {args.seed}; "
        f"default threshold; pause {args.pause:.1f} s; run {elapsed:.0f} s.\n"
    )
    print("| asked | coverage | precision | chars saved | answers unlike the engine alone's |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, outcomes in (
        ("engine alone", alone),
        ("server, right after didOpen", cold),
        (f"server, {args.pause:.1f} s after didOpen", paused),
    ):
        coverage, precision, saved = score(outcomes, 0.0)
        differ = sum(o.answer != a.answer for o, a in zip(outcomes, alone, strict=True))
        print(f"| {name} | {coverage:.1%} | {precision:.1%} | {saved:.1%} | {differ} |")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", default="pytest", help="an installed distribution")
    parser.add_argument("--cuts", type=int, default=None, help="default 2000; 150 end to end")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--max-entries", type=int, default=DEFAULT_MAX_ENTRIES)
    parser.add_argument("--end-to-end", action="store_true", help="ask through the real server")
    parser.add_argument("--files", type=int, default=6, help="end to end: files holding cuts")
    parser.add_argument("--pause", type=float, default=1.0, help="end to end: the later ask")
    args = parser.parse_args()
    if args.end_to_end:
        args.cuts = args.cuts or 150
        return end_to_end(args)
    args.cuts = args.cuts or 2000

    started = time.perf_counter()
    version, files = package_sources(args.package)
    texts = {path: path.read_text(encoding="utf-8") for path in files}
    cuts = sample_cuts(texts, args.cuts, args.seed)
    default = DecodeParams()
    permissive = dataclasses.replace(default, min_confidence=min(THRESHOLDS))
    outcomes, mean_ms = run(files, cuts, permissive, args.max_entries)
    elapsed = time.perf_counter() - started

    size = sum(len(text.encode()) for text in texts.values())
    print(f"## `local` engine, rest-of-line quality on {args.package} {version}\n")
    print(
        f"{len(files)} files, {size / 1e6:.2f} MB of Python; {len(cuts)} cuts, seed {args.seed}; "
        f"max_entries {args.max_entries:,}; mean suggest() {mean_ms:.2f} ms; run {elapsed:.0f} s.\n"
    )
    print("| confidence threshold | coverage | precision | chars saved |")
    print("| ---: | ---: | ---: | ---: |")
    for threshold in sorted({*THRESHOLDS, default.min_confidence}):
        coverage, precision, saved = score(outcomes, threshold)
        mark = "**" if threshold == default.min_confidence else ""
        print(
            f"| {mark}{threshold:.2f}{mark} | {mark}{coverage:.1%}{mark} "
            f"| {mark}{precision:.1%}{mark} | {mark}{saved:.1%}{mark} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
