//! Three `coffer sync DIR` processes (the real binary, running continuously) on three
//! folders, one real server: every kind of edit made on one device shows up on the
//! others, and the folders keep converging through a server restart and a client
//! killed with SIGKILL in the middle of a 200 MiB transfer.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Client, Server};

/// A running `coffer sync DIR`.
struct Syncer {
    child: Child,
    client: Client,
    dir: PathBuf,
}

impl Syncer {
    fn start(client: Client, dir: PathBuf) -> Syncer {
        let child = spawn(&client, &dir);
        Syncer { child, client, dir }
    }

    fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn restart(&mut self) {
        self.kill9();
        self.child = spawn(&self.client, &self.dir);
    }
}

impl Drop for Syncer {
    fn drop(&mut self) {
        self.kill9();
    }
}

fn spawn(client: &Client, dir: &Path) -> Child {
    Command::new(common::bin())
        .args(["sync", dir.to_str().expect("utf8")])
        .env("COFFER_CONFIG_DIR", client.config.path())
        .env("COFFER_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn coffer sync")
}

/// Relative path → (size, BLAKE3 of the bytes); folders with size 0 and no hash.
type Tree = BTreeMap<String, Option<(u64, String)>>;

fn tree_of(dir: &Path) -> Tree {
    let mut out = Tree::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.file_name().is_some_and(|n| n == ".coffer") {
                continue;
            }
            let rel = p.strip_prefix(dir).expect("inside").to_string_lossy().into_owned();
            match fs::symlink_metadata(&p) {
                Ok(m) if m.is_dir() => {
                    out.insert(rel, None);
                    stack.push(p);
                }
                Ok(m) => {
                    let hash = fs::read(&p).map(|b| blake3::hash(&b).to_hex().to_string()).unwrap_or_default();
                    out.insert(rel, Some((m.len(), hash)));
                }
                Err(_) => {}
            }
        }
    }
    out
}

