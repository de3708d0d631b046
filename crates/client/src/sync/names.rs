//! What names the disk under a synced folder can hold, found by trying it (files made
//! and looked up in `.coffer/probe`) rather than guessed from the operating system: a
//! Linux laptop may sync onto a FAT stick, a Mac onto a case-sensitive volume.
//!
//! The server keeps every valid name. A name this disk cannot hold is left out of the
//! round on every side (never downloaded, never taken for deleted, never renamed on
//! the server) and listed by `coffer status` with the reason and the fix.

use std::fs;
use std::io;
use std::path::Path;

use std::collections::BTreeSet;

use coffer_core::RemotePath;
use serde::{Deserialize, Serialize};

use super::plan::{Trees, key};

/// How the disk treats names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FsRules {
    /// `Report.txt` and `report.txt` are one file (macOS and Windows by default, FAT).
    pub case_insensitive: bool,
    /// Unicode NFC and NFD spellings are one name (macOS): a name read back in another
    /// form is the same item, not a different one.
    pub normalizes: bool,
    /// Windows' rules: no `< > : " \ | ? *`, no `CON`, `PRN`, `AUX`, `NUL`, `COM1`-`COM9`,
    /// `LPT1`-`LPT9` (with any extension), no trailing dot or space (FAT, exFAT, NTFS).
    pub windows_names: bool,
}

const WINDOWS_CHARS: &[char] = &['<', '>', ':', '"', '\\', '|', '?', '*'];
const WINDOWS_DEVICES: &[&str] = &["CON", "PRN", "AUX", "NUL"];

impl FsRules {
    /// Finds the rules by trying names in `dir` (created, emptied and removed here).
    pub fn probe(dir: &Path) -> io::Result<Self> {
        let _ = fs::remove_dir_all(dir);
        fs::create_dir_all(dir)?;
        let found = Self::try_names(dir);
        let _ = fs::remove_dir_all(dir);
        found
    }

    fn try_names(dir: &Path) -> io::Result<Self> {
        let listed = |name: &str| -> io::Result<bool> {
            Ok(fs::read_dir(dir)?.flatten().any(|e| e.file_name().to_str() == Some(name)))
        };
        fs::write(dir.join("Case-Probe"), b"")?;
        let case_insensitive = fs::symlink_metadata(dir.join("case-probe")).is_ok();
        // "é" composed (NFC), looked up decomposed (NFD), and read back as written?
        let nfc = "probe-\u{e9}";
        fs::write(dir.join(nfc), b"")?;
        let normalizes = fs::symlink_metadata(dir.join("probe-e\u{301}")).is_ok() || !listed(nfc)?;
        // A character Windows refuses, and a trailing dot that FAT silently drops.
        let colon = fs::write(dir.join("probe-a:b"), b"").is_err() || !listed("probe-a:b")?;
        let dot = fs::write(dir.join("probe-dot."), b"").is_err() || !listed("probe-dot.")?;
        Ok(Self { case_insensitive, normalizes, windows_names: colon || dot })
    }

    /// Why this disk cannot hold `name` (an already valid Coffer name), if it cannot.
    pub fn refuses(&self, name: &str) -> Option<String> {
        if !self.windows_names {
            return None;
        }
        if let Some(c) = name.chars().find(|c| WINDOWS_CHARS.contains(c)) {
            return Some(format!("this disk cannot hold '{c}' in a name"));
        }
        if name.ends_with('.') || name.ends_with(' ') {
            return Some("this disk cannot hold a name ending in a dot or a space".into());
        }
        let stem = name.split('.').next().unwrap_or(name).trim_end().to_ascii_uppercase();
        let device = WINDOWS_DEVICES.contains(&stem.as_str())
            || (stem.len() == 4
                && (stem.starts_with("COM") || stem.starts_with("LPT"))
                && stem.as_bytes()[3].is_ascii_digit()
                && stem.as_bytes()[3] != b'0');
        device.then(|| format!("'{stem}' is a device name on this disk"))
    }

