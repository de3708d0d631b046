#!/usr/bin/env python3
"""Hostile-load figures for docs/BENCHMARKS.md, against a real `coffer serve` on loopback.

    scripts/bench-hostile.py [--bin target/release/coffer] [--files 450000] [--readers 200]

1. Sign-in flood: 2,000 wrong-password logins, 128 in flight; answers per second by
   status and the server's peak RSS.
2. Bulk purge: one user trashes and purges a folder of FILES empty files while another
   user runs mkdir in a loop; the other user's latency (p50, p99, max) during the purge.
3. Slow readers: READERS clients each start downloading a 40 MiB file and read 8 KiB a
   second; the server's RSS while they hang on.
4. Dedup timing: one user stores 4 MiB chunks; another sends the same bytes (which the
   server already holds but must not reveal) and fresh bytes; the medians of the two.
   Needs the Python `blake3` module (pip install blake3).
"""

import argparse
import concurrent.futures
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

PASSWORD = "bench password 1"


def rss(pid, field):
    with open(f"/proc/{pid}/status") as f:
        m = re.search(rf"^{field}:\s+(\d+) kB", f.read(), re.M)
    return int(m.group(1)) // 1024


def call(base, method, path, body=None, token=None, timeout=600):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read()
            return r.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as e:
        return e.code, None


