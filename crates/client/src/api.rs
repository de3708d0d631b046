//! [`Client`]: one typed async method per endpoint of the server's `/api/v1` REST API.
//!
//! URLs are built from path segments (percent-encoded by the URL type) and query pairs
//! (encoded by reqwest); nothing is spliced into a URL as raw text.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use coffer_core::wire::{
    CommentEditRequest, CommentInfo, CommentRequest, CommentsResponse, CommitRequest, CommitResponse, CursorResponse,
    DeltaResponse, DeviceInfo, FileShareRequest, FileSharesResponse, FileUnshareRequest, HealthResponse, ListResponse,
    LoginRequest, LoginResponse, LongPollResponse, ManifestResponse, MkdirRequest, MoveRequest, NodeInfo,
    PasswordChangeRequest, PathRequest, PurgeResponse, RecoveryCodes, RestoreAtRequest, RestoreAtResponse,
    RevokedResponse, SetupRequest, ShareRequest, SharedFileInfo, SharedFolderInfo, SharesResponse, TrashListResponse,
    TrashPurgeRequest, TrashRestoreRequest, TwoFactorCodeRequest, TwoFactorDisableRequest, TwoFactorSetup,
    TwoFactorStatus, UnshareRequest, UploadRequest, UploadResponse, UserInfo, VersionRestoreRequest, VersionsResponse,
};
use coffer_core::{ChunkHash, ErrorCode};
use reqwest::{Method, RequestBuilder, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::ClientError;
use crate::rate::RateLimit;
use crate::request::{Retry, read_json};

/// Largest body of one batch chunk upload (`POST /api/v1/uploads/{id}/chunks`).
pub const MAX_BATCH_BODY: usize = 32 * 1024 * 1024;

/// How long a JSON call may take in total before it counts as failed.
const JSON_TIMEOUT: Duration = Duration::from_secs(300);
/// How long to wait for a TCP connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Extra time granted to a long poll beyond the server-side wait.
const LONGPOLL_SLACK: Duration = Duration::from_secs(30);

/// A connection to one Coffer server, optionally authenticated with a device token.
/// Cheap to clone: clones share one connection pool.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    base_str: String,
    token: Option<String>,
    /// Bandwidth limits (up, down), shared by clones.
    limits: Option<std::sync::Arc<(Option<RateLimit>, Option<RateLimit>)>>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client").field("base_url", &self.base_str).field("has_token", &self.token.is_some()).finish()
    }
}

/// rustls's ring provider, installed once as the process default (reqwest is built
/// without a provider of its own; ring builds without aws-lc's C toolchain, and rustls
/// marks it deprecated for lacking post-quantum key exchange).
#[allow(deprecated)]
fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

