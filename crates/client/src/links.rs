//! Public links: making, listing and revoking them (signed in), and fetching through
//! one with no account: a file resumably, a folder as the server's zip, unpacked.

use std::path::{Component, Path, PathBuf};

use coffer_core::wire::{LinkInfo, LinkRequest, LinksResponse, PublicLinkResponse, UnlockRequest, UnlockResponse};
use futures::StreamExt;
use reqwest::Method;
use tokio::io::AsyncWriteExt;

use crate::api::Client;
use crate::download::{sync_dir, temp_in};
use crate::error::ClientError;
use crate::request::Retry;

/// A public link's server and token, read from its URL (`<server>/s/<token>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkAddress {
    /// The server's base URL (everything before `/s/`).
    pub server: String,
    pub token: String,
}

impl LinkAddress {
    /// Reads `http(s)://host[:port][/prefix]/s/<token>` (a trailing `/` or query is
    /// ignored).
    pub fn parse(url: &str) -> Result<Self, ClientError> {
        let bad = || ClientError::InvalidUrl(format!("'{url}' is not a Coffer link (…/s/<token>)"));
        let parsed = reqwest::Url::parse(url).map_err(|_| bad())?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(bad());
        }
        let path = parsed.path().trim_end_matches('/');
        let (prefix, token) = path.rsplit_once("/s/").ok_or_else(bad)?;
        if token.is_empty() || token.contains('/') {
            return Err(bad());
        }
        let mut server = parsed.clone();
        server.set_path(prefix);
        server.set_query(None);
        server.set_fragment(None);
        Ok(Self { server: server.as_str().trim_end_matches('/').to_owned(), token: token.to_owned() })
    }

    /// Whether `s` looks like a URL rather than a path on the server.
    pub fn is_url(s: &str) -> bool {
        s.starts_with("http://") || s.starts_with("https://")
    }
}

fn key_query(key: Option<&str>, path: Option<&str>) -> Vec<(&'static str, String)> {
    let mut q = Vec::new();
    if let Some(path) = path {
        q.push(("path", path.to_owned()));
    }
    if let Some(key) = key {
        q.push(("key", key.to_owned()));
    }
    q
}

impl Client {
    /// `POST /api/v1/links`.
    pub async fn create_link(&self, req: &LinkRequest) -> Result<LinkInfo, ClientError> {
        let url = self.url(&["api", "v1", "links"])?;
        self.call_json(Retry::Unsafe, |h| h.post(url.clone()).json(req)).await
    }

    /// `GET /api/v1/links`: the user's links, or those to the item at `path`.
    pub async fn links(&self, path: Option<&str>) -> Result<Vec<LinkInfo>, ClientError> {
        let url = self.url(&["api", "v1", "links"])?;
        let query = key_query(None, path);
        let resp: LinksResponse = self.call_json(Retry::Idempotent, |h| h.get(url.clone()).query(&query)).await?;
        Ok(resp.links)
    }

    /// `DELETE /api/v1/links/{id}`.
    pub async fn revoke_link(&self, id: i64) -> Result<LinkInfo, ClientError> {
        let url = self.url(&["api", "v1", "links", &id.to_string()])?;
        self.call_json(Retry::Idempotent, |h| h.request(Method::DELETE, url.clone())).await
    }

    /// `GET /api/v1/public/{token}`: what the link shows of itself.
    pub async fn link_summary(&self, token: &str, key: Option<&str>) -> Result<PublicLinkResponse, ClientError> {
        let url = self.url(&["api", "v1", "public", token])?;
        let query = key_query(key, None);
        self.call_json(Retry::Idempotent, |h| h.get(url.clone()).query(&query)).await
    }

    /// `POST /api/v1/public/{token}/unlock`: a key for a password-protected link.
    pub async fn unlock_link(&self, token: &str, password: &str) -> Result<UnlockResponse, ClientError> {
        let url = self.url(&["api", "v1", "public", token, "unlock"])?;
        let body = UnlockRequest { password: password.to_owned() };
        self.call_json(Retry::Unsafe, |h| h.post(url.clone()).json(&body)).await
    }

