//! Downloading a file's content to disk, in constant memory, atomically and resumably.
//!
//! The body is streamed into a temporary file next to the destination, which is
//! fsynced and then renamed over the destination (and the folder fsynced), so the
//! destination is either the old file or the complete new one, never a torn mix. If the
//! connection drops mid-body, the download resumes with `Range: bytes=N-` guarded by
//! `If-Range: <ETag>`: when the file changed meanwhile the server sends the whole new
//! content instead, and the download restarts from zero.

use std::io::SeekFrom;
use std::path::{Path, PathBuf};
use std::time::Duration;

use coffer_core::ContentHash;
use futures::StreamExt;
use reqwest::header::{CONTENT_RANGE, ETAG, HeaderValue, IF_RANGE, RANGE};
use reqwest::{Response, StatusCode, Url};
use tokio::io::{AsyncSeekExt, AsyncWriteExt, BufWriter};

use crate::api::Client;
use crate::error::ClientError;
use crate::request::{Retry, backoff, transport_error};

/// Times a download resumes (or restarts) after an interrupted body.
const MAX_RESUMES: u32 = 5;
/// A body that sends nothing for this long counts as interrupted.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Write buffer between the network and the temporary file.
const WRITE_BUFFER: usize = 1024 * 1024;

/// What to download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownloadSource {
    /// A file by path: its current revision, or the given revision of it.
    Path(String, Option<i64>),
    /// A revision by id.
    Revision(i64),
    /// A file through a public link: the file at `path` below the link's item (`/` for
    /// a link to a file), with the key of a password-protected link.
    Link { token: String, path: String, key: Option<String> },
}

/// What a finished download wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadReport {
    /// Bytes written to the destination.
    pub bytes: u64,
    /// The content hash the server announced as the ETag (`None` if it sent none).
    pub content_hash: Option<ContentHash>,
}

/// Parses `bytes START-END/TOTAL` (TOTAL may be `*`) into `(START, TOTAL)`.
fn parse_content_range(value: &str) -> Option<(u64, Option<u64>)> {
    let rest = value.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (start, _end) = range.split_once('-')?;
    let total = if total.trim() == "*" { None } else { Some(total.trim().parse().ok()?) };
    Some((start.trim().parse().ok()?, total))
}

/// The content hash inside an ETag: `"hex"` or `W/"hex"`.
fn etag_hash(etag: &str) -> Option<ContentHash> {
    let tag = etag.trim();
    let tag = tag.strip_prefix("W/").unwrap_or(tag);
    tag.strip_prefix('"')?.strip_suffix('"')?.parse().ok()
}

fn etag_of(resp: &Response) -> Option<String> {
    resp.headers().get(ETAG).and_then(|v| v.to_str().ok()).map(str::to_string)
}

/// A temporary file in `dir` that gets the permissions a new file normally gets.
pub(crate) fn temp_in(dir: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(".coffer-").suffix(".part");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // The umask applies, as for any file a program creates.
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder.tempfile_in(dir)
}

