#!/usr/bin/env python3
"""Propagation latency of `coffer sync` between two devices over loopback.

Starts a server and two `coffer sync DIR` processes (release build), then makes EDITS
edits on device A (alternating new files and changes to existing ones) and times how
long each takes to appear, with the right bytes, on device B. Prints p50/p90/p99/max.

    python3 scripts/bench-sync-latency.py [EDITS]      # default 200
"""
import os, random, shutil, socket, statistics, subprocess, sys, tempfile, time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
subprocess.run(["cargo", "build", "--release", "--locked", "-q"], cwd=root, check=True)
target = os.environ.get("CARGO_TARGET_DIR", os.path.join(root, "target"))
coffer = os.path.join(target, "release", "coffer")
edits = int(sys.argv[1]) if len(sys.argv) > 1 else 200
work = tempfile.mkdtemp(prefix="coffer-latency.")
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
url = f"http://127.0.0.1:{port}"
env = dict(os.environ, COFFER_LOG="warn")
procs = []
try:
    server = subprocess.Popen([coffer, "serve", "--data", f"{work}/data", "--listen", f"127.0.0.1:{port}"],
                              env=env, stderr=subprocess.PIPE, text=True)
    procs.append(server)
    for line in server.stderr:
        if "listening on" in line:
            break
    subprocess.run([coffer, "admin", "user", "add", "bench", "--data", f"{work}/data"],
                   input="bench-password\n", text=True, check=True, env=env, capture_output=True)
    dirs = {}
    for dev in ("a", "b"):
        denv = dict(env, COFFER_CONFIG_DIR=f"{work}/profile-{dev}")
        subprocess.run([coffer, "login", url, "--user", "bench", "--device", dev], input="bench-password\n",
                       text=True, check=True, env=denv, capture_output=True)
        dirs[dev] = f"{work}/{dev}"
        os.makedirs(dirs[dev])
        procs.append(subprocess.Popen([coffer, "sync", dirs[dev]], env=denv,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    time.sleep(2)
    rng = random.Random(1)
    samples = []
    for i in range(edits):
        name = f"file-{i // 2}.txt"
        body = f"edit {i} {rng.random()}\n".encode() * (1 + i % 50)
        with open(os.path.join(dirs["a"], name), "wb") as f:
            f.write(body)
        start = time.monotonic()
        target_path = os.path.join(dirs["b"], name)
        while True:
            try:
                with open(target_path, "rb") as f:
                    if f.read() == body:
                        break
            except FileNotFoundError:
                pass
            if time.monotonic() - start > 60:
                raise SystemExit(f"edit {i} did not arrive within 60 s")
            time.sleep(0.005)
        samples.append((time.monotonic() - start) * 1000)
    samples.sort()
    q = lambda p: samples[min(len(samples) - 1, int(len(samples) * p))]
    print(f"{edits} edits A -> B: p50 {q(0.5):.0f} ms, p90 {q(0.9):.0f} ms, p99 {q(0.99):.0f} ms, "
          f"max {samples[-1]:.0f} ms, mean {statistics.mean(samples):.0f} ms")
finally:
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
    shutil.rmtree(work, ignore_errors=True)