    /// Downloads a linked folder as the server's zip and unpacks it as `dest` (which
    /// must not exist yet as a file). The archive is kept in a temporary file beside
    /// `dest` and removed afterwards; every file is checked against its CRC. Returns
    /// each file written with its size.
    pub async fn get_link_folder(
        &self,
        token: &str,
        key: Option<&str>,
        dest: &Path,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<Vec<(PathBuf, u64)>, ClientError> {
        let parent = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let archive = temp_in(&parent)?;
        let url = self.url(&["api", "v1", "public", token, "zip"])?;
        let query = key_query(key, Some("/"));
        let resp = self.send(Retry::Idempotent, |h| h.get(url.clone()).query(&query)).await?;
        let mut out = tokio::io::BufWriter::new(tokio::fs::File::from_std(archive.as_file().try_clone()?));
        let mut body = resp.bytes_stream();
        while let Some(piece) = body.next().await {
            let piece = piece.map_err(|e| crate::request::transport_error(&e))?;
            out.write_all(&piece).await?;
            progress(piece.len() as u64);
        }
        out.flush().await?;
        drop(out);
        let dest = dest.to_path_buf();
        tokio::task::spawn_blocking(move || unpack(archive.path(), &dest))
            .await
            .map_err(|e| ClientError::Io(std::io::Error::other(e)))?
    }

    async fn call_json<T: serde::de::DeserializeOwned>(
        &self,
        retry: Retry,
        make: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<T, ClientError> {
        crate::request::read_json(self.send(retry, make).await?).await
    }
}

/// Unpacks a folder's zip (whose entries all start with the folder's name) as `dest`:
/// folders made, files written whole through a temporary file each, then one
/// filesystem flush. An entry whose name would leave `dest` is refused.
fn unpack(archive: &Path, dest: &Path) -> Result<Vec<(PathBuf, u64)>, ClientError> {
    let bad = |why: String| ClientError::Protocol(format!("the server's zip {why}"));
    let file = std::fs::File::open(archive)?;
    let mut zip =
        zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(|e| bad(format!("is unreadable: {e}")))?;
    std::fs::create_dir_all(dest)?;
    let mut written = Vec::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| bad(format!("has a bad entry: {e}")))?;
        let name = entry.enclosed_name().ok_or_else(|| bad(format!("names an unsafe path: {:?}", entry.name())))?;
        // Below the folder's own name, which `dest` replaces.
        let rel: PathBuf = name.components().skip(1).collect();
        if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
            return Err(bad(format!("names an unsafe path: {:?}", entry.name())));
        }
        let target = dest.join(&rel);
        if entry.is_dir() {
            std::fs::create_dir_all(&target)?;
            continue;
        }
        let folder = target.parent().unwrap_or(dest).to_path_buf();
        std::fs::create_dir_all(&folder)?;
        let mut tmp = temp_in(&folder)?;
        // The zip reader checks the CRC as the last byte is read.
        let size = std::io::copy(&mut entry, tmp.as_file_mut()).map_err(|e| bad(format!("is damaged: {e}")))?;
        tmp.persist(&target).map_err(|e| e.error)?;
        written.push((target, size));
    }
    crate::download::sync_filesystem(dest)?;
    sync_dir(dest)?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::LinkAddress;

    #[test]
    fn link_urls_give_their_server_and_token() {
        let a = LinkAddress::parse("https://files.example.org/s/AbC-_9").expect("link");
        assert_eq!((a.server.as_str(), a.token.as_str()), ("https://files.example.org", "AbC-_9"));
        let a = LinkAddress::parse("http://127.0.0.1:8080/coffer/s/tok/?x=1").expect("link");
        assert_eq!((a.server.as_str(), a.token.as_str()), ("http://127.0.0.1:8080/coffer", "tok"));
        for bad in ["/s/tok", "ftp://h/s/tok", "http://h/tok", "http://h/s/", "http://h/s/a/b"] {
            assert!(LinkAddress::parse(bad).is_err(), "{bad}");
        }
    }
}
