#!/usr/bin/env bash
# Mutation score of the hand-written layer (issue 13, item 5): cargo-mutants over the SDK's
# transport, errors, credentials, pagination, claim, approvals, webhook, redaction and open enums,
# and over the MCP call/result path. Not run in CI: every mutant rebuilds the SDK and the crates
# that depend on it, hours on 2 cores.
#
# Usage: scripts/mutants.sh [sdk|mcp|all] [extra cargo-mutants flags...]
#   MUTANTS_OUT      where the mutants.out directories go (default target/mutants)
#   MUTANTS_TIMEOUT  seconds a test run may take before the mutant counts as a timeout (default 300)
#   MUTANTS_SDK_FILES, MUTANTS_MCP_FILES  the files mutated (space-separated; defaults below)
#   MUTANTS_JOBS     mutants built and tested at once (default 1, in place); above 1 each job works
#                    in its own copy of the tree and of target/ (about 6 GB each), so the tree can be
#                    edited meanwhile. The client suite mostly waits on sockets and deadlines, so 2
#                    jobs on 2 cores about halve the run.
#   NEXTEST_TEST_THREADS  tests run at once (default 8): the suites mostly wait on sockets and
#                    deadlines, not the CPU. Tests run under cargo-nextest, which stops at the first
#                    failure, so a caught mutant costs seconds instead of the whole suite.
# Examples:
#   scripts/mutants.sh all                                  # the whole run
#   scripts/mutants.sh sdk --shard 0/10 --sharding round-robin   # a uniform 1-in-10 sample
#   scripts/mutants.sh sdk --iterate                        # only mutants not caught last time
#   scripts/mutants.sh sdk -F 'judge|may_have_arrived'      # one function's mutants
#   MUTANTS_SDK_FILES=src/redact.rs scripts/mutants.sh sdk  # one file's mutants
#
# It mutates the working tree in place (each file is restored after its mutant): do not edit the
# mutated files while it runs. Score = caught / viable, viable = caught + missed + timeouts
# (a timeout counts as caught); unviable mutants (that do not compile) are left out.
set -euo pipefail
cd "$(dirname "$0")/.."

which=${1:-all}
shift || true
out=${MUTANTS_OUT:-target/mutants}
timeout=${MUTANTS_TIMEOUT:-300}

if ! command -v cargo-mutants >/dev/null; then
    cargo install --locked cargo-mutants
fi

jobs=${MUTANTS_JOBS:-1}
export NEXTEST_TEST_THREADS=${NEXTEST_TEST_THREADS:-8}
command -v cargo-nextest >/dev/null || cargo install --locked cargo-nextest

# --max-fail=1:immediate: the first failing test ends the run, killing the tests still waiting on
# a deadline (a caught mutant then costs its build and about a second).
common=(--timeout "$timeout" --build-timeout 1800 --baseline skip --no-shuffle --test-tool nextest
    --cargo-test-arg=--max-fail=1:immediate)
if [ "$jobs" -gt 1 ]; then
    # Copies, each starting from this tree's warm target/ (a cold build per job would take longer
    # than many mutants).
    common+=(--jobs "$jobs" --copy-target=true)
else
    # In place means one job at a time (cargo-mutants refuses --jobs with it): one tree, one target.
    common+=(--in-place)
fi

sdk_default="src/call.rs src/error.rs src/credentials.rs src/paginate.rs src/claim.rs src/approvals.rs"
sdk_default+=" src/webhook.rs src/redact.rs src/open_enum.rs"
read -r -a sdk_files <<<"${MUTANTS_SDK_FILES:-$sdk_default}"
read -r -a mcp_files <<<"${MUTANTS_MCP_FILES:-crates/opentrain-mcp/src/call.rs crates/opentrain-mcp/src/result.rs}"

run() {
    local name=$1
    shift
    mkdir -p "$out/$name"
    # cargo-mutants exits non-zero when a mutant survives; the score below is the verdict.
    cargo mutants "${common[@]}" --output "$out/$name" "$@" || true
}

score() {
    local dir=$1/mutants.out
    [ -d "$dir" ] || return 0
    local caught missed timeout unviable
    caught=$(grep -c . "$dir/caught.txt" 2>/dev/null || true)
    missed=$(grep -c . "$dir/missed.txt" 2>/dev/null || true)
    timeout=$(grep -c . "$dir/timeout.txt" 2>/dev/null || true)
    unviable=$(grep -c . "$dir/unviable.txt" 2>/dev/null || true)
    local viable=$((caught + missed + timeout))
    local pct=n/a
    if [ "$viable" -gt 0 ]; then pct=$(((caught + timeout) * 1000 / viable)); pct="$((pct / 10)).$((pct % 10))%"; fi
    echo "$1: caught $((caught + timeout)) / viable $viable = $pct (missed $missed, timeouts $timeout, unviable $unviable)"
    if [ "$missed" -gt 0 ]; then sed 's/^/  missed: /' "$dir/missed.txt"; fi
}

if [ "$which" = sdk ] || [ "$which" = all ]; then
    files=()
    for f in "${sdk_files[@]}"; do files+=(--file "$f"); done
    # The client suite and the unit tests: the binaries that exercise these files (doctests, the
    # examples and the sandbox suites would multiply the time for little). -C applies to the build
    # too, which otherwise builds every test target and example of the package for each mutant.
    run sdk --package opentrain --test-package opentrain "${files[@]}" -C --lib -C --test=client "$@"
fi
if [ "$which" = mcp ] || [ "$which" = all ]; then
    files=()
    for f in "${mcp_files[@]}"; do files+=(--file "$f"); done
    run mcp --package opentrain-mcp --test-package opentrain-mcp "${files[@]}" -C --lib -C --test=mcp "$@"
fi

echo "mutation score (caught / viable):"
score "$out/sdk"
score "$out/mcp"
