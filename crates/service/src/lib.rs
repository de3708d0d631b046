//! Coffer's operations: accounts, the file tree, uploads and commits, downloads, the
//! journal, and maintenance (upload expiry, trash retention, chunk garbage collection).
//!
//! Every front end (REST, and later WebDAV, the web app, public links) calls these
//! operations; each is atomic (one metadata transaction), and this is the one layer that
//! checks who may do what (the access checkpoint in `access.rs`). An operation's caller
//! is a [`Caller`], obtained only from [`Service::authenticate`]; an admin operation
//! needs an [`Admin`].
//!
//! Architecture invariant: nothing here knows about HTTP. Results and errors are plain
//! data from `coffer_core::wire` and [`ServiceError`] with its stable [`ErrorCode`].

mod access;
mod accounts;
mod audit;
mod comments;
mod content;
mod credentials;
mod error;
mod file_shares;
mod journal;
mod limits;
mod links;
mod maintenance;
mod notify;
mod rewind;
mod sharing;
mod thumbs;
mod tree;
mod two_factor;
mod upload;
mod walk;

use std::sync::Arc;
use std::time::Duration;

use coffer_blobstore::BlobStore;
use coffer_metastore::MetaStore;

pub use access::{Admin, Caller, Credential};
pub use accounts::{SESSION_LIFETIME_MS, SignIn, csrf_matches, session_csrf};
pub use audit::{MAX_AUDIT_PAGE, OPERATOR};
pub use coffer_core::ErrorCode;
pub use content::ContentStream;
pub use credentials::MAX_APP_PASSWORDS;
pub use error::ServiceError;
pub use limits::PasswordLimits;
pub use links::{LinkEntry, LinkVisitor, MAX_LINKS_PER_USER};
pub use maintenance::MaintenanceReport;
pub use notify::{ChangeFeed, FeedEvent};
pub use thumbs::Thumbnail;
pub use upload::{CommitFile, CommitOutcome};
pub use walk::MAX_SELECTION;

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// Tunables of the service; the defaults suit a personal server.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// How long an upload session lives without a commit before its chunks are released.
    pub upload_ttl: Duration,
    /// How long deleted items stay in the trash.
    pub trash_retention: Duration,
    /// How long audit log events are kept; `None` keeps them for ever.
    pub audit_retention: Option<Duration>,
    /// How long an unreferenced chunk is kept before it is collected.
    pub gc_grace: Duration,
    /// How long a device token stays valid without use; `None` means until revoked.
    pub token_idle_expiry: Option<Duration>,
    /// Most files in one commit request.
    pub max_commit_files: usize,
    /// Most chunks in one file (bounds a manifest's size).
    pub max_chunks_per_file: usize,
    /// How password checks and guessing are bounded.
    pub passwords: PasswordLimits,
    /// Chunk bytes all downloads together may hold in memory at once.
    pub download_memory: usize,
    /// Upload sessions one user may have open at once.
    pub max_open_uploads: i64,
    /// Files and folders one user's tree may hold (trash included).
    pub max_nodes_per_user: i64,
    /// Where thumbnails are kept once made (a cache: deleting it costs only the time to
    /// make them again); `None` makes them at every request.
    pub thumbnail_dir: Option<std::path::PathBuf>,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            upload_ttl: Duration::from_secs(24 * 3600),
            trash_retention: Duration::from_secs(30 * 24 * 3600),
            audit_retention: Some(Duration::from_secs(365 * 24 * 3600)),
            gc_grace: Duration::from_secs(3600),
            token_idle_expiry: Some(Duration::from_secs(90 * 24 * 3600)),
            max_commit_files: 1000,
            max_chunks_per_file: 1 << 20,
            passwords: PasswordLimits::default(),
            download_memory: 128 << 20,
            max_open_uploads: 64,
            max_nodes_per_user: 5_000_000,
            thumbnail_dir: None,
        }
    }
}

/// The service: cheap to clone, shared by every request.
#[derive(Clone)]
pub struct Service {
    inner: Arc<Inner>,
}

