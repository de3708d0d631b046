//! The steps that move file bytes: uploads in batches, downloads built from chunks
//! already on the device, and the three-way merge of text edited on both sides.

use std::collections::HashMap;
#[cfg(unix)]
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use coffer_core::wire::FileMode;
use coffer_core::{ChunkHash, ChunkRef, ChunkerConfig, ContentHash, ErrorCode, RemotePath};

use super::{Engine, MERGE_LIMIT, SyncError, SyncReport, on_disk, stamp_now, tmp_name_of, within};
use crate::download::DownloadSource;
use crate::error::ClientError;
use crate::sync::plan::{Entry, Kind, Op, Tree, Trees, key};
use crate::sync::remote::RemoteNode;
use crate::sync::scan::{MAX_LINK_TARGET, STATE_DIR, Stamp, manifest_of};
use crate::transfer::{self, Expect, FileStatus, UploadItem, UploadOptions};

impl Engine {
    /// Uploads files as few requests as possible: small files many to a batch (one
    /// upload session, one commit), each only if it still has the planned content and
    /// as the revision after the one its edit started from.
    pub(super) async fn upload_all(&self, ops: &[Op], trees: &Trees) -> Result<SyncReport, SyncError> {
        let mut report = SyncReport::default();
        let planned: Vec<(&RemotePath, ContentHash, FileMode, Option<i64>)> = ops
            .iter()
            .filter_map(|op| match op {
                Op::Upload { path, content, mode, parent_rev } => Some((path, *content, *mode, *parent_rev)),
                _ => None,
            })
            .collect();
        if planned.is_empty() {
            return Ok(report);
        }
        // Noted first: a file committed just before a crash is recognized afterwards.
        let noted: Vec<(&RemotePath, ContentHash)> = planned.iter().map(|(p, c, _, _)| (*p, *c)).collect();
        self.state.note_uploads(&noted).await?;
        let items = planned
            .iter()
            .map(|(path, content, mode, parent_rev)| UploadItem {
                node_id: None,
                local: on_disk(&self.root, &trees.local, path),
                remote: path.to_string(),
                expect: Some(Expect { content: Some(*content), parent_rev: *parent_rev, mode: Some(*mode) }),
            })
            .collect();
        let done = transfer::upload(&self.client, items, &UploadOptions::default(), Arc::new(|_| {})).await?;
        for ((path, content, mode, _), file) in planned.iter().zip(done.files) {
            match file.status {
                FileStatus::Created | FileStatus::Modified => {
                    let entry = Entry::file(*content, file.rev).with_id(file.node_id).with_mode(*mode);
                    self.record(trees, path, entry).await?;
                    report.uploaded += 1;
                    report.bytes_up += file.bytes_sent;
                }
                // Changed again, or a newer revision on the server: the next round decides.
                FileStatus::Conflict | FileStatus::Unchanged => {}
                FileStatus::Failed => {
                    report.failed.push((format!("upload {path}"), file.error.unwrap_or_default()));
                }
            }
        }
        Ok(report)
    }