    /// What `coffer status` says of an item left out for its name.
    pub fn explain(&self, name: &str) -> Option<String> {
        self.refuses(name)
            .map(|why| format!("name not allowed here: {why}; rename it on another device or in the web app"))
    }

    /// A line for `coffer status`: how this disk treats names.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        parts.push(if self.case_insensitive { "case-insensitive" } else { "case-sensitive" });
        if self.normalizes {
            parts.push("Unicode forms merged");
        }
        if self.windows_names {
            parts.push("Windows name rules");
        }
        parts.join(", ")
    }
}

/// Takes out of the round every item (with everything below it) whose name the disk
/// cannot hold: the server's is neither downloaded nor, being absent here, deleted
/// there. Returns the items left out, as `coffer status` lists them.
pub(crate) fn leave_out_unholdable(trees: &mut Trees, rules: &FsRules) -> Vec<(String, String)> {
    if !rules.windows_names {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut refused = BTreeSet::new();
    for (k, (path, _)) in &trees.remote {
        if let Some(why) = path.file_name().and_then(|n| rules.explain(n.as_str())) {
            refused.insert(k.clone());
            out.push((path.to_string().trim_start_matches('/').to_owned(), why));
        }
    }
    if refused.is_empty() {
        return out;
    }
    let inside =
        |k: &String| k.match_indices('/').map(|(i, _)| &k[..i]).chain([k.as_str()]).any(|p| refused.contains(p));
    trees.remote.retain(|k, _| !inside(k));
    trees.local.retain(|k, _| !inside(k));
    trees.synced.retain(|k, _| !inside(k));
    // Only the outermost one is listed: what is below it goes with it.
    out.retain(|(p, _)| !out_has_ancestor(&refused, p));
    out.sort();
    out
}

/// Whether a refused key lies strictly above the relative path `p`.
fn out_has_ancestor(refused: &BTreeSet<String>, p: &str) -> bool {
    let Ok(path) = RemotePath::parse(&format!("/{p}")) else { return false };
    let k = key(&path);
    k.match_indices('/').skip(1).any(|(i, _)| refused.contains(&k[..i]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_rules_refuse_what_windows_refuses() {
        let w = FsRules { windows_names: true, ..FsRules::default() };
        for bad in ["a:b", "what?", "x*y", "quote\"d", "back\\slash", "pipe|", "<tag>", "trailing.", "trailing ", "CON"]
        {
            assert!(w.refuses(bad).is_some(), "{bad} must be refused");
        }
        for bad in ["con", "Con.txt", "nul.tar.gz", "COM1", "lpt9.log", "AUX .txt"] {
            assert!(w.refuses(bad).is_some(), "{bad} is a device name");
        }
        for good in ["report.txt", "CONTRACT.pdf", "COM0", "COM10", "console", ".hidden", "a b", "naïve.txt", "LPT"] {
            assert_eq!(w.refuses(good), None, "{good} is fine");
        }
        let linux = FsRules::default();
        assert_eq!(linux.refuses("a:b"), None, "a disk without Windows rules holds every valid name");
        assert!(w.explain("a:b").is_some_and(|s| s.contains("rename it")));
    }

    #[test]
    fn the_probe_finds_this_disk_s_rules_and_cleans_up() {
        let dir = tempfile::tempdir().expect("tempdir");
        let probe = dir.path().join("probe");
        let rules = FsRules::probe(&probe).expect("probe");
        assert!(!probe.exists(), "the probe leaves nothing behind");
        // The test disk (Linux ext4, overlay, tmpfs) is case-sensitive, keeps Unicode
        // forms apart and takes Windows-reserved names; macOS' default disk merges case
        // and forms.
        if cfg!(target_os = "linux") {
            assert_eq!(rules, FsRules::default(), "{}", rules.describe());
        }
        if cfg!(target_os = "macos") {
            assert!(rules.case_insensitive && rules.normalizes);
        }
    }
}
