//! The JSON protocol of `/api/v1`, shared by the server and every client. Only this
//! module (and the hash/manifest types it carries) derives serde for the wire.
//!
//! Times are Unix milliseconds; sizes are bytes; ids are integers.

use serde::{Deserialize, Serialize};

use crate::error::ErrorCode;
use crate::hash::{ChunkHash, ContentHash};
use crate::manifest::ChunkRef;

mod account;
mod audit;
pub use account::*;
pub use audit::*;

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
    /// On `rate_limited` and `busy`: seconds to wait before trying again (also sent as
    /// the `Retry-After` header).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
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
    /// With two-factor sign-in on: the authenticator app's current code, or an unused
    /// recovery code. Without it such an account is refused with `two_factor_required`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
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
    /// The administrator requires two-factor sign-in and this account must set it up
    /// before anything else (`two_factor_setup_required` answers until then).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub must_set_up_two_factor: bool,
}

/// A web app sign-in: the session itself travels in an HttpOnly cookie the page cannot
/// read; the page sends `csrf` back in the `X-Coffer-CSRF` header of every request that
/// changes something.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BrowserSession {
    pub csrf: String,
    pub user: UserInfo,
    pub device_id: i64,
}

/// Whether the server still waits for its first admin (the setup token printed at start).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetupStatus {
    pub needed: bool,
}

/// A web app sign-in request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionRequest {
    pub user: String,
    pub password: String,
    /// See [`LoginRequest::code`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    File,
    Folder,
}

/// What a file is beyond its bytes. Travels with every revision; devices that have no
/// such thing (no executable bit, no symbolic links) keep the bytes and ignore the rest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileMode {
    /// An ordinary file.
    #[default]
    Regular,
    /// A program: the executable bit is set (Unix `chmod +x`).
    Executable,
    /// A symbolic link. The file's bytes are the link's target as written, never
    /// followed: the server and the clients store and restore the link itself.
    Symlink,
}

impl FileMode {
    pub fn is_regular(&self) -> bool {
        *self == FileMode::Regular
    }

    /// The number stored in the database.
    pub fn code(self) -> i64 {
        match self {
            FileMode::Regular => 0,
            FileMode::Executable => 1,
            FileMode::Symlink => 2,
        }
    }

    /// The mode of a stored number; unknown numbers (a newer server's) read as regular.
    pub fn from_code(code: i64) -> Self {
        match code {
            1 => FileMode::Executable,
            2 => FileMode::Symlink,
            _ => FileMode::Regular,
        }
    }
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
    /// Executable or a symbolic link (files only); absent for an ordinary file.
    #[serde(default, skip_serializing_if = "FileMode::is_regular")]
    pub mode: FileMode,
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

/// One file of a commit.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CommitFileRequest {
    pub path: String,
    /// The revision this edit started from; absent to create a new file. A file that
    /// exists with another current revision is a `conflict`.
    #[serde(default)]
    pub parent_rev: Option<i64>,
    /// The file's modification time on the client (Unix ms).
    #[serde(default)]
    pub mtime: Option<i64>,
    /// Executable or a symbolic link (whose target is the file's bytes); absent for an
    /// ordinary file.
    #[serde(default, skip_serializing_if = "FileMode::is_regular")]
    pub mode: FileMode,
    /// The file's chunks in order (empty for an empty file).
    pub chunks: Vec<ChunkRef>,
    /// Update this existing file by id instead of by path (a file shared with the
    /// caller is reached no other way); `path` then only names it in messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_id: Option<i64>,
}

/// Commits files in one transaction; each file succeeds or fails on its own.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CommitRequest {
    /// The upload session that carried the chunks; may be absent when every chunk is
    /// already the caller's.
    #[serde(default)]
    pub upload_id: Option<String>,
    pub files: Vec<CommitFileRequest>,
    /// End the upload session in the same transaction (its chunks stay if committed),
    /// saving the client a `DELETE /api/v1/uploads/{id}`.
    #[serde(default)]
    pub close_upload: bool,
}

/// The result for one file, in request order: `node` on success, else `error`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CommitResult {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<NodeInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorDetail>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CommitResponse {
    pub results: Vec<CommitResult>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CursorResponse {
    pub cursor: String,
}

/// Frames of a batch chunk upload body: `([32-byte hash][u32 LE length][bytes])*`.
pub mod chunk_frames {
    use crate::hash::ChunkHash;

