#!/usr/bin/env bash
# The web app's tests: type checks, then Playwright in Debian's headless Chromium against
# a real server (web/e2e). Installs what it needs: Chromium from Debian's packages (when
# missing and this runs as root; otherwise it says what to install) and the npm packages
# of web/package-lock.json.
#   scripts/web-e2e.sh                 # all of them
#   scripts/web-e2e.sh e2e/app.spec.ts # extra arguments go to `playwright test`
set -euo pipefail
cd "$(dirname "$0")/.."

chromium="${CHROMIUM:-/usr/bin/chromium}"
if [[ ! -x "$chromium" ]]; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "== installing Chromium (Debian package chromium)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null ||
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; }
  else
    echo "Chromium not found at $chromium: install the Debian package 'chromium' or set CHROMIUM" >&2
    exit 1
  fi
fi

cd web
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
echo "== web app type check" >&2
node_modules/.bin/tsc --noEmit

target="${CARGO_TARGET_DIR:-../target}"
[[ "$target" = /* ]] || target="../$target"
if [[ -z "${COFFER_BIN:-}" ]]; then
  (cd .. && cargo build --locked --bin coffer)
  COFFER_BIN="$target/debug/coffer"
fi
export COFFER_BIN CHROMIUM="$chromium"
echo "== web app in Chromium ($("$chromium" --version 2>/dev/null | head -1))" >&2
node_modules/.bin/playwright test "$@"
