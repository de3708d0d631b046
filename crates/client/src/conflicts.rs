//! Conflicted copies across the account, and their resolution.
//!
//! When two devices change a file before they sync and the changes cannot be merged,
//! the sync keeps both: the server's version at the file's path, the device's beside it
//! as "report (laptop's conflicted copy 2026-11-25).txt". This finds every such copy in
//! the account (from the journal: one request per 2,000 items, not one per folder) and
//! resolves them as ordinary changes that every device then syncs: keep the copy's
//! content as a new version of the file ("mine"), keep the file and drop the copy
//! ("theirs", the copy goes to the trash), or keep both under plain names ("both").

use coffer_core::wire::{CommitFileRequest, CommitRequest, FileMode};
use coffer_core::{Name, RemotePath};
use serde::Serialize;

use crate::api::Client;
use crate::error::ClientError;
use crate::sync::plan::Kind;
use crate::sync::{RemoteNode, RemoteTree};

const MARK: &str = "'s conflicted copy ";

/// A conflicted copy: where it is, the file it is a copy of, and which device made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conflict {
    pub path: String,
    /// The file it conflicts with (at the same place, without the mark).
    pub original: String,
    /// Whether that file still exists.
    pub original_exists: bool,
    pub device: String,
    pub date: String,
    pub size: u64,
    #[serde(skip)]
    rev: Option<i64>,
    #[serde(skip)]
    original_rev: Option<i64>,
    #[serde(skip)]
    mode: FileMode,
}

/// Which version a resolution keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// The conflicted copy's content becomes the file's new version; the copy goes.
    Mine,
    /// The file stays as it is; the copy goes to the trash.
    Theirs,
    /// Both stay: the copy takes a plain name, "report (laptop).txt".
    Both,
}

/// The parts of a conflicted copy's name: the original name, the device, the date.
pub fn parse_copy_name(name: &str) -> Option<(String, String, String)> {
    let mark = name.find(MARK)?;
    let open = name[..mark].rfind(" (")?;
    let rest = &name[mark + MARK.len()..];
    let close = rest.find(')')?;
    let date = rest[..close].split(' ').next()?.to_string();
    let valid_date = date.len() == 10
        && date.bytes().enumerate().all(|(i, b)| b.is_ascii_digit() || (b == b'-' && (i == 4 || i == 7)));
    if !valid_date {
        return None;
    }
    let device = name[open + 2..mark].to_string();
    let original = format!("{}{}", &name[..open], &rest[close + 1..]);
    if original.is_empty() || device.is_empty() {
        return None;
    }
    Some((original, device, date))
}

/// Every conflicted copy in the account (shared folders included), by path.
pub async fn list(client: &Client) -> Result<Vec<Conflict>, ClientError> {
    let mut tree = RemoteTree::default();
    let root = client.stat("/").await?;
    tree.insert_node(RemoteNode::root(root.id));
    let mut cursor: Option<String> = None;
    loop {
        let d = client.delta(cursor.as_deref(), Some(2000)).await?;
        for c in &d.changes {
            tree.apply(c);
        }
        cursor = Some(d.cursor);
        if !d.has_more {
            break;
        }
    }
    let files = tree.to_tree();
    let mut out = Vec::new();
    for (path, entry) in files.values() {
        if entry.kind != Kind::File {
            continue;
        }
        let Some(name) = path.file_name() else { continue };
        let Some((original, device, date)) = parse_copy_name(name.as_str()) else { continue };
        let Ok(original_name) = Name::new(&original) else { continue };
        let original_path = path.parent().unwrap_or_default().join(original_name);
        let found = files.get(&crate::sync::plan::key(&original_path)).filter(|(_, e)| e.kind == Kind::File);
        out.push(Conflict {
            path: path.to_string(),
            original: original_path.to_string(),
            original_exists: found.is_some(),
            device,
            date,
            size: entry.id.and_then(|id| tree.node(id)).map_or(0, |n| n.size),
            rev: entry.rev,
            original_rev: found.and_then(|(_, e)| e.rev),
            mode: entry.mode,
        });
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// Resolves one conflicted copy. Returns where the kept content is now.
pub async fn resolve(client: &Client, c: &Conflict, keep: Keep) -> Result<String, ClientError> {
    let path = RemotePath::parse(&c.path).map_err(|e| ClientError::Protocol(e.to_string()))?;
    match keep {
        Keep::Theirs => {
            client.delete_if(&c.path, c.rev).await?;
            Ok(c.original.clone())
        }
        Keep::Mine if !c.original_exists => {
            client.move_node(&c.path, &c.original).await?;
            Ok(c.original.clone())
        }
        Keep::Mine => {
            // The copy's chunks are already on the server: the new version is a commit
            // of its chunk list, no bytes sent.
            let rev = c.rev.ok_or_else(|| ClientError::Protocol(format!("{} has no version", c.path)))?;
            let manifest = client.manifest(rev).await?;
            let chunks = manifest.chunks;
            let req = CommitRequest {
                upload_id: None,
                files: vec![CommitFileRequest {
                    path: c.original.clone(),
                    parent_rev: c.original_rev,
                    mtime: None,
                    mode: c.mode,
                    chunks,
                    node_id: None,
                }],
                close_upload: false,
            };
            let resp = client.commit(&req).await?;
            if let Some(e) = resp.results.into_iter().find_map(|r| r.error) {
                return Err(ClientError::Api { status: 409, detail: e });
            }
            client.delete_if(&c.path, c.rev).await?;
            Ok(c.original.clone())
        }
        Keep::Both => {
            let (Some(parent), Ok(original)) = (path.parent(), Name::new(&c.original_name())) else {
                return Err(ClientError::Protocol(format!("{} cannot be renamed", c.path)));
            };
            let mut n = 1;
            loop {
                let suffix = if n == 1 { c.device.clone() } else { format!("{} {n}", c.device) };
                let target = parent.join(original.with_suffix(&suffix)).to_string();
                match client.move_node(&c.path, &target).await {
                    Ok(_) => return Ok(target),
                    Err(e) if e.code() == Some(coffer_core::ErrorCode::AlreadyExists) && n < 100 => n += 1,
                    Err(e) => return Err(e),
                }
            }
        }
    }
}

impl Conflict {
    fn original_name(&self) -> String {
        self.original.rsplit('/').next().unwrap_or_default().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_names_are_read_back() {
        assert_eq!(
            parse_copy_name("report (laptop's conflicted copy 2026-11-25).txt"),
            Some(("report.txt".into(), "laptop".into(), "2026-11-25".into()))
        );
        assert_eq!(
            parse_copy_name("notes (my phone's conflicted copy 2026-01-02 3)"),
            Some(("notes".into(), "my phone".into(), "2026-01-02".into()))
        );
        assert_eq!(
            parse_copy_name("a (b) (pc's conflicted copy 2026-11-25).tar.gz"),
            Some(("a (b).tar.gz".into(), "pc".into(), "2026-11-25".into()))
        );
        for not in ["report.txt", "x (laptop's conflicted copy soon).txt", "(pc's conflicted copy 2026-11-25)"] {
            assert_eq!(parse_copy_name(not), None, "{not}");
        }
    }
}
