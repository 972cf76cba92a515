"""`beastmode demo` runs to the end with no model, no key and no network, and shows suggestions."""

from __future__ import annotations

import re
import subprocess
import sys


def test_demo_shows_local_suggestions_and_ends_with_the_usage_report(
    environ: dict[str, str],
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "beastmode.cli", "demo"],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    suggestions = re.findall(r"^\s+[\d.]+ ms\s+local\s+.*\[.+\]$", done.stdout, re.MULTILINE)
    assert suggestions, done.stdout
    assert "BEAST MODE: Refactor selection" in done.stdout
    assert "# BEAST MODE usage" in done.stdout and "| local" in done.stdout
