//! A folder as a zip archive, streamed while it is written: nothing is staged, the
//! archive has no size cap (Zip64 headers on every entry), and memory stays at a few
//! chunks plus one central-directory record per entry.
//!
//! Entries are stored, not compressed: most large files are compressed already, and
//! storing keeps a download at disk speed on a small server.

use std::io;

use async_zip::base::write::ZipFileWriter;
use async_zip::{Compression, ZipDateTime, ZipDateTimeBuilder, ZipEntryBuilder};
use axum::body::Body;
use coffer_service::{ErrorCode, LinkEntry, Service, ServiceError};
use futures::io::AsyncWriteExt as _;
use futures::{Stream, StreamExt};
use tokio_util::io::ReaderStream;

/// Bytes buffered between the archive writer and the response.
const PIPE_BYTES: usize = 256 * 1024;

/// A zip archive of the walked entries as a response body. `hold` (a download slot) is
/// kept until the archive is finished or the client goes away. If writing fails midway
/// the body ends in an error, so the client sees a broken transfer rather than a short
/// archive.
pub(crate) fn zip_body<S, H>(service: Service, entries: S, hold: H) -> Body
where
    S: Stream<Item = coffer_service::Result<LinkEntry>> + Send + 'static,
    H: Send + 'static,
{
    let (reader, writer) = tokio::io::duplex(PIPE_BYTES);
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<bool>();
    tokio::spawn(async move {
        let _hold = hold;
        let result = write_zip(&service, entries, writer).await;
        if let Err(e) = &result {
            tracing::warn!(error = %e, "zip download stopped");
        }
        let _ = done_tx.send(result.is_ok());
    });
    let tail = futures::stream::once(async move {
        match done_rx.await {
            Ok(true) => None,
            _ => Some(Err(io::Error::other("the archive could not be completed"))),
        }
    })
    .filter_map(futures::future::ready);
    Body::from_stream(ReaderStream::with_capacity(reader, PIPE_BYTES).chain(tail))
}

async fn write_zip<S>(service: &Service, entries: S, out: tokio::io::DuplexStream) -> Result<(), String>
where
    S: Stream<Item = coffer_service::Result<LinkEntry>> + Send,
{
    let mut zip = ZipFileWriter::with_tokio(out);
    let mut entries = std::pin::pin!(entries);
    while let Some(entry) = entries.next().await {
        let mut entry = entry.map_err(|e| e.to_string())?;
        entry.path = archive_name(&entry.path);
        let date = dos_time(entry.mtime);
        if entry.is_folder {
            let b = ZipEntryBuilder::new(format!("{}/", entry.path).into(), Compression::Stored)
                .last_modification_date(date)
                .unix_permissions(0o040755);
            zip.write_entry_whole(b, &[]).await.map_err(|e| e.to_string())?;
            continue;
        }
        let content = match service.open_link_entry(&entry).await {
            Ok(c) => c,
            // Changed or removed since the walk found it: left out, not a failure.
            Err(ServiceError { code: ErrorCode::NotFound, .. }) => continue,
            Err(e) => return Err(e.to_string()),
        };
        let b = ZipEntryBuilder::new(entry.path.clone().into(), Compression::Stored)
            .last_modification_date(date)
            .unix_permissions(0o100644);
        let mut w = zip.write_entry_stream(b).await.map_err(|e| e.to_string())?;
        let mut bytes = std::pin::pin!(content.range(0, u64::MAX));
        while let Some(piece) = bytes.next().await {
            let piece = piece.map_err(|e| e.to_string())?;
            w.write_all(&piece).await.map_err(|e| e.to_string())?;
        }
        w.close().await.map_err(|e| e.to_string())?;
    }
    let mut out = zip.close().await.map_err(|e| e.to_string())?;
    out.close().await.map_err(|e| e.to_string())?;
    Ok(())
}

/// An entry's name in the archive. Coffer's names never hold `/`, but may hold `\`,
/// which extractors on Windows take for a folder separator (a name like `..\x` would
/// climb out of the folder being unpacked): it becomes `_`.
fn archive_name(path: &str) -> String {
    path.replace('\\', "_")
}

/// A zip (MS-DOS) timestamp, in UTC, for milliseconds since the epoch; clamped to the
/// years the format can hold (1980-2107).
fn dos_time(ms: i64) -> ZipDateTime {
    let secs = ms.div_euclid(1000).clamp(315_532_800, 4_354_819_199);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = coffer_core::time::civil_from_days(days);
    ZipDateTimeBuilder::new()
        .year(year as i32)
        .month(month)
        .day(day)
        .hour((rem / 3600) as u32)
        .minute((rem % 3600 / 60) as u32)
        .second((rem % 60) as u32)
        .build()
}

#[cfg(test)]
mod tests {
    use super::{archive_name, dos_time};

    #[test]
    fn backslashes_never_reach_an_archive_name() {
        assert_eq!(archive_name("Docs/..\\..\\evil.txt"), "Docs/.._.._evil.txt");
        assert_eq!(archive_name("Docs/plain.txt"), "Docs/plain.txt");
    }

    #[test]
    fn dos_times_are_civil_utc() {
        // 2026-12-01 04:54:06 UTC.
        let t = dos_time(1_796_100_846_000);
        assert_eq!((t.year(), t.month(), t.day(), t.hour(), t.minute(), t.second()), (2026, 12, 1, 4, 54, 6));
        // 2000-02-29 23:59:58 UTC: a leap day.
        let t = dos_time(951_868_798_000);
        assert_eq!((t.year(), t.month(), t.day(), t.hour(), t.minute(), t.second()), (2000, 2, 29, 23, 59, 58));
        // Before 1980: clamped to the format's first day.
        let t = dos_time(0);
        assert_eq!((t.year(), t.month(), t.day()), (1980, 1, 1));
    }
}
