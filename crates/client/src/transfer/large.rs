//! One large file: a first read computes its manifest, the server says which chunks it
//! lacks, and a second read sends just those, `concurrency` at a time, before the
//! commit. Memory stays at a few chunks whatever the file's size. The second read must
//! produce the same chunks as the first, or the file changed and is not committed.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use bytes::Bytes;
use coffer_core::wire::{CommitRequest, FileMode, UploadRequest};
use coffer_core::{ChunkHash, ChunkRef, ChunkerConfig, chunk_reader};
use futures::StreamExt;
use tokio::sync::mpsc;

use super::{
    CancelOnDrop, Ctx, Done, Entry, Open, Outcome, Pending, Progress, ProgressFn, check_cancel, chunk_ref, join_error,
    open_file, remote_file,
};
use crate::error::ClientError;

/// Why sending a large file's chunks stopped.
enum SendError {
    Client(ClientError),
    Io(std::io::Error),
    /// The second read did not match the first.
    Changed,
}

impl From<ClientError> for SendError {
    fn from(e: ClientError) -> Self {
        Self::Client(e)
    }
}

impl From<std::io::Error> for SendError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}

const CHANGED: &str = "the file changed while it was being uploaded; run again";

/// First pass: the file's chunk list, without keeping any chunk's bytes.
fn hash_file(
    path: &Path,
    open: Open,
    progress: &ProgressFn,
    cancel: &AtomicBool,
) -> std::io::Result<(Option<i64>, FileMode, Vec<ChunkRef>)> {
    let (file, mtime, mode) = open_file(path, open)?;
    let mut chunks = Vec::new();
    for chunk in chunk_reader(file, ChunkerConfig::default()) {
        check_cancel(cancel)?;
        let chunk = chunk?;
        progress(Progress::BytesHashed(chunk.data.len() as u64));
        chunks.push(chunk_ref(&chunk)?);
    }
    Ok((mtime, mode, chunks))
}

/// Uploads one large file; `Err` only for errors that stop the whole upload.
pub(super) async fn run(ctx: &Ctx<'_>, entry: Entry) -> Result<Vec<Done>, ClientError> {
    let cancel = CancelOnDrop::new();
    let (flag, progress, local, open) = (cancel.flag(), ctx.progress.clone(), entry.local.clone(), entry.open);
    let hashed =
        tokio::task::spawn_blocking(move || hash_file(&local, open, &progress, &flag)).await.map_err(join_error)?;
    let (mtime, mode, chunks) = match hashed {
        Ok(h) => h,
        Err(e) => return Ok(vec![entry.failed(e)]),
    };
    let mut pending = Pending { entry, parent_rev: None, mtime, mode, chunks, bytes_sent: 0 };
    pending.entry.size = pending.size();
    let fail = |e: ClientError, p: &Pending| if e.is_fatal() { Err(e) } else { Ok(vec![p.failed(e)]) };
    let node = if ctx.fresh || pending.entry.expect.is_some() {
        None
    } else {
        match remote_file(ctx.client, &pending.entry.path).await {
            Ok(n) => n,
            Err(e) => return fail(e, &pending),
        }
    };
    if let Some(unchanged) = pending.settle(node.as_ref()) {
        return Ok(vec![unchanged]);
    }
    let manifest = Arc::new(pending.chunks.clone());
    for round in 0..2 {
        match attempt(ctx, &mut pending, &manifest).await {
            Ok(Outcome::Done(d)) => return Ok(vec![d]),
            // The server lost track of some chunks (collected meanwhile): once more.
            Ok(Outcome::Missing) if round == 0 => continue,
            Ok(Outcome::Missing) => break,
            Err(SendError::Changed) => return Ok(vec![pending.failed(CHANGED)]),
            Err(SendError::Io(e)) => return Ok(vec![pending.failed(e)]),
            Err(SendError::Client(e)) => return fail(e, &pending),
        }
    }
    Ok(vec![pending.failed("missing_chunks: chunks still missing after sending them again")])
}

/// One upload session, the missing chunks, and the commit.
async fn attempt(ctx: &Ctx<'_>, p: &mut Pending, manifest: &Arc<Vec<ChunkRef>>) -> Result<Outcome, SendError> {
    let mut upload_id = None;
    if !p.chunks.is_empty() {
        let up = ctx.client.begin_upload(&UploadRequest { chunks: p.chunks.clone() }).await?;
        if !up.missing.is_empty() {
            let sent =
                send_missing(ctx, &up.upload_id, (&p.entry.local, p.entry.open), manifest.clone(), up.missing).await;
            p.bytes_sent += sent.bytes;
            if let Err(e) = sent.result {
                let _ = ctx.client.abort_upload(&up.upload_id).await;
                return Err(e);
            }
        }
        upload_id = Some(up.upload_id);
    }
    let req = CommitRequest { close_upload: upload_id.is_some(), upload_id, files: vec![p.commit_file()] };
    let resp = ctx.client.commit(&req).await;
    if let (Err(_), Some(id)) = (&resp, &req.upload_id) {
        // The commit (which closes the session) did not happen: release its chunks.
        let _ = ctx.client.abort_upload(id).await;
    }
    let result = resp?.results.into_iter().next();
    let result = result.ok_or_else(|| ClientError::Protocol("commit returned no result".into()))?;
    Ok(p.outcome(result))
}