def start(binary, data, config=None):
    env = dict(os.environ, COFFER_LOG="warn")
    extra = ["--config", config] if config else []
    p = subprocess.Popen([binary, "serve", "--data", data, "--listen", "127.0.0.1:0", *extra],
                         stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
    for line in p.stderr:
        if line.startswith("coffer: listening on "):
            # Keep draining the log, or the server blocks on a full pipe.
            threading.Thread(target=lambda: [None for _ in p.stderr], daemon=True).start()
            return p, line.split("listening on ")[1].strip()
    raise SystemExit("server did not start")


def add_user(binary, data, name):
    subprocess.run([binary, "admin", "user", "add", name, "--data", data], input=PASSWORD + "\n",
                   text=True, check=True, capture_output=True)


def login(base, name):
    s, v = call(base, "POST", "/api/v1/auth/login", {"user": name, "password": PASSWORD, "device": "bench"})
    assert s == 200, s
    return v["token"]


def sign_in_flood(base, pid):
    def attempt(i):
        return call(base, "POST", "/api/v1/auth/login",
                    {"user": f"user{i % 5}", "password": f"guess {i}", "device": "d"})[0]
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(128) as pool:
        statuses = list(pool.map(attempt, range(2000)))
    took = time.monotonic() - start
    counts = {s: statuses.count(s) for s in sorted(set(statuses))}
    checked = counts.get(401, 0)
    print(f"sign-in flood: {len(statuses)} requests in {took:.1f} s ({len(statuses) / took:.0f}/s answered, "
          f"{checked / took:.0f}/s password checks); statuses {counts}; peak RSS {rss(pid, 'VmHWM')} MiB")


def bulk_purge(binary, base, files):
    alice, bob = login(base, "alice"), login(base, "bob")
    for start in range(0, files, 1000):
        batch = [{"path": f"/big/f{i}", "chunks": []} for i in range(start, min(start + 1000, files))]
        s, _ = call(base, "POST", "/api/v1/commit", {"files": batch, "close_upload": True}, alice)
        assert s == 200, s
    call(base, "POST", "/api/v1/fs/delete", {"path": "/big"}, alice)
    latencies = []
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        began = time.monotonic()
        purge = pool.submit(call, base, "POST", "/api/v1/trash/purge", {}, alice)
        i = 0
        while not purge.done():
            t = time.monotonic()
            s, _ = call(base, "POST", "/api/v1/fs/mkdir", {"path": f"/d{i}"}, bob)
            assert s == 200, s
            latencies.append(time.monotonic() - t)
            i += 1
        took = time.monotonic() - began
        assert purge.result()[0] == 200
    latencies.sort()
    q = lambda p: latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000
    print(f"purge of {files} files: {took:.1f} s; another user's mkdir meanwhile (n={len(latencies)}): "
          f"p50 {q(0.5):.1f} ms, p99 {q(0.99):.1f} ms, max {latencies[-1] * 1000:.1f} ms")


def slow_readers(binary, base, pid, readers, workdir):
    path = os.path.join(workdir, "forty.bin")
    with open(path, "wb") as f:
        f.write(os.urandom(40 << 20))
    profile = os.path.join(workdir, "profile")
    env = dict(os.environ, COFFER_CONFIG_DIR=profile, COFFER_LOG="warn")
    subprocess.run([binary, "login", base, "--user", "carol", "--device", "bench"], input=PASSWORD + "\n",
                   text=True, check=True, capture_output=True, env=env)
    subprocess.run([binary, "put", path, "/"], check=True, capture_output=True, env=env)
    tokens = [login(base, "carol") for _ in range(max(1, readers // 32 + 1))]
    host, port = base.removeprefix("http://").split(":")
    before = rss(pid, "VmRSS")
    socks = []
    for i in range(readers):
        s = socket.create_connection((host, int(port)))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
        token = tokens[i // 32 % len(tokens)]
        s.sendall(f"GET /api/v1/fs/content?path=/forty.bin HTTP/1.1\r\nHost: x\r\n"
                  f"Authorization: Bearer {token}\r\n\r\n".encode())
        socks.append(s)
    peak = before
    for _ in range(10):
        for s in socks:
            s.setblocking(False)
            try:
                s.recv(8192)
            except BlockingIOError:
                pass
        time.sleep(1)
        peak = max(peak, rss(pid, "VmRSS"))
    print(f"{readers} slow readers of a 40 MiB file (8 KiB/s each, 10 s): server RSS {before} MiB before, "
          f"{peak} MiB at most while they read")
    for s in socks:
        s.close()


def dedup_timing(base, samples=30):
    import blake3
    dave, erin = login(base, "dave"), login(base, "erin")

    def put_chunk(token, data):
        h = blake3.blake3(data).hexdigest()
        s, up = call(base, "POST", "/api/v1/uploads", {"chunks": [{"hash": h, "size": len(data)}]}, token)
        assert s == 200, s
        req = urllib.request.Request(f"{base}/api/v1/uploads/{up['upload_id']}/chunks/{h}", data=data, method="PUT")
        req.add_header("authorization", f"Bearer {token}")
        req.add_header("content-type", "application/octet-stream")
        t = time.monotonic()
        with urllib.request.urlopen(req) as r:
            r.read()
        took = time.monotonic() - t
        call(base, "DELETE", f"/api/v1/uploads/{up['upload_id']}", None, token)
        return took

    # Dave stores his chunks first; then erin alternates his bytes and fresh ones.
    dave_chunks = [os.urandom(4 << 20) for _ in range(samples)]
    for c in dave_chunks:
        put_chunk(dave, c)
    stored, fresh = [], []
    for c in dave_chunks:
        stored.append(put_chunk(erin, c))
        fresh.append(put_chunk(erin, os.urandom(4 << 20)))
    ms = lambda xs: statistics.median(xs) * 1000
    print(f"PUT of a 4 MiB chunk ({samples} each): bytes another user stores {ms(stored):.1f} ms median "
          f"(min {min(stored) * 1000:.1f}, max {max(stored) * 1000:.1f}); new bytes {ms(fresh):.1f} ms median "
          f"(min {min(fresh) * 1000:.1f}, max {max(fresh) * 1000:.1f})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/coffer")
    ap.add_argument("--files", type=int, default=450_000)
    ap.add_argument("--readers", type=int, default=200)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as work:
        data = os.path.join(work, "data")
        for name in ["alice", "bob", "carol", "dave", "erin"] + [f"user{i}" for i in range(5)]:
            add_user(args.bin, data, name)
        server, base = start(args.bin, data)
        try:
            sign_in_flood(base, server.pid)
            server.kill()
            server.wait()
            # A fresh server: the flood's back-off would refuse the logins below. One user
            # opens every slow download, so the per-user cap is raised to let them all in:
            # what bounds memory is the download budget.
            config = os.path.join(work, "coffer.toml")
            with open(config, "w") as f:
                f.write(f"downloads_per_user = {args.readers + 8}\n")
            server, base = start(args.bin, data, config)
            bulk_purge(args.bin, base, args.files)
            slow_readers(args.bin, base, server.pid, args.readers, work)
            dedup_timing(base)
        finally:
            server.kill()


if __name__ == "__main__":
    sys.exit(main())
