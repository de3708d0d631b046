//! Uploads: declare chunks, send the missing ones, commit files.
//!
//! Dedup privacy: `begin_upload` reports a chunk as present only if the caller already
//! holds a file containing it (or sent it in this upload); otherwise the bytes are asked
//! for, even when another user's identical chunk is stored, so nobody learns what others
//! store. Storage is still deduplicated: a chunk already stored is not written twice.
//!
//! Batching: one upload session can carry the chunks of many files, chunks can be sent
//! many per request, and one commit can create many files in one transaction, so
//! thousands of small files cost a handful of requests, transactions and fsyncs.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use bytes::Bytes;
use coffer_core::chunking::MAX_CHUNK_SIZE;
use coffer_core::wire::{ChangeKind, FileMode, NodeInfo, UploadResponse};
use coffer_core::{
    ChunkHash, ChunkRef, ErrorCode, Manifest, NamespaceId, NodeId, Permission, RemotePath, RevisionId, UploadId, UserId,
};
use coffer_metastore::{FileHead, NewFile, NodeRecord, Tx};
use rand::RngCore;

use crate::access::{Caller, Located};
use crate::tree::{change_name, distinct_hashes, node_info, parse_path};
use crate::{Result, Service, ServiceError, now_ms};

/// One file of a commit.
#[derive(Debug, Clone)]
pub struct CommitFile {
    pub path: String,
    /// Update this existing file by id (a file shared with the caller); `path` then
    /// only names it in messages.
    pub node_id: Option<NodeId>,
    pub parent_rev: Option<RevisionId>,
    pub mtime: Option<i64>,
    /// Executable, or a symbolic link whose target is the file's bytes.
    pub mode: FileMode,
    pub chunks: Vec<ChunkRef>,
}

/// Per-file result of a commit: the committed node or why this file was refused.
pub type CommitOutcome = Result<NodeInfo>;