struct Sent {
    bytes: u64,
    result: Result<(), SendError>,
}

/// Second pass: re-reads the file and PUTs the chunks in `missing`, checking that every
/// chunk is the one in `manifest`.
async fn send_missing(
    ctx: &Ctx<'_>,
    upload_id: &str,
    (local, open): (&Path, Open),
    manifest: Arc<Vec<ChunkRef>>,
    missing: Vec<ChunkHash>,
) -> Sent {
    let concurrency = ctx.limits.concurrency;
    let (tx, mut rx) = mpsc::channel::<(ChunkHash, Bytes)>(concurrency);
    let cancel = CancelOnDrop::new();
    let flag = cancel.flag();
    let local = local.to_path_buf();
    let missing: HashSet<ChunkHash> = missing.into_iter().collect();
    let reader = tokio::task::spawn_blocking(move || reread((&local, open), &manifest, &missing, &tx, &flag));
    let mut puts = futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
        .map(|(hash, data): (ChunkHash, Bytes)| async move {
            let n = data.len() as u64;
            let _permit = ctx.permits.acquire().await.ok();
            ctx.client.put_chunk(upload_id, &hash, data).await?;
            (ctx.progress)(Progress::BytesSent(n));
            Ok::<u64, ClientError>(n)
        })
        .buffer_unordered(concurrency);
    let mut sent = Sent { bytes: 0, result: Ok(()) };
    while let Some(put) = puts.next().await {
        match put {
            Ok(n) => sent.bytes += n,
            Err(e) => {
                sent.result = Err(SendError::Client(e));
                break;
            }
        }
    }
    // Dropping the receiver and setting the flag stop the reader early after a failure.
    drop(puts);
    drop(cancel);
    let read = reader.await.map_err(|e| SendError::Client(join_error(e))).and_then(|r| r);
    if sent.result.is_ok() {
        sent.result = read;
    }
    sent
}

fn reread(
    (local, open): (&Path, Open),
    manifest: &[ChunkRef],
    missing: &HashSet<ChunkHash>,
    tx: &mpsc::Sender<(ChunkHash, Bytes)>,
    cancel: &AtomicBool,
) -> Result<(), SendError> {
    let (file, _, _) = open_file(local, open)?;
    let mut queued = HashSet::new();
    let mut count = 0;
    for chunk in chunk_reader(file, ChunkerConfig::default()) {
        if check_cancel(cancel).is_err() {
            return Ok(());
        }
        let chunk = chunk?;
        if manifest.get(count) != Some(&chunk_ref(&chunk)?) {
            return Err(SendError::Changed);
        }
        count += 1;
        if missing.contains(&chunk.hash)
            && queued.insert(chunk.hash)
            && tx.blocking_send((chunk.hash, Bytes::from(chunk.data))).is_err()
        {
            // The sending side stopped (a failed request); it reports why.
            return Ok(());
        }
    }
    if count != manifest.len() {
        return Err(SendError::Changed);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_second_read_must_match_the_first() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("f");
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let data: Vec<u8> = (0..3_000_000)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                (seed >> 24) as u8
            })
            .collect();
        std::fs::write(&path, &data).expect("write");
        let progress: ProgressFn = Arc::new(|_| {});
        let idle = AtomicBool::new(false);
        let (_, _, manifest) = hash_file(&path, Open::Follow, &progress, &idle).expect("hash");
        assert!(manifest.len() > 1);

        let wanted: HashSet<ChunkHash> = [manifest[0].hash].into_iter().collect();
        let (tx, mut rx) = mpsc::channel(8);
        assert!(reread((&path, Open::Follow), &manifest, &wanted, &tx, &idle).is_ok());
        let (hash, bytes) = rx.try_recv().expect("one chunk queued");
        assert_eq!((hash, bytes.len()), (manifest[0].hash, manifest[0].size as usize));
        assert!(rx.try_recv().is_err(), "only the missing chunk is sent");

        let mut edited = data.clone();
        edited[data.len() - 1] ^= 1;
        std::fs::write(&path, &edited).expect("write");
        assert!(matches!(
            reread((&path, Open::Follow), &manifest, &HashSet::new(), &tx, &idle),
            Err(SendError::Changed)
        ));
        std::fs::write(&path, &data[..data.len() / 2]).expect("truncate");
        assert!(matches!(
            reread((&path, Open::Follow), &manifest, &HashSet::new(), &tx, &idle),
            Err(SendError::Changed)
        ));
    }
}
