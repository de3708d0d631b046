#!/usr/bin/env python3
"""Whole-program benchmarks of `coffer sync` between two devices over loopback.

Each measurement starts a fresh server and two `coffer sync DIR` processes (release
build, device A and device B, each with its own profile) in a temp dir.

    python3 scripts/bench-sync.py latency [EDITS]      # default 200
    python3 scripts/bench-sync.py smallfiles [N]       # default 10000
    python3 scripts/bench-sync.py insert [MIB]         # default 512
    python3 scripts/bench-sync.py bigfile [MIB]        # default 4096

latency: EDITS edits on A (alternating new files and changes to existing ones), each
timed until B has the new bytes; p50/p90/p99/max/mean in ms.
smallfiles: N files of 1-4 KiB of deterministic pseudo-random bytes in 100 subfolders,
written into A while both run; the time from the first write until B has all N with
the right sizes, and the peak RSS (VmHWM) of both sync processes.
insert: a MIB MiB file synced to both, then one byte inserted at its start on A; the
bytes A uploads and B downloads (from the sync reports, `--json`) and the time until B
has the new bytes.
bigfile: a MIB MiB file written on A; the time until B has it and the peak RSS of both
sync processes and of the server.

The same latency and smallfiles measurements for Syncthing: scripts/bench-syncthing.py.
"""
import json, os, random, shutil, socket, statistics, subprocess, sys, tempfile, threading, time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
subprocess.run(["cargo", "build", "--release", "--locked", "-q"], cwd=root, check=True)
target = os.environ.get("CARGO_TARGET_DIR", os.path.join(root, "target"))
coffer = os.path.join(target, "release", "coffer")


def peak_rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class Pair:
    """A server and two syncing devices; reports of each sync pass are collected."""

    def __init__(self):
        self.work = tempfile.mkdtemp(prefix="coffer-bench-sync.")
        s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
        self.url = f"http://127.0.0.1:{port}"
        self.env = dict(os.environ, COFFER_LOG="warn")
        self.procs, self.syncs, self.reports = [], {}, {"a": [], "b": []}
        self.server = subprocess.Popen([coffer, "serve", "--data", f"{self.work}/data", "--listen",
                                        f"127.0.0.1:{port}"], env=self.env, stderr=subprocess.PIPE, text=True)
        self.procs.append(self.server)
        for line in self.server.stderr:
            if "listening on" in line:
                break
        threading.Thread(target=lambda: [None for _ in self.server.stderr], daemon=True).start()
        subprocess.run([coffer, "admin", "user", "add", "bench", "--data", f"{self.work}/data"],
                       input="bench-password\n", text=True, check=True, env=self.env, capture_output=True)
        self.dirs = {}
        for dev in ("a", "b"):
            denv = dict(self.env, COFFER_CONFIG_DIR=f"{self.work}/profile-{dev}")
            subprocess.run([coffer, "login", self.url, "--user", "bench", "--device", dev], input="bench-password\n",
                           text=True, check=True, env=denv, capture_output=True)
            self.dirs[dev] = f"{self.work}/{dev}"
            os.makedirs(self.dirs[dev])
            p = subprocess.Popen([coffer, "sync", "--json", self.dirs[dev]], env=denv, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, text=True)
            self.procs.append(p)
            self.syncs[dev] = p
            threading.Thread(target=self._collect, args=(dev, p), daemon=True).start()
        time.sleep(1)

    def _collect(self, dev, p):
        for line in p.stdout:
            try:
                self.reports[dev].append(json.loads(line))
            except ValueError:
                pass

    def close(self):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(self.work, ignore_errors=True)


def wait_until(check, timeout, what):
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout:
            raise SystemExit(f"{what}: not done after {timeout} s")
        time.sleep(0.005)
    return time.monotonic() - start


def latency(edits):
    pair = Pair()
    try:
        rng = random.Random(1)
        samples = []
        for i in range(edits):
            name = f"file-{i // 2}.txt"
            body = f"edit {i} {rng.random()}\n".encode() * (1 + i % 50)
            with open(os.path.join(pair.dirs["a"], name), "wb") as f:
                f.write(body)

            def arrived():
                try:
                    with open(os.path.join(pair.dirs["b"], name), "rb") as f:
                        return f.read() == body
                except FileNotFoundError:
                    return False
            samples.append(wait_until(arrived, 60, f"edit {i}") * 1000)
        samples.sort()
        q = lambda p: samples[min(len(samples) - 1, int(len(samples) * p))]
        print(f"latency: {edits} edits A -> B: p50 {q(0.5):.0f} ms, p90 {q(0.9):.0f} ms, p99 {q(0.99):.0f} ms, "
              f"max {samples[-1]:.0f} ms, mean {statistics.mean(samples):.0f} ms")
    finally:
        pair.close()


