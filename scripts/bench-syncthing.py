#!/usr/bin/env python3
"""Whole-program benchmark of Syncthing (the peer tool) between two devices over loopback.

Meant to be read side by side with scripts/bench-sync.py. Installs Syncthing with
`apt-get install -y syncthing` if it is not on PATH, then, for each measurement, starts two
fresh Syncthing instances (devices A and B) in a temp dir: loopback-only listen addresses
(tcp://127.0.0.1:PORT) and GUI/REST ports, a known API key, global/local discovery, relays,
NAT traversal, usage and crash reporting, auto-upgrade and self-renicing (setLowPriority)
all off. Each device knows the other by device ID with an explicit static address, and one
sendreceive folder is shared between them with the file-system watcher on
(fsWatcherEnabled=true).

    python3 scripts/bench-syncthing.py                    # both measurements, defaults
    python3 scripts/bench-syncthing.py latency [EDITS]    # default 200
    python3 scripts/bench-syncthing.py smallfiles [N]     # default 10000

latency: waits until the devices are connected and the folder is idle on both, then makes
EDITS edits on A exactly like `bench-sync.py latency` (same names, same bodies from
random.Random(1)) and times how long each takes to appear, with the right bytes, on B.
Prints p50/p90/p99/max/mean in ms.

smallfiles: writes N files of 1-4 KiB of deterministic pseudo-random bytes, spread over 100
subfolders, into A's folder while both run, and times (from the first write) until all N
are on B with the right sizes. Prints wall time and files/s.

Both print the peak RSS (VmHWM, polled from /proc) of each device's syncthing worker
process; `syncthing serve` runs it as the child of a small monitor process, not counted.
Each measurement gets its own fresh pair of instances, so the peaks do not carry over.

Syncthing's watcher batches changes for fsWatcherDelayS seconds before it rescans; the
default is 10 s, which dominates the latency. SYNCTHING_FS_DELAY=1 (any whole number of
seconds) sets it on the shared folder instead; the value in use is printed with every
result. SYNCTHING_TIMEOUT (seconds, default 120) bounds the wait for each edit.
"""
import os, random, shutil, signal, socket, statistics, subprocess, sys, tempfile, threading, time
import json, urllib.request
import xml.etree.ElementTree as ET

API_KEY = "coffer-bench-api-key"
FOLDER = "bench"
fs_delay = os.environ.get("SYNCTHING_FS_DELAY")  # None: keep Syncthing's default (10 s)
edit_timeout = float(os.environ.get("SYNCTHING_TIMEOUT", "120"))


def ensure_syncthing():
    if shutil.which("syncthing"):
        return
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if subprocess.run(["apt-get", "install", "-y", "syncthing"], env=env).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, check=True)
        subprocess.run(["apt-get", "install", "-y", "syncthing"], env=env, check=True)
    if not shutil.which("syncthing"):
        raise SystemExit("syncthing is still not on PATH after apt-get install")


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
    return port


def set_text(parent, tag, value):
    el = parent.find(tag)
    if el is None:
        el = ET.SubElement(parent, tag)
    el.text = str(value)


