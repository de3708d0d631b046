#!/usr/bin/env bash
# The web app's benchmarks in headless Chromium with a release server (docs/BENCHMARKS.md):
#   scripts/web-bench.sh
#   COFFER_BENCH_ENTRIES=10000 COFFER_BENCH_UPLOAD_MIB=256 scripts/web-bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --bin coffer
target="${CARGO_TARGET_DIR:-target}"
export COFFER_BIN="$target/release/coffer"
[[ "$COFFER_BIN" = /* ]] || COFFER_BIN="$PWD/$COFFER_BIN"
cd web
node_modules/.bin/playwright test --config playwright.bench.config.ts "$@"