fn new_upload_id() -> UploadId {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    UploadId(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn valid_upload_id(id: &UploadId) -> bool {
    id.0.len() == 32 && id.0.bytes().all(|b| b.is_ascii_hexdigit())
}

fn check_chunk_refs(chunks: &[ChunkRef], max: usize) -> Result<()> {
    if chunks.len() > max {
        return Err(ServiceError::new(ErrorCode::TooLarge, format!("at most {max} chunks per request")));
    }
    if let Some(bad) = chunks.iter().find(|c| c.size as usize > MAX_CHUNK_SIZE) {
        return Err(ServiceError::new(
            ErrorCode::TooLarge,
            format!("chunk {} is larger than {MAX_CHUNK_SIZE} bytes", bad.hash),
        ));
    }
    if chunks.iter().any(|c| c.size == 0) {
        return Err(ServiceError::new(ErrorCode::BadRequest, "a chunk cannot be empty"));
    }
    Ok(())
}

/// Every chunk of a file but the last must be at least this long: a manifest then holds
/// at most one entry per 64 KiB of content, whoever made it. (Coffer's clients cut at
/// 256 KiB at the least.)
pub const MIN_INNER_CHUNK: u32 = 64 * 1024;

fn check_manifest_shape(path: &str, chunks: &[ChunkRef]) -> Result<()> {
    let inner = chunks.len().saturating_sub(1);
    if let Some(short) = chunks[..inner].iter().find(|c| c.size < MIN_INNER_CHUNK) {
        return Err(ServiceError::new(
            ErrorCode::BadRequest,
            format!(
                "chunk {} of '{path}' is {} bytes; every chunk but the last must be at least {MIN_INNER_CHUNK}",
                short.hash, short.size
            ),
        ));
    }
    Ok(())
}

impl Service {
    /// Opens an upload session for the given chunks and says which to send.
    pub async fn begin_upload(&self, caller: &Caller, chunks: &[ChunkRef]) -> Result<UploadResponse> {
        caller.may_change()?;
        check_chunk_refs(chunks, self.config().max_chunks_per_file)?;
        let wanted: Vec<Vec<u8>> = {
            let set: HashSet<[u8; 32]> = chunks.iter().map(|c| c.hash.0).collect();
            set.into_iter().map(|h| h.to_vec()).collect()
        };
        let id = new_upload_id();
        let now = now_ms();
        let expires_at = now + self.config().upload_ttl.as_millis() as i64;
        // What the caller may be told is held is only advice (the commit checks again),
        // so it is read outside the write transaction, which stays short.
        let mut known = {
            let mut tx = self.meta().read().await?;
            let mut known = tx.chunks_known_to_user(caller.user_id(), &wanted).await?;
            let rest: Vec<Vec<u8>> = wanted.iter().filter(|h| !known.contains(*h)).cloned().collect();
            known.extend(tx.chunks_in_user_uploads(caller.user_id(), now, &rest).await?);
            known
        };
        let mut tx = self.meta().write().await?;
        let (open, _) = tx.open_uploads(caller.user_id(), now).await?;
        if open >= self.config().max_open_uploads {
            let mut e = ServiceError::new(
                ErrorCode::RateLimited,
                format!("{open} upload sessions are open; commit or abort one, or wait for one to expire"),
            );
            e.retry_after = Some(std::time::Duration::from_secs(60));
            return Err(e);
        }
        tx.create_upload(&id, caller.user_id(), now, expires_at).await?;
        tx.commit().await?;
        // A chunk the store lost or quarantined as damaged is asked for again, so the
        // caller's intact copy heals the store.
        let mut lost = Vec::new();
        for h in &known {
            if let Some(hash) = ChunkHash::from_slice(h)
                && !self.blobs().contains(&hash).await?
            {
                lost.push(h.clone());
            }
        }
        for h in lost {
            known.remove(&h);
        }
        let mut seen = HashSet::new();
        let missing = chunks
            .iter()
            .filter(|c| !known.contains(c.hash.as_bytes().as_slice()) && seen.insert(c.hash))
            .map(|c| c.hash)
            .collect();
        Ok(UploadResponse { upload_id: id.0, missing, expires_at })
    }

    /// An upload session belongs to the user who opened it; anyone else's is "not found".
    async fn own_upload(&self, tx: &mut Tx, caller: &Caller, upload_id: &UploadId) -> Result<()> {
        let gone = || ServiceError::new(ErrorCode::UploadNotFound, "no such upload session, or it expired");
        if !valid_upload_id(upload_id) {
            return Err(gone());
        }
        match tx.upload(upload_id).await? {
            Some((user, expires)) if user == caller.user_id() && expires > now_ms() => Ok(()),
            _ => Err(gone()),
        }
    }

    /// Stores chunks sent for an upload. Each chunk's bytes are hashed here and must
    /// match the hash they were sent as. Durable before this returns.
    ///
    /// Race with the collector: the chunks are tied to the upload before their bytes are
    /// written (so the collector leaves them alone), and recorded as stored only after,
    /// re-checking that none was marked for collection in between.
    pub async fn put_chunks(
        &self,
        caller: &Caller,
        upload_id: &UploadId,
        chunks: Vec<(ChunkHash, Bytes)>,
    ) -> Result<()> {
        caller.may_change()?;
        for (hash, data) in &chunks {
            if data.len() > MAX_CHUNK_SIZE {
                return Err(ServiceError::new(
                    ErrorCode::TooLarge,
                    format!("chunk {hash} is larger than {MAX_CHUNK_SIZE} bytes"),
                ));
            }
            if data.is_empty() {
                return Err(ServiceError::new(ErrorCode::BadRequest, "a chunk cannot be empty"));
            }
        }
        let verify = chunks.clone();
        let mismatch =
            tokio::task::spawn_blocking(move || verify.iter().find(|(h, d)| ChunkHash::of(d) != *h).map(|(h, _)| *h))
                .await
                .map_err(|_| ServiceError::new(ErrorCode::Internal, "hashing failed"))?;
        if let Some(h) = mismatch {
            return Err(ServiceError::new(
                ErrorCode::ChunkHashMismatch,
                format!("the bytes sent as chunk {h} hash differently"),
            ));
        }
        let keys: Vec<Vec<u8>> = chunks.iter().map(|(h, _)| h.as_bytes().to_vec()).collect();
        let busy = |h: &Vec<u8>| {
            let h = ChunkHash::from_slice(h).map(|h| h.to_string()).unwrap_or_default();
            ServiceError::new(ErrorCode::Busy, format!("chunk {h} is being collected; retry shortly"))
        };
        {
            let mut tx = self.meta().write().await?;
            self.own_upload(&mut tx, caller, upload_id).await?;
            if let Some(h) = tx.chunks_being_deleted(&keys).await?.iter().next() {
                return Err(busy(h));
            }
            // Bytes held by an upload session count towards its user's quota until the
            // session is committed, aborted or expires.
            let already = tx.chunks_in_upload(upload_id, &keys).await?;
            let mut counted = HashSet::new();
            let new_bytes: i64 = chunks
                .iter()
                .filter(|(h, _)| !already.contains(h.as_bytes().as_slice()) && counted.insert(*h))
                .map(|(_, d)| d.len() as i64)
                .sum();
            self.ensure_room(&mut tx, caller.user_id(), caller.home(), new_bytes, now_ms()).await?;
            tx.link_upload_chunks(upload_id, &keys).await?;
            tx.add_upload_bytes(upload_id, new_bytes).await?;
            tx.commit().await?;
        }
        let sizes: Vec<(ChunkHash, i64)> = chunks.iter().map(|(h, d)| (*h, d.len() as i64)).collect();
        let outcomes = self.blobs().put_many(chunks).await?;
        let now = now_ms();
        let rows: Vec<(Vec<u8>, i64, i64)> = sizes
            .iter()
            .zip(outcomes)
            .map(|((hash, size), outcome)| {
                let stored = match outcome {
                    coffer_blobstore::PutOutcome::Written { stored } => stored as i64,
                    coffer_blobstore::PutOutcome::AlreadyPresent => *size,
                };
                (hash.as_bytes().to_vec(), *size, stored)
            })
            .collect();
        let mut tx = self.meta().write().await?;
        if let Some(h) = tx.chunks_being_deleted(&keys).await?.iter().next() {
            // Marked while we wrote: the collector may delete the bytes; send them again.
            return Err(busy(h));
        }
        // The session's life is fixed at its start: sending more does not renew it.
        tx.record_uploaded_chunks(&rows, now).await?;
        tx.commit().await?;
        metrics::counter!("coffer_chunks_received_total").increment(sizes.len() as u64);
        Ok(())
    }

    /// Ends an upload session early (its chunks stay if a commit references them).
    pub async fn abort_upload(&self, caller: &Caller, upload_id: &UploadId) -> Result<()> {
        let mut tx = self.meta().write().await?;
        self.own_upload(&mut tx, caller, upload_id).await?;
        tx.delete_upload(upload_id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Commits files in one transaction. Each file is checked on its own (a stale
    /// `parent_rev` or a missing chunk refuses that file only); the files that pass
    /// become visible together.
    pub async fn commit(
        &self,
        caller: &Caller,
        upload_id: Option<&UploadId>,
        files: Vec<CommitFile>,
        close_upload: bool,
    ) -> Result<Vec<CommitOutcome>> {
        if files.is_empty() || files.len() > self.config().max_commit_files {
            return Err(ServiceError::new(
                ErrorCode::BadRequest,
                format!("a commit has 1 to {} files", self.config().max_commit_files),
            ));
        }
        for f in &files {
            check_chunk_refs(&f.chunks, self.config().max_chunks_per_file)?;
            check_manifest_shape(&f.path, &f.chunks)?;
        }
        let now = now_ms();
        let mut tx = self.meta().write().await?;
        // Every structural change of a namespace takes its lock first, the caller's home
        // before any other: one lock order for all writers. A commit only of files
        // reached by id (shared with the caller) changes no folder of the caller's, and
        // takes only the lock of the files' namespace: two users updating files they
        // share with each other never wait on each other's homes in opposite orders.
        let by_id_only = files.iter().all(|f| f.node_id.is_some());
        if !by_id_only {
            tx.lock_namespace(caller.home()).await?;
        }
        if let Some(id) = upload_id {
            self.own_upload(&mut tx, caller, id).await?;
        }
        let mut batch = self.prepare_batch(&mut tx, caller, &files, now).await?;
        if by_id_only {
            batch.locked.clear();
        }
        let mut steps = Vec::with_capacity(files.len());
        for file in files {
            // The outer error aborts the whole transaction (a database failure); the inner
            // one refuses this file only, before anything was written for it.
            steps.push(self.commit_one(&mut tx, caller, &mut batch, file, now).await?);
        }
        // New files are created together, a few multi-row statements per namespace.
        let mut created = BTreeMap::new();
        for (namespace, files) in std::mem::take(&mut batch.new_files) {
            let nodes = tx.insert_files(namespace, &files, caller.device_id(), now).await?;
            tx.add_node_count(namespace, nodes.len() as i64).await?;
            tx.append_journal_many(namespace, change_name(ChangeKind::Created), &nodes, now).await?;
            batch.touched.insert(namespace);
            created.insert(namespace, nodes);
        }
        let outcomes = steps
            .into_iter()
            .map(|step| match step {
                Step::Done(outcome) => outcome,
                Step::Created { namespace, index, path } => created
                    .get(&namespace)
                    .and_then(|nodes| nodes.get(index))
                    .map(|n| node_info(n, Some(path)))
                    .ok_or_else(|| ServiceError::new(ErrorCode::Internal, "a created file went missing")),
            })
            .collect();
        let committed_bytes = batch.used_delta();
        let touched = batch.touched.clone();
        let changed = batch.finish(&mut tx, caller, now).await?;
        for namespace in &touched {
            self.check_node_limit(&mut tx, *namespace).await?;
        }
        match (upload_id, close_upload) {
            // Committed chunks are held by their references now; the rest are released.
            (Some(id), true) => tx.delete_upload(id).await?,
            // What was committed counts as files now, not as upload bytes.
            (Some(id), false) => tx.add_upload_bytes_floor(id, -committed_bytes).await?,
            (None, _) => {}
        }
        tx.commit().await?;
        if changed {
            self.notify(&touched.into_iter().collect::<Vec<_>>());
        }
        Ok(outcomes)
    }

    /// Looks up, once for the whole commit, everything the files' checks need about
    /// their chunks and the caller's quota.
    async fn prepare_batch(&self, tx: &mut Tx, caller: &Caller, files: &[CommitFile], now: i64) -> Result<Batch> {
        let all: Vec<Vec<u8>> = {
            let set: HashSet<[u8; 32]> = files.iter().flat_map(|f| f.chunks.iter().map(|c| c.hash.0)).collect();
            set.into_iter().map(|h| h.to_vec()).collect()
        };
        let sizes = tx.chunk_sizes(&all).await?;
        let mut allowed = tx.chunks_known_to_user(caller.user_id(), &all).await?;
        let rest: Vec<Vec<u8>> = all.iter().filter(|h| !allowed.contains(*h)).cloned().collect();
        if !rest.is_empty() {
            // Chunks the caller sent in this or another of their live upload sessions.
            allowed.extend(tx.chunks_in_user_uploads(caller.user_id(), now, &rest).await?);
        }
        Ok(Batch {
            sizes,
            allowed,
            owners: HashMap::new(),
            quotas: HashMap::new(),
            locked: BTreeSet::from([caller.home()]),
            touched: BTreeSet::new(),
            folders: HashMap::new(),
            refs: HashMap::new(),
            granted: BTreeMap::new(),
            committed: 0,
            new_files: BTreeMap::new(),
            planned: HashSet::new(),
        })
    }

    /// Commits one file inside the batch's transaction. `Ok(Err(_))` refuses this file
    /// only, and is returned before anything was written for it; `Err(_)` is a failure
    /// that must abort the whole transaction.
    async fn commit_one(
        &self,
        tx: &mut Tx,
        caller: &Caller,
        batch: &mut Batch,
        file: CommitFile,
        now: i64,
    ) -> Result<Step> {
        macro_rules! refuse {
            ($e:expr) => {
                return Ok(Step::Done(Err($e)))
            };
        }
        let path = match parse_path(&file.path) {
            Ok(p) => p,
            Err(e) => refuse!(e),
        };
        let Some(name) = path.file_name().cloned() else {
            refuse!(ServiceError::new(ErrorCode::RootImmutable, "the root is a folder"));
        };
        let manifest = Manifest::new(file.chunks);
        let hashes = distinct_hashes(&manifest);
        // The chunks must be stored, and be the caller's to use.
        let missing: Vec<ChunkHash> = hashes
            .iter()
            .filter(|h| !batch.allowed.contains(*h) || !batch.sizes.contains_key(*h))
            .filter_map(|h| ChunkHash::from_slice(h))
            .collect();
        if !missing.is_empty() {
            let mut e = ServiceError::new(
                ErrorCode::MissingChunks,
                format!("{} chunks of '{path}' were not uploaded", missing.len()),
            );
            e.missing = Some(missing);
            refuse!(e);
        }
        if let Some(c) =
            manifest.chunks.iter().find(|c| batch.sizes.get(c.hash.as_bytes().as_slice()) != Some(&i64::from(c.size)))
        {
            refuse!(ServiceError::new(ErrorCode::BadRequest, format!("chunk {} is not {} bytes long", c.hash, c.size)));
        }
        let size = manifest.size() as i64;
        let content_hash = manifest.content_hash();
        let parent_path = path.parent().unwrap_or_default();
        let key = path_key(&path);
        let (parent, existing) = match file.node_id {
            // A file updated by id (one shared with the caller): no path to walk.
            Some(id) => {
                let node = match self.access_file(tx, caller, id, Permission::Write).await {
                    Ok(n) if n.is_folder => {
                        refuse!(ServiceError::new(ErrorCode::NotAFile, format!("item {id} is a folder")))
                    }
                    Ok(n) => n,
                    // A file not (or no longer) shared with the caller: this file only.
                    Err(e) if refusable(e.code) || e.code == ErrorCode::NotFound => refuse!(e),
                    Err(e) => return Err(e),
                };
                (None, Some(node))
            }
            None => {
                // Files of this commit not created yet: a path may appear once, and never below
                // another file.
                if batch.planned.contains(&key) {
                    refuse!(ServiceError::new(
                        ErrorCode::Conflict,
                        format!("'{path}' appears more than once in this commit")
                    ));
                }
                let mut ancestor = Some(parent_path.clone());
                while let Some(a) = ancestor {
                    if batch.planned.contains(&path_key(&a)) {
                        refuse!(ServiceError::new(ErrorCode::NotAFolder, format!("'{a}' is a file")));
                    }
                    ancestor = a.parent();
                }
                // Every check comes before the first write, so a refused file leaves nothing behind.
                // The access checkpoint: the file goes where its parent path leads, if the
                // caller may write there.
                let parent = match batch.folders.get(&parent_path) {
                    Some(p) => p.clone(),
                    None => {
                        let p = match self.locate(tx, caller, &parent_path, Permission::Write).await {
                            Ok(Located { node, missing, .. }) if missing.is_empty() && node.is_folder => Some(node),
                            Ok(Located { node, missing, .. }) if missing.is_empty() || !node.is_folder => {
                                refuse!(ServiceError::new(ErrorCode::NotAFolder, format!("'{parent_path}' is a file")))
                            }
                            Ok(_) => None,
                            Err(e) if refusable(e.code) => refuse!(e),
                            Err(e) => return Err(e),
                        };
                        batch.folders.insert(parent_path.clone(), p.clone());
                        p
                    }
                };
                let existing = match &parent {
                    Some(p) => tx.child(p.namespace_id, p.id, &name.collision_key()).await?,
                    None => None,
                };
                (parent, existing)
            }
        };
        // Lock the file's row, then look again: a concurrent commit of the same base
        // either finished (and we see its revision) or waits for us.
        let existing = match existing {
            Some(n) => tx.lock_node(n.id).await?,
            None => None,
        };
        // What the caller is told the file's path is: none for a file reached by id.
        let shown = if file.node_id.is_some() { None } else { Some(path.to_string()) };
        if file.node_id.is_some() && existing.is_none() {
            refuse!(ServiceError::not_found("item"));
        }
        if let Some(n) = &existing {
            if n.is_folder {
                refuse!(ServiceError::new(ErrorCode::AlreadyExists, format!("'{path}' is a folder")));
            }
            if n.current_rev != file.parent_rev {
                refuse!(ServiceError::conflict(node_info(n, shown.clone())));
            }
            if n.content_hash.as_deref() == Some(content_hash.as_bytes().as_slice()) && n.mode == file.mode {
                // The same file again (a re-run): nothing to record.
                return Ok(Step::Done(Ok(node_info(n, shown.clone()))));
            }
        }
        // Every revision is kept, so each one counts in full, against the quota of the
        // namespace's owner; past it, the oldest old versions make room first.
        let growth = size;
        let namespace = match (&existing, &parent) {
            (Some(n), _) => n.namespace_id,
            (None, Some(p)) => p.namespace_id,
            // Folders still to be made go where the walk ended (`ensure_folders` below).
            (None, None) => self.locate(tx, caller, &parent_path, Permission::Write).await?.node.namespace_id,
        };
        batch.lock(tx, namespace).await?;
        let owner = batch.owner_of(tx, namespace).await?;
        let quota = batch.quota_of(tx, owner).await?;
        if let Some(limit) = quota.limit
            && growth > 0
            && quota.used + quota.delta + growth > limit
        {
            let over = quota.used + quota.delta + growth - limit;
            let freed = self.thin_versions(tx, owner, namespace, over, now).await?;
            let quota = batch.quota_of(tx, owner).await?;
            quota.used -= freed;
            if quota.used + quota.delta + growth > limit {
                refuse!(ServiceError::new(
                    ErrorCode::QuotaExceeded,
                    format!("this needs {growth} more bytes; {} of {limit} are used", quota.used + quota.delta),
                ));
            }
        }
        let node = match existing {
            Some(n) => n,
            None => {
                let parent = match parent {
                    Some(p) => p,
                    None => {
                        let p = match self.ensure_folders(tx, caller, &parent_path, now).await {
                            Ok(p) => p,
                            Err(e) if e.code == ErrorCode::NotAFolder => refuse!(e),
                            Err(e) => return Err(e),
                        };
                        // Folders were created: forget every "does not exist" answer.
                        batch.folders.retain(|_, known| known.is_some());
                        batch.folders.insert(parent_path.clone(), Some(p.clone()));
                        p
                    }
                };
                batch.planned.insert(key);
                batch.folders.remove(&path);
                batch.account(owner, parent.namespace_id, hashes, size);
                let files = batch.new_files.entry(parent.namespace_id).or_default();
                files.push(NewFile {
                    parent_id: parent.id,
                    name: name.as_str().to_owned(),
                    name_key: name.collision_key(),
                    size,
                    content_hash: content_hash.as_bytes().to_vec(),
                    manifest: manifest.encode(),
                    mtime: file.mtime,
                    mode: file.mode,
                });
                let index = files.len() - 1;
                return Ok(Step::Created { namespace: parent.namespace_id, index, path: path.to_string() });
            }
        };
        let head = FileHead { size, content_hash: content_hash.as_bytes(), mtime: file.mtime, mode: file.mode };
        let rev = tx.insert_revision(node.id, &head, &manifest.encode(), caller.device_id(), now).await?;
        if !tx.set_current_revision(node.id, node.current_rev, rev, &head, now).await? {
            return Err(ServiceError::new(ErrorCode::Internal, "the file changed while its row was locked"));
        }
        let updated = NodeRecord {
            current_rev: Some(rev),
            size,
            content_hash: Some(content_hash.as_bytes().to_vec()),
            mtime: file.mtime,
            mode: file.mode,
            modified_at: now,
            ..node.clone()
        };
        tx.append_journal(change_name(ChangeKind::Modified), &updated, now).await?;
        batch.touched.insert(updated.namespace_id);
        batch.account(owner, updated.namespace_id, hashes, size);
        Ok(Step::Done(Ok(node_info(&updated, shown))))
    }
}

/// What became of one file of a commit while the commit runs.
enum Step {
    /// Finished: committed as a new revision, or refused.
    Done(CommitOutcome),
    /// A new file, created with the others of its namespace at the end of the commit.
    Created { namespace: NamespaceId, index: usize, path: String },
}

/// The case-insensitive key of a path, as the unique index sees it.
fn path_key(path: &RemotePath) -> String {
    path.names().iter().map(|n| format!("/{}", n.collision_key())).collect()
}

/// Whether a path's problem refuses one file of a commit (rather than the commit).
fn refusable(code: ErrorCode) -> bool {
    matches!(code, ErrorCode::NotAFolder | ErrorCode::InvalidName | ErrorCode::ReadOnly | ErrorCode::Forbidden)
}

/// One quota owner's figures during a commit.
#[derive(Debug, Clone, Copy)]
struct Quota {
    limit: Option<i64>,
    used: i64,
    /// Bytes this commit adds.
    delta: i64,
}

/// What one commit request learned and owes, shared by its files: chunk facts looked up
/// once, resolved folders, namespace owners and their quotas, and the reference counts,
/// chunk grants and quota usage that are written once at the end.
struct Batch {
    sizes: HashMap<Vec<u8>, i64>,
    allowed: HashSet<Vec<u8>>,
    /// Each namespace's owner, whose quota its files count against.
    owners: HashMap<NamespaceId, UserId>,
    quotas: HashMap<UserId, Quota>,
    /// Namespaces whose write lock this transaction holds.
    locked: BTreeSet<NamespaceId>,
    /// Namespaces this commit changed.
    touched: BTreeSet<NamespaceId>,
    folders: HashMap<RemotePath, Option<NodeRecord>>,
    refs: HashMap<Vec<u8>, i64>,
    /// Chunks of committed files, by the namespace they went into.
    granted: BTreeMap<NamespaceId, HashSet<Vec<u8>>>,
    committed: u64,
    /// New files by namespace, created together at the end.
    new_files: BTreeMap<NamespaceId, Vec<NewFile>>,
    /// Path keys of those new files.
    planned: HashSet<String>,
}

impl Batch {
    /// Takes a namespace's write lock once per commit.
    async fn lock(&mut self, tx: &mut Tx, namespace: NamespaceId) -> Result<()> {
        if self.locked.insert(namespace) {
            tx.lock_namespace(namespace).await?;
        }
        Ok(())
    }

    async fn owner_of(&mut self, tx: &mut Tx, namespace: NamespaceId) -> Result<UserId> {
        if let Some(owner) = self.owners.get(&namespace) {
            return Ok(*owner);
        }
        let owner = tx
            .namespace_owner(namespace)
            .await?
            .ok_or_else(|| ServiceError::new(ErrorCode::Internal, format!("namespace {namespace} has no owner")))?;
        self.owners.insert(namespace, owner);
        Ok(owner)
    }

    async fn quota_of(&mut self, tx: &mut Tx, owner: UserId) -> Result<&mut Quota> {
        Ok(match self.quotas.entry(owner) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let user = tx.user_by_id(owner).await?.ok_or_else(|| ServiceError::not_found("user"))?;
                e.insert(Quota { limit: user.quota_bytes, used: user.used_bytes, delta: 0 })
            }
        })
    }

    /// Bytes this commit adds, over all owners.
    fn used_delta(&self) -> i64 {
        self.quotas.values().map(|q| q.delta).sum()
    }

    /// Counts a committed file's chunk references, grants and quota growth.
    fn account(&mut self, owner: UserId, namespace: NamespaceId, hashes: Vec<Vec<u8>>, growth: i64) {
        let granted = self.granted.entry(namespace).or_default();
        for h in hashes {
            *self.refs.entry(h.clone()).or_default() += 1;
            granted.insert(h);
        }
        if let Some(q) = self.quotas.get_mut(&owner) {
            q.delta += growth;
        }
        self.committed += 1;
    }

    /// Writes the accumulated bookkeeping; true if any file was committed.
    async fn finish(self, tx: &mut Tx, caller: &Caller, now: i64) -> Result<bool> {
        let mut by_count: HashMap<i64, Vec<Vec<u8>>> = HashMap::new();
        for (h, n) in self.refs {
            by_count.entry(n).or_default().push(h);
        }
        for (n, hashes) in by_count {
            if tx.add_chunk_refs(&hashes, n, now).await? != hashes.len() as u64 {
                // A chunk was marked for collection after the checks: commit nothing.
                return Err(ServiceError::new(ErrorCode::Busy, "a chunk is being collected; retry the commit"));
            }
        }
        // The writer now holds a file with these chunks (dedup privacy is per user), and
        // so does every member of a shared folder they went into.
        let all: HashSet<Vec<u8>> = self.granted.values().flatten().cloned().collect();
        tx.grant_user_chunks(caller.user_id(), &all.into_iter().collect::<Vec<_>>()).await?;
        for (namespace, hashes) in &self.granted {
            if *namespace == caller.home() {
                continue;
            }
            let hashes: Vec<Vec<u8>> = hashes.iter().cloned().collect();
            crate::sharing::grant_members(tx, *namespace, caller.user_id(), &hashes).await?;
        }
        for (owner, quota) in &self.quotas {
            if quota.delta != 0 {
                tx.add_used_bytes(*owner, quota.delta).await?;
            }
        }
        metrics::counter!("coffer_commits_total").increment(self.committed);
        Ok(self.committed > 0)
    }
}
