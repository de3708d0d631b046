//! Validated names and paths.
//!
//! A [`Name`] is one path component: NFC-normalized UTF-8, 1 to 255 bytes, not `.` or
//! `..`, and free of `/`, NUL and other control characters. A [`RemotePath`] is a
//! sequence of names, at most [`MAX_PATH_BYTES`] long.
//!
//! Case policy: names keep the case they were given, but two entries of one folder may
//! not differ only by case (or by Unicode normalization, since every name is NFC), as
//! macOS and Windows filesystems require. [`Name::collision_key`] is the key the metadata
//! store makes unique.
//!
//! What the server does not refuse: names that one operating system cannot hold though
//! another can, such as Windows' reserved names (`CON`, `nul.txt`), the characters
//! `: * ? " < > | \`, and names ending in a space or a dot. They are valid on Linux and
//! macOS, where people make them, so refusing them here would strand those files; a sync
//! client writing to a disk that cannot hold such a name says so instead of losing it.

use std::fmt;

use unicode_normalization::UnicodeNormalization;

pub const MAX_NAME_BYTES: usize = 255;
pub const MAX_PATH_BYTES: usize = 4096;

/// Why a name or path was refused. Each has a stable machine code for the wire.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("a name may not be empty")]
    Empty,
    #[error("'.' and '..' are not names")]
    Dot,
    #[error("a name may not contain '/'")]
    Slash,
    #[error("a name may not contain NUL or control characters")]
    Control,
    #[error("a name may be at most {MAX_NAME_BYTES} bytes")]
    NameTooLong,
    #[error("a path may be at most {MAX_PATH_BYTES} bytes")]
    PathTooLong,
}

/// One validated, NFC-normalized path component.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name(String);

