#!/usr/bin/env bash
# Fails when a crate gains a dependency that docs/ARCHITECTURE.md forbids.
set -euo pipefail
cd "$(dirname "$0")/.."

fail=0
# forbid CRATE DEP REASON: DEP may not appear anywhere in CRATE's normal dependency tree.
# forbid_direct: DEP may not be a direct dependency (it may come through an allowed crate).
forbid() { check "$1" "$2" "$3" ""; }
forbid_direct() { check "$1" "$2" "$3" "--depth 1"; }
check() {
  # shellcheck disable=SC2086
  if cargo tree -q -p "$1" -e normal --prefix none $4 2>/dev/null | awk '{print $1}' | grep -qx "$2"; then
    echo "architecture: $1 must not depend on $2 ($3)" >&2
    fail=1
  fi
}
for dep in tokio sqlx axum reqwest hyper; do forbid coffer-core "$dep" "core is pure: no I/O, no async runtime"; done
for dep in coffer-metastore coffer-blobstore sqlx; do forbid_direct coffer-server "$dep" "front ends reach data only through the service"; done
for dep in coffer-service coffer-server coffer-metastore coffer-blobstore axum; do forbid coffer-client "$dep" "the client reaches the server only over HTTP"; done
for dep in coffer-service coffer-server axum reqwest; do forbid coffer-metastore "$dep" "the metadata store knows no operations or HTTP"; done
for dep in coffer-metastore coffer-service axum reqwest sqlx; do forbid coffer-blobstore "$dep" "the chunk store knows no metadata"; done
for dep in axum reqwest; do forbid coffer-service "$dep" "the service knows nothing of HTTP"; done
# Only an admin caller makes an admin principal in a door; the operator's handle is for
# in-process tools (the CLI's own commands) and tests.
if grep -rn "admin_service()\|open_admin(" crates/server/src >/dev/null; then
  echo "architecture: coffer-server must not use the operator's admin handle (use Caller::admin)" >&2
  fail=1
fi
exit $fail
