#!/usr/bin/env bash
# Create .venv (if missing or stale) and install BEAST MODE with its dev tools into it.
# Sourced by scripts/demo and scripts/test; safe to run again (it only reinstalls on change).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
python="${PYTHON:-python3}"
stamp="$venv/.installed-$(sha256sum "$root/pyproject.toml" | cut -c1-16)"
if [ ! -x "$venv/bin/python" ]; then
  echo "==> creating $venv" >&2
  "$python" -m venv "$venv"
fi
if [ ! -f "$stamp" ]; then
  echo "==> installing beastmode and its dev tools into .venv" >&2
  # (sed drops this machine's notices about optional local package mirrors; pip's errors still show)
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip 2>&1 \
    | sed '/^WARNING: Location .* is ignored/d' >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$root[dev]" 2>&1 \
    | sed '/^WARNING: Location .* is ignored/d' >&2
  rm -f "$venv"/.installed-*
  touch "$stamp"
fi
export PATH="$venv/bin:$PATH"
