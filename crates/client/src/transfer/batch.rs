//! One batch of small files: read and hash them all (they fit in memory by
//! construction), learn their destinations with one listing per folder, open one upload
//! session for all their chunks, send the missing ones in framed bodies, and commit every
//! file with one request.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use bytes::Bytes;
use coffer_core::chunking::MAX_CHUNK_SIZE;
use coffer_core::wire::{CommitRequest, UploadRequest, chunk_frames};
use coffer_core::{ChunkHash, ChunkRef, ChunkerConfig, chunk_reader};

use super::{
    CancelOnDrop, Ctx, Done, Entry, Outcome, Pending, Progress, ProgressFn, check_cancel, chunk_ref, join_error,
    open_file, path_key, remote_files,
};
use crate::api::MAX_BATCH_BODY;
use crate::error::ClientError;

/// A small file read into memory: its chunks' bytes, aligned with `pending.chunks`.
struct Loaded {
    pending: Pending,
    data: Vec<Bytes>,
}

/// Reads one file whole, refusing to hold more than `limit` bytes of it.
fn load(entry: &Entry, limit: u64, progress: &ProgressFn, cancel: &AtomicBool) -> std::io::Result<Loaded> {
    let (file, mtime, mode) = open_file(&entry.local, entry.open)?;
    let mut chunks = Vec::new();
    let mut data = Vec::new();
    let mut total = 0u64;
    // `take` bounds memory even if the file grew since it was measured.
    for chunk in chunk_reader(file.take(limit + 1), ChunkerConfig::default()) {
        check_cancel(cancel)?;
        let chunk = chunk?;
        total += chunk.data.len() as u64;
        if total > limit {
            return Err(std::io::Error::other("the file grew while it was being uploaded; run again"));
        }
        progress(Progress::BytesHashed(chunk.data.len() as u64));
        chunks.push(chunk_ref(&chunk)?);
        data.push(Bytes::from(chunk.data));
    }
    let entry = Entry { size: total, ..entry.clone() };
    Ok(Loaded { pending: Pending { entry, parent_rev: None, mtime, mode, chunks, bytes_sent: 0 }, data })
}

fn load_all(
    entries: Vec<Entry>,
    limit: u64,
    progress: ProgressFn,
    cancel: Arc<AtomicBool>,
) -> (Vec<Loaded>, Vec<Done>) {
    let mut loaded = Vec::with_capacity(entries.len());
    let mut failed = Vec::new();
    for entry in entries {
        match load(&entry, limit, &progress, &cancel) {
            Ok(l) => loaded.push(l),
            Err(e) => failed.push(entry.failed(e)),
        }
    }
    (loaded, failed)
}

/// Uploads one batch; `Err` only for errors that stop the whole upload.
pub(super) async fn run(ctx: &Ctx<'_>, entries: Vec<Entry>) -> Result<Vec<Done>, ClientError> {
    let cancel = CancelOnDrop::new();
    // A file may have grown since it was measured; past this it is refused, not held.
    let limit = ctx.limits.small_max.saturating_mul(2).max(MAX_CHUNK_SIZE as u64);
    let (flag, progress) = (cancel.flag(), ctx.progress.clone());
    let (loaded, mut done) =
        tokio::task::spawn_blocking(move || load_all(entries, limit, progress, flag)).await.map_err(join_error)?;
    if loaded.is_empty() {
        return Ok(done);
    }
    let remote = if ctx.fresh || loaded.iter().all(|l| l.pending.entry.expect.is_some()) {
        HashMap::new()
    } else {
        match remote_files(ctx.client, loaded.iter().map(|l| &l.pending.entry.path)).await {
            Ok(r) => r,
            Err(e) => return fail_all(e, loaded.iter().map(|l| &l.pending), done),
        }
    };
    let mut todo = Vec::with_capacity(loaded.len());
    for mut l in loaded {
        match l.pending.settle(remote.get(&path_key(&l.pending.entry.path))) {
            Some(unchanged) => done.push(unchanged),
            None => todo.push(l),
        }
    }
    if todo.is_empty() {
        return Ok(done);
    }
    let outcomes = match attempt(ctx, &mut todo).await {
        Ok(o) => o,
        Err(e) => return fail_all(e, todo.iter().map(|l| &l.pending), done),
    };
    let mut again = Vec::new();
    for (l, outcome) in todo.into_iter().zip(outcomes) {
        match outcome {
            Outcome::Done(d) => done.push(d),
            Outcome::Missing => again.push(l),
        }
    }
    if again.is_empty() {
        return Ok(done);
    }
    // The server lost track of some chunks (collected meanwhile): send them once more.
    let outcomes = match attempt(ctx, &mut again).await {
        Ok(o) => o,
        Err(e) => return fail_all(e, again.iter().map(|l| &l.pending), done),
    };
    for (l, outcome) in again.iter().zip(outcomes) {
        done.push(match outcome {
            Outcome::Done(d) => d,
            Outcome::Missing => l.pending.failed("missing_chunks: chunks still missing after sending them again"),
        });
    }
    Ok(done)
}