    pub const HEADER_LEN: usize = 36;

    /// Appends one frame.
    pub fn push(out: &mut Vec<u8>, hash: &ChunkHash, data: &[u8]) {
        out.extend_from_slice(hash.as_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(data);
    }

    /// Splits a body into `(hash, start, end)` ranges; `None` if malformed.
    pub fn parse(body: &[u8], max_chunk: usize) -> Option<Vec<(ChunkHash, usize, usize)>> {
        let mut out = Vec::new();
        let mut at = 0;
        while at < body.len() {
            let header = body.get(at..at + HEADER_LEN)?;
            let hash = ChunkHash::from_slice(&header[..32])?;
            let len = u32::from_le_bytes(header[32..36].try_into().ok()?) as usize;
            if len > max_chunk {
                return None;
            }
            let start = at + HEADER_LEN;
            let end = start.checked_add(len)?;
            if end > body.len() {
                return None;
            }
            out.push((hash, start, end));
            at = end;
        }
        Some(out)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn frames_round_trip_and_truncation_is_refused() {
            let mut body = Vec::new();
            push(&mut body, &ChunkHash::of(b"a"), b"a");
            push(&mut body, &ChunkHash::of(b"bcd"), b"bcd");
            let frames = parse(&body, 10).expect("valid");
            assert_eq!(frames.len(), 2);
            assert_eq!(&body[frames[1].1..frames[1].2], b"bcd");
            assert!(parse(&body[..body.len() - 1], 10).is_none());
            assert!(parse(&body, 2).is_none(), "over the size limit");
        }
    }
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
    /// For a delete: only if the file is still at this revision (a newer edit wins, and
    /// the delete is a `conflict`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub if_rev: Option<i64>,
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
    /// The file's modification time as this revision's writer reported it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtime: Option<i64>,
    #[serde(default, skip_serializing_if = "FileMode::is_regular")]
    pub mode: FileMode,
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

/// Puts a folder (or a file, or the whole account with `/`) back as it was at a moment:
/// `POST /api/v1/restore-at`. Every change is a new revision, move or trash entry, so
/// nothing in the history is rewritten and the restore itself can be undone the same way.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RestoreAtRequest {
    pub path: String,
    /// The moment, in milliseconds since the Unix epoch (UTC).
    pub at: i64,
    /// Only list the changes; make none.
    #[serde(default)]
    pub dry_run: bool,
}

/// What a point-in-time restore does to one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RestoreAction {
    /// A file's content goes back to the version it had then (as a new revision).
    Content,
    /// An item renamed or moved since goes back to where it was.
    Move,
    /// An item in the trash comes back to where it was.
    Undelete,
    /// A folder deleted for good since is made again (empty, then filled).
    Recreate,
    /// An item made (or moved in) since goes to the trash.
    Trash,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreChange {
    pub action: RestoreAction,
    pub kind: NodeKind,
    /// Where the item ends (for `trash`: where it was).
    pub path: String,
    /// Where it is now, for `move` (`None` when that is not in the caller's tree).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// For `content`: the revision whose content comes back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rev: Option<i64>,
}

/// An item a restore cannot put back, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreSkip {
    pub path: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RestoreAtResponse {
    pub path: String,
    pub at: i64,
    pub dry_run: bool,
    pub changes: Vec<RestoreChange>,
    pub skipped: Vec<RestoreSkip>,
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

/// A message of the `/api/v1/notify` WebSocket (server to client). It carries no file
/// data: it only says which namespaces advanced, and the client then asks for the delta.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum NotifyMessage {
    /// Sent first: the latest seq of every namespace the device can see.
    Hello { namespaces: Vec<NamespacePosition> },
    /// A namespace advanced to `seq`.
    Changed { namespace_id: i64, seq: i64 },
    /// A comment on a file of a namespace was added, edited or deleted.
    Comment { namespace_id: i64, node_id: i64, comment_id: i64 },
}

/// Where a namespace's journal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamespacePosition {
    pub namespace_id: i64,
    pub seq: i64,
}

/// A member of a shared folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberInfo {
    pub user: String,
    pub role: crate::Role,
}

/// A shared folder as one of its members sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedFolderInfo {
    /// Where it is in the caller's tree (their mount).
    pub path: String,
    pub namespace_id: i64,
    /// The caller's role in it.
    pub role: crate::Role,
    pub owner: String,
    /// Everyone in it, owner first.
    pub members: Vec<MemberInfo>,
}