pub(crate) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Query pairs of a request.
type Query = Vec<(&'static str, String)>;

/// Where a download stands between attempts.
struct Cursor {
    offset: u64,
    etag: Option<String>,
}

impl Client {
    fn content_url(&self, source: &DownloadSource) -> Result<(Url, Query), ClientError> {
        Ok(match source {
            DownloadSource::Path(path, rev) => {
                let mut query = vec![("path", path.clone())];
                if let Some(rev) = rev {
                    query.push(("rev", rev.to_string()));
                }
                (self.url(&["api", "v1", "fs", "content"])?, query)
            }
            DownloadSource::Revision(rev) => {
                (self.url(&["api", "v1", "revisions", &rev.to_string(), "content"])?, vec![])
            }
            DownloadSource::Link { token, path, key } => {
                let mut query = vec![("path", path.clone())];
                if let Some(key) = key {
                    query.push(("key", key.clone()));
                }
                (self.url(&["api", "v1", "public", token, "content"])?, query)
            }
        })
    }

    /// Writes `source` straight into `dest`, an existing file that is not a regular one
    /// (a device such as `/dev/null`, a named pipe), as `cp` would: such a file cannot be
    /// replaced by a rename, and must never be.
    async fn download_into_special(
        &self,
        source: &DownloadSource,
        dest: &Path,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<DownloadReport, ClientError> {
        let mut body = std::pin::pin!(self.open_content(source).await?);
        let mut out = tokio::fs::OpenOptions::new().write(true).open(dest).await?;
        let mut bytes = 0u64;
        while let Some(piece) = body.next().await {
            let piece = piece?;
            out.write_all(&piece).await?;
            bytes += piece.len() as u64;
            progress(piece.len() as u64);
        }
        out.flush().await?;
        Ok(DownloadReport { bytes, content_hash: None })
    }

    /// The bytes of `source` as they arrive, from one plain `GET` (no resuming).
    pub async fn open_content(
        &self,
        source: &DownloadSource,
    ) -> Result<impl futures::Stream<Item = Result<bytes::Bytes, ClientError>> + use<>, ClientError> {
        let (url, query) = self.content_url(source)?;
        let resp = self.send(Retry::Idempotent, |h| h.get(url.clone()).query(&query)).await?;
        let me = self.clone();
        Ok(resp.bytes_stream().then(move |piece| {
            let me = me.clone();
            async move {
                let piece = piece.map_err(|e| transport_error(&e))?;
                me.pace_down(piece.len()).await;
                Ok(piece)
            }
        }))
    }

    /// Downloads `source` to `dest`, replacing `dest` atomically when complete.
    /// `progress` is called with each increment of bytes received (a resumed download
    /// does not count bytes twice; one that restarts because the file changed on the
    /// server counts the new content from zero on top).
    pub async fn download(
        &self,
        source: DownloadSource,
        dest: &Path,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<DownloadReport, ClientError> {
        self.download_with(source, dest, progress, true).await
    }

    /// Like [`Client::download`]; with `durable` false the file and its folder are not
    /// fsynced, for callers that write many files and then flush the filesystem once
    /// (see [`sync_filesystem`]). The rename still makes the file appear whole or not
    /// at all.
    pub async fn download_with(
        &self,
        source: DownloadSource,
        dest: &Path,
        progress: &(dyn Fn(u64) + Sync),
        durable: bool,
    ) -> Result<DownloadReport, ClientError> {
        if std::fs::metadata(dest).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
            return self.download_into_special(&source, dest, progress).await;
        }
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let tmp = temp_in(&dir)?;
        let mut out = BufWriter::with_capacity(WRITE_BUFFER, tokio::fs::File::from_std(tmp.as_file().try_clone()?));
        let (url, query) = self.content_url(&source)?;
        let mut at = Cursor { offset: 0, etag: None };
        let mut interruptions = 0;
        loop {
            let resumed = at.offset > 0 && at.etag.is_some();
            let range = resumed.then(|| format!("bytes={}-", at.offset));
            let if_range = if resumed { at.etag.clone() } else { None };
            let sent = self
                .send(Retry::Idempotent, |h| {
                    let mut b = h.get(url.clone()).query(&query);
                    if let (Some(range), Some(tag)) = (&range, &if_range) {
                        b = b.header(RANGE, range.as_str());
                        if let Ok(v) = HeaderValue::from_str(tag) {
                            b = b.header(IF_RANGE, v);
                        }
                    }
                    b
                })
                .await;
            let resp = match sent {
                Err(e) if resumed && e.status() == Some(416) => {
                    // The server no longer has those bytes: start over.
                    restart(&mut out, &mut at).await?;
                    interruptions += 1;
                    if interruptions > MAX_RESUMES {
                        return Err(e);
                    }
                    continue;
                }
                other => other?,
            };
            let expected_total = match resp.status() {
                StatusCode::PARTIAL_CONTENT if resumed => {
                    let range = resp.headers().get(CONTENT_RANGE).and_then(|v| v.to_str().ok());
                    let Some((start, total)) = range.and_then(parse_content_range) else {
                        return Err(ClientError::Protocol("206 without a valid Content-Range".into()));
                    };
                    if start != at.offset || etag_of(&resp) != at.etag {
                        // Not the continuation asked for: the next attempt starts over.
                        restart(&mut out, &mut at).await?;
                        interruptions += 1;
                        if interruptions > MAX_RESUMES {
                            return Err(ClientError::Protocol("the server does not resume downloads".into()));
                        }
                        continue;
                    }
                    total
                }
                StatusCode::OK => {
                    // A full body: the first attempt, or the file changed since.
                    if at.offset > 0 {
                        restart(&mut out, &mut at).await?;
                    }
                    at.etag = etag_of(&resp);
                    resp.content_length()
                }
                other => return Err(ClientError::Protocol(format!("unexpected status {other} for a download"))),
            };
            let failure = stream_body(self, resp, &mut out, &mut at.offset, progress).await?;
            if let Some(total) = expected_total
                && at.offset > total
            {
                return Err(ClientError::Protocol(format!("body longer than announced ({total} bytes)")));
            }
            let complete = failure.is_none() && expected_total.is_none_or(|t| t == at.offset);
            if complete {
                break;
            }
            interruptions += 1;
            let err = failure.unwrap_or_else(|| {
                ClientError::Transport(format!("body ended after {} of {:?} bytes", at.offset, expected_total))
            });
            if interruptions > MAX_RESUMES {
                return Err(err);
            }
            tracing::debug!(error = %err, offset = at.offset, "download interrupted, resuming");
            if at.etag.is_none() {
                restart(&mut out, &mut at).await?;
            }
            tokio::time::sleep(backoff(interruptions - 1)).await;
        }
        out.flush().await?;
        if durable {
            out.get_mut().sync_all().await?;
        }
        drop(out);
        let dest = dest.to_path_buf();
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            tmp.persist(&dest).map_err(|e| e.error)?;
            if durable { sync_dir(&dir) } else { Ok(()) }
        })
        .await
        .map_err(|e| ClientError::Io(std::io::Error::other(e)))??;
        Ok(DownloadReport { bytes: at.offset, content_hash: at.etag.as_deref().and_then(etag_hash) })
    }
}

