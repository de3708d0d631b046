//! A seeded simulation of several devices syncing one account: the real server
//! (in-process, real HTTP on loopback) and the real sync engine on real folders, driven
//! by random offline edits (create, overwrite in place or by replacing, append,
//! truncate, delete, recursive delete, new folders, renames, moves, case-only renames),
//! random partitions (a device stays offline for a while) and crashes (a sync stopped
//! between a step's effect and its record, the engine then opened again as a restarted
//! process would).
//!
//! After every scenario, once all devices are online and quiet:
//! (a) every device, and a new device syncing from scratch, hold one and the same tree;
//! (b) every content a device held when one of its syncs completed is still reachable:
//!     as a file, a conflicted copy, or a revision kept by the server (versions, trash);
//! (c) a file deleted on a device never comes back with the same bytes at the same path
//!     (an edit elsewhere wins over a delete, but then the bytes are new).
//!
//! Replay one seed: `COFFER_SIM_SEED=17 cargo test -p coffer --test simulation` (with
//! `COFFER_SIM_TRACE=1`, every round's plan is printed).
//! More seeds: `COFFER_SIM_SEEDS=5000 cargo test -p coffer --test simulation` (from seed
//! `COFFER_SIM_FROM`, default 0).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use coffer_client::Client;
use coffer_client::sync::{Engine, SyncError, SyncReport};
use coffer_core::testing::Rng;
use coffer_core::{ChunkerConfig, ContentHash, Manifest, chunk_reader};
use coffer_service::{Service, ServiceConfig, StorageConfig};
use futures::StreamExt;

/// Seeds per run when none are asked for.
const DEFAULT_SEEDS: u64 = 2000;
/// Names edits use; "b" and "B" differ only by case (never siblings: see `free`).
const NAMES: &[&str] = &["a.txt", "b", "B", "notes.md", "Report.doc", "x"];
/// A file no edit touches: a device never looks emptied, the account never empty.
const KEEP: &str = "keep.txt";

fn content_hash(bytes: &[u8]) -> ContentHash {
    let chunks = chunk_reader(bytes, ChunkerConfig::default())
        .map(|c| {
            let c = c.expect("chunking memory");
            coffer_core::ChunkRef { hash: c.hash, size: c.data.len() as u32 }
        })
        .collect();
    Manifest::new(chunks).content_hash()
}

struct Device {
    name: String,
    dir: PathBuf,
    engine: Option<Engine>,
    online: bool,
}

struct Sim {
    seed: u64,
    rng: Rng,
    client: Client,
    devices: Vec<Device>,
    writes: u64,
    /// A clock for modification times: every write is a second after the last.
    clock: SystemTime,
    /// Contents a device held when one of its syncs completed.
    offered: BTreeSet<ContentHash>,
    /// (device, lowercased path, content) of every file a device deleted, and of every
    /// file a device wrote.
    deleted: Vec<(usize, String, ContentHash)>,
    written: Vec<(usize, String, ContentHash)>,
    log: Vec<String>,
}

/// Every item below `dir` (not the engine's own folder): relative path → bytes (`None`
/// for a folder).
fn tree_of(dir: &Path) -> BTreeMap<String, Option<Vec<u8>>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).expect("read_dir").flatten() {
            let p = e.path();
            if p.file_name().is_some_and(|n| n == ".coffer") {
                continue;
            }
            let rel = p.strip_prefix(dir).expect("inside").to_string_lossy().into_owned();
            if p.is_dir() {
                out.insert(rel, None);
                stack.push(p);
            } else {
                out.insert(rel, Some(fs::read(&p).expect("read")));
            }
        }
    }
    out
}

impl Sim {
    fn say(&mut self, what: String) {
        self.log.push(what);
    }

    fn new_bytes(&mut self) -> Vec<u8> {
        self.writes += 1;
        let unit = format!("seed {} write {}\n", self.seed, self.writes);
        // Mostly small; sometimes over a chunk, so edits share chunks with what was there.
        let repeat = if self.rng.below(8) == 0 { 300_000 / unit.len() } else { 1 + self.rng.below(40) };
        unit.repeat(repeat).into_bytes()
    }

    fn touch(&mut self, path: &Path) {
        self.clock += Duration::from_secs(1);
        let f = fs::File::options().write(true).open(path).expect("open to set mtime");
        f.set_modified(self.clock).expect("set mtime");
    }

    /// True when no sibling of `path` has its name (compared without case).
    fn free(path: &Path) -> bool {
        let name = path.file_name().expect("name").to_string_lossy().to_lowercase();
        match fs::read_dir(path.parent().expect("parent")) {
            Ok(rd) => rd.flatten().all(|e| e.file_name().to_string_lossy().to_lowercase() != name),
            Err(_) => false,
        }
    }

