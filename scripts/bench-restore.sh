#!/usr/bin/env bash
# Point-in-time restore of a folder of N files (10,000 by default) after every file
# changed, with the release binary over loopback (docs/BENCHMARKS.md):
#   scripts/bench-restore.sh [N]
# Prints the time of the restore and of its dry run, and how many HTTP requests the
# server answered for each (from the access log the server writes at debug level).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
n=${1:-10000}
cargo build --release --locked -q --bin coffer
bin="${CARGO_TARGET_DIR:-$root/target}/release/coffer"
work=$(mktemp -d /tmp/coffer-bench-restore.XXXXXX)
export COFFER_CONFIG_DIR="$work/profile"
data="$work/data"
port=$((20000 + RANDOM % 20000))
COFFER_LOG=warn,tower_http=debug "$bin" serve --data "$data" --listen "127.0.0.1:$port" 2>"$work/server.log" &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do grep -q "listening on" "$work/server.log" 2>/dev/null && break; sleep 0.1; done
echo "bench-password" | "$bin" admin user add bench --data "$data" >/dev/null
echo "bench-password" | "$bin" login "http://127.0.0.1:$port" --user bench --device bench >/dev/null

python3 - "$work/Data" "$n" 1 <<'PY'
import os, sys
root, n, gen = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for i in range(n):
    d = f"{root}/d{i // 1000:02}"
    os.makedirs(d, exist_ok=True)
    with open(f"{d}/f{i:05}.txt", "w") as f:
        f.write(f"file {i}, generation {gen}\n" * 20)
PY
"$bin" put "$work/Data" / >/dev/null
sleep 0.1
moment=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
sleep 0.1
python3 - "$work/Data" "$n" 2 <<'PY'
import os, sys
root, n, gen = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for i in range(n):
    with open(f"{root}/d{i // 1000:02}/f{i:05}.txt", "w") as f:
        f.write(f"file {i}, generation {gen}\n" * 20)
PY
"$bin" put "$work/Data" / >/dev/null

requests() { grep -c "started processing request" "$work/server.log" || true; }
timed() {
  local before after start end
  before=$(requests)
  start=$(date +%s.%N)
  "$bin" restore /Data --at "$moment" "$@" --json >"$work/out.json"
  end=$(date +%s.%N)
  after=$(requests)
  python3 - "$work/out.json" "$start" "$end" "$((after - before))" "$*" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"restore {sys.argv[5] or '(applied)'}: {len(r['changes'])} changes, {len(r['skipped'])} skipped, "
      f"{float(sys.argv[3]) - float(sys.argv[2]):.2f} s, {sys.argv[4]} HTTP request(s)")
PY
}
timed --dry-run
timed
"$bin" get /Data/d00/f00000.txt - | head -c 40; echo
