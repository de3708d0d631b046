//! Turning a local folder into upload items: regular files and folders, recursively.
//!
//! Symbolic links are neither followed nor uploaded, and special files (sockets, FIFOs,
//! devices) are skipped: only what a file server can hold is collected. A name that is
//! not valid UTF-8 is an error rather than silently skipped.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::UploadItem;

/// Every regular file below `local`, each with remote path `remote_dir/relative/path`
/// ('/' separators), sorted by remote path.
pub fn collect_items(local: &Path, remote_dir: &str) -> io::Result<Vec<UploadItem>> {
    Ok(walk(local, remote_dir)?.1)
}

/// The remote folder paths the tree below `local` needs, including empty folders and
/// `remote_dir` itself (unless it is the root), sorted so parents come first.
pub fn collect_dirs(local: &Path, remote_dir: &str) -> io::Result<Vec<String>> {
    Ok(walk(local, remote_dir)?.0)
}

/// `remote_dir` as an absolute path without a trailing slash ("" for the root).
fn remote_base(remote_dir: &str) -> String {
    let trimmed = remote_dir.trim_end_matches('/');
    if trimmed.is_empty() || trimmed.starts_with('/') { trimmed.to_string() } else { format!("/{trimmed}") }
}

fn walk(local: &Path, remote_dir: &str) -> io::Result<(Vec<String>, Vec<UploadItem>)> {
    let base = remote_base(remote_dir);
    let mut dirs = Vec::new();
    if !base.is_empty() {
        dirs.push(base.clone());
    }
    let mut files = Vec::new();
    let mut stack: Vec<(PathBuf, String)> = vec![(local.to_path_buf(), base)];
    while let Some((dir, remote)) = stack.pop() {
        for entry in fs::read_dir(&dir)? {
            let entry = entry?;
            // Not followed: a link reports itself as a link.
            let kind = entry.file_type()?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: the name is not valid UTF-8", entry.path().display()),
                ));
            };
            let child = format!("{remote}/{name}");
            if kind.is_dir() {
                dirs.push(child.clone());
                stack.push((entry.path(), child));
            } else if kind.is_file() {
                files.push(UploadItem::new(entry.path(), child));
            }
        }
    }
    dirs.sort();
    files.sort_by(|a, b| a.remote.cmp(&b.remote));
    Ok((dirs, files))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_bases_are_absolute() {
        assert_eq!(remote_base("/"), "");
        assert_eq!(remote_base(""), "");
        assert_eq!(remote_base("docs/"), "/docs");
        assert_eq!(remote_base("/a/b//"), "/a/b");
    }

    #[test]
    fn collects_files_and_folders_without_links() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path();
        fs::create_dir_all(root.join("sub/deeper")).expect("mkdir");
        fs::create_dir(root.join("empty")).expect("mkdir");
        fs::write(root.join("a.txt"), b"a").expect("write");
        fs::write(root.join("sub/b.txt"), b"b").expect("write");
        fs::write(root.join("sub/deeper/c.txt"), b"c").expect("write");
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(root.join("a.txt"), root.join("link.txt")).expect("symlink");
            std::os::unix::fs::symlink(root.join("sub"), root.join("linkdir")).expect("symlink");
        }

        let items = collect_items(root, "/dst/").expect("walk");
        let remotes: Vec<&str> = items.iter().map(|i| i.remote.as_str()).collect();
        assert_eq!(remotes, ["/dst/a.txt", "/dst/sub/b.txt", "/dst/sub/deeper/c.txt"]);
        assert_eq!(items[1].local, root.join("sub/b.txt"));

        let dirs = collect_dirs(root, "dst").expect("walk");
        assert_eq!(dirs, ["/dst", "/dst/empty", "/dst/sub", "/dst/sub/deeper"]);
        assert_eq!(collect_dirs(root, "/").expect("walk"), ["/empty", "/sub", "/sub/deeper"]);
        assert_eq!(collect_items(root, "/").expect("walk")[0].remote, "/a.txt");
        assert!(collect_items(&root.join("missing"), "/").is_err());
    }
}