    /// Three-way merge of a text file edited here and on the server since the synced
    /// revision: if all three versions are UTF-8 text under [`MERGE_LIMIT`] and the edits
    /// do not overlap, the merged text replaces the local file (only if it is still what
    /// the scan saw) and is uploaded as the revision after the server's. False when it
    /// could not be merged (the caller keeps both versions).
    pub(super) async fn merge(
        &self,
        path: &RemotePath,
        trees: &Trees,
        stamps: &HashMap<String, Stamp>,
    ) -> Result<bool, SyncError> {
        let k = key(path);
        let (Some((_, base)), Some((_, remote)), Some((_, local))) =
            (trees.synced.get(&k), trees.remote.get(&k), trees.local.get(&k))
        else {
            return Ok(false);
        };
        let (Some(base_rev), Some(remote_rev), Kind::File) = (base.rev, remote.rev, local.kind) else {
            return Ok(false);
        };
        // Text is merged, links never (nor a file that is one now, nor through a link).
        let link = |e: &Entry| e.mode == FileMode::Symlink;
        let target = on_disk(&self.root, &trees.local, path);
        if link(base) || link(remote) || link(local) || !within(&self.root, &target) {
            return Ok(false);
        }
        if std::fs::symlink_metadata(&target).map_or(true, |m| !m.is_file() || m.len() > MERGE_LIMIT) {
            return Ok(false);
        }
        let ours = std::fs::read(&target)?;
        let (Some(theirs), Some(ancestor)) =
            (self.small_revision(remote_rev).await?, self.small_revision(base_rev).await?)
        else {
            return Ok(false);
        };
        let text = |b: &[u8]| std::str::from_utf8(b).ok().filter(|t| !t.contains('\0')).map(str::to_owned);
        let (Some(ancestor), Some(ours_text), Some(theirs)) = (text(&ancestor), text(&ours), text(&theirs)) else {
            return Ok(false);
        };
        let Ok(merged) = diffy::merge(&ancestor, &ours_text, &theirs) else { return Ok(false) };
        // This device's version goes first, as a revision of its own: every version
        // anyone saved stays in the history.
        let Some(content) = local.content else { return Ok(false) };
        let Some((ours_rev, _)) = self.upload_one(&target, path, (content, local.mode), Some(remote_rev)).await? else {
            return Ok(false);
        };
        // Replace the local file only if it is still the version merged.
        let tmp = self.root.join(STATE_DIR).join("tmp").join(format!("merge-{remote_rev}-{}", std::process::id()));
        {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(merged.as_bytes())?;
            f.sync_all()?;
        }
        if stamp_now(&target) != stamps.get(&k).copied() || std::fs::read(&target)? != ours {
            // Edited again meanwhile: the next round starts over from what is there now.
            let _ = std::fs::remove_file(&tmp);
            return Ok(true);
        }
        std::fs::rename(&tmp, &target)?;
        if let Some(parent) = target.parent() {
            std::fs::File::open(parent)?.sync_all()?;
        }
        let (chunks, content) = {
            let target = target.clone();
            tokio::task::spawn_blocking(move || manifest_of(&target))
                .await
                .map_err(|e| std::io::Error::other(e.to_string()))??
        };
        let stamp = stamp_now(&target);
        if let Some(stamp) = stamp {
            self.state.put_file(&k, stamp, content, &chunks).await?;
        }
        // Uploaded as the revision after the server's; if the server moved on again, the
        // next round merges once more.
        if let Some((rev, id)) = self.upload_one(&target, path, (content, local.mode), ours_rev).await? {
            let entry = Entry::file(content, rev).with_id(Some(id)).with_stamp(stamp).with_mode(local.mode);
            self.record(trees, path, entry).await?;
        }
        Ok(true)
    }

