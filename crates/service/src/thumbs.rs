//! Thumbnails of images for the web app's grid: made once per content and size, kept
//! in a cache directory, and made safely from files anyone may have uploaded (decoder
//! limits on dimensions and memory, a size cap on the source, a few at a time).

use std::io::Cursor;
use std::path::PathBuf;

use bytes::Bytes;
use coffer_core::{ErrorCode, RevisionId};
use futures::TryStreamExt;
use image::ImageReader;

use crate::access::Caller;
use crate::{Result, Service, ServiceError};

/// Thumbnails made at once.
pub(crate) const AT_ONCE: usize = 2;
/// The largest image file a thumbnail is made of.
const MAX_SOURCE_BYTES: u64 = 64 << 20;
/// The largest width or height a source image may have.
const MAX_DIMENSION: u32 = 16_384;
/// The most memory one decode may take.
const MAX_DECODE_ALLOC: u64 = 512 << 20;
/// The sizes offered (the longest side, in pixels); a request is rounded up to one,
/// so the cache holds a bounded number per image.
const SIZES: [u32; 4] = [64, 128, 256, 512];

/// A made thumbnail: JPEG, or PNG for images with transparency.
#[derive(Debug, Clone)]
pub struct Thumbnail {
    pub bytes: Bytes,
    pub content_type: &'static str,
    /// Names the content and the size: the same for every copy of the same image.
    pub etag: String,
}

impl Service {
    /// A thumbnail of the image at `path` (at `rev`, or its current version) whose
    /// longest side is `size` pixels, rounded up to one of 64, 128, 256 or 512.
    /// `no_thumbnail` for what is not an image Coffer decodes, or too large to decode.
    pub async fn thumbnail(
        &self,
        caller: &Caller,
        path: &str,
        rev: Option<RevisionId>,
        size: u32,
    ) -> Result<Thumbnail> {
        let size = SIZES.iter().copied().find(|s| *s >= size).unwrap_or(SIZES[SIZES.len() - 1]);
        let content = self.open_file(caller, path, rev).await?;
        let key = format!("{}-{size}", content.content_hash);
        let etag = format!("\"t-{key}\"");
        let cached = self.config().thumbnail_dir.as_ref().map(|d| d.join(&key[..2]).join(&key));
        if let Some(file) = &cached {
            for (ext, content_type) in [("jpg", "image/jpeg"), ("png", "image/png")] {
                if let Ok(bytes) = tokio::fs::read(file.with_extension(ext)).await {
                    return Ok(Thumbnail { bytes: bytes.into(), content_type, etag });
                }
            }
        }
        if content.size > MAX_SOURCE_BYTES {
            return Err(ServiceError::new(ErrorCode::NoThumbnail, "the image is too large for a thumbnail"));
        }
        let _turn = self
            .inner
            .thumbnailers
            .acquire()
            .await
            .map_err(|_| ServiceError::new(ErrorCode::Internal, "thumbnailer closed"))?;
        let total = content.size;
        let source: Vec<Bytes> = content.range(0, total).try_collect().await?;
        let (bytes, content_type) = tokio::task::spawn_blocking(move || make(&source.concat(), size))
            .await
            .map_err(|e| ServiceError::new(ErrorCode::Internal, format!("thumbnail task: {e}")))??;
        if let Some(file) = cached {
            let ext = if content_type == "image/png" { "png" } else { "jpg" };
            if let Err(e) = store(&file.with_extension(ext), &bytes).await {
                tracing::warn!(error = %e, "thumbnail not cached");
            }
        }
        Ok(Thumbnail { bytes: bytes.into(), content_type, etag })
    }
}

/// Decodes `source` within the limits and scales it to fit `size`.
fn make(source: &[u8], size: u32) -> Result<(Vec<u8>, &'static str)> {
    let no = |why: String| ServiceError::new(ErrorCode::NoThumbnail, why);
    let mut reader = ImageReader::new(Cursor::new(source)).with_guessed_format().map_err(|e| no(e.to_string()))?;
    if reader.format().is_none() {
        return Err(no("not an image format Coffer reads".into()));
    }
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_DIMENSION);
    limits.max_image_height = Some(MAX_DIMENSION);
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    reader.limits(limits);
    let img = reader.decode().map_err(|e| no(format!("the image cannot be decoded: {e}")))?;
    let small = if img.width() > size || img.height() > size { img.thumbnail(size, size) } else { img };
    let mut out = Vec::new();
    if small.color().has_alpha() {
        small.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png).map_err(|e| no(e.to_string()))?;
        Ok((out, "image/png"))
    } else {
        let rgb = small.to_rgb8();
        let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 82);
        rgb.write_with_encoder(encoder).map_err(|e| no(e.to_string()))?;
        Ok((out, "image/jpeg"))
    }
}

/// Writes a cache file whole or not at all (a temporary file renamed into place).
async fn store(file: &PathBuf, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = file.parent() {
        tokio::fs::create_dir_all(dir).await?;
    }
    let tmp = file.with_extension(format!("tmp{}", rand::random::<u32>()));
    tokio::fs::write(&tmp, bytes).await?;
    tokio::fs::rename(&tmp, file).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32, alpha: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let img: image::DynamicImage = if alpha {
            image::RgbaImage::from_fn(w, h, |x, y| image::Rgba([x as u8, y as u8, 90, 128])).into()
        } else {
            image::RgbImage::from_fn(w, h, |x, y| image::Rgb([x as u8, y as u8, 90])).into()
        };
        img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png).expect("encode");
        out
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for b in data {
            crc ^= u32::from(*b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }

    #[test]
    fn images_shrink_to_fit_keeping_their_shape() {
        let (bytes, ct) = make(&png(1000, 500, false), 256).expect("thumbnail");
        assert_eq!(ct, "image/jpeg");
        let t = image::load_from_memory(&bytes).expect("decodes");
        assert_eq!((t.width(), t.height()), (256, 128));
        let (bytes, ct) = make(&png(40, 30, true), 256).expect("thumbnail");
        assert_eq!(ct, "image/png", "transparency kept");
        let t = image::load_from_memory(&bytes).expect("decodes");
        assert_eq!((t.width(), t.height()), (40, 30), "never enlarged");
    }

    #[test]
    fn hostile_and_broken_files_are_refused_not_decoded() {
        // Not an image, a truncated one, and one that claims 100,000 x 100,000 pixels.
        assert_eq!(make(b"hello, not an image", 64).map(|_| ()).expect_err("refused").code, ErrorCode::NoThumbnail);
        let full = png(64, 64, false);
        assert_eq!(make(&full[..full.len() / 2], 64).map(|_| ()).expect_err("refused").code, ErrorCode::NoThumbnail);
        let mut bomb = png(1, 1, false);
        // The IHDR chunk's width and height (bytes 16..24) set huge, with its CRC
        // (bytes 29..33) made right again: the limits refuse it before any allocation.
        bomb[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        let crc = crc32(&bomb[12..29]);
        bomb[29..33].copy_from_slice(&crc.to_be_bytes());
        let err = make(&bomb, 64).map(|_| ()).expect_err("refused");
        assert_eq!(err.code, ErrorCode::NoThumbnail);
        assert!(err.message.contains("limit") || err.message.contains("large"), "{}", err.message);
    }
}
