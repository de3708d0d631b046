#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL server and COFFER_TEST_POSTGRES_URL set.
# Uses an existing server instead when COFFER_TEST_POSTGRES_URL is already set.
#   scripts/with-postgres.sh cargo nextest run
set -euo pipefail

if [[ -n "${COFFER_TEST_POSTGRES_URL:-}" ]]; then
  exec "$@"
fi

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [[ -z "$pg_bin" || ! -x "$pg_bin/initdb" ]]; then
  pg_bin=$(dirname "$(command -v initdb || true)")
fi
if [[ ! -x "$pg_bin/initdb" ]]; then
  echo "with-postgres: PostgreSQL server binaries (initdb, pg_ctl) not found; install the postgresql package" >&2
  exit 1
fi

dir=$(mktemp -d /tmp/coffer-pg.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
as_pg=()
if [[ $(id -u) -eq 0 ]]; then
  # PostgreSQL refuses to run as root: run it as the unprivileged postgres (or nobody) user.
  runner=postgres
  id -u postgres >/dev/null 2>&1 || runner=nobody
  chown "$runner" "$dir"
  as_pg=(runuser -u "$runner" --)
fi

cleanup() {
  "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

"${as_pg[@]}" "$pg_bin/initdb" -D "$dir/data" -U coffer --auth=trust --locale=C -E UTF8 >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }
# fsync off: this server holds only test data, and tests must not wait on the disk.
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400" \
  start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }

export COFFER_TEST_POSTGRES_URL="postgres://coffer@127.0.0.1:$port/postgres"
echo "with-postgres: PostgreSQL on $COFFER_TEST_POSTGRES_URL" >&2
"$@"
