//! Coffer's pure domain: typed ids, roles and permissions, content hashes, content-defined chunking, manifests, validated
//! names and paths, and the wire protocol shared by the server and its clients.
//!
//! Architecture invariant: this crate does no I/O beyond reading from a caller's
//! `std::io::Read`, and knows nothing of async runtimes, HTTP or databases.

pub mod chunking;
pub mod cursor;
pub mod error;
pub mod hash;
pub mod ids;
pub mod manifest;
pub mod path;
pub mod role;
pub mod testing;
pub mod time;
pub mod wire;

pub use chunking::{Chunk, ChunkerConfig, chunk_reader};
pub use cursor::Cursor;
pub use error::ErrorCode;
pub use hash::{ChunkHash, ContentHash};
pub use ids::{CommentId, DeviceId, LinkId, NamespaceId, NodeId, RevisionId, UploadId, UserId};
pub use manifest::{ChunkRef, Manifest};
pub use path::{Name, NameError, RemotePath};
pub use role::{Permission, Role};