class Device:
    def __init__(self, work, name):
        self.name = name
        self.home = f"{work}/home-{name}"
        self.dir = f"{work}/{name}"
        self.gui_port, self.listen_port = free_port(), free_port()
        self.log = open(f"{work}/syncthing-{name}.log", "wb")
        self.proc = None
        out = subprocess.run(["syncthing", "generate", f"--home={self.home}", "--no-default-folder",
                              "--skip-port-probing"], check=True, capture_output=True, text=True)
        self.id = next(line.split("Device ID:")[1].strip()
                       for line in (out.stdout + out.stderr).splitlines() if "Device ID:" in line)

    def configure(self, peer):
        path = f"{self.home}/config.xml"
        tree = ET.parse(path)
        cfg = tree.getroot()
        gui = cfg.find("gui")
        set_text(gui, "address", f"127.0.0.1:{self.gui_port}")
        set_text(gui, "apikey", API_KEY)
        opts = cfg.find("options")
        for tag, value in [("listenAddress", f"tcp://127.0.0.1:{self.listen_port}"),
                           ("globalAnnounceEnabled", "false"), ("localAnnounceEnabled", "false"),
                           ("relaysEnabled", "false"), ("natEnabled", "false"),
                           ("urAccepted", "-1"), ("crashReportingEnabled", "false"),
                           ("startBrowser", "false"), ("autoUpgradeIntervalH", "0"),
                           ("setLowPriority", "false")]:
            set_text(opts, tag, value)
        for el in opts.findall("unackedNotificationID"):
            opts.remove(el)
        own = cfg.find("device")
        own.set("name", self.name)
        # The peer, from the template in <defaults>, with an explicit static address.
        dev = ET.fromstring(ET.tostring(cfg.find("defaults/device")))
        dev.set("id", peer.id)
        dev.set("name", peer.name)
        set_text(dev, "address", f"tcp://127.0.0.1:{peer.listen_port}")
        cfg.insert(list(cfg).index(own) + 1, dev)
        # The shared folder, from the template in <defaults>.
        folder = ET.fromstring(ET.tostring(cfg.find("defaults/folder")))
        folder.set("id", FOLDER)
        folder.set("label", FOLDER)
        folder.set("path", self.dir)
        folder.set("type", "sendreceive")
        folder.set("fsWatcherEnabled", "true")
        if fs_delay is not None:
            folder.set("fsWatcherDelayS", str(int(fs_delay)))
        for el in folder.findall("device"):
            folder.remove(el)
        for dev_id in (self.id, peer.id):
            fd = ET.Element("device", {"id": dev_id, "introducedBy": ""})
            ET.SubElement(fd, "encryptionPassword")
            folder.insert(1, fd)
        cfg.insert(0, folder)
        tree.write(path)
        os.makedirs(f"{self.dir}/.stfolder")

    def start(self):
        env = dict(os.environ, STNORESTART="1", STNOUPGRADE="1", STNODEFAULTFOLDER="1")
        # Even with --no-restart, `syncthing serve` is a small monitor process that runs the real
        # one as its child; its own process group lets stop() reach both.
        self.proc = subprocess.Popen(["syncthing", "serve", f"--home={self.home}", "--no-browser",
                                      "--no-restart", "--no-upgrade", "--logflags=3"],
                                     env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def api(self, path):
        req = urllib.request.Request(f"http://127.0.0.1:{self.gui_port}{path}",
                                     headers={"X-API-Key": API_KEY})
        with urllib.request.urlopen(req, timeout=5) as r:
            return json.loads(r.read())

    def folder_config(self):
        return self.api(f"/rest/config/folders/{FOLDER}")


def children(pid):
    out = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as f:
                if entry.isdigit() and int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(entry))
        except (OSError, IndexError, ValueError):
            pass
    return out


def proc_status(pid):
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmHWM", "VmRSS"):
                    out[key] = int(value.split()[0])  # KiB
    except OSError:
        pass
    return out


class RssPoller(threading.Thread):
    """Polls VmHWM (kernel-kept peak RSS) of each device's syncthing worker process (the
    child of the monitor process we started) until stopped."""

    def __init__(self, devices):
        super().__init__(daemon=True)
        self.devices, self.peak, self.stop = devices, {d.name: 0 for d in devices}, threading.Event()
        self.workers = {}
        for d in devices:
            kids = children(d.proc.pid)
            if len(kids) != 1:
                raise SystemExit(f"expected one syncthing worker under {d.proc.pid}, found {kids}")
            self.workers[d.name] = kids[0]

    def run(self):
        while True:
            self.sample()
            if self.stop.wait(0.5):
                return

    def sample(self):
        for d in self.devices:
            hwm = proc_status(self.workers[d.name]).get("VmHWM", 0)
            self.peak[d.name] = max(self.peak[d.name], hwm)

    def report(self):
        self.stop.set(); self.join(); self.sample()
        return ", ".join(f"{n.upper()} {kib / 1024:.0f} MiB" for n, kib in self.peak.items())


def wait_ready(a, b, timeout=120):
    start = time.monotonic()
    while True:
        for d in (a, b):
            if d.proc.poll() is not None:
                raise SystemExit(f"syncthing {d.name} exited with {d.proc.returncode}; see its log")
        try:
            conns = [a.api("/rest/system/connections")["connections"].get(b.id, {}),
                     b.api("/rest/system/connections")["connections"].get(a.id, {})]
            states = [d.api(f"/rest/db/status?folder={FOLDER}")["state"] for d in (a, b)]
            if all(c.get("connected") for c in conns) and states == ["idle", "idle"]:
                return time.monotonic() - start
        except (OSError, ValueError, KeyError):
            pass  # REST API not up yet
        if time.monotonic() - start > timeout:
            raise SystemExit(f"devices not connected and idle within {timeout} s")
        time.sleep(0.2)


def run_pair(work, measure, arg):
    a, b = Device(work, "a"), Device(work, "b")
    a.configure(b); b.configure(a)
    try:
        a.start(); b.start()
        ready = wait_ready(a, b)
        delay = a.folder_config()["fsWatcherDelayS"]
        assert b.folder_config()["fsWatcherDelayS"] == delay
        print(f"[syncthing, fsWatcherDelayS={delay}] devices connected and idle after {ready:.1f} s",
              flush=True)
        rss = RssPoller([a, b]); rss.start()
        measure(a, b, arg, delay, rss)
    except BaseException:
        for d in (a, b):
            d.log.flush()
            with open(d.log.name, "rb") as f:
                tail = f.read()[-3000:].decode(errors="replace")
            print(f"--- tail of syncthing {d.name} log ---\n{tail}", file=sys.stderr)
        raise
    finally:
        stop([a, b])


