//! End-to-end harness: a real `coffer serve` on an ephemeral loopback port and the real
//! `coffer` binary as the client, each with its own data and config directories.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub const PASSWORD: &str = "correct horse battery";

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_coffer")
}

/// The metadata databases to run a story on: the embedded default (None), and a fresh
/// PostgreSQL database when the test script started a server.
pub async fn databases() -> Vec<Option<String>> {
    let mut out = vec![None];
    if let Some(url) = coffer_metastore::testing::fresh_postgres().await {
        out.push(Some(url));
    }
    out
}

/// Runs a blocking story once per database, naming the database when it fails.
pub async fn on_every_database(story: fn(Option<String>)) {
    for db in databases().await {
        let label = if db.is_some() { "postgres" } else { "sqlite" };
        tokio::task::spawn_blocking(move || story(db)).await.unwrap_or_else(|e| panic!("{label}: {e:?}"));
    }
}

pub struct Server {
    child: Option<Child>,
    pub url: String,
    pub data: PathBuf,
    pub database: Option<String>,
    /// What the server printed before it listened (the setup token, on first start).
    pub boot_log: Vec<String>,
    port: u16,
    extra_args: Vec<String>,
}

/// The master key of the test server over `data` (base64 of 32 bytes).
pub fn test_key(data: &Path) -> String {
    use base64::Engine as _;
    let key = blake3::hash(data.to_string_lossy().as_bytes());
    base64::engine::general_purpose::STANDARD.encode(key.as_bytes())
}

impl Server {
    pub fn start(data: &Path, database: Option<String>) -> Server {
        Self::start_with(data, database, &[])
    }

    /// Starts with extra `coffer serve` arguments (a `--config FILE`, say).
    pub fn start_with(data: &Path, database: Option<String>, extra_args: &[&str]) -> Server {
        let mut s = Server {
            child: None,
            url: String::new(),
            data: data.to_path_buf(),
            database,
            boot_log: Vec::new(),
            port: 0,
            extra_args: extra_args.iter().map(|a| (*a).to_owned()).collect(),
        };
        s.spawn();
        s
    }

    fn spawn(&mut self) {
        let listen = format!("127.0.0.1:{}", self.port);
        let mut cmd = Command::new(bin());
        cmd.args(["serve", "--data"]).arg(&self.data).args(["--listen", &listen]);
        if let Some(db) = &self.database {
            cmd.args(["--database", db]);
        }
        cmd.args(&self.extra_args);
        // Encrypted at rest like a real deployment, with a key that stays the same
        // across restarts of this server and leaves no key file outside the test's
        // folder.
        if !self.extra_args.iter().any(|a| a == "--key-file" || a == "--no-encryption") {
            cmd.env("COFFER_MASTER_KEY", test_key(&self.data));
        }
        cmd.env("COFFER_LOG", "warn").stdout(Stdio::null()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn coffer serve");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        self.boot_log.clear();
        let url = loop {
            let line = lines.next().expect("server exited before listening").expect("read stderr");
            if let Some(url) = line.strip_prefix("coffer: listening on ") {
                break url.trim().to_owned();
            }
            self.boot_log.push(line);
        };
        // Keep draining stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines.by_ref() {});
        self.port = url.rsplit(':').next().and_then(|p| p.parse().ok()).expect("port");
        self.url = url;
        self.child = Some(child);
    }

    /// The server process's id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).expect("server running")
    }

    /// The server's peak resident memory so far, in bytes (Linux `VmHWM`).
    pub fn peak_rss(&self) -> u64 {
        self.proc_status_kib("VmHWM:") * 1024
    }

    /// The server's resident memory now, in bytes (Linux `VmRSS`).
    pub fn rss(&self) -> u64 {
        self.proc_status_kib("VmRSS:") * 1024
    }

