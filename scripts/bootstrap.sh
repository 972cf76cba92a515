#!/usr/bin/env bash
# Create .venv (if missing or stale) and install BEAST MODE with its dev tools into it, exactly as
# pinned in requirements.lock (hashes checked), then the project itself with --no-deps.
# Sourced by scripts/demo and scripts/test; safe to run again (it only reinstalls on change).
#   BEASTMODE_VENV=DIR     another venv (default .venv)
#   BEASTMODE_LATEST=1     ignore the lock: the newest releases pyproject.toml allows, upgraded
#                          on every run (scripts/test uses this in .venv-latest to see upstream
#                          breakage at once)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${BEASTMODE_VENV:-$root/.venv}"
python="${PYTHON:-python3}"
lock="$root/requirements.lock"
# (sed drops this machine's notices about optional local package mirrors; pip's errors still show)
quiet_pip() {
  "$venv/bin/python" -m pip --quiet --disable-pip-version-check "$@" 2>&1 \
    | sed '/^WARNING: Location .* is ignored/d' >&2
  return "${PIPESTATUS[0]}"
}
if [ ! -x "$venv/bin/python" ]; then
  echo "==> creating $venv" >&2
  "$python" -m venv "$venv"
fi
if [ "${BEASTMODE_LATEST:-}" = "1" ]; then
  echo "==> upgrading $venv to the newest releases pyproject.toml allows" >&2
  quiet_pip install --upgrade pip
  quiet_pip install --upgrade --upgrade-strategy eager -e "$root[dev]"
  rm -f "$venv"/.installed-*
else
  stamp="$venv/.installed-$(cat "$root/pyproject.toml" "$lock" | sha256sum | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    echo "==> installing beastmode and its dev tools into $venv from requirements.lock" >&2
    quiet_pip install --upgrade pip
    quiet_pip install --require-hashes -r "$lock"
    quiet_pip install --no-deps -e "$root"
    if ! missing=$("$venv/bin/python" -m pip check 2>&1); then
      echo "bootstrap: requirements.lock does not match pyproject.toml ($missing)." >&2
      echo "bootstrap: run scripts/lock to regenerate it, then commit requirements.lock." >&2
      return 1 2>/dev/null || exit 1
    fi
    rm -f "$venv"/.installed-*
    touch "$stamp"
  fi
fi
export PATH="$venv/bin:$PATH"
