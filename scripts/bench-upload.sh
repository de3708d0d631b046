#!/usr/bin/env bash
# Whole-program upload benchmark over loopback, with restic's local backup of the same
# corpus side by side.
#   scripts/bench-upload.sh [WORKDIR]       (default: a new directory under /tmp)
#   COFFER_BENCH_SERVE="--no-encryption" scripts/bench-upload.sh     # without encryption at rest
#   COFFER_BENCH_SERVE="--tls-self-signed" scripts/bench-upload.sh   # over HTTPS
# Prints a Markdown table for docs/BENCHMARKS.md. Needs: restic, GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=${1:-$(mktemp -d /tmp/coffer-bench.XXXXXX)}
mkdir -p "$work"
cargo build --release --locked -q
bin="${CARGO_TARGET_DIR:-$root/target}/release/coffer"

command -v restic >/dev/null || { echo "install restic (Debian: apt-get install restic)" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "install GNU time (Debian: apt-get install time)" >&2; exit 1; }

corpus="$work/corpus"
if [[ ! -d "$corpus" ]]; then
  echo "generating the ~1 GiB mixed corpus in $corpus" >&2
  python3 - "$corpus" <<'PY'
import os, random, sys
root = sys.argv[1]
rnd = random.Random(42)
os.makedirs(root)
# 4 x 128 MiB incompressible (media-like), 8 x 32 MiB half-compressible, 3000 small text files
# (source-like, ~40 KiB average), 2 x 64 MiB duplicates of earlier files.
def rand_bytes(n):
    return rnd.randbytes(n)
for i in range(4):
    with open(f"{root}/media-{i}.bin", "wb") as f:
        for _ in range(128):
            f.write(rand_bytes(1 << 20))
for i in range(8):
    with open(f"{root}/data-{i}.db", "wb") as f:
        for _ in range(32):
            half = rand_bytes(1 << 19)
            f.write(half + bytes(1 << 19))