/// Marks every file as failed with `e`, unless `e` stops the whole upload.
fn fail_all<'a>(
    e: ClientError,
    files: impl Iterator<Item = &'a Pending>,
    mut done: Vec<Done>,
) -> Result<Vec<Done>, ClientError> {
    if e.is_fatal() {
        return Err(e);
    }
    done.extend(files.map(|p| p.failed(&e)));
    Ok(done)
}

/// One upload session and one commit for `files`; the commit's verdicts, in order.
async fn attempt(ctx: &Ctx<'_>, files: &mut [Loaded]) -> Result<Vec<Outcome>, ClientError> {
    let mut seen = HashSet::new();
    let chunks: Vec<ChunkRef> =
        files.iter().flat_map(|l| l.pending.chunks.iter()).filter(|c| seen.insert(c.hash)).copied().collect();
    let mut upload_id = None;
    if !chunks.is_empty() {
        let up = ctx.client.begin_upload(&UploadRequest { chunks }).await?;
        let missing: HashSet<ChunkHash> = up.missing.into_iter().collect();
        if let Err(e) = send_frames(ctx, &up.upload_id, files, &missing).await {
            let _ = ctx.client.abort_upload(&up.upload_id).await;
            return Err(e);
        }
        upload_id = Some(up.upload_id);
    }
    let req = CommitRequest {
        close_upload: upload_id.is_some(),
        upload_id,
        files: files.iter().map(|l| l.pending.commit_file()).collect(),
    };
    let resp = ctx.client.commit(&req).await;
    if let (Err(_), Some(id)) = (&resp, &req.upload_id) {
        // The commit (which closes the session) did not happen: release its chunks.
        let _ = ctx.client.abort_upload(id).await;
    }
    Ok(files.iter().zip(resp?.results).map(|(l, r)| l.pending.outcome(r)).collect())
}

/// A frame body being filled, and which file each of its bytes is counted for.
#[derive(Default)]
struct Body {
    frames: Vec<u8>,
    data_bytes: u64,
    owed: Vec<(usize, u64)>,
}

/// Sends every chunk in `missing` once, packed into bodies of at most
/// [`MAX_BATCH_BODY`] bytes; each chunk's bytes count for the first file holding it.
async fn send_frames(
    ctx: &Ctx<'_>,
    upload_id: &str,
    files: &mut [Loaded],
    missing: &HashSet<ChunkHash>,
) -> Result<(), ClientError> {
    let mut queued = HashSet::new();
    let mut body = Body::default();
    for i in 0..files.len() {
        for j in 0..files[i].data.len() {
            let (Some(hash), Some(data)) =
                (files[i].pending.chunks.get(j).map(|c| c.hash), files[i].data.get(j).cloned())
            else {
                continue;
            };
            if !missing.contains(&hash) || !queued.insert(hash) {
                continue;
            }
            let frame_len = chunk_frames::HEADER_LEN + data.len();
            if !body.frames.is_empty() && body.frames.len() + frame_len > MAX_BATCH_BODY {
                let full = std::mem::take(&mut body);
                send_body(ctx, upload_id, full, files).await?;
            }
            chunk_frames::push(&mut body.frames, &hash, &data);
            body.data_bytes += data.len() as u64;
            body.owed.push((i, data.len() as u64));
        }
    }
    if !body.frames.is_empty() {
        send_body(ctx, upload_id, body, files).await?;
    }
    Ok(())
}

async fn send_body(ctx: &Ctx<'_>, upload_id: &str, body: Body, files: &mut [Loaded]) -> Result<(), ClientError> {
    {
        let _permit = ctx.permits.acquire().await.ok();
        ctx.client.put_chunks(upload_id, Bytes::from(body.frames)).await?;
    }
    (ctx.progress)(Progress::BytesSent(body.data_bytes));
    for (i, n) in body.owed {
        if let Some(l) = files.get_mut(i) {
            l.pending.bytes_sent += n;
        }
    }
    Ok(())
}