    /// The bytes of a revision, if it is at most [`MERGE_LIMIT`] long.
    async fn small_revision(&self, rev: i64) -> Result<Option<Vec<u8>>, SyncError> {
        let manifest = match self.client.manifest(rev).await {
            Ok(m) => m,
            Err(e) if e.code() == Some(ErrorCode::NotFound) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        if manifest.size > MERGE_LIMIT {
            return Ok(None);
        }
        let mut bytes = Vec::with_capacity(manifest.size as usize);
        for c in &manifest.chunks {
            bytes.extend_from_slice(&self.client.chunk(&c.hash).await?);
        }
        Ok(Some(bytes))
    }

    /// Uploads one file through the upload engine if it still has the planned content,
    /// as the revision after `parent_rev`: its new revision and node id, or `None` when it
    /// changed meanwhile or the server has a newer revision (the next round decides).
    async fn upload_one(
        &self,
        local: &Path,
        path: &RemotePath,
        (content, mode): (ContentHash, FileMode),
        parent_rev: Option<i64>,
    ) -> Result<Option<(Option<i64>, i64)>, SyncError> {
        let item = UploadItem {
            node_id: None,
            local: local.to_path_buf(),
            remote: path.to_string(),
            expect: Some(Expect { content: Some(content), parent_rev, mode: Some(mode) }),
        };
        let done = transfer::upload(&self.client, vec![item], &UploadOptions::default(), Arc::new(|_| {})).await?;
        let Some(file) = done.files.into_iter().next() else { return Ok(None) };
        match (file.status, file.node_id) {
            (FileStatus::Created | FileStatus::Modified, Some(id)) => Ok(Some((file.rev, id))),
            (FileStatus::Failed, _) => Err(ClientError::Protocol(file.error.unwrap_or_default()).into()),
            _ => Ok(None),
        }
    }

    /// Downloads a revision next to the folder, then moves it into place if the target
    /// is still what the scan saw. The placed file's id, if it was placed.
    pub(super) async fn download(
        &self,
        path: &RemotePath,
        planned: &Entry,
        node: Option<&RemoteNode>,
        local: &Tree,
        stamps: &HashMap<String, Stamp>,
    ) -> Result<Option<Stamp>, SyncError> {
        let (Some(rev), Some(content)) = (planned.rev, planned.content) else { return Ok(None) };
        let target = on_disk(&self.root, local, path);
        let tmp_dir = self.root.join(STATE_DIR).join("tmp");
        let tmp = tmp_dir.join(tmp_name_of(rev));
        let mtime = node.and_then(|n| n.mtime);
        // A file smaller than one chunk is fetched at once; a bigger one by its chunk
        // list first, to copy the chunks already here.
        let small = node.is_some_and(|n| n.size < ChunkerConfig::default().min_size as u64);
        let manifest = if small {
            None
        } else {
            match self.client.manifest(rev).await {
                Ok(m) if m.content_hash == content => Some(m),
                // Gone or other bytes by now: the next round sees what there is.
                Ok(_) => return Ok(None),
                Err(e) if e.code() == Some(ErrorCode::NotFound) => return Ok(None),
                Err(e) => return Err(e.into()),
            }
        };
        let hashes: Vec<ChunkHash> = manifest.iter().flat_map(|m| m.chunks.iter().map(|c| c.hash)).collect();
        let here = if hashes.is_empty() { HashMap::new() } else { self.state.find_chunks(&hashes).await? };
        let chunks = match manifest {
            Some(m) if !here.is_empty() => {
                self.assemble(&m.chunks, &here, local, &tmp).await?;
                m.chunks
            }
            manifest => {
                let got = self.client.download(DownloadSource::Revision(rev), &tmp, &|_| {}).await?;
                self.bytes_down.fetch_add(got.bytes, std::sync::atomic::Ordering::Relaxed);
                if got.content_hash.is_some_and(|h| h != content) {
                    let _ = std::fs::remove_file(&tmp);
                    return Ok(None);
                }
                match manifest {
                    Some(m) => m.chunks,
                    None => {
                        // A small file: its one chunk, for later downloads to copy.
                        let path = tmp.clone();
                        let (chunks, got) = tokio::task::spawn_blocking(move || manifest_of(&path))
                            .await
                            .map_err(|e| std::io::Error::other(e.to_string()))??;
                        if got != content {
                            let _ = std::fs::remove_file(&tmp);
                            return Ok(None);
                        }
                        chunks
                    }
                }
            }
        };
        let k = key(path);
        let unchanged = match local.get(&k) {
            Some(_) => stamp_now(&target) == stamps.get(&k).copied(),
            None => std::fs::symlink_metadata(&target).is_err(),
        };
        // Never through a folder that became a symbolic link: it could lead outside.
        if !unchanged || !within(&self.root, &target) {
            let _ = std::fs::remove_file(&tmp);
            return Ok(None);
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let tmp = match planned.mode {
            FileMode::Symlink => match make_link(&tmp) {
                Ok(link) => link,
                Err(e) => {
                    let _ = std::fs::remove_file(&tmp);
                    return Err(SyncError::Io(e));
                }
            },
            mode => {
                if let Some(ms) = mtime
                    && let Some(at) =
                        SystemTime::UNIX_EPOCH.checked_add(std::time::Duration::from_millis(ms.max(0) as u64))
                {
                    // Also keeps the next scan honest: a later edit, even a quick one of
                    // the same size, gets another time than this one.
                    std::fs::File::options().write(true).open(&tmp)?.set_modified(at)?;
                }
                crate::download::set_executable(&tmp, mode == FileMode::Executable)?;
                tmp
            }
        };
        // The next scan knows this file as it is written (a rename keeps the stamp): no
        // re-read, no waiting for it to settle. A crash after the rename but before the
        // base is recorded is recovered at the next start from the placement noted here,
        // so a file deleted meanwhile is not taken for new on the server.
        let stamp = stamp_now(&tmp);
        let entry = planned.clone().with_stamp(stamp);
        let tmp_name = tmp.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        self.state.note_placement(path, &entry, &tmp_name).await?;
        std::fs::rename(&tmp, &target)?;
        if let Some(parent) = target.parent() {
            std::fs::File::open(parent)?.sync_all()?;
        }
        if let Some(stamp) = stamp {
            self.state.put_file(&k, stamp, content, &chunks).await?;
        }
        Ok(stamp)
    }

    /// Writes a file from its chunk list into `tmp`: chunks this device already has (in
    /// any file, checked against their hash as they are read) are copied, only the
    /// others are fetched. One chunk in memory at a time.
    async fn assemble(
        &self,
        chunks: &[ChunkRef],
        here: &HashMap<ChunkHash, (String, u64, u32)>,
        local: &Tree,
        tmp: &Path,
    ) -> Result<(), SyncError> {
        use std::io::{Read, Seek, Write};
        let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(tmp)?);
        for c in chunks {
            let found = here.get(&c.hash).and_then(|(k, offset, size)| {
                let (path, _) = local.get(k)?;
                // Never through a link: only bytes inside the folder are copied.
                let mut f = crate::transfer::open_nofollow(&on_disk(&self.root, local, path)).ok()?;
                f.seek(std::io::SeekFrom::Start(*offset)).ok()?;
                let mut data = vec![0; *size as usize];
                f.read_exact(&mut data).ok()?;
                (ChunkHash::of(&data) == c.hash).then_some(data)
            });
            match found {
                Some(data) => {
                    self.bytes_reused.fetch_add(data.len() as u64, std::sync::atomic::Ordering::Relaxed);
                    out.write_all(&data)?;
                }
                None => {
                    let data = self.client.chunk(&c.hash).await?;
                    self.bytes_down.fetch_add(data.len() as u64, std::sync::atomic::Ordering::Relaxed);
                    out.write_all(&data)?;
                }
            }
        }
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        Ok(())
    }
}

/// Turns a downloaded link target (the file `tmp`) into a symbolic link beside it, and
/// returns the link's path. The target is written as it is, never followed or checked
/// for where it leads: a link is only data until some program follows it.
fn make_link(tmp: &Path) -> std::io::Result<std::path::PathBuf> {
    if std::fs::metadata(tmp)?.len() > MAX_LINK_TARGET {
        return Err(std::io::Error::other("a symbolic link target longer than 4096 bytes"));
    }
    let target = std::fs::read(tmp)?;
    if target.is_empty() || target.contains(&0) {
        return Err(std::io::Error::other("a symbolic link with an empty target or a NUL byte"));
    }
    let link = tmp.with_extension("link");
    let _ = std::fs::remove_file(&link);
    #[cfg(unix)]
    std::os::unix::fs::symlink(std::ffi::OsStr::from_bytes(&target), &link)?;
    #[cfg(not(unix))]
    return Err(std::io::Error::other("symbolic links are not supported here"));
    std::fs::remove_file(tmp)?;
    Ok(link)
}
