#!/usr/bin/env bash
# The editor tests: builds and packages the VS Code extension, runs its unit tests, then the
# real-VS-Code suite (code-server + headless Chromium) and the headless Neovim test, both against
# the real beastmode-lsp and the scripted loopback model server.
#
# Usage: bash scripts/test-editors.sh
# Needs `beastmode-lsp`, `beastmode` and `python` (the project's venv) on PATH, and node + npm.
# Installs what else it needs once into $BEASTMODE_EDITORS_CACHE
# (default ${XDG_CACHE_HOME:-$HOME/.cache}/beastmode-editors); apt-get installs need root.
# Ends with "editors: N passed, M failed" and exits non-zero on any failure; screenshots and logs
# of failures go to test-artifacts/editors/.
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${BEASTMODE_EDITORS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/beastmode-editors}
ARTIFACTS=$REPO/test-artifacts/editors
EXTENSION=$REPO/editors/vscode
VSIX=$EXTENSION/beastmode.vsix
WORK=$(mktemp -d "${TMPDIR:-/tmp}/beastmode-editors.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
rm -rf "$ARTIFACTS"
mkdir -p "$ARTIFACTS"

passed=0
failed=0
started=$SECONDS

say() { printf '\n== %s (%ss)\n' "$*" "$((SECONDS - started))"; }

# A step that is not a test runner counts as one test.
step() {
    local name=$1
    shift
    if "$@" >"$WORK/step.log" 2>&1; then
        passed=$((passed + 1))
        printf 'ok   %s\n' "$name"
        return 0
    fi
    failed=$((failed + 1))
    printf 'FAIL %s\n' "$name"
    tail -n 60 "$WORK/step.log"
    cp "$WORK/step.log" "$ARTIFACTS/$(echo "$name" | tr -c 'a-zA-Z0-9\n' '-').log"
    return 1
}

# Runs node's test runner (spec on the terminal, TAP to a file) and adds its counts.
node_suite() {
    local name=$1 limit=$2
    shift 2
    local tap=$WORK/$name.tap
    timeout --kill-after=10 "$limit" node --test --test-concurrency=1 \
        --test-reporter=spec --test-reporter-destination=stdout \
        --test-reporter=tap --test-reporter-destination="$tap" "$@"
    local status=$?
    local p f
    p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$tap" 2>/dev/null | tail -1)
    f=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$tap" 2>/dev/null | tail -1)
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0}))
    if [[ $status -ne 0 && ${f:-0} -eq 0 ]]; then
        # Killed by the timeout or crashed before reporting: still a failure.
        failed=$((failed + 1))
        printf 'FAIL %s: exited with %s before reporting a failure\n' "$name" "$status"
    fi
}

finish() {
    printf '\n(editor tests took %ss)\n' "$((SECONDS - started))"
    printf 'editors: %d passed, %d failed\n' "$passed" "$failed"
    [[ $failed -eq 0 ]]
    exit $?
}

say "prerequisites"
missing=()
for tool in node npm beastmode-lsp beastmode python; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
    printf 'FAIL prerequisites: not on PATH: %s (activate the project venv first)\n' "${missing[*]}"
    failed=$((failed + 1))
    finish
fi

say "install (cache: $CACHE)"
step "install code-server, Node 24, playwright-core, neovim, chromium" \
    timeout 1500 bash "$REPO/tests/editors/install.sh" "$CACHE" || finish

say "build the extension"
install_deps() {
    cd "$EXTENSION" || return 1
    if cmp -s package-lock.json node_modules/.beastmode-lock 2>/dev/null; then return 0; fi
    timeout 600 npm ci --no-audit --no-fund --prefer-offline && cp package-lock.json node_modules/.beastmode-lock
}
step "npm ci (editors/vscode)" install_deps || finish
step "tsc strict (editors/vscode)" bash -c "cd '$EXTENSION' && rm -rf out && timeout 300 npx tsc -p ." || finish
step "package the .vsix (esbuild + vsce)" bash -c "cd '$EXTENSION' && rm -f '$VSIX' && timeout 300 npx vsce package --no-dependencies --skip-license --allow-missing-repository -o '$VSIX'" || finish

say "extension unit tests"
node_suite unit 120 "$EXTENSION"/out/test/*.test.js

export BEASTMODE_EDITORS_CACHE=$CACHE
export BEASTMODE_VSIX=$VSIX
export BEASTMODE_REPO=$REPO
export BEASTMODE_ARTIFACTS=$ARTIFACTS
export BEASTMODE_PYTHON=${BEASTMODE_PYTHON:-python}

say "VS Code (code-server $(ls -a "$CACHE/code-server" | sed -n 's/^.done-//p') in Chromium)"
cd "$REPO" || exit 1
node_suite vscode 600 tests/editors/vscode.test.mjs

say "Neovim ($(nvim --version | head -1))"
node_suite neovim 300 tests/editors/neovim.test.mjs

finish