words = "the quick brown fox jumps over lazy dog fn let mut struct impl return match async await".split()
for d in range(30):
    os.makedirs(f"{root}/src/mod{d}")
    for i in range(100):
        n = rnd.randint(200, 80_000)
        text = " ".join(rnd.choice(words) for _ in range(n // 5))
        with open(f"{root}/src/mod{d}/file{i}.rs", "w") as f:
            f.write(text)
for i in range(2):
    with open(f"{root}/media-{i}.bin", "rb") as src, open(f"{root}/copy-of-media-{i}.bin", "wb") as dst:
        dst.write(src.read(64 << 20))
PY
fi
# A real source tree: the first 200 crates of the local cargo registry (thousands of
# small files, as in a developer's folder).
srctree="$work/srctree"
if [[ ! -d "$srctree" ]]; then
  registry=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/ | head -n 1)
  mkdir -p "$srctree"
  (cd "$registry" && ls | head -n 200 | tar cf - -T -) | tar xf - -C "$srctree"
fi
size=$(du -sb "$corpus" | cut -f1)
files=$(find "$corpus" -type f | wc -l)

# Coffer: server and client on loopback.
# A new data directory per run; old ones are removed only after measuring (ext4 slows
# down inode allocation for a few minutes after mass deletions).
data="$work/coffer-data-$$"; rm -rf "$work/profile"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
serve_args=${COFFER_BENCH_SERVE:-}
# shellcheck disable=SC2086
COFFER_LOG=warn /usr/bin/time -f "%M" -o "$work/server.rss" "$bin" serve --data "$data" --listen "127.0.0.1:$port" $serve_args 2>"$work/server.log" &
server_pid=$!
trap 'pkill -TERM -P $server_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q "listening on" "$work/server.log" 2>/dev/null && break; sleep 0.1; done
echo "bench-password" | "$bin" admin user add bench --data "$data" >/dev/null
export COFFER_CONFIG_DIR="$work/profile"
if [[ "$serve_args" == *--tls-self-signed* ]]; then
  echo "bench-password" | "$bin" login "https://127.0.0.1:$port" --user bench --device bench --ca-file "$data/tls-self-signed.pem" >/dev/null
else
  echo "bench-password" | "$bin" login "http://127.0.0.1:$port" --user bench --device bench >/dev/null
fi
sync
start=$(date +%s.%N)
/usr/bin/time -f "%M" -o "$work/client.rss" "$bin" put --json "$corpus" / >"$work/put.json"
end=$(date +%s.%N)
coffer_secs=$(python3 -c "print(round($end - $start, 2))")
sent=$(python3 -c "import json; print(json.load(open('$work/put.json'))['bytes_sent'])")

# The corpus downloaded again (to a fresh folder on the same disk).
sync
dstart=$(date +%s.%N)
"$bin" get "/$(basename "$corpus")" "$work/download-$$" >/dev/null
dend=$(date +%s.%N)
down_secs=$(python3 -c "print(round($dend - $dstart, 2))")
rm -rf "$work/download-$$"

# The source tree.
sync
sstart=$(date +%s.%N)
"$bin" put --json "$srctree" / >/dev/null
send=$(date +%s.%N)
src_secs=$(python3 -c "print(round($send - $sstart, 2))")

# The one-byte insert at the start of a 512 MiB file.
python3 -c "
import random; r = random.Random(7)
with open('$work/big.bin', 'wb') as f:
    for _ in range(512): f.write(r.randbytes(1 << 20))"
"$bin" put --json "$work/big.bin" /big.bin >/dev/null
python3 -c "
data = open('$work/big.bin', 'rb').read()
open('$work/big.bin', 'wb').write(b'!' + data)"
istart=$(date +%s.%N)
"$bin" put --json "$work/big.bin" /big.bin >"$work/insert.json"
iend=$(date +%s.%N)
insert_secs=$(python3 -c "print(round($iend - $istart, 2))")
insert_sent=$(python3 -c "import json; print(json.load(open('$work/insert.json'))['bytes_sent'])")
# Stop the server itself (the child of GNU time), so time reports its peak RSS.
pkill -TERM -P $server_pid; wait $server_pid 2>/dev/null || true
trap - EXIT

# restic: local repository on the same disk.
repo="$work/restic-repo-$$"
export RESTIC_PASSWORD=bench
restic init -q --repo "$repo"
sync
rstart=$(date +%s.%N)
/usr/bin/time -f "%M" -o "$work/restic.rss" restic -q --repo "$repo" backup "$corpus" >/dev/null
rend=$(date +%s.%N)
restic_secs=$(python3 -c "print(round($rend - $rstart, 2))")
sync
rsstart=$(date +%s.%N)
restic -q --repo "$repo" backup "$srctree" >/dev/null
rsend=$(date +%s.%N)
restic_src_secs=$(python3 -c "print(round($rsend - $rsstart, 2))")
src_files=$(find "$srctree" -type f | wc -l)
src_mb=$(python3 -c "print(round($(du -sb "$srctree" | cut -f1) / 1e6))")

mb=$(python3 -c "print(round($size / 1e6))")
find "$work" -maxdepth 1 \( -name 'coffer-data-*' -o -name 'restic-repo-*' \) -exec rm -rf {} +
echo
echo "| tool | corpus | time | throughput | peak RSS |"
echo "| --- | --- | --- | --- | --- |"
echo "coffer: first upload ${coffer_secs} s (serve ${serve_args:-default: encrypted at rest, plain HTTP})" >&2
echo "| coffer put (server + client, loopback) | $files files, $mb MB | ${coffer_secs} s | $(python3 -c "print(round($size / 1e6 / $coffer_secs))") MB/s | server $(( $(cat "$work/server.rss") / 1024 )) MiB, client $(( $(cat "$work/client.rss") / 1024 )) MiB |"
echo "| coffer get (server + client, loopback) | $files files, $mb MB | ${down_secs} s | $(python3 -c "print(round($size / 1e6 / $down_secs))") MB/s | |"
echo "| restic backup (local repo) | $files files, $mb MB | ${restic_secs} s | $(python3 -c "print(round($size / 1e6 / $restic_secs))") MB/s | $(( $(cat "$work/restic.rss") / 1024 )) MiB |"
echo "| coffer put, source tree | $src_files files, $src_mb MB | ${src_secs} s | | |"
echo "| restic backup, source tree | $src_files files, $src_mb MB | ${restic_src_secs} s | | |"
echo
echo "coffer bytes sent on first upload: $sent of $size (duplicates inside the corpus are sent once)"
echo "one byte inserted at the start of a 512 MiB file: re-upload sent $insert_sent bytes in ${insert_secs} s"