def smallfiles(n):
    pair = Pair()
    try:
        rng = random.Random(2)
        sizes = {}
        start = time.monotonic()
        for i in range(n):
            rel = f"d{i % 100:02}/f{i:05}.bin"
            path = os.path.join(pair.dirs["a"], rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            size = rng.randint(1024, 4096)
            with open(path, "wb") as f:
                f.write(rng.randbytes(size))
            sizes[rel] = size
        written = time.monotonic() - start
        pending = dict(sizes)

        def all_there():
            for rel in list(pending):
                try:
                    if os.path.getsize(os.path.join(pair.dirs["b"], rel)) == pending[rel]:
                        del pending[rel]
                except OSError:
                    pass
            return not pending
        wait_until(all_there, 1800, "small files")
        took = time.monotonic() - start
        rss = {d: peak_rss_mib(p.pid) for d, p in pair.syncs.items()}
        print(f"smallfiles: {n} files ({sum(sizes.values()) / 1e6:.1f} MB) A -> B in {took:.1f} s "
              f"({n / took:.0f} files/s; writing them took {written:.1f} s); peak RSS A {rss['a']:.0f} MiB, "
              f"B {rss['b']:.0f} MiB, server {peak_rss_mib(pair.server.pid):.0f} MiB")
    finally:
        pair.close()


def write_random(path, mib, seed):
    rng = random.Random(seed)
    with open(path, "wb") as f:
        for _ in range(mib):
            f.write(rng.randbytes(1 << 20))


def same_file(a, b):
    try:
        if os.path.getsize(a) != os.path.getsize(b):
            return False
        with open(a, "rb") as fa, open(b, "rb") as fb:
            while True:
                x, y = fa.read(1 << 22), fb.read(1 << 22)
                if x != y:
                    return False
                if not x:
                    return True
    except OSError:
        return False


def insert(mib):
    pair = Pair()
    try:
        a, b = os.path.join(pair.dirs["a"], "big.bin"), os.path.join(pair.dirs["b"], "big.bin")
        write_random(a, mib, 3)
        wait_until(lambda: same_file(a, b), 1800, "first copy")
        time.sleep(1)
        before = {d: len(r) for d, r in pair.reports.items()}
        tmp = a + ".new.tmp"
        with open(a, "rb") as src, open(tmp, "wb") as dst:
            dst.write(b"!")
            shutil.copyfileobj(src, dst, 1 << 22)
        os.rename(tmp, a)
        took = wait_until(lambda: same_file(a, b), 1800, "edited copy")
        time.sleep(1)
        total = lambda d, k: sum(r.get(k, 0) for r in pair.reports[d][before[d]:])
        print(f"insert: 1 byte at the start of a {mib} MiB file: A sent {total('a', 'bytes_up'):,} bytes, "
              f"B fetched {total('b', 'bytes_down'):,} bytes and reused {total('b', 'bytes_reused'):,}; "
              f"B had it {took:.2f} s after the edit")
    finally:
        pair.close()


def bigfile(mib):
    pair = Pair()
    try:
        a, b = os.path.join(pair.dirs["a"], "big.bin"), os.path.join(pair.dirs["b"], "big.bin")
        start = time.monotonic()
        write_random(a, mib, 4)
        written = time.monotonic() - start
        wait_until(lambda: os.path.exists(b) and os.path.getsize(b) == mib << 20, 7200, "big file")
        took = time.monotonic() - start
        assert same_file(a, b), "the copy differs"
        rss = {d: peak_rss_mib(p.pid) for d, p in pair.syncs.items()}
        print(f"bigfile: {mib} MiB A -> B in {took:.1f} s (writing it took {written:.1f} s); peak RSS A "
              f"{rss['a']:.0f} MiB, B {rss['b']:.0f} MiB, server {peak_rss_mib(pair.server.pid):.0f} MiB")
    finally:
        pair.close()


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "latency"
    arg = int(sys.argv[2]) if len(sys.argv) > 2 else None
    {"latency": lambda: latency(arg or 200), "smallfiles": lambda: smallfiles(arg or 10000),
     "insert": lambda: insert(arg or 512), "bigfile": lambda: bigfile(arg or 4096)}[mode]()