fn q(pairs: &[(&'static str, Option<String>)]) -> Vec<(&'static str, String)> {
    pairs.iter().filter_map(|(k, v)| v.clone().map(|v| (*k, v))).collect()
}

/// How a client reaches its server beyond the URL: the certificates it trusts for
/// `https://` besides the system's (a server's own CA or self-signed certificate).
#[derive(Debug, Clone, Default)]
pub struct Transport {
    /// PEM certificates to trust in addition to the system's roots.
    pub extra_roots_pem: Option<Vec<u8>>,
}

/// Whether `url` names this machine (plain HTTP to it never crosses a network).
pub fn is_loopback_url(url: &str) -> bool {
    let Ok(u) = Url::parse(url.trim()) else { return false };
    let Some(host) = u.host_str() else { return false };
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Client {
    /// A client for the server at `base_url` (`http://` or `https://`, optionally with a
    /// path prefix; a trailing slash is ignored). Certificates are verified against the
    /// system's roots.
    pub fn new(base_url: &str, token: Option<String>) -> Result<Client, ClientError> {
        Self::with_transport(base_url, token, &Transport::default())
    }

    /// [`Client::new`] trusting `transport`'s certificates too.
    pub fn with_transport(base_url: &str, token: Option<String>, transport: &Transport) -> Result<Client, ClientError> {
        let trimmed = base_url.trim().trim_end_matches('/');
        let base = Url::parse(trimmed).map_err(|e| ClientError::InvalidUrl(format!("'{base_url}': {e}")))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(ClientError::InvalidUrl(format!("'{base_url}': only http:// and https:// are supported")));
        }
        if base.host_str().is_none_or(str::is_empty) {
            return Err(ClientError::InvalidUrl(format!("'{base_url}': no host")));
        }
        if base.query().is_some() || base.fragment().is_some() {
            return Err(ClientError::InvalidUrl(format!("'{base_url}': no query or fragment allowed")));
        }
        if !base.username().is_empty() || base.password().is_some() {
            return Err(ClientError::InvalidUrl(format!("'{base_url}': credentials do not belong in the URL")));
        }
        install_crypto_provider();
        let mut builder = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("coffer-client/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = &transport.extra_roots_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| ClientError::Transport(format!("the CA certificate file is not PEM: {e}")))?;
            if certs.is_empty() {
                return Err(ClientError::Transport("the CA certificate file holds no certificate".into()));
            }
            builder = builder.tls_certs_merge(certs);
        }
        let http = builder.build().map_err(|e| ClientError::Transport(format!("cannot set up HTTP: {e}")))?;
        Ok(Client { http, base, base_str: trimmed.to_string(), token, limits: None })
    }

    /// The same client with bandwidth limits, in bytes per second (`None`: no limit), on
    /// chunks and file bodies sent and received.
    pub fn with_limits(mut self, up: Option<u64>, down: Option<u64>) -> Client {
        self.limits = (up.is_some() || down.is_some())
            .then(|| std::sync::Arc::new((up.map(RateLimit::new), down.map(RateLimit::new))));
        self
    }

    /// Waits until `n` more bytes may be sent.
    pub(crate) async fn pace_up(&self, n: usize) {
        if let Some(limit) = self.limits.as_ref().and_then(|l| l.0.as_ref()) {
            limit.take(n).await;
        }
    }

    /// Waits until `n` more bytes may be received.
    pub(crate) async fn pace_down(&self, n: usize) {
        if let Some(limit) = self.limits.as_ref().and_then(|l| l.1.as_ref()) {
            limit.take(n).await;
        }
    }

    /// The server's base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_str
    }

    /// The bearer token this client sends, if any.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// The same server with another token (for instance the one `login` returned).
    pub fn with_token(&self, token: Option<String>) -> Client {
        Client { token, ..self.clone() }
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The URL of `base/segments...`, each segment percent-encoded.
    pub(crate) fn url(&self, segments: &[&str]) -> Result<Url, ClientError> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| ClientError::InvalidUrl(format!("'{}' cannot be a base URL", self.base_str)))?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    async fn call<T: DeserializeOwned>(
        &self,
        retry: Retry,
        make: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<T, ClientError> {
        read_json(self.send(retry, make).await?).await
    }

    async fn get_json<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &[(&'static str, Option<String>)],
    ) -> Result<T, ClientError> {
        let url = self.url(segments)?;
        let query = q(query);
        self.call(Retry::Idempotent, |h| h.get(url.clone()).query(&query).timeout(JSON_TIMEOUT)).await
    }

    async fn json_call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        segments: &[&str],
        body: &B,
        retry: Retry,
    ) -> Result<T, ClientError> {
        let url = self.url(segments)?;
        self.call(retry, |h| h.request(method.clone(), url.clone()).json(body).timeout(JSON_TIMEOUT)).await
    }

    async fn no_content(&self, method: Method, segments: &[&str], retry: Retry) -> Result<(), ClientError> {
        let url = self.url(segments)?;
        self.send(retry, |h| h.request(method.clone(), url.clone()).timeout(JSON_TIMEOUT)).await?;
        Ok(())
    }

    /// `GET /healthz`.
    pub async fn health(&self) -> Result<HealthResponse, ClientError> {
        self.get_json(&["healthz"], &[]).await
    }

    /// `POST /api/v1/setup`: creates the first admin with the server's setup token.
    pub async fn setup(&self, setup_token: &str, name: &str, password: &str) -> Result<UserInfo, ClientError> {
        let body = SetupRequest { token: setup_token.into(), name: name.into(), password: password.into() };
        self.json_call(Method::POST, &["api", "v1", "setup"], &body, Retry::Unsafe).await
    }

    /// `POST /api/v1/auth/login`: registers a device and returns its token. `code`: the
    /// authenticator app's code (or a recovery code) where the account needs one (else
    /// the error's code is `two_factor_required`).
    pub async fn login(
        &self,
        user: &str,
        password: &str,
        device: &str,
        code: Option<&str>,
    ) -> Result<LoginResponse, ClientError> {
        let body = LoginRequest {
            user: user.into(),
            password: password.into(),
            device: device.into(),
            code: code.map(str::to_owned),
        };
        self.json_call(Method::POST, &["api", "v1", "auth", "login"], &body, Retry::Unsafe).await
    }

    /// `POST /api/v1/devices/revoke-others`: signs out every other device and browser.
    pub async fn revoke_other_devices(&self) -> Result<RevokedResponse, ClientError> {
        self.json_call(Method::POST, &["api", "v1", "devices", "revoke-others"], &serde_json::json!({}), Retry::Unsafe)
            .await
    }

    /// `POST /api/v1/account/password`: a new password; every other sign-in is revoked.
    pub async fn change_password(&self, current: &str, new: &str) -> Result<RevokedResponse, ClientError> {
        let body = PasswordChangeRequest { current: current.into(), new: new.into() };
        self.json_call(Method::POST, &["api", "v1", "account", "password"], &body, Retry::Unsafe).await
    }

    /// `GET /api/v1/account/2fa`.
    pub async fn two_factor(&self) -> Result<TwoFactorStatus, ClientError> {
        self.get_json(&["api", "v1", "account", "2fa"], &[]).await
    }

    /// `POST /api/v1/account/2fa/enable`: a new secret, pending until confirmed.
    pub async fn two_factor_enable(&self) -> Result<TwoFactorSetup, ClientError> {
        self.json_call(Method::POST, &["api", "v1", "account", "2fa", "enable"], &serde_json::json!({}), Retry::Unsafe)
            .await
    }

    /// `POST /api/v1/account/2fa/confirm`: turns it on; the recovery codes, once.
    pub async fn two_factor_confirm(&self, code: &str) -> Result<RecoveryCodes, ClientError> {
        let body = TwoFactorCodeRequest { code: code.into() };
        self.json_call(Method::POST, &["api", "v1", "account", "2fa", "confirm"], &body, Retry::Unsafe).await
    }

    /// `POST /api/v1/account/2fa/disable`.
    pub async fn two_factor_disable(&self, password: &str, code: &str) -> Result<(), ClientError> {
        let body = TwoFactorDisableRequest { password: password.into(), code: code.into() };
        let url = self.url(&["api", "v1", "account", "2fa", "disable"])?;
        self.send(Retry::Unsafe, |h| h.post(url.clone()).json(&body).timeout(JSON_TIMEOUT)).await?;
        Ok(())
    }

    /// `POST /api/v1/auth/logout`: revokes this client's token.
    pub async fn logout(&self) -> Result<(), ClientError> {
        self.no_content(Method::POST, &["api", "v1", "auth", "logout"], Retry::Unsafe).await
    }

    /// `GET /api/v1/auth/whoami`.
    pub async fn whoami(&self) -> Result<UserInfo, ClientError> {
        self.get_json(&["api", "v1", "auth", "whoami"], &[]).await
    }

    /// `GET /api/v1/devices`.
    pub async fn devices(&self) -> Result<Vec<DeviceInfo>, ClientError> {
        self.get_json(&["api", "v1", "devices"], &[]).await
    }

    /// `DELETE /api/v1/devices/{id}`.
    pub async fn revoke_device(&self, id: i64) -> Result<(), ClientError> {
        self.no_content(Method::DELETE, &["api", "v1", "devices", &id.to_string()], Retry::Unsafe).await
    }

    /// `GET /api/v1/audit`: one page of the audit log, newest first.
    pub async fn audit(&self, q: &coffer_core::wire::AuditQuery) -> Result<coffer_core::wire::AuditPage, ClientError> {
        let query = [
            ("since", q.since.map(|v| v.to_string())),
            ("until", q.until.map(|v| v.to_string())),
            ("kind", q.kind.clone()),
            ("user", q.user.clone()),
            ("before", q.before.map(|v| v.to_string())),
            ("limit", q.limit.map(|v| v.to_string())),
        ];
        self.get_json(&["api", "v1", "audit"], &query).await
    }

    /// `GET /api/v1/app-passwords`.
    pub async fn app_passwords(&self) -> Result<Vec<DeviceInfo>, ClientError> {
        self.get_json(&["api", "v1", "app-passwords"], &[]).await
    }

    /// `POST /api/v1/app-passwords`: a new app password, shown in this answer only.
    pub async fn create_app_password(
        &self,
        name: &str,
        read_only: bool,
    ) -> Result<coffer_core::wire::AppPasswordCreated, ClientError> {
        let body = coffer_core::wire::AppPasswordRequest { name: name.into(), read_only };
        self.json_call(Method::POST, &["api", "v1", "app-passwords"], &body, Retry::Unsafe).await
    }

    /// `DELETE /api/v1/app-passwords/{id}`.
    pub async fn revoke_app_password(&self, id: i64) -> Result<(), ClientError> {
        self.no_content(Method::DELETE, &["api", "v1", "app-passwords", &id.to_string()], Retry::Unsafe).await
    }

    /// `GET /api/v1/fs/stat?path=P`.
    pub async fn stat(&self, path: &str) -> Result<NodeInfo, ClientError> {
        self.get_json(&["api", "v1", "fs", "stat"], &[("path", Some(path.into()))]).await
    }

    /// Like [`Client::stat`], but a path that does not exist is `Ok(None)`.
    pub async fn stat_optional(&self, path: &str) -> Result<Option<NodeInfo>, ClientError> {
        match self.stat(path).await {
            Ok(node) => Ok(Some(node)),
            Err(e) if e.status() == Some(404) && e.code() == Some(ErrorCode::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `GET /api/v1/nodes/{id}`.
    pub async fn stat_id(&self, id: i64) -> Result<NodeInfo, ClientError> {
        self.get_json(&["api", "v1", "nodes", &id.to_string()], &[]).await
    }

    /// One page of `GET /api/v1/fs/list`: entries after `after`, at most `limit`.
    pub async fn list_page(
        &self,
        path: &str,
        after: Option<&str>,
        limit: Option<u32>,
    ) -> Result<ListResponse, ClientError> {
        let query = [
            ("path", Some(path.to_string())),
            ("after", after.map(str::to_string)),
            ("limit", limit.map(|l| l.to_string())),
        ];
        self.get_json(&["api", "v1", "fs", "list"], &query).await
    }

    /// Every entry of a folder, following `next_after` through all pages.
    pub async fn list(&self, path: &str) -> Result<Vec<NodeInfo>, ClientError> {
        let mut entries = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = self.list_page(path, after.as_deref(), None).await?;
            entries.extend(page.entries);
            match page.next_after {
                None => return Ok(entries),
                Some(next) if after.as_deref() == Some(next.as_str()) => {
                    return Err(ClientError::Protocol(format!("listing of '{path}' does not advance past '{next}'")));
                }
                Some(next) => after = Some(next),
            }
        }
    }

    /// `POST /api/v1/fs/mkdir`; with `parents`, missing parents are created and an
    /// existing folder is fine (`mkdir -p`).
    pub async fn mkdir(&self, path: &str, parents: bool) -> Result<NodeInfo, ClientError> {
        let body = MkdirRequest { path: path.into(), parents };
        self.json_call(Method::POST, &["api", "v1", "fs", "mkdir"], &body, Retry::Unsafe).await
    }

    /// `POST /api/v1/fs/move`: moves or renames `from` to `to`.
    pub async fn move_node(&self, from: &str, to: &str) -> Result<NodeInfo, ClientError> {
        let body = MoveRequest { from: from.into(), to: to.into() };
        self.json_call(Method::POST, &["api", "v1", "fs", "move"], &body, Retry::Unsafe).await
    }

    /// `POST /api/v1/fs/delete`: moves a file or folder to the trash.
    pub async fn delete(&self, path: &str) -> Result<NodeInfo, ClientError> {
        self.delete_if(path, None).await
    }

    /// Deletes to the trash only if the file is still at revision `if_rev`.
    pub async fn delete_if(&self, path: &str, if_rev: Option<i64>) -> Result<NodeInfo, ClientError> {
        let body = PathRequest { path: path.into(), if_rev };
        self.json_call(Method::POST, &["api", "v1", "fs", "delete"], &body, Retry::Unsafe).await
    }

    /// `GET /api/v1/trash`.
    pub async fn trash_list(&self) -> Result<TrashListResponse, ClientError> {
        self.get_json(&["api", "v1", "trash"], &[]).await
    }

    /// `POST /api/v1/trash/restore`: puts a trashed node back where it was.
    pub async fn trash_restore(&self, id: i64) -> Result<NodeInfo, ClientError> {
        let body = TrashRestoreRequest { id };
        self.json_call(Method::POST, &["api", "v1", "trash", "restore"], &body, Retry::Unsafe).await
    }

    /// `POST /api/v1/trash/purge`: deletes one trashed item for good, or all with `None`.
    pub async fn trash_purge(&self, id: Option<i64>) -> Result<PurgeResponse, ClientError> {
        let body = TrashPurgeRequest { id };
        self.json_call(Method::POST, &["api", "v1", "trash", "purge"], &body, Retry::Unsafe).await
    }

    /// `GET /api/v1/versions?path=P`.
    pub async fn versions(&self, path: &str) -> Result<VersionsResponse, ClientError> {
        self.get_json(&["api", "v1", "versions"], &[("path", Some(path.into()))]).await
    }

    /// `POST /api/v1/versions/restore`: makes an old revision current again.
    pub async fn restore_version(&self, path: &str, rev: i64) -> Result<NodeInfo, ClientError> {
        let body = VersionRestoreRequest { path: path.into(), rev };
        self.json_call(Method::POST, &["api", "v1", "versions", "restore"], &body, Retry::Unsafe).await
    }

    /// `POST /api/v1/fs/restore`: puts `path` back as it was at `at` (ms since the epoch),
    /// or only lists the changes with `dry_run`. Not retried: a restore whose answer was
    /// lost is seen by running it again (it then finds nothing left to change).
    pub async fn restore_at(&self, path: &str, at: i64, dry_run: bool) -> Result<RestoreAtResponse, ClientError> {
        let body = RestoreAtRequest { path: path.into(), at, dry_run };
        self.json_call(Method::POST, &["api", "v1", "fs", "restore"], &body, Retry::Unsafe).await
    }

    /// `POST /api/v1/shares`: shares the folder at `path` with `user` as `role`, or
    /// changes their role.
    pub async fn share(
        &self,
        path: &str,
        user: &str,
        role: coffer_core::Role,
    ) -> Result<SharedFolderInfo, ClientError> {
        let body = ShareRequest { path: path.into(), user: user.into(), role };
        self.json_call(Method::POST, &["api", "v1", "shares"], &body, Retry::Unsafe).await
    }

    /// `GET /api/v1/shares`: the shared folders this user is in (those shared with them
    /// only, with `with_me`), or the one holding `path`.
    pub async fn shares(&self, path: Option<&str>, with_me: bool) -> Result<SharesResponse, ClientError> {
        let with_me = with_me.then(|| "true".to_string());
        self.get_json(&["api", "v1", "shares"], &[("path", path.map(str::to_owned)), ("with_me", with_me)]).await
    }

    /// `POST /api/v1/shares/remove`: removes `user` from the shared folder at `path`.
    pub async fn unshare(&self, path: &str, user: &str) -> Result<SharedFolderInfo, ClientError> {
        let body = UnshareRequest { path: path.into(), user: user.into() };
        self.json_call(Method::POST, &["api", "v1", "shares", "remove"], &body, Retry::Unsafe).await
    }

    /// `POST /api/v1/shares/leave`: leaves the shared folder at `path`.
    pub async fn leave_share(&self, path: &str) -> Result<(), ClientError> {
        let body = PathRequest { path: path.into(), if_rev: None };
        let url = self.url(&["api", "v1", "shares", "leave"])?;
        self.send(Retry::Unsafe, |h| h.post(url.clone()).json(&body).timeout(JSON_TIMEOUT)).await?;
        Ok(())
    }

    /// `POST /api/v1/file-shares`: shares the file at `path` with `user` as `role`.
    pub async fn share_file(
        &self,
        path: &str,
        user: &str,
        role: coffer_core::Role,
    ) -> Result<SharedFileInfo, ClientError> {
        let body = FileShareRequest { path: path.into(), user: user.into(), role };
        self.json_call(Method::POST, &["api", "v1", "file-shares"], &body, Retry::Unsafe).await
    }

    /// `GET /api/v1/file-shares`: files this user shared, or those shared with them.
    pub async fn file_shares(&self, with_me: bool) -> Result<Vec<SharedFileInfo>, ClientError> {
        let with_me = with_me.then(|| "true".to_string());
        let resp: FileSharesResponse = self.get_json(&["api", "v1", "file-shares"], &[("with_me", with_me)]).await?;
        Ok(resp.files)
    }

    /// `POST /api/v1/file-shares/remove`: ends file `id`'s share with `user`.
    pub async fn unshare_file(&self, id: i64, user: &str) -> Result<(), ClientError> {
        let body = FileUnshareRequest { id, user: user.into() };
        let url = self.url(&["api", "v1", "file-shares", "remove"])?;
        self.send(Retry::Unsafe, |h| h.post(url.clone()).json(&body).timeout(JSON_TIMEOUT)).await?;
        Ok(())
    }

    /// `POST /api/v1/comments`: comments on the file at `path`.
    pub async fn add_comment(&self, path: &str, body: &str) -> Result<CommentInfo, ClientError> {
        let req = CommentRequest { path: path.into(), body: body.into() };
        self.json_call(Method::POST, &["api", "v1", "comments"], &req, Retry::Unsafe).await
    }

    /// `GET /api/v1/comments`: every comment on the file at `path`, oldest first.
    pub async fn comments(&self, path: &str) -> Result<Vec<CommentInfo>, ClientError> {
        let mut out = Vec::new();
        let mut after: Option<i64> = None;
        loop {
            let query = [("path", Some(path.to_owned())), ("after", after.map(|a| a.to_string()))];
            let page: CommentsResponse = self.get_json(&["api", "v1", "comments"], &query).await?;
            out.extend(page.comments);
            match page.next_after {
                Some(next) if Some(next) != after => after = Some(next),
                _ => return Ok(out),
            }
        }
    }

    /// `PUT /api/v1/comments/{id}`: changes one's own comment.
    pub async fn edit_comment(&self, id: i64, body: &str) -> Result<CommentInfo, ClientError> {
        let req = CommentEditRequest { body: body.into() };
        self.json_call(Method::PUT, &["api", "v1", "comments", &id.to_string()], &req, Retry::Unsafe).await
    }

    /// `DELETE /api/v1/comments/{id}`.
    pub async fn delete_comment(&self, id: i64) -> Result<(), ClientError> {
        self.no_content(Method::DELETE, &["api", "v1", "comments", &id.to_string()], Retry::Unsafe).await
    }

    /// `GET /api/v1/revisions/{rev}/manifest`.
    pub async fn manifest(&self, rev: i64) -> Result<ManifestResponse, ClientError> {
        self.get_json(&["api", "v1", "revisions", &rev.to_string(), "manifest"], &[]).await
    }

    /// `GET /api/v1/chunks/{hash}`: one chunk's bytes, checked against `hash`.
    pub async fn chunk(&self, hash: &ChunkHash) -> Result<Bytes, ClientError> {
        let url = self.url(&["api", "v1", "chunks", &hash.to_hex()])?;
        let resp = self.send(Retry::Idempotent, |h| h.get(url.clone()).timeout(JSON_TIMEOUT)).await?;
        let data = resp.bytes().await.map_err(|e| crate::request::transport_error(&e))?;
        self.pace_down(data.len()).await;
        if ChunkHash::of(&data) != *hash {
            return Err(ClientError::Protocol(format!("chunk {hash} arrived with other bytes")));
        }
        Ok(data)
    }

    /// `GET /api/v1/journal/delta`: changes since `cursor` (from the beginning without).
    pub async fn delta(&self, cursor: Option<&str>, limit: Option<u32>) -> Result<DeltaResponse, ClientError> {
        let query = [("cursor", cursor.map(str::to_string)), ("limit", limit.map(|l| l.to_string()))];
        self.get_json(&["api", "v1", "journal", "delta"], &query).await
    }

    /// `GET /api/v1/journal/latest`: the cursor of "now", skipping all history.
    pub async fn latest_cursor(&self) -> Result<String, ClientError> {
        let resp: CursorResponse = self.get_json(&["api", "v1", "journal", "latest"], &[]).await?;
        Ok(resp.cursor)
    }

    /// `GET /api/v1/journal/longpoll`: waits up to `timeout_secs` for a change after
    /// `cursor`.
    pub async fn longpoll(&self, cursor: &str, timeout_secs: u64) -> Result<LongPollResponse, ClientError> {
        let url = self.url(&["api", "v1", "journal", "longpoll"])?;
        let query = [("cursor", cursor.to_string()), ("timeout_secs", timeout_secs.to_string())];
        let total = Duration::from_secs(timeout_secs).saturating_add(LONGPOLL_SLACK);
        self.call(Retry::Idempotent, |h| h.get(url.clone()).query(&query).timeout(total)).await
    }

    /// `POST /api/v1/uploads`: opens an upload session and learns which chunks to send.
    pub async fn begin_upload(&self, req: &UploadRequest) -> Result<UploadResponse, ClientError> {
        // Opening a session twice only leaves an unused one to expire.
        self.json_call(Method::POST, &["api", "v1", "uploads"], req, Retry::Idempotent).await
    }

    /// `PUT /api/v1/uploads/{id}/chunks/{hash}`: sends one chunk.
    pub async fn put_chunk(&self, upload_id: &str, hash: &ChunkHash, data: Bytes) -> Result<(), ClientError> {
        self.pace_up(data.len()).await;
        let url = self.url(&["api", "v1", "uploads", upload_id, "chunks", &hash.to_hex()])?;
        self.send(Retry::Idempotent, |h| {
            h.put(url.clone())
                .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                .body(reqwest::Body::from(data.clone()))
        })
        .await?;
        Ok(())
    }

    /// `POST /api/v1/uploads/{id}/chunks`: sends many chunks in one body of
    /// [`coffer_core::wire::chunk_frames`], at most [`MAX_BATCH_BODY`] bytes.
    pub async fn put_chunks(&self, upload_id: &str, frames: Bytes) -> Result<(), ClientError> {
        if frames.len() > MAX_BATCH_BODY {
            return Err(ClientError::api(
                413,
                ErrorCode::TooLarge,
                format!("a chunk batch body is at most {MAX_BATCH_BODY} bytes"),
            ));
        }
        self.pace_up(frames.len()).await;
        let url = self.url(&["api", "v1", "uploads", upload_id, "chunks"])?;
        self.send(Retry::Idempotent, |h| {
            h.post(url.clone())
                .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                .body(reqwest::Body::from(frames.clone()))
        })
        .await?;
        Ok(())
    }

    /// `DELETE /api/v1/uploads/{id}`. A session that is already gone counts as ended.
    pub async fn abort_upload(&self, upload_id: &str) -> Result<(), ClientError> {
        match self.no_content(Method::DELETE, &["api", "v1", "uploads", upload_id], Retry::Idempotent).await {
            Err(e) if e.code() == Some(ErrorCode::UploadNotFound) => Ok(()),
            other => other,
        }
    }

    /// `POST /api/v1/commit`: one result per file, in request order.
    pub async fn commit(&self, req: &CommitRequest) -> Result<CommitResponse, ClientError> {
        let resp: CommitResponse = self.json_call(Method::POST, &["api", "v1", "commit"], req, Retry::Unsafe).await?;
        if resp.results.len() != req.files.len() {
            return Err(ClientError::Protocol(format!(
                "commit of {} files returned {} results",
                req.files.len(),
                resp.results.len()
            )));
        }
        Ok(resp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_validated() {
        assert!(Client::new("http://localhost:8080", None).is_ok());
        assert!(Client::new("https://example.org/coffer/", None).is_ok());
        for bad in ["ftp://x", "localhost:8080", "", "http://", "http://h/?a=b", "http://u:p@h/"] {
            assert!(matches!(Client::new(bad, None), Err(ClientError::InvalidUrl(_))), "{bad} accepted");
        }
        let c = Client::new("http://h:1/", Some("t".into())).expect("valid");
        assert_eq!(c.base_url(), "http://h:1");
        assert!(!format!("{c:?}").contains("\"t\""), "the token is not printed");
        assert_eq!(c.with_token(None).token(), None);
    }

    #[test]
    fn urls_are_built_from_encoded_segments() {
        let c = Client::new("http://h/prefix/", None).expect("valid");
        let url = c.url(&["api", "v1", "uploads", "a/b?c", "chunks"]).expect("url");
        assert_eq!(url.as_str(), "http://h/prefix/api/v1/uploads/a%2Fb%3Fc/chunks");
        let root = Client::new("http://h", None).expect("valid");
        assert_eq!(root.url(&["healthz"]).expect("url").as_str(), "http://h/healthz");
    }
}