/// Waits until every folder holds the same tree and `check` accepts it.
fn converge(dirs: &[&Path], what: &str, check: impl Fn(&Tree) -> bool) -> Tree {
    let started = Instant::now();
    loop {
        let trees: Vec<Tree> = dirs.iter().map(|d| tree_of(d)).collect();
        if trees.windows(2).all(|w| w[0] == w[1]) && check(&trees[0]) {
            eprintln!("{what}: converged in {:.1} s", started.elapsed().as_secs_f64());
            return trees.into_iter().next().expect("one tree");
        }
        if started.elapsed() > Duration::from_secs(240) {
            let summary: Vec<Vec<String>> =
                trees.iter().map(|t| t.keys().take(40).cloned().collect()).collect::<Vec<_>>();
            panic!("{what}: no convergence after 240 s: {summary:#?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A file as the tree shows it.
fn file(bytes: &[u8]) -> Option<(u64, String)> {
    Some((bytes.len() as u64, blake3::hash(bytes).to_hex().to_string()))
}

#[test]
fn three_devices_stay_in_sync_through_restarts_and_kills() {
    let data = tempfile::tempdir().expect("tempdir");
    let mut server = Server::start(data.path(), None);
    server.add_user("alice", &[]);
    let work = tempfile::tempdir().expect("tempdir");
    let dirs: Vec<PathBuf> = ["a", "b", "c"].iter().map(|n| work.path().join(n)).collect();
    for d in &dirs {
        fs::create_dir_all(d).expect("mkdir");
    }
    let (a, b, c) = (dirs[0].as_path(), dirs[1].as_path(), dirs[2].as_path());
    let all = [a, b, c];
    let mut syncers: Vec<Syncer> =
        dirs.iter().map(|d| Syncer::start(Client::login(&server, "alice"), d.clone())).collect();

    // A nested tree made on A.
    fs::create_dir_all(a.join("projects/coffer/src")).expect("mkdir");
    fs::create_dir_all(a.join("projects/empty")).expect("mkdir");
    fs::write(a.join("projects/coffer/src/main.rs"), b"fn main() {}\n").expect("write");
    fs::write(a.join("projects/coffer/README"), b"read me\n").expect("write");
    fs::write(a.join("log.txt"), b"first line\n").expect("write");
    converge(&all, "nested tree", |t| {
        t.contains_key("projects/empty") && t.contains_key("projects/coffer/src/main.rs")
    });

    // Modify on B, append on C, truncate on A: one after another.
    fs::write(b.join("projects/coffer/README"), b"read me, edited on B\n").expect("write");
    converge(&all, "modify", |t| t.get("projects/coffer/README") == Some(&file(b"read me, edited on B\n")));
    {
        use std::io::Write;
        let mut f = fs::File::options().append(true).open(c.join("log.txt")).expect("append");
        f.write_all(b"second line, from C\n").expect("append");
    }
    converge(&all, "append", |t| t.get("log.txt") == Some(&file(b"first line\nsecond line, from C\n")));
    fs::File::options().write(true).open(a.join("log.txt")).expect("open").set_len(5).expect("truncate");
    converge(&all, "truncate", |t| t.get("log.txt") == Some(&file(b"first")));

    // Rename on B, move across folders on C, delete on A.
    fs::rename(b.join("projects/coffer"), b.join("projects/vault")).expect("rename");
    converge(&all, "rename", |t| t.contains_key("projects/vault/src/main.rs") && !t.contains_key("projects/coffer"));
    fs::rename(c.join("projects/vault/README"), c.join("README")).expect("move");
    converge(&all, "move", |t| t.contains_key("README") && !t.contains_key("projects/vault/README"));
    fs::remove_dir_all(a.join("projects/empty")).expect("rm");
    fs::remove_file(a.join("README")).expect("rm");
    converge(&all, "delete", |t| !t.contains_key("README") && !t.contains_key("projects/empty"));

    // 10,000 small files in 100 folders, made on C while everything runs.
    for i in 0..10_000 {
        let folder = c.join(format!("many/{:02}", i % 100));
        if i < 100 {
            fs::create_dir_all(&folder).expect("mkdir");
        }
        fs::write(folder.join(format!("file-{i:05}.txt")), format!("small file {i}\n")).expect("write");
    }
    let t = converge(&all, "10,000 small files", |t| t.keys().filter(|k| k.starts_with("many/")).count() == 10_100);
    assert_eq!(t.get("many/42/file-04242.txt"), Some(&file(b"small file 4242\n")));

    // The server is killed and restarted while the clients run; edits made meanwhile
    // travel once it is back.
    server.kill9();
    fs::write(a.join("while-down.txt"), b"written while the server was down\n").expect("write");
    std::thread::sleep(Duration::from_millis(500));
    server.restart();
    converge(&all, "after a server restart", |t| t.contains_key("while-down.txt"));

    // A 200 MiB file from A; C is killed (SIGKILL) during its download and restarted.
    let big = common::random_bytes(200 << 20, 77);
    fs::write(a.join("big.bin"), &big).expect("write");
    let started = Instant::now();
    while !fs::read_dir(c.join(".coffer/tmp")).is_ok_and(|mut d| d.next().is_some()) {
        assert!(started.elapsed() < Duration::from_secs(120), "C never started downloading");
        std::thread::sleep(Duration::from_millis(20));
    }
    syncers[2].kill9();
    assert!(!c.join("big.bin").exists() || fs::read(c.join("big.bin")).expect("read") == big, "never a partial file");
    syncers[2].restart();
    let want = file(&big);
    converge(&all, "200 MiB file", |t| t.get("big.bin") == Some(&want));
    drop(big);

    // Edits while a sync is busy: a new version of the big file and a small edit at
    // once; both land everywhere.
    let mut bigger = common::random_bytes(200 << 20, 78);
    bigger.truncate(150 << 20);
    fs::write(b.join("big.bin"), &bigger).expect("write");
    fs::write(c.join("while-busy.txt"), b"written while a big upload runs\n").expect("write");
    let (want, note) = (file(&bigger), file(b"written while a big upload runs\n"));
    converge(&all, "edits while busy", |t| t.get("big.bin") == Some(&want) && t.get("while-busy.txt") == Some(&note));
    for s in &mut syncers {
        s.kill9();
    }
}
