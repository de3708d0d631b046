//! Sync onto a disk that treats names otherwise than Linux does: a case-insensitive one,
//! made here as a real FUSE filesystem (rclone's mount with `--vfs-case-insensitive`
//! over an ordinary folder; scripts/test.sh installs rclone and fuse3 where it can).
//! Where this machine cannot mount one, the test says why and passes without it.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Client, Output, Server, settle};

fn sync(c: &Client, dir: &Path) -> Output {
    c.run(&["sync", "--once", dir.to_str().expect("utf8")])
}

/// Names in a folder, as the disk lists them.
fn names(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> =
        fs::read_dir(dir).expect("read_dir").flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    out.retain(|n| n != ".coffer");
    out.sort();
    out
}

/// A case-insensitive filesystem mounted over a temporary folder; unmounted on drop.
struct CaseInsensitiveDisk {
    mount: PathBuf,
    rclone: Child,
    _dirs: tempfile::TempDir,
}

impl CaseInsensitiveDisk {
    fn new() -> Result<Self, String> {
        if !Path::new("/dev/fuse").exists() {
            return Err("no /dev/fuse on this machine".into());
        }
        let dirs = tempfile::tempdir().map_err(|e| e.to_string())?;
        let (source, mount) = (dirs.path().join("source"), dirs.path().join("mount"));
        fs::create_dir_all(&source).and_then(|_| fs::create_dir_all(&mount)).map_err(|e| e.to_string())?;
        let rclone = Command::new("rclone")
            .arg("mount")
            .arg(&source)
            .arg(&mount)
            .args(["--vfs-case-insensitive", "--vfs-cache-mode", "writes", "--dir-cache-time", "0s"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("rclone could not be started ({e}); install rclone and fuse3"))?;
        let mut disk = CaseInsensitiveDisk { mount, rclone, _dirs: dirs };
        let deadline = Instant::now() + Duration::from_secs(20);
        let mounted = |m: &Path| {
            fs::read_to_string("/proc/mounts").is_ok_and(|t| t.lines().any(|l| l.contains(&*m.to_string_lossy())))
        };
        while !mounted(&disk.mount) {
            if Instant::now() > deadline || disk.rclone.try_wait().ok().flatten().is_some() {
                return Err("rclone mount did not come up (FUSE not allowed here?)".into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        fs::write(disk.mount.join("Probe"), b"").map_err(|e| e.to_string())?;
        if !disk.mount.join("probe").exists() {
            return Err("the mount is not case-insensitive".into());
        }
        fs::remove_file(disk.mount.join("Probe")).map_err(|e| e.to_string())?;
        Ok(disk)
    }
}

impl Drop for CaseInsensitiveDisk {
    fn drop(&mut self) {
        let _ = Command::new("fusermount3").arg("-u").arg(&self.mount).status();
        let _ = self.rclone.kill();
        let _ = self.rclone.wait();
    }
}

#[test]
fn a_case_insensitive_disk_syncs_case_only_renames_both_ways() {
    let disk = match CaseInsensitiveDisk::new() {
        Ok(d) => d,
        Err(why) => {
            eprintln!("skipped: no case-insensitive disk can be made here: {why}");
            return;
        }
    };
    let data = tempfile::tempdir().expect("tempdir");
    let server = Server::start(data.path(), None);
    server.add_user("alice", &[]);
    let (linux, other) = (Client::login(&server, "alice"), Client::login(&server, "alice"));
    let work = tempfile::tempdir().expect("tempdir");
    let (a, b) = (work.path().join("a"), disk.mount.join("b"));

    // On the Linux disk: files, a folder, and two names that differ only by case.
    fs::create_dir_all(a.join("Docs")).expect("mkdir");
    fs::write(a.join("Docs/plan.txt"), b"plan").expect("write");
    fs::write(a.join("Report.txt"), b"report").expect("write");
    fs::write(a.join("notes.md"), b"notes").expect("write");
    fs::write(a.join("photo.jpg"), b"one photo").expect("write");
    fs::write(a.join("PHOTO.jpg"), b"another photo").expect("write");
    settle(&a);
    assert_eq!(sync(&linux, &a).code, 0);
    let status = linux.ok(&["status", a.to_str().expect("utf8"), "--json"]).json();
    let clash = status["not_synced"].as_array().expect("list").iter().any(|e| e[0] == "photo.jpg");
    assert!(clash, "the second spelling waits for a rename: {status:#}");

    // The case-insensitive disk is seen as such, and gets everything the server has.
    assert_eq!(sync(&other, &b).code, 0);
    let status = other.ok(&["status", b.to_str().expect("utf8"), "--json"]).json();
    assert!(status["disk"].as_str().is_some_and(|d| d.starts_with("case-insensitive")), "{status:#}");
    assert_eq!(names(&b), ["Docs", "PHOTO.jpg", "Report.txt", "notes.md"]);
    assert_eq!(fs::read(b.join("docs/PLAN.TXT")).expect("any case finds it"), b"plan");

    // A case-only rename there reaches the Linux disk as a rename.
    // (Through another name, as `git mv` does: this mount keeps the old spelling when
    // asked to rename to the same name in another case.)
    fs::rename(b.join("Report.txt"), b.join("report.tmp")).expect("rename");
    fs::rename(b.join("report.tmp"), b.join("REPORT.txt")).expect("case-only rename");
    assert_eq!(names(&b), ["Docs", "PHOTO.jpg", "REPORT.txt", "notes.md"]);
    settle(&b);
    assert_eq!(sync(&other, &b).code, 0);
    assert_eq!(sync(&linux, &a).code, 0);
    assert_eq!(names(&a), ["Docs", "PHOTO.jpg", "REPORT.txt", "notes.md", "photo.jpg"]);
    assert_eq!(fs::read(a.join("REPORT.txt")).expect("read"), b"report");

    // And one made on the Linux disk reaches it, the bytes unchanged.
    fs::rename(a.join("notes.md"), a.join("Notes.md")).expect("case-only rename");
    fs::rename(a.join("Docs"), a.join("DOCS")).expect("case-only rename of a folder");
    settle(&a);
    assert_eq!(sync(&linux, &a).code, 0);
    assert_eq!(sync(&other, &b).code, 0);
    assert_eq!(names(&b), ["DOCS", "Notes.md", "PHOTO.jpg", "REPORT.txt"]);
    assert_eq!(fs::read(b.join("DOCS/plan.txt")).expect("read"), b"plan");

    // Nothing was lost on the way: the server holds one of each, the clash still local.
    let listing = linux.ok(&["ls", "--json", "/"]).json();
    let mut server_names: Vec<String> =
        listing.as_array().expect("list").iter().map(|e| e["name"].as_str().expect("name").to_owned()).collect();
    server_names.sort();
    assert_eq!(server_names, ["DOCS", "Notes.md", "PHOTO.jpg", "REPORT.txt"]);
    assert_eq!(fs::read(a.join("photo.jpg")).expect("still here"), b"one photo");
}
