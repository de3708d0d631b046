//! Shared folders that left the account: their local copies are kept, renamed aside and
//! left out of sync, never mirrored as deletes.

use std::path::Path;

use coffer_core::RemotePath;

use super::{Engine, Mount, SyncError, Trees, below_any, key, local_path};

/// Why the local copy of a shared folder stopped syncing.
const NO_LONGER_SHARED: &str = "no longer shared with you (its owner removed you, or you left it): kept on this \
     device and no longer synced; move out what you want to keep, or delete it";

/// What a folder's local copy is renamed to when its shared folder leaves the account.
const DETACHED_SUFFIX: &str = "no longer shared";

/// Leaves detached folders (and everything below them) out of all three trees.
pub(super) fn leave_out_detached(trees: &mut Trees, detached: &[(RemotePath, String)]) {
    if detached.is_empty() {
        return;
    }
    let inside = below_any(detached.iter().map(|(p, _)| key(p)).collect());
    trees.remote.retain(|k, _| !inside(k));
    trees.local.retain(|k, _| !inside(k));
    trees.synced.retain(|k, _| !inside(k));
}

/// The path of an existing item on disk whose names match `path`'s case-insensitively
/// (the key the engine compares names by), spelled as on disk; `None` if there is none.
pub(super) fn spelled_on_disk(root: &Path, path: &RemotePath) -> Option<RemotePath> {
    let mut found = RemotePath::root();
    for name in path.names() {
        let here = local_path(root, &found);
        let exact = here.join(name.as_str());
        let next = if std::fs::symlink_metadata(&exact).is_ok() {
            name.clone()
        } else {
            let want = name.collision_key();
            std::fs::read_dir(&here).ok()?.flatten().find_map(|e| {
                let n = coffer_core::Name::new(e.file_name().to_str()?).ok()?;
                (n.collision_key() == want).then_some(n)
            })?
        };
        found = found.join(next);
    }
    Some(found)
}

impl Engine {
    /// A shared folder that left the account (its owner removed the user, or the user
    /// left it elsewhere) is not mirrored as deletes: its local copy is renamed to
    /// `NAME (no longer shared)`, kept, and no longer synced (`coffer status` says so).
    /// A detached folder the user deleted or moved away is forgotten.
    pub(super) async fn detach_lost_mounts(&self, mounts: &[Mount]) -> Result<(), SyncError> {
        let now: Vec<(i64, String)> = mounts.iter().map(|(p, _, ns)| (*ns, p.to_string())).collect();
        // A detached folder moved away or deleted is forgotten; one renamed only by case
        // is followed.
        let before = self.state.detached().await?;
        let detached: Vec<(RemotePath, String)> = before
            .iter()
            .filter_map(|(p, why)| {
                let found = spelled_on_disk(&self.root, p)?;
                local_path(&self.root, &found).is_dir().then(|| (found, why.clone()))
            })
            .collect();
        let mut changed = detached != before;
        let mut detached = detached;
        for (ns, path) in self.state.known_mounts().await?.unwrap_or_default() {
            if now.iter().any(|(n, _)| *n == ns) {
                continue;
            }
            let Ok(path) = RemotePath::parse(&path) else { continue };
            self.state.forget_below(&path).await?;
            // Spelled as on disk: a case-only rename here may not have reached the server.
            let Some(path) = spelled_on_disk(&self.root, &path) else { continue };
            let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else { continue };
            let local = local_path(&self.root, &path);
            if !local.is_dir() {
                continue;
            }
            let mut n = 1;
            let aside = loop {
                let candidate = match n {
                    1 => format!("{} ({DETACHED_SUFFIX})", name.as_str()),
                    n => format!("{} ({DETACHED_SUFFIX} {n})", name.as_str()),
                };
                let candidate =
                    parent.join(coffer_core::Name::new(&candidate).map_err(|e| std::io::Error::other(e.to_string()))?);
                if std::fs::symlink_metadata(local_path(&self.root, &candidate)).is_err() {
                    break candidate;
                }
                n += 1;
            };
            std::fs::rename(&local, local_path(&self.root, &aside))?;
            tracing::info!(folder = %path, kept_as = %aside, "a shared folder left the account; its local copy is kept");
            detached.push((aside, NO_LONGER_SHARED.to_owned()));
            changed = true;
        }
        if changed {
            self.state.set_detached(&detached).await?;
        }
        self.state.set_known_mounts(&now).await?;
        Ok(())
    }
}