def signal_group(proc, sig):
    try:
        os.killpg(proc.pid, sig)  # the group start() created: monitor + worker
    except ProcessLookupError:
        return False
    return True


def stop(devices):
    started = [d.proc for d in devices if d.proc]
    for p in started:
        signal_group(p, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for p in started:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    # The worker may outlive the monitor; wait for the whole group, then kill what is left.
    while any(signal_group(p, 0) for p in started) and time.monotonic() < deadline:
        time.sleep(0.1)
    for p in started:
        signal_group(p, signal.SIGKILL)
        if p.poll() is None:
            p.wait()
    for d in devices:
        d.log.close()


def latency(a, b, edits, delay, rss):
    rng = random.Random(1)
    samples = []
    for i in range(edits):
        name = f"file-{i // 2}.txt"
        body = f"edit {i} {rng.random()}\n".encode() * (1 + i % 50)
        with open(os.path.join(a.dir, name), "wb") as f:
            f.write(body)
        start = time.monotonic()
        target_path = os.path.join(b.dir, name)
        while True:
            try:
                with open(target_path, "rb") as f:
                    if f.read() == body:
                        break
            except FileNotFoundError:
                pass
            if time.monotonic() - start > edit_timeout:
                raise SystemExit(f"edit {i} did not arrive within {edit_timeout:.0f} s")
            time.sleep(0.005)
        samples.append((time.monotonic() - start) * 1000)
    samples.sort()
    q = lambda p: samples[min(len(samples) - 1, int(len(samples) * p))]
    print(f"[syncthing, fsWatcherDelayS={delay}] {edits} edits A -> B: p50 {q(0.5):.0f} ms, "
          f"p90 {q(0.9):.0f} ms, p99 {q(0.99):.0f} ms, max {samples[-1]:.0f} ms, "
          f"mean {statistics.mean(samples):.0f} ms; peak RSS (worker) {rss.report()}")


def smallfiles(a, b, n, delay, rss):
    rng = random.Random(2)
    files = {}
    for i in range(n):
        rel = os.path.join(f"dir-{i % 100:02d}", f"small-{i}.bin")
        files[rel] = rng.randbytes(rng.randint(1024, 4096))
    start = time.monotonic()
    for d in range(min(n, 100)):
        os.makedirs(os.path.join(a.dir, f"dir-{d:02d}"))
    for rel, body in files.items():
        with open(os.path.join(a.dir, rel), "wb") as f:
            f.write(body)
    written = time.monotonic() - start
    pending = {rel: len(body) for rel, body in files.items()}
    last_progress, last_count = time.monotonic(), len(pending)
    while pending:
        for rel, size in list(pending.items()):
            try:
                if os.stat(os.path.join(b.dir, rel)).st_size == size:
                    del pending[rel]
            except FileNotFoundError:
                pass
        if not pending:
            break
        now = time.monotonic()
        if len(pending) != last_count:
            last_progress, last_count = now, len(pending)
        elif now - last_progress > max(edit_timeout, 300):
            raise SystemExit(f"{len(pending)} of {n} files still missing on B, no progress for "
                             f"{now - last_progress:.0f} s")
        for d in (a, b):
            if d.proc.poll() is not None:
                raise SystemExit(f"syncthing {d.name} exited with {d.proc.returncode}")
        time.sleep(0.1)
    wall = time.monotonic() - start
    total = sum(len(body) for body in files.values())
    print(f"[syncthing, fsWatcherDelayS={delay}] {n} small files ({total / 2**20:.1f} MiB, 100 dirs) "
          f"A -> B: {wall:.1f} s wall from first write ({n / wall:.0f} files/s; writing them took "
          f"{written:.1f} s); peak RSS (worker) {rss.report()}")


def main():
    args = sys.argv[1:]
    runs = []
    if not args:
        runs = [(latency, 200), (smallfiles, 10000)]
    elif args[0] == "latency":
        runs = [(latency, int(args[1]) if len(args) > 1 else 200)]
    elif args[0] == "smallfiles":
        runs = [(smallfiles, int(args[1]) if len(args) > 1 else 10000)]
    else:
        raise SystemExit(__doc__)
    # Turn SIGTERM/SIGHUP/SIGINT into exceptions so the finally blocks stop syncthing and remove
    # the temp dir (SIGINT is ignored by default in background jobs of non-interactive shells).
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: sys.exit(128 + signum))
    ensure_syncthing()
    print(subprocess.run(["syncthing", "--version"], capture_output=True, text=True).stdout.strip())
    for measure, arg in runs:
        work = tempfile.mkdtemp(prefix="syncthing-bench.")
        try:
            run_pair(work, measure, arg)
        finally:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
