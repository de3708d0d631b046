//! Typed ids: each kind of record has its own id type, so a node id passed where a
//! revision id belongs does not compile. On the wire and in the database they are plain
//! integers (`#[serde(transparent)]`).

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl $name {
            /// The integer stored in the database and sent on the wire.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<i64> for $name {
            fn from(id: i64) -> $name {
                $name(id)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }
    };
}

id_type!(
    /// A user account.
    UserId
);
id_type!(
    /// A tree root with its own journal: a user's home, or a shared folder.
    NamespaceId
);
id_type!(
    /// A file or folder; kept through renames and moves.
    NodeId
);
id_type!(
    /// One version of a file.
    RevisionId
);
id_type!(
    /// A signed-in client with its own token.
    DeviceId
);
id_type!(
    /// A comment on a file.
    CommentId
);
id_type!(
    /// A public link (its number; the link itself is a random token).
    LinkId
);

/// An upload session: a random token, not a number, so sessions cannot be guessed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UploadId(pub String);

impl UploadId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UploadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_plain_integers_on_the_wire() {
        assert_eq!(serde_json::to_string(&NodeId(42)).expect("serialize"), "42");
        let rev: RevisionId = serde_json::from_str("7").expect("parse");
        assert_eq!(rev, RevisionId(7));
        assert_eq!(NamespaceId(3).to_string(), "3");
        assert_eq!(serde_json::to_string(&UploadId("u-1".into())).expect("serialize"), "\"u-1\"");
    }
}