    fn proc_status_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).expect("proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .expect("a /proc/PID/status field")
    }

    /// SIGKILL: no shutdown, no flush, like a power cut for the process.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts again on the same port and data.
    pub fn restart(&mut self) {
        self.kill9();
        // The server binds with SO_REUSEADDR, so the port is free at once.
        self.spawn();
    }

    /// `coffer admin user add` against this server's database.
    /// The one-time setup token from the boot log, if the server printed one.
    pub fn setup_token(&self) -> Option<String> {
        self.boot_log.iter().find_map(|l| {
            let rest = l.split("--token=").nth(1)?;
            rest.split_whitespace().next().map(str::to_owned)
        })
    }

    pub fn add_user(&self, name: &str, extra: &[&str]) {
        let mut args = vec!["admin", "user", "add", name];
        args.extend_from_slice(extra);
        let mut cmd = Command::new(bin());
        cmd.args(&args).arg("--data").arg(&self.data);
        if let Some(db) = &self.database {
            cmd.args(["--database", db]);
        }
        let out = run_with_stdin(cmd, &format!("{PASSWORD}\n"));
        assert_eq!(out.code, 0, "admin user add: {}", out.stderr);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", self.stdout, self.stderr))
    }
}

fn run_with_stdin(mut cmd: Command, stdin: &str) -> Output {
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn coffer");
    // A command that exits before reading its input (a usage error) closes the pipe first.
    match child.stdin.take().expect("stdin").write_all(stdin.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other.expect("write stdin"),
    }
    let out = child.wait_with_output().expect("wait");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A client profile: its own config directory.
pub struct Client {
    pub config: tempfile::TempDir,
}

impl Client {
    pub fn login(server: &Server, user: &str) -> Client {
        let c = Client { config: tempfile::tempdir().expect("tempdir") };
        let out = c.run_stdin(&["login", &server.url, "--user", user, "--device", "test"], &format!("{PASSWORD}\n"));
        assert_eq!(out.code, 0, "login: {}", out.stderr);
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.run_stdin(args, "")
    }

    pub fn run_stdin(&self, args: &[&str], stdin: &str) -> Output {
        let mut cmd = Command::new(bin());
        cmd.args(args).env("COFFER_CONFIG_DIR", self.config.path()).env("COFFER_LOG", "warn");
        run_with_stdin(cmd, stdin)
    }

    /// Runs and asserts success.
    pub fn ok(&self, args: &[&str]) -> Output {
        let out = self.run(args);
        assert_eq!(out.code, 0, "coffer {args:?} failed:\n{}\n{}", out.stdout, out.stderr);
        out
    }

    pub fn token(&self) -> String {
        let text = std::fs::read_to_string(self.config.path().join("profile.toml")).expect("profile");
        text.lines()
            .find_map(|l| l.strip_prefix("token = "))
            .map(|t| t.trim_matches('"').to_owned())
            .expect("token in profile")
    }
}

/// Deterministic pseudo-random bytes.
#[allow(unused_imports)]
pub use coffer_core::testing::pseudo_random as random_bytes;

/// Files written less than the sync client's settle time ago wait for the next scan:
/// make every file below `dir` ten seconds old.
pub fn settle(dir: &Path) {
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(10);
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let p = e.path();
            let kind = e.file_type().expect("file type");
            if kind.is_symlink() {
                continue; // Links are never followed (and need no settling).
            } else if kind.is_dir() {
                stack.push(p);
            } else {
                let f = std::fs::File::options().write(true).open(&p).expect("open");
                f.set_modified(old).expect("set mtime");
            }
        }
    }
}

/// Every item below a synced folder, sorted: files with their bytes, folders as
/// `path/` with none. The engine's own `.coffer/` and the files sync keeps local (`~$*`)
/// are left out.
pub fn local_tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let p = e.path();
            if p.file_name().is_some_and(|n| n == ".coffer" || n.to_string_lossy().starts_with("~$")) {
                continue;
            }
            let relative = p.strip_prefix(dir).expect("inside").display().to_string();
            // A symbolic link is what it says, never what it leads to.
            if let Ok(target) = std::fs::read_link(&p) {
                out.push((relative + " ->", target.to_string_lossy().into_owned().into_bytes()));
            } else if p.is_dir() {
                out.push((relative + "/", Vec::new()));
                stack.push(p);
            } else {
                out.push((relative, std::fs::read(&p).expect("read")));
            }
        }
    }
    out.sort();
    out
}