struct Inner {
    meta: MetaStore,
    blobs: Arc<dyn BlobStore>,
    config: ServiceConfig,
    notifier: notify::Notifier,
    passwords: limits::PasswordGate,
    download_budget: Arc<content::DownloadBudget>,
    /// The secret that signs public links' keys (loaded on first use).
    link_secret: tokio::sync::OnceCell<[u8; 32]>,
    /// The next chunk prefix the orphan sweep looks at.
    sweep_next: std::sync::atomic::AtomicU32,
    /// Thumbnails made at once (decoding is CPU and memory heavy).
    thumbnailers: tokio::sync::Semaphore,
    /// Held while chunks are sealed again (one run at a time).
    resealing: tokio::sync::Mutex<()>,
    /// The two-factor requirement as last read, and when.
    two_factor_policy: std::sync::Mutex<Option<(std::time::Instant, bool)>>,
}

/// Chunks sealed again per batch.
const RESEAL_BATCH: usize = 500;

impl Service {
    pub fn new(meta: MetaStore, blobs: Arc<dyn BlobStore>, config: ServiceConfig) -> Self {
        let passwords = limits::PasswordGate::new(config.passwords.clone());
        let download_budget = Arc::new(content::DownloadBudget::new(config.download_memory));
        Self {
            inner: Arc::new(Inner {
                meta,
                blobs,
                config,
                notifier: notify::Notifier::default(),
                passwords,
                download_budget,
                link_secret: tokio::sync::OnceCell::new(),
                sweep_next: std::sync::atomic::AtomicU32::new(0),
                thumbnailers: tokio::sync::Semaphore::new(thumbs::AT_ONCE),
                resealing: tokio::sync::Mutex::new(()),
                two_factor_policy: std::sync::Mutex::new(None),
            }),
        }
    }

    pub fn config(&self) -> &ServiceConfig {
        &self.inner.config
    }

    fn meta(&self) -> &MetaStore {
        &self.inner.meta
    }

    fn blobs(&self) -> &dyn BlobStore {
        self.inner.blobs.as_ref()
    }

    /// Checks that the metadata store answers (health endpoint).
    pub async fn health(&self) -> Result<()> {
        let mut tx = self.meta().read().await?;
        tx.count_users().await?;
        Ok(())
    }
}

pub(crate) fn now_ms() -> i64 {
    coffer_metastore::now_ms()
}

/// Where a service keeps its data.
#[derive(Debug, Clone)]
pub struct StorageConfig {
    /// `sqlite://PATH` or `postgres://...`.
    pub database_url: String,
    /// The local chunk directory.
    pub chunk_dir: std::path::PathBuf,
}

/// Why a service could not start.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("metadata database: {0}")]
    Meta(#[from] coffer_metastore::MetaError),
    #[error("chunk store at {path}: {source}")]
    Blobs { path: std::path::PathBuf, source: coffer_blobstore::BlobError },
}

impl Service {
    /// Opens (creating if needed) the stores and the service over them, without
    /// encryption at rest (a store sealed before is refused).
    pub async fn open(storage: &StorageConfig, config: ServiceConfig) -> Result<Self, OpenError> {
        Self::open_with_keys(storage, None, config).await
    }

    /// [`Service::open`] with encryption at rest under `keyring`'s current key: chunks
    /// are sealed, and those in plaintext or under an older key are sealed again by the
    /// maintenance passes. A sealed store is refused without its keys.
    pub async fn open_with_keys(
        storage: &StorageConfig,
        keyring: Option<coffer_blobstore::Keyring>,
        config: ServiceConfig,
    ) -> Result<Self, OpenError> {
        // The chunk store first: a store that cannot be read is refused before anything
        // else is touched.
        let blobs = coffer_blobstore::LocalDirStore::open_with(&storage.chunk_dir, keyring)
            .map_err(|source| OpenError::Blobs { path: storage.chunk_dir.clone(), source })?;
        let meta = MetaStore::open(&storage.database_url).await?;
        Ok(Self::new(meta, Arc::new(blobs), config))
    }

