//! Coffer's client side: a typed HTTP client for the server's `/api/v1` REST API
//! ([`Client`]), resumable downloads ([`Client::download`]) and the batching,
//! deduplicating upload engine ([`upload`]) behind `coffer put` and the sync engine.
//!
//! Architecture invariant: this crate never touches the server's stores (blob store,
//! metadata store) nor the service layer. It speaks only HTTP, with the request and
//! response types of [`coffer_core::wire`], so everything it does is something any
//! other client could do over the network.
//!
//! Error policy: every fallible call returns [`ClientError`]; the server's machine code
//! is kept ([`ClientError::code`]) so callers can react to `conflict`, `not_found` and
//! the like. Nothing here panics on data that came from the server or the disk.

mod api;
pub mod conflicts;
mod download;
mod error;
mod links;
#[cfg(test)]
mod mock;
mod notify;
mod rate;
mod request;
pub mod sync;
#[cfg(test)]
mod tests;
pub mod transfer;

pub use api::{Client, MAX_BATCH_BODY, Transport, is_loopback_url};
pub use download::{DownloadReport, DownloadSource, set_executable, sync_filesystem};
pub use error::ClientError;
pub use links::LinkAddress;
pub use notify::ChangeWatcher;
pub use transfer::{
    FileReport, FileStatus, Progress, UploadItem, UploadOptions, UploadReport, collect_dirs, collect_items, upload,
};