impl Name {
    pub fn new(raw: &str) -> Result<Self, NameError> {
        let name: String = raw.nfc().collect();
        if name.is_empty() {
            return Err(NameError::Empty);
        }
        if name == "." || name == ".." {
            return Err(NameError::Dot);
        }
        if name.contains('/') {
            return Err(NameError::Slash);
        }
        if name.chars().any(|c| c.is_control()) {
            return Err(NameError::Control);
        }
        if name.len() > MAX_NAME_BYTES {
            return Err(NameError::NameTooLong);
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key under which two names of one folder collide: the lowercase form.
    pub fn collision_key(&self) -> String {
        self.0.to_lowercase()
    }

    /// Splits `stem.ext` for suffixing ("report.txt" -> ("report", ".txt")). A leading
    /// dot is part of the stem, so ".bashrc" has no extension.
    pub fn split_extension(&self) -> (&str, &str) {
        match self.0.rfind('.') {
            Some(i) if i > 0 => self.0.split_at(i),
            _ => (&self.0, ""),
        }
    }

    /// "stem (suffix).ext", trimmed so the result is still a valid name (an extension
    /// too long to keep is dropped).
    pub fn with_suffix(&self, suffix: &str) -> Name {
        let (stem, ext) = self.split_extension();
        let mut tail = format!(" ({suffix}){ext}");
        if tail.len() > MAX_NAME_BYTES / 2 {
            tail = format!(" ({suffix})");
        }
        let mut stem = stem.to_string();
        while stem.len() + tail.len() > MAX_NAME_BYTES && !stem.is_empty() {
            stem.pop();
        }
        Name(format!("{stem}{tail}"))
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// A validated path below a namespace root; the empty path is the root itself.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct RemotePath(Vec<Name>);

impl RemotePath {
    /// Parses `/a/b`, `a/b` or `a/b/`. Empty components (`a//b`), `.` and `..` are errors:
    /// nothing is resolved relative to anything.
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        if raw.len() > MAX_PATH_BYTES {
            return Err(NameError::PathTooLong);
        }
        let trimmed = raw.strip_prefix('/').unwrap_or(raw);
        let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
        if trimmed.is_empty() {
            return Ok(Self::root());
        }
        let names = trimmed.split('/').map(Name::new).collect::<Result<Vec<_>, _>>()?;
        let path = Self(names);
        if path.to_string().len() > MAX_PATH_BYTES {
            return Err(NameError::PathTooLong);
        }
        Ok(path)
    }

    pub fn root() -> Self {
        Self(Vec::new())
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    pub fn names(&self) -> &[Name] {
        &self.0
    }

    /// The last component, unless this is the root.
    pub fn file_name(&self) -> Option<&Name> {
        self.0.last()
    }

    /// The path without its last component.
    pub fn parent(&self) -> Option<RemotePath> {
        if self.0.is_empty() { None } else { Some(Self(self.0[..self.0.len() - 1].to_vec())) }
    }

    pub fn join(&self, name: Name) -> RemotePath {
        let mut names = self.0.clone();
        names.push(name);
        Self(names)
    }

    /// True when `self` is `other` or lies below it.
    pub fn starts_with(&self, other: &RemotePath) -> bool {
        self.0.len() >= other.0.len()
            && self.0.iter().zip(&other.0).all(|(a, b)| a.collision_key() == b.collision_key())
    }
}

impl fmt::Display for RemotePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("/");
        }
        for n in &self.0 {
            write!(f, "/{n}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for RemotePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_bad_names() {
        assert_eq!(Name::new(""), Err(NameError::Empty));
        assert_eq!(Name::new("."), Err(NameError::Dot));
        assert_eq!(Name::new(".."), Err(NameError::Dot));
        assert_eq!(Name::new("a/b"), Err(NameError::Slash));
        assert_eq!(Name::new("a\0b"), Err(NameError::Control));
        assert_eq!(Name::new("a\nb"), Err(NameError::Control));
        assert_eq!(Name::new(&"x".repeat(256)), Err(NameError::NameTooLong));
        assert!(Name::new(&"x".repeat(255)).is_ok());
        assert!(Name::new("...").is_ok());
    }

    #[test]
    fn names_are_nfc_and_collide_by_case() {
        let decomposed = Name::new("e\u{301}t\u{e9}").expect("valid");
        assert_eq!(decomposed.as_str(), "\u{e9}t\u{e9}");
        assert_eq!(Name::new("Report.TXT").expect("valid").collision_key(), "report.txt");
    }

    #[test]
    fn paths_parse_strictly() {
        assert!(RemotePath::parse("/").expect("root").is_root());
        assert!(RemotePath::parse("").expect("root").is_root());
        assert_eq!(RemotePath::parse("a/b/").expect("ok").to_string(), "/a/b");
        assert_eq!(RemotePath::parse("/a/../b"), Err(NameError::Dot));
        assert_eq!(RemotePath::parse("a//b"), Err(NameError::Empty));
        assert_eq!(RemotePath::parse(&"a/".repeat(3000)), Err(NameError::PathTooLong));
        let p = RemotePath::parse("/A/b").expect("ok");
        assert!(p.starts_with(&RemotePath::parse("/a").expect("ok")));
        assert!(!RemotePath::parse("/ab").expect("ok").starts_with(&RemotePath::parse("/a").expect("ok")));
    }

    #[test]
    fn suffixes_keep_the_extension() {
        let n = Name::new("report.txt").expect("valid");
        assert_eq!(n.with_suffix("1").as_str(), "report (1).txt");
        assert_eq!(Name::new(".bashrc").expect("valid").with_suffix("2").as_str(), ".bashrc (2)");
        let long = Name::new(&format!("{}.txt", "y".repeat(251))).expect("valid");
        assert!(Name::new(long.with_suffix("12").as_str()).is_ok());
        let long_ext = Name::new(&format!("a.{}", "z".repeat(253))).expect("valid");
        let suffixed = long_ext.with_suffix("restored");
        assert!(Name::new(suffixed.as_str()).is_ok(), "{} bytes", suffixed.as_str().len());
    }
}
