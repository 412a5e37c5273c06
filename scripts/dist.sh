#!/usr/bin/env bash
# Builds what people install without a Rust toolchain, for one platform (the host by default), into
# dist/:
#   opentrain_mcp-<v>-<tags>.whl      PyPI wheel (maturin, bindings = "bin"): pipx/uvx opentrain-mcp
#   opentrain-mcp-<v>.tgz             npm shim package: npx -y opentrain-mcp
#   opentrain-mcp-<platform>-<v>.tgz  npm binary package of this platform (optionalDependency of the shim)
#   opentrain-<target>.tgz|.zip       release archive with both binaries (what cargo-binstall downloads)
# scripts/smoke_dist.sh then installs the wheel and the npm packages and runs them.
#
# Usage: scripts/dist.sh [--profile release|dist-ci] [--out DIR] [--skip-wheel]
#                        [--bins DIR --platform KEY]   package prebuilt binaries (release workflow)
#        scripts/dist.sh --sync-lock                   only refresh crates/opentrain-bins/Cargo.lock
# --profile: `release` (default) is what users get; `dist-ci` (CI) builds faster, runs slower.
# Needs: cargo, node and npm; maturin (pip install maturin==1.16.0) unless --skip-wheel.
set -euo pipefail
cd "$(dirname "$0")/.."

CRATE=crates/opentrain-bins
PROFILE=release
OUT=dist
BINS=""
PLATFORM=""
WHEEL=1
SYNC_ONLY=0

die() { echo "dist.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
        --profile) PROFILE=${2:?}; shift 2 ;;
        --out) OUT=${2:?}; shift 2 ;;
        --bins) BINS=${2:?}; shift 2 ;;
        --platform) PLATFORM=${2:?}; shift 2 ;;
        --skip-wheel) WHEEL=0; shift ;;
        --sync-lock) SYNC_ONLY=1; shift ;;
        -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument $1 (see --help)" ;;
    esac
done
if [ -n "$BINS" ] && [ "$WHEEL" = 1 ]; then die "--bins packages prebuilt binaries: add --skip-wheel"; fi

# The version is stated in the root workspace and, because the packaging crate is its own workspace,
# again in its Cargo.toml: refuse to ship packages whose versions disagree.
version_of() { sed -n '/^\[\(workspace\.\)\{0,1\}package\]/,/^\[/s/^version = "\(.*\)"/\1/p' "$1" | head -1; }
ROOT_VERSION=$(sed -n '/^\[workspace\.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)
VERSION=$(version_of "$CRATE/Cargo.toml")
[ -n "$VERSION" ] && [ "$VERSION" = "$ROOT_VERSION" ] ||
    die "$CRATE/Cargo.toml has version '$VERSION' but the workspace has '$ROOT_VERSION': make them equal"

# The packaging crate's lock is the root lock pruned to its graph (same versions everywhere).
sync_lock() {
    local before
    before=$(mktemp)
    cp "$CRATE/Cargo.lock" "$before" 2>/dev/null || : >"$before"
    cp Cargo.lock "$CRATE/Cargo.lock"
    cargo metadata --manifest-path "$CRATE/Cargo.toml" --format-version 1 >/dev/null
    if cmp -s "$before" "$CRATE/Cargo.lock"; then
        rm -f "$before"
        return 0
    fi
    if [ "$SYNC_ONLY" = 1 ]; then
        echo "dist.sh: $CRATE/Cargo.lock updated from Cargo.lock: commit it"
    elif [ "${CI:-}" = true ]; then
        cp "$before" "$CRATE/Cargo.lock"
        rm -f "$before"
        die "$CRATE/Cargo.lock is stale (a dependency changed): run scripts/dist.sh --sync-lock and commit it"
    else
        echo "dist.sh: note: $CRATE/Cargo.lock was stale and is now updated from Cargo.lock: commit it" >&2
    fi
    rm -f "$before"
}

if [ "$SYNC_ONLY" = 1 ]; then
    sync_lock
    exit 0
fi

if [ -z "$PLATFORM" ]; then
    PLATFORM=$(node -p 'process.platform + "-" + process.arch')
fi
TARGET=$(node -p "(require('./npm/opentrain-mcp/lib/platforms').PLATFORMS['$PLATFORM'] || {}).target || ''")
[ -n "$TARGET" ] || die "no npm platform package is defined for $PLATFORM (npm/opentrain-mcp/lib/platforms.js)"

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}

if [ -z "$BINS" ]; then
    sync_lock
    case "$PROFILE" in dev) BINS=$CARGO_TARGET_DIR/debug ;; *) BINS=$CARGO_TARGET_DIR/$PROFILE ;; esac
    if [ "$WHEEL" = 1 ]; then
        # maturin runs cargo (both binaries, one build) and packs the binaries as the wheel's scripts.
        rm -f "$OUT"/opentrain_mcp-*.whl
        maturin build --manifest-path "$CRATE/Cargo.toml" --profile "$PROFILE" --locked --out "$OUT"
    else
        cargo build --manifest-path "$CRATE/Cargo.toml" --profile "$PROFILE" --locked
    fi
fi

# npm: the shim package and this platform's binary package, packed as the registry would serve them.
rm -rf "$OUT/npm"
rm -f "$OUT"/opentrain-mcp-*.tgz
node npm/stage.js --version "$VERSION" --out "$OUT/npm" --platform "$PLATFORM" --bins "$BINS" >/dev/null
for pkg in opentrain-mcp "opentrain-mcp-$PLATFORM"; do
    (cd "$OUT/npm/$pkg" && npm pack --silent --pack-destination "$OUT" >/dev/null)
done

# The release archive: both binaries (and the licences) under one directory named after the target,
# the layout [package.metadata.binstall] in the two binary crates expects.
stage="$OUT/npm/opentrain-$TARGET"
mkdir -p "$stage"
cp "$OUT/npm/opentrain-mcp-$PLATFORM/bin/"* LICENSE-MIT LICENSE-APACHE README.md "$stage/"
case "$TARGET" in
    *windows*) (cd "$OUT/npm" && rm -f "$OUT/opentrain-$TARGET.zip" && zip -qr "$OUT/opentrain-$TARGET.zip" "opentrain-$TARGET") ;;
    *) tar -czf "$OUT/opentrain-$TARGET.tgz" -C "$OUT/npm" "opentrain-$TARGET" ;;
esac

echo "dist.sh: built for $PLATFORM ($TARGET), profile $PROFILE, version $VERSION:"
ls -l "$OUT" | awk 'NR > 1 && $1 !~ /^d/ { printf "  %10s  %s\n", $5, $9 }'