    /// One random edit on device `d`.
    fn edit(&mut self, d: usize) {
        let dir = self.devices[d].dir.clone();
        let items: Vec<(String, bool)> =
            tree_of(&dir).into_iter().filter(|(p, _)| p != KEEP).map(|(p, bytes)| (p, bytes.is_none())).collect();
        let files: Vec<String> = items.iter().filter(|(_, f)| !f).map(|(p, _)| p.clone()).collect();
        let mut folders: Vec<String> = items.iter().filter(|(_, f)| *f).map(|(p, _)| p.clone()).collect();
        folders.push(String::new());
        let dev = self.devices[d].name.clone();
        let name = self.rng.pick(NAMES).expect("names");
        match self.rng.below(12) {
            0..=2 => {
                let folder = self.rng.pick(&folders).expect("root");
                let path = dir.join(&folder).join(name);
                if folder.matches('/').count() < 2 && Self::free(&path) {
                    let bytes = self.new_bytes();
                    fs::write(&path, &bytes).expect("create");
                    self.touch(&path);
                    self.written.push((
                        d,
                        format!("{folder}/{name}").trim_start_matches('/').to_lowercase(),
                        content_hash(&bytes),
                    ));
                    self.say(format!("{dev}: create {folder}/{name} ({} bytes)", bytes.len()));
                }
            }
            3 | 4 => {
                if let Some(f) = self.rng.pick(&files) {
                    let path = dir.join(&f);
                    let bytes = self.new_bytes();
                    let mode = self.rng.below(4);
                    match mode {
                        0 => fs::write(&path, &bytes).expect("overwrite"),
                        1 => {
                            // Saved the way editors do: a new file renamed over the old.
                            let tmp = dir.join(".~sim.tmp");
                            fs::write(&tmp, &bytes).expect("write temp");
                            fs::rename(&tmp, &path).expect("replace");
                        }
                        2 => {
                            use std::io::Write;
                            let mut file = fs::File::options().append(true).open(&path).expect("append");
                            file.write_all(&bytes).expect("append");
                        }
                        _ => {
                            let len = fs::metadata(&path).expect("meta").len();
                            fs::File::options()
                                .write(true)
                                .open(&path)
                                .expect("open")
                                .set_len(len / 2)
                                .expect("truncate");
                        }
                    }
                    self.touch(&path);
                    let now = content_hash(&fs::read(&path).expect("read back"));
                    self.written.push((d, f.to_lowercase(), now));
                    self.say(format!("{dev}: {} {f}", ["overwrite", "replace", "append to", "truncate"][mode]));
                }
            }
            5 => {
                if let Some(f) = self.rng.pick(&files) {
                    let path = dir.join(&f);
                    let bytes = fs::read(&path).expect("read");
                    fs::remove_file(&path).expect("rm");
                    self.deleted.push((d, f.to_lowercase(), content_hash(&bytes)));
                    self.say(format!("{dev}: delete {f}"));
                }
            }
            6 => {
                if let Some(f) = self.rng.pick(&folders).filter(|f| !f.is_empty()) {
                    for (p, bytes) in tree_of(&dir.join(&f)) {
                        if let Some(bytes) = bytes {
                            self.deleted.push((d, format!("{f}/{p}").to_lowercase(), content_hash(&bytes)));
                        }
                    }
                    fs::remove_dir_all(dir.join(&f)).expect("rm -r");
                    self.say(format!("{dev}: delete folder {f}"));
                }
            }
            7 => {
                let folder = self.rng.pick(&folders).expect("root");
                let path = dir.join(&folder).join(name);
                if folder.matches('/').count() < 2 && Self::free(&path) {
                    fs::create_dir(&path).expect("mkdir");
                    self.say(format!("{dev}: mkdir {folder}/{name}"));
                }
            }
            8 | 9 => {
                // Rename or move a file or a folder (with everything in it).
                let all: Vec<String> = items.iter().map(|(p, _)| p.clone()).collect();
                let (Some(from), Some(folder)) = (self.rng.pick(&all), self.rng.pick(&folders)) else { return };
                let to = dir.join(&folder).join(name);
                let inside = folder == from || folder.starts_with(&format!("{from}/"));
                let depth = folder.matches('/').count() + from.matches('/').count();
                if !inside && depth < 3 && Self::free(&to) {
                    fs::rename(dir.join(&from), &to).expect("move");
                    self.say(format!("{dev}: move {from} to {folder}/{name}"));
                }
            }
            _ => {
                // A case-only rename.
                let all: Vec<String> = items.iter().map(|(p, _)| p.clone()).collect();
                if let Some(from) = self.rng.pick(&all) {
                    let path = dir.join(&from);
                    let old = path.file_name().expect("name").to_string_lossy().into_owned();
                    let new = if old.chars().next().is_some_and(char::is_uppercase) {
                        old.to_lowercase()
                    } else {
                        old.to_uppercase()
                    };
                    if new != old {
                        fs::rename(&path, path.with_file_name(&new)).expect("case rename");
                        self.say(format!("{dev}: rename {from} to {new}"));
                    }
                }
            }
        }
    }

