//! The JSON protocol of `/api/v1`, shared by the server and every client. Only this
//! module (and the hash/manifest types it carries) derives serde for the wire.
//!
//! Times are Unix milliseconds; sizes are bytes; ids are integers.

use serde::{Deserialize, Serialize};

use crate::error::ErrorCode;
use crate::hash::{ChunkHash, ContentHash};
use crate::manifest::ChunkRef;

/// Body of every error response.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    pub message: String,
    /// On `conflict`: the node as it is now, with its current revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<Box<NodeInfo>>,
    /// On `missing_chunks`: the chunks to upload before committing again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing: Option<Vec<ChunkHash>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetupRequest {
    pub token: String,
    pub name: String,
    pub password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginRequest {
    pub user: String,
    pub password: String,
    /// A label for this device ("laptop"); shown in the device list.
    pub device: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginResponse {
    /// The bearer token of this device. Shown once; the server keeps only its hash.
    pub token: String,
    pub device_id: i64,
    pub user: UserInfo,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct UserInfo {
    pub id: i64,
    pub name: String,
    pub is_admin: bool,
    /// `None` means unlimited.
    pub quota_bytes: Option<u64>,
    pub used_bytes: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceInfo {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    /// True for the device whose token made this request.
    pub current: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    File,
    Folder,
}

/// A file or folder as a client sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeInfo {
    /// Stable: renames and moves never change it.
    pub id: i64,
    pub namespace_id: i64,
    /// `None` only for a namespace root.
    pub parent_id: Option<i64>,
    pub name: String,
    pub kind: NodeKind,
    /// The full path below the caller's root, when the server computed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub size: u64,
    /// The current revision (files only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rev: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_hash: Option<ContentHash>,
    /// When the node last changed on the server.
    pub modified_at: i64,
    /// The file's own modification time, as the uploading client reported it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtime: Option<i64>,
    pub trashed: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListResponse {
    /// Entries sorted by name (byte order of the NFC name).
    pub entries: Vec<NodeInfo>,
    /// Pass as `after` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_after: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UploadRequest {
    /// The file's chunks in order.
    pub chunks: Vec<ChunkRef>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UploadResponse {
    pub upload_id: String,
    /// The chunks to PUT before committing; the rest the caller already holds.
    pub missing: Vec<ChunkHash>,
    pub expires_at: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CommitRequest {
    pub path: String,
    /// The revision this edit started from; absent to create a new file. A file that
    /// exists with another current revision is a `conflict`.
    #[serde(default)]
    pub parent_rev: Option<i64>,
    #[serde(default)]
    pub mtime: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MkdirRequest {
    pub path: String,
    /// Create missing parents and accept an existing folder (`mkdir -p`).
    #[serde(default)]
    pub parents: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MoveRequest {
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PathRequest {
    pub path: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrashEntry {
    pub node: NodeInfo,
    /// Where it was when it was deleted.
    pub original_path: String,
    pub trashed_at: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrashListResponse {
    pub entries: Vec<TrashEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrashRestoreRequest {
    pub id: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrashPurgeRequest {
    /// One trashed item; absent to empty the whole trash.
    #[serde(default)]
    pub id: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PurgeResponse {
    pub purged: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RevisionInfo {
    pub rev: i64,
    pub size: u64,
    pub content_hash: ContentHash,
    pub created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    pub current: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VersionsResponse {
    pub versions: Vec<RevisionInfo>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VersionRestoreRequest {
    pub path: String,
    pub rev: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManifestResponse {
    pub rev: i64,
    pub size: u64,
    pub content_hash: ContentHash,
    pub chunks: Vec<ChunkRef>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Created,
    Modified,
    Moved,
    Trashed,
    Restored,
    Deleted,
}

/// One journal entry: what happened and the node's state right after.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Change {
    pub namespace_id: i64,
    pub seq: i64,
    pub kind: ChangeKind,
    pub node: NodeInfo,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeltaResponse {
    pub changes: Vec<Change>,
    /// The cursor to pass next time.
    pub cursor: String,
    /// More changes are waiting: call again at once.
    pub has_more: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LongPollResponse {
    /// True when something changed since the cursor.
    pub changed: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HealthResponse {
    pub status: String,
    pub version: String,
}
