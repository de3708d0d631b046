//! Roles in a namespace and the permissions they grant.
//!
//! A role is what a membership holds (the owner of a home or shared folder, or a member
//! invited as editor, commenter or viewer); a permission is what an operation needs. The
//! service's access checkpoint asks [`Role::grants`] and nothing else.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A member's role, weakest first: each role can do everything the ones before it can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Commenter,
    Editor,
    Owner,
}

/// What an operation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Permission {
    /// See names, metadata, content and history.
    Read,
    /// Add comments, and edit or delete one's own.
    Comment,
    /// Create, change, move, delete and restore.
    Write,
    /// Invite members, change their roles, make public links.
    Share,
    /// Delete for good and manage the namespace itself.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Commenter, Role::Editor, Role::Owner];

    /// Whether this role may do what `permission` names.
    pub fn grants(self, permission: Permission) -> bool {
        let least = match permission {
            Permission::Read => Role::Viewer,
            Permission::Comment => Role::Commenter,
            Permission::Write => Role::Editor,
            Permission::Share | Permission::Admin => Role::Owner,
        };
        self >= least
    }

    /// The stored and wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Commenter => "commenter",
            Role::Editor => "editor",
            Role::Owner => "owner",
        }
    }

    /// Reads a stored or typed role; `None` for anything else.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_grants_what_the_weaker_ones_do_and_more() {
        use Permission::*;
        let table = [
            (Role::Viewer, [true, false, false, false, false]),
            (Role::Commenter, [true, true, false, false, false]),
            (Role::Editor, [true, true, true, false, false]),
            (Role::Owner, [true, true, true, true, true]),
        ];
        for (role, expected) in table {
            let got = [Read, Comment, Write, Share, Admin].map(|p| role.grants(p));
            assert_eq!(got, expected, "{role}");
        }
    }

    #[test]
    fn roles_read_back_as_written() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("Owner"), None);
        assert_eq!(Role::parse(""), None);
    }
}