    async fn sync(&mut self, d: usize, crash_after: Option<usize>) -> SyncReport {
        let held: Vec<ContentHash> =
            tree_of(&self.devices[d].dir).into_values().flatten().map(|b| content_hash(&b)).collect();
        let dev = &mut self.devices[d];
        let engine = dev.engine.as_mut().expect("engine open");
        if let Some(n) = crash_after {
            engine.interrupt_after_steps(n);
        }
        let result = engine.sync_until_idle("2026-11-25").await;
        let name = dev.name.clone();
        match result {
            Ok(report) => {
                if crash_after.is_some() {
                    engine.interrupt_after_steps(usize::MAX >> 2);
                }
                let r = &report;
                self.say(format!(
                    "{name}: sync: {} up, {} down, {} moved there, {} moved here, {} deleted there, {} deleted here, \
                     {} conflicts, failed {:?}",
                    r.uploaded,
                    r.downloaded,
                    r.moved_remote,
                    r.moved_local,
                    r.deleted_remote,
                    r.deleted_local,
                    r.conflicts,
                    r.failed
                ));
                self.offered.extend(held);
                report
            }
            Err(SyncError::Interrupted) => {
                self.say(format!("{name}: crashed after {} steps", crash_after.unwrap_or(0)));
                self.reopen(d).await;
                SyncReport::default()
            }
            Err(e) => panic!("seed {}: {name}'s sync failed: {e}\n{}", self.seed, self.log.join("\n")),
        }
    }

    async fn reopen(&mut self, d: usize) {
        let dev = &mut self.devices[d];
        drop(dev.engine.take());
        let mut engine = Engine::open(self.client.clone(), &dev.dir, &dev.name).await.expect("reopen");
        engine.set_settle_time(Duration::ZERO);
        dev.engine = Some(engine);
    }
}

/// A fresh server on loopback, with one user; its data directory and a client.
async fn start_server(dir: &Path) -> (Service, Client, tokio::sync::oneshot::Sender<()>) {
    fs::create_dir_all(dir).expect("server dir");
    let storage = StorageConfig {
        database_url: format!("sqlite://{}", dir.join("meta.db").display()),
        chunk_dir: dir.join("chunks"),
    };
    let service = Service::open(&storage, ServiceConfig::default()).await.expect("open service");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(coffer_server::serve(
        service.clone(),
        listener,
        Default::default(),
        Duration::from_secs(3600),
        async {
            let _ = stopped.await;
        },
    ));
    service.admin_service().create_user("sim", "simulation password", false, None).await.expect("user");
    let token = service.login("sim", "simulation password", "sim", None).await.expect("login").token;
    let client = Client::new(&format!("http://{addr}"), Some(token)).expect("client");
    (service, client, stop)
}

/// Where scenarios keep their folders: memory when the system has it (the simulation
/// checks decisions, not durability, and runs thousands of scenarios).
fn scratch() -> tempfile::TempDir {
    match Path::new("/dev/shm").is_dir() {
        true => tempfile::tempdir_in("/dev/shm").expect("tempdir in /dev/shm"),
        false => tempfile::tempdir().expect("tempdir"),
    }
}

