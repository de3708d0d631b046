//! Journal cursors: `v1:` then `namespace=seq` pairs, one per namespace a user can see.
//! Server and clients share this format, so a client can tell from a notification
//! whether its cursor is behind.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// Where a client stands in each namespace's journal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cursor {
    pub positions: BTreeMap<i64, i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the cursor is malformed")]
pub struct CursorError;

/// Longest cursor accepted (about 3,000 namespaces).
const MAX_CURSOR_BYTES: usize = 64 * 1024;

impl Cursor {
    /// The seq of a namespace (0 when the cursor has not seen it).
    pub fn seq(&self, namespace_id: i64) -> i64 {
        self.positions.get(&namespace_id).copied().unwrap_or(0)
    }

    /// Parses a cursor; the empty string is the start of every journal.
    pub fn parse(raw: &str) -> Result<Self, CursorError> {
        raw.parse()
    }
}

impl FromStr for Cursor {
    type Err = CursorError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        if raw.is_empty() {
            return Ok(Self::default());
        }
        if raw.len() > MAX_CURSOR_BYTES {
            return Err(CursorError);
        }
        let body = raw.strip_prefix("v1:").ok_or(CursorError)?;
        if body.is_empty() {
            return Ok(Self::default());
        }
        let positions = body
            .split(',')
            .map(|pair| {
                let (ns, seq) = pair.split_once('=').ok_or(CursorError)?;
                let ns: i64 = ns.parse().map_err(|_| CursorError)?;
                let seq: i64 = seq.parse().map_err(|_| CursorError)?;
                if seq < 0 { Err(CursorError) } else { Ok((ns, seq)) }
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { positions })
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("v1:")?;
        for (i, (ns, seq)) in self.positions.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{ns}={seq}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let mut c = Cursor::default();
        c.positions.insert(3, 10);
        c.positions.insert(7, 0);
        assert_eq!(c.to_string(), "v1:3=10,7=0");
        assert_eq!(Cursor::parse(&c.to_string()), Ok(c.clone()));
        assert_eq!(Cursor::parse(""), Ok(Cursor::default()));
        assert_eq!(c.seq(3), 10);
        assert_eq!(c.seq(99), 0);
        for bad in ["x", "v1:3", "v1:a=1", "v1:1=-4", "v2:1=1", "v1:1=1,"] {
            assert!(Cursor::parse(bad).is_err(), "{bad}");
        }
    }
}
