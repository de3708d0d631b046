//! Wipe protection: a synced folder is known by an id kept in its state (`.coffer/`) and
//! by the filesystem it lives on. A folder that disappeared, was replaced by another (an
//! empty one, a copy), or whose disk is not mounted any more is never taken for a folder
//! whose files were deleted: the sync stops and says why, until the user relinks it.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::super::scan::STATE_DIR;

/// What a synced folder is, as the profile that syncs it remembers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderIdentity {
    /// A random id kept in the folder's state.
    pub folder_id: String,
    /// The filesystem the folder lives on (`st_dev`; 0 where there is none).
    pub filesystem: u64,
}

/// The filesystem a path lives on.
pub fn filesystem_of(meta: &std::fs::Metadata) -> u64 {
    #[cfg(unix)]
    return std::os::unix::fs::MetadataExt::dev(meta);
    #[cfg(not(unix))]
    {
        let _ = meta;
        0
    }
}

/// Why the folder at `root` is no longer the synced folder `known`, judged from the
/// outside (without opening its state); `None` when nothing is wrong.
pub fn problem(root: &Path, known: &FolderIdentity) -> Option<String> {
    let meta = match std::fs::metadata(root) {
        Ok(m) if m.is_dir() => m,
        Ok(_) => return Some("is not a folder any more".into()),
        Err(_) => return Some("is gone (moved away, deleted, or on a disk that is not mounted)".into()),
    };
    if !root.join(STATE_DIR).join("state.db").is_file() {
        return Some(
            "no longer holds its sync state (.coffer): it was replaced or emptied, or its disk is not mounted".into(),
        );
    }
    if filesystem_of(&meta) != known.filesystem {
        return Some("is on another filesystem than when it was synced (is its disk mounted?)".into());
    }
    None
}

/// A new random folder id.
pub fn new_folder_id(root: &Path) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let seed = format!("{}:{}:{nanos}", root.display(), std::process::id());
    coffer_core::ChunkHash::of(seed.as_bytes()).to_hex()[..32].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_gone_emptied_or_elsewhere_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("sync");
        std::fs::create_dir_all(root.join(STATE_DIR)).expect("mkdir");
        std::fs::write(root.join(STATE_DIR).join("state.db"), b"").expect("write");
        let fs = filesystem_of(&std::fs::metadata(&root).expect("meta"));
        let known = FolderIdentity { folder_id: new_folder_id(&root), filesystem: fs };
        assert_eq!(problem(&root, &known), None);
        let elsewhere = FolderIdentity { filesystem: fs + 1, ..known.clone() };
        assert!(problem(&root, &elsewhere).is_some_and(|w| w.contains("another filesystem")));
        std::fs::remove_dir_all(root.join(STATE_DIR)).expect("rm");
        assert!(problem(&root, &known).is_some_and(|w| w.contains("sync state")));
        std::fs::remove_dir_all(&root).expect("rm");
        assert!(problem(&root, &known).is_some_and(|w| w.contains("is gone")));
        assert_ne!(new_folder_id(&root), new_folder_id(&root.join("x")));
    }
}