/// Share a folder with a user, or change the user's role in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareRequest {
    pub path: String,
    pub user: String,
    /// `viewer`, `commenter` or `editor`.
    pub role: crate::Role,
}

/// Remove a member from a shared folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnshareRequest {
    pub path: String,
    pub user: String,
}

/// The shared folders a user is in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharesResponse {
    pub shares: Vec<SharedFolderInfo>,
}

/// A comment on a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentInfo {
    pub id: i64,
    pub node_id: i64,
    pub author: String,
    /// The file's revision when the comment was made.
    pub rev: Option<i64>,
    pub body: String,
    pub created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<i64>,
}

/// Comment on the file at `path`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentRequest {
    pub path: String,
    pub body: String,
}

/// A comment's new text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentEditRequest {
    pub body: String,
}

/// A page of a file's comments, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentsResponse {
    pub comments: Vec<CommentInfo>,
    /// Pass as `after` for the next page; absent on the last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_after: Option<i64>,
}

/// Make a public link to a file or folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkRequest {
    pub path: String,
    /// When the link stops working (milliseconds since the epoch); never if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// A password visitors must give first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// How many downloads the link allows; unlimited if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_downloads: Option<u64>,
    /// Whether visitors may download, or only look (names, sizes, listings).
    #[serde(default = "yes")]
    pub allow_download: bool,
}

fn yes() -> bool {
    true
}

/// Whether a public link works, and if not, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkState {
    Active,
    Expired,
    Revoked,
    Exhausted,
    /// The item is in the trash (the link works again if it is restored) or no longer
    /// the link owner's to share.
    Unavailable,
}

/// A public link, as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkInfo {
    pub id: i64,
    /// The secret part of the link.
    pub token: String,
    /// The link's path on the server (`/s/<token>`): put the server's address before it.
    pub url_path: String,
    /// Where the item is in the owner's tree; absent while it is in the trash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub node_id: i64,
    pub kind: NodeKind,
    pub created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    pub has_password: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_downloads: Option<u64>,
    pub downloads: u64,
    pub allow_download: bool,
    pub state: LinkState,
}

/// The links a user made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinksResponse {
    pub links: Vec<LinkInfo>,
}

/// A file or folder seen through a public link. Paths are relative to the link's item
/// (`/` is the item itself); nothing about the owner's tree is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicItem {
    pub name: String,
    pub path: String,
    pub kind: NodeKind,
    pub size: u64,
    /// The file's own modification time (milliseconds), as its writer set it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtime: Option<i64>,
    pub modified_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_hash: Option<ContentHash>,
}

/// What a public link shows of itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicLinkResponse {
    pub item: PublicItem,
    pub allow_download: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// Downloads left, when the link has a limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub downloads_left: Option<u64>,
}

/// One page of a folder seen through a public link, sorted by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicListResponse {
    pub entries: Vec<PublicItem>,
    /// Pass as `after` for the next page; absent on the last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_after: Option<String>,
}

/// The password of a public link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnlockRequest {
    pub password: String,
}

/// A key that opens a password-protected link for a while: send it as the
/// `X-Coffer-Link-Key` header or the `key` query parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnlockResponse {
    pub key: String,
    pub expires_at: i64,
}

/// Share one file with a user as viewer or editor (or change their role).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileShareRequest {
    pub path: String,
    pub user: String,
    pub role: crate::Role,
}

/// End a file's share with a user: its owner removes anyone, a user removes themself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileUnshareRequest {
    /// The file's id.
    pub id: i64,
    pub user: String,
}

/// A file shared with single users, as the caller sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedFileInfo {
    /// The file's id: how a user it is shared with reaches it.
    pub id: i64,
    pub name: String,
    /// Where it is in the caller's tree; absent for a file shared with the caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rev: Option<i64>,
    pub modified_at: i64,
    pub owner: String,
    /// The caller's role: `owner`, or what it is shared with them as.
    pub role: crate::Role,
    /// The users it is shared with (for its owner; a user it is shared with sees
    /// only themself).
    pub members: Vec<MemberInfo>,
}

/// Files shared by or with the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSharesResponse {
    pub files: Vec<SharedFileInfo>,
}
