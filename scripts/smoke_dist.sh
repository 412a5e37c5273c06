#!/usr/bin/env bash
# Installs what scripts/dist.sh built the way a user would, offline and into throwaway places (the
# wheel into a fresh venv, the npm tarballs into a temp global prefix), then runs the INSTALLED
# commands: `opentrain-mcp` must answer initialize and tools/list over stdio with all 42 tools and
# exit cleanly when its client closes stdin; `opentrain --version` must print the packaged version.
# Prints each install's duration (a figure, not a check).
#
# Usage: scripts/smoke_dist.sh [DIST_DIR]   (default dist/)
set -euo pipefail
cd "$(dirname "$0")/.."
DIST=$(cd "${1:-dist}" && pwd)
EXPECTED_TOOLS=42

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Nothing the user has configured may leak in (credentials, config dir, API base URL).
while IFS='=' read -r name _; do
    case "$name" in OPENTRAIN_*|OT_*) unset "$name" ;; esac
done < <(env)
export HOME="$tmp/home" XDG_CONFIG_HOME="$tmp/home/.config"
mkdir -p "$HOME"

one() {
    local matches=("$@")
    [ "${#matches[@]}" = 1 ] && [ -e "${matches[0]}" ] || { echo "smoke_dist: expected one file, found: ${matches[*]}" >&2; exit 1; }
    echo "${matches[0]}"
}
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' crates/opentrain-bins/Cargo.toml | head -1)
seconds_since() { python3 -c "import sys,time; print(f'{time.time() - float(sys.argv[1]):.2f}')" "$1"; }

# Drives the installed server like an MCP client: one JSON-RPC message a line on stdin/stdout.
check_mcp() {
    python3 - "$1" "$EXPECTED_TOOLS" <<'PY'
import json, subprocess, sys, threading

binary, expected = sys.argv[1], int(sys.argv[2])
proc = subprocess.Popen([binary], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
# A hung server fails the run instead of hanging CI.
watchdog = threading.Timer(120, proc.kill)
watchdog.start()

def send(msg):
    proc.stdin.write(json.dumps(msg) + "\n")
    proc.stdin.flush()

def answer(id_):
    for line in proc.stdout:
        msg = json.loads(line)  # stdout must carry nothing but the protocol
        if msg.get("id") == id_:
            return msg
    sys.exit(f"smoke_dist: {binary} closed stdout before answering request {id_}; stderr: {proc.stderr.read()}")

send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "smoke_dist", "version": "1"}}})
init = answer(1)["result"]
send({"jsonrpc": "2.0", "method": "notifications/initialized"})
send({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
tools = [t["name"] for t in answer(2)["result"]["tools"]]
proc.stdin.close()
code = proc.wait()
watchdog.cancel()
print(f"  server {init['serverInfo']['name']} {init['serverInfo']['version']}, protocol {init['protocolVersion']}: "
      f"{len(tools)} tools ({tools[0]} ... {tools[-1]}), exit {code} after stdin closed")
if len(tools) != expected or len(set(tools)) != expected:
    sys.exit(f"smoke_dist: expected {expected} distinct tools, got {len(tools)}")
if "opentrain_wait_for_approval" not in tools:
    sys.exit("smoke_dist: opentrain_wait_for_approval missing")
if code != 0:
    sys.exit(f"smoke_dist: {binary} exited {code} when its client closed stdin")
PY
}

check_cli() {
    local out
    out=$("$1" --version)
    echo "  $1 --version: $out"
    [ "$out" = "opentrain $VERSION" ] || { echo "smoke_dist: expected 'opentrain $VERSION'" >&2; exit 1; }
}

echo "== wheel: pip install into a fresh venv (no index, no compile)"
wheel=$(one "$DIST"/opentrain_mcp-"$VERSION"-*.whl)
python3 -m venv "$tmp/venv"
start=$(python3 -c 'import time; print(time.time())')
"$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-index --no-deps "$wheel"
echo "  installed $(basename "$wheel") ($(du -k "$wheel" | cut -f1) KiB) in $(seconds_since "$start") s"
check_mcp "$tmp/venv/bin/opentrain-mcp"
check_cli "$tmp/venv/bin/opentrain"

echo "== npm: npm install -g into a temp prefix (offline, the two tarballs)"
main=$(one "$DIST/opentrain-mcp-$VERSION.tgz")
platform=$(one "$DIST"/opentrain-mcp-*-"$VERSION".tgz)
# --omit=optional: the shim's optionalDependencies name registry packages; this run must use only
# the tarballs just built, never whatever the registry holds under those names.
start=$(python3 -c 'import time; print(time.time())')
npm install --global --prefix "$tmp/npm" --offline --omit=optional --no-audit --no-fund --silent "$platform" "$main"
echo "  installed $(basename "$main") ($(du -k "$main" | cut -f1) KiB) + $(basename "$platform") ($(du -k "$platform" | cut -f1) KiB) in $(seconds_since "$start") s"
check_mcp "$tmp/npm/bin/opentrain-mcp"
check_cli "$tmp/npm/bin/opentrain"
echo "smoke_dist: the wheel and the npm packages install and run"