/// Empties the temporary file so the next attempt writes from the start.
async fn restart(out: &mut BufWriter<tokio::fs::File>, at: &mut Cursor) -> Result<(), ClientError> {
    out.flush().await?;
    out.get_mut().set_len(0).await?;
    out.get_mut().seek(SeekFrom::Start(0)).await?;
    at.offset = 0;
    at.etag = None;
    Ok(())
}

/// Appends the body to `out`. A local write error is returned as `Err`; a network
/// failure as `Ok(Some(error))`, so the caller can resume.
async fn stream_body(
    client: &Client,
    resp: Response,
    out: &mut BufWriter<tokio::fs::File>,
    offset: &mut u64,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Option<ClientError>, ClientError> {
    let mut body = resp.bytes_stream();
    loop {
        match tokio::time::timeout(IDLE_TIMEOUT, body.next()).await {
            Err(_) => return Ok(Some(ClientError::Transport(format!("no data for {IDLE_TIMEOUT:?}")))),
            Ok(None) => return Ok(None),
            Ok(Some(Err(e))) => return Ok(Some(transport_error(&e))),
            Ok(Some(Ok(bytes))) => {
                client.pace_down(bytes.len()).await;
                out.write_all(&bytes).await?;
                *offset += bytes.len() as u64;
                progress(bytes.len() as u64);
            }
        }
    }
}

/// Flushes the whole filesystem holding `path` to disk with one `syncfs`: the cheap way
/// to make many freshly written files durable at once.
pub fn sync_filesystem(path: &Path) -> std::io::Result<()> {
    let dir = std::fs::File::open(path)?;
    rustix::fs::syncfs(&dir).map_err(std::io::Error::from)
}

/// Sets or clears a file's executable bits (where it is readable, as `chmod +x` does
/// with the usual umask). Nothing where files have no such bits.
pub fn set_executable(path: &Path, executable: bool) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)?.permissions().mode();
        let wanted = if executable { mode | ((mode & 0o444) >> 2) } else { mode & !0o111 };
        if wanted != mode {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(wanted))?;
        }
    }
    let _ = (path, executable);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges_and_etags_parse() {
        assert_eq!(parse_content_range("bytes 100-199/200"), Some((100, Some(200))));
        assert_eq!(parse_content_range("bytes 5-9/*"), Some((5, None)));
        assert_eq!(parse_content_range("items 1-2/3"), None);
        assert_eq!(parse_content_range("bytes x-2/3"), None);
        let h = coffer_core::Manifest::default().content_hash();
        assert_eq!(etag_hash(&format!("\"{h}\"")), Some(h));
        assert_eq!(etag_hash(&format!("W/\"{h}\"")), Some(h));
        assert_eq!(etag_hash("\"nothex\""), None);
        assert_eq!(etag_hash(&h.to_hex()), None, "an ETag is quoted");
    }
}