    /// Takes a new keyring (after `coffer admin key rotate`): new chunks are sealed under
    /// its current key at once, older ones by [`Service::reseal_pending`].
    pub fn set_keyring(&self, ring: coffer_blobstore::Keyring) -> Result<()> {
        self.blobs().set_keyring(ring).map_err(|e| ServiceError::new(ErrorCode::Internal, e.to_string()))
    }

    /// Seals again every chunk in plaintext or under an older key, in batches (uploads
    /// and downloads go on meanwhile); returns how many. One run at a time.
    pub async fn reseal_pending(&self) -> Result<u64> {
        let _one = self.inner.resealing.lock().await;
        let mut total = 0;
        loop {
            let r = self
                .blobs()
                .reseal(RESEAL_BATCH)
                .await
                .map_err(|e| ServiceError::new(ErrorCode::Internal, format!("sealing chunks again: {e}")))?;
            total += r.resealed;
            if r.done {
                if total > 0 {
                    tracing::info!(chunks = total, "every chunk is sealed under the current key");
                }
                return Ok(total);
            }
        }
    }

    /// Opens only the metadata database: enough for admin commands (users, quotas)
    /// while a server runs on the same data.
    pub async fn open_admin(database_url: &str) -> Result<AdminService, OpenError> {
        Ok(AdminService { meta: MetaStore::open(database_url).await? })
    }
}

impl Service {
    /// The operator's own handle on this service's accounts, for in-process tools and
    /// tests. A request handler never uses it: a door gets an [`Admin`] only from an
    /// admin caller ([`Caller::admin`]); `scripts/check-architecture.sh` keeps it so.
    pub fn admin_service(&self) -> AdminService {
        AdminService { meta: self.meta().clone() }
    }
}

/// User administration by the operator, who holds the database (see
/// [`Service::open_admin`]); it needs no chunk store.
pub struct AdminService {
    meta: MetaStore,
}

impl AdminService {
    fn service(&self) -> Service {
        Service::new(self.meta.clone(), Arc::new(NoChunks), ServiceConfig::default())
    }

    pub async fn create_user(
        &self,
        name: &str,
        password: &str,
        is_admin: bool,
        quota: Option<u64>,
    ) -> Result<coffer_core::wire::UserInfo> {
        self.service().create_user(&Admin::operator(), name, password, is_admin, quota).await
    }

    pub async fn list_users(&self) -> Result<Vec<coffer_core::wire::UserInfo>> {
        self.service().list_users(&Admin::operator()).await
    }

    pub async fn set_quota(&self, name: &str, quota: Option<u64>) -> Result<coffer_core::wire::UserInfo> {
        self.service().set_quota(&Admin::operator(), name, quota).await
    }

    /// Requires (or not) two-factor sign-in for every account.
    pub async fn set_two_factor_required(&self, on: bool) -> Result<()> {
        self.service().set_two_factor_required(&Admin::operator(), on).await
    }

    pub async fn two_factor_is_required(&self) -> Result<bool> {
        self.service().two_factor_is_required().await
    }
}

/// A chunk store that holds nothing: admin commands never read or write chunks.
struct NoChunks;

#[async_trait::async_trait]
impl BlobStore for NoChunks {
    async fn put_many(
        &self,
        _: Vec<(coffer_core::ChunkHash, bytes::Bytes)>,
    ) -> Result<Vec<coffer_blobstore::PutOutcome>, coffer_blobstore::BlobError> {
        Err(coffer_blobstore::BlobError::Io(std::io::Error::other("admin commands store no chunks")))
    }
    async fn get(&self, h: &coffer_core::ChunkHash) -> Result<bytes::Bytes, coffer_blobstore::BlobError> {
        Err(coffer_blobstore::BlobError::NotFound(*h))
    }
    async fn contains(&self, _: &coffer_core::ChunkHash) -> Result<bool, coffer_blobstore::BlobError> {
        Ok(false)
    }
    async fn delete(&self, _: &coffer_core::ChunkHash) -> Result<(), coffer_blobstore::BlobError> {
        Ok(())
    }
    async fn list(
        &self,
        _: u8,
    ) -> Result<Vec<(coffer_core::ChunkHash, std::time::SystemTime)>, coffer_blobstore::BlobError> {
        Ok(Vec::new())
    }
}
