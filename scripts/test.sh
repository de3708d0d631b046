#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, architecture rules, then every
# test on SQLite and on a throwaway PostgreSQL server this script starts, then the web
# app's tests in headless Chromium (scripts/web-e2e.sh).
#   scripts/test.sh            # everything
#   scripts/test.sh -E 'test(story)'   # extra arguments go to cargo nextest
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== formatting" >&2
cargo fmt --all -- --check
echo "== lints" >&2
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== architecture rules" >&2
scripts/check-architecture.sh

# A case-insensitive disk for the sync tests (crates/cli/tests/sync_disks.rs) is an rclone
# FUSE mount: install rclone and fuse3 where this script may (root, Debian). Without them
# that test says it was skipped.
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null && ! { command -v rclone && command -v fusermount3; } >/dev/null; then
  echo "== installing rclone and fuse3 (a case-insensitive disk for the sync tests)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rclone fuse3 >/dev/null ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rclone fuse3 >/dev/null; } ||
    echo "rclone and fuse3 could not be installed; the case-insensitive disk test will be skipped" >&2
fi

runner=(cargo nextest run --workspace --locked --no-fail-fast)
if ! cargo nextest --version >/dev/null 2>&1; then
  echo "cargo-nextest not found; using cargo test" >&2
  runner=(cargo test --workspace --locked --no-fail-fast)
fi
echo "== tests (SQLite and PostgreSQL)" >&2
COFFER_REQUIRE_POSTGRES=1 scripts/with-postgres.sh "${runner[@]}" "$@"
# The web app's tests run with the whole suite (not when arguments pick Rust tests).
if [[ $# -eq 0 ]]; then
  scripts/web-e2e.sh
fi