async fn run(seed: u64) {
    let scratch = scratch();
    let (_service, client, stop) = start_server(&scratch.path().join("server")).await;
    let mut rng = Rng::new(seed);
    let n = 2 + rng.below(2);
    let mut sim = Sim {
        seed,
        rng,
        client: client.clone(),
        devices: Vec::new(),
        writes: 0,
        clock: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        offered: BTreeSet::new(),
        deleted: Vec::new(),
        written: Vec::new(),
        log: Vec::new(),
    };
    for i in 0..n {
        let dir = scratch.path().join(format!("device-{i}"));
        fs::create_dir_all(&dir).expect("device dir");
        sim.devices.push(Device { name: format!("dev{i}"), dir, engine: None, online: true });
        sim.reopen(i).await;
    }
    // A shared starting point.
    let first = sim.devices[0].dir.clone();
    fs::write(first.join(KEEP), b"never touched\n").expect("keep");
    sim.touch(&first.join(KEEP));
    for _ in 0..sim.rng.below(8) {
        sim.edit(0);
    }
    for d in 0..n {
        sim.sync(d, None).await;
    }
    // Random edits, syncs, partitions and crashes.
    for _ in 0..12 + sim.rng.below(20) {
        let d = sim.rng.below(n);
        match sim.rng.below(10) {
            0..=4 => sim.edit(d),
            5..=7 if sim.devices[d].online => {
                sim.sync(d, None).await;
            }
            8 if sim.devices[d].online => {
                let after = 1 + sim.rng.below(6);
                sim.sync(d, Some(after)).await;
            }
            9 => {
                sim.devices[d].online = !sim.devices[d].online;
                let (name, online) = (sim.devices[d].name.clone(), sim.devices[d].online);
                sim.say(format!("{name}: {}", if online { "back online" } else { "offline" }));
            }
            _ => {}
        }
    }
    // Everyone online until a whole pass changes nothing.
    for dev in &mut sim.devices {
        dev.online = true;
    }
    let mut quiet = false;
    for _ in 0..8 {
        let mut changed = false;
        for d in 0..n {
            // Quiet: the first round found nothing to do.
            changed |= sim.sync(d, None).await.rounds != 1;
        }
        if !changed {
            quiet = true;
            break;
        }
    }
    let log = sim.log.join("\n");
    assert!(quiet, "seed {seed}: devices still busy after 8 passes\n{log}");
    // (a) One tree everywhere, also for a device starting from nothing.
    let newcomer = scratch.path().join("newcomer");
    let mut fresh = Engine::open(client.clone(), &newcomer, "newcomer").await.expect("newcomer");
    fresh.set_settle_time(Duration::ZERO);
    fresh.sync_until_idle("2026-11-25").await.expect("newcomer sync");
    let reference = tree_of(&newcomer);
    for dev in &sim.devices {
        let tree = tree_of(&dev.dir);
        if tree != reference {
            let names = |t: &BTreeMap<String, Option<Vec<u8>>>| -> Vec<String> {
                t.iter().map(|(p, b)| format!("{p} {}", b.as_ref().map_or(0, Vec::len))).collect()
            };
            panic!(
                "seed {seed}: {} differs from the server\n  device: {:?}\n  server: {:?}\n{log}",
                dev.name,
                names(&tree),
                names(&reference)
            );
        }
    }
    // (b) Nothing a completed sync saw is lost.
    let db = sqlx::SqlitePool::connect(&format!("sqlite://{}", scratch.path().join("server/meta.db").display()))
        .await
        .expect("server database");
    let kept: BTreeSet<ContentHash> = sqlx::query_scalar::<_, Vec<u8>>("SELECT content_hash FROM revisions")
        .fetch_all(&db)
        .await
        .expect("revisions")
        .iter()
        .filter_map(|b| ContentHash::from_slice(b))
        .chain(reference.values().flatten().map(|b| content_hash(b)))
        .collect();
    db.close().await;
    for c in &sim.offered {
        assert!(kept.contains(c), "seed {seed}: content {c:?} was synced once and is now lost\n{log}");
    }
    // (c) Deleted files stay deleted.
    for (dev, path, c) in &sim.deleted {
        // Unless another device wrote the very same bytes there itself (two devices
        // truncating one file alike): that is an edit, and an edit wins over a delete.
        if sim.written.iter().any(|(d, p, w)| d != dev && p == path && w == c) {
            continue;
        }
        let back = reference
            .iter()
            .any(|(p, b)| p.to_lowercase() == *path && b.as_ref().is_some_and(|b| content_hash(b) == *c));
        assert!(!back, "seed {seed}: {path} was deleted and came back with the same bytes\n{log}");
    }
    let _ = stop.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_converge_without_losing_data() {
    if std::env::var_os("COFFER_SIM_TRACE").is_some() {
        // Every round's plan, for replaying one seed.
        let _ = tracing_subscriber::fmt().with_env_filter("coffer_client=debug").with_test_writer().try_init();
    }
    if let Ok(seed) = std::env::var("COFFER_SIM_SEED") {
        run(seed.parse().expect("COFFER_SIM_SEED is a number")).await;
        return;
    }
    let seeds: u64 = std::env::var("COFFER_SIM_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(DEFAULT_SEEDS);
    let from: u64 = std::env::var("COFFER_SIM_FROM").ok().and_then(|s| s.parse().ok()).unwrap_or(0);
    let started = std::time::Instant::now();
    // Two scenarios at a time: each waits on its server and disk part of the time.
    futures::stream::iter(from..from + seeds).map(run).buffer_unordered(2).collect::<Vec<()>>().await;
    eprintln!("{seeds} scenarios in {:.1} s", started.elapsed().as_secs_f64());
}
