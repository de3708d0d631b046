//! Walking folders for a zip download: a public link's folder, or a signed-in user's
//! selection of files and folders. Depth first, parents before their contents, each
//! folder's items by name; memory stays at one page of children per level whatever the
//! folders hold.

use std::collections::VecDeque;

use coffer_core::{ErrorCode, Permission};
use coffer_metastore::NodeRecord;
use futures::Stream;

use crate::access::Caller;
use crate::links::LinkEntry;
use crate::tree::parse_path;
use crate::{Result, Service, ServiceError};

/// Children fetched at a time while walking a folder.
const WALK_PAGE: i64 = 256;
/// Items one selection may name.
pub const MAX_SELECTION: usize = 1000;

/// What a walk does at a shared folder mounted below where it started.
#[derive(Clone)]
pub(crate) enum Mounts {
    /// Leaves it out (a public link covers only its owner's own folder).
    Skip,
    /// Goes in, as the caller sees it, if the caller may read there.
    Follow(Caller),
}

struct Level {
    id: coffer_core::NodeId,
    path: String,
    page: VecDeque<NodeRecord>,
    after: Option<String>,
    exhausted: bool,
}

fn entry(n: &NodeRecord, path: String) -> LinkEntry {
    LinkEntry {
        path,
        is_folder: n.is_folder,
        mtime: n.mtime.unwrap_or(n.modified_at),
        size: n.size.max(0) as u64,
        node: n.id,
        rev: n.current_rev,
    }
}

/// Walks each of `roots` (a node and the name it has in the archive) in turn.
pub(crate) fn walk_nodes(
    service: Service,
    roots: Vec<(NodeRecord, String)>,
    mounts: Mounts,
) -> impl Stream<Item = Result<LinkEntry>> + Send + 'static {
    let state = (VecDeque::from(roots), Vec::<Level>::new());
    futures::stream::try_unfold(state, move |(mut roots, mut levels)| {
        let (service, mounts) = (service.clone(), mounts.clone());
        async move {
            loop {
                let Some(top) = levels.last_mut() else {
                    let Some((node, name)) = roots.pop_front() else { return Ok(None) };
                    let first = entry(&node, name.clone());
                    if node.is_folder {
                        levels.push(Level {
                            id: node.id,
                            path: name,
                            page: VecDeque::new(),
                            after: None,
                            exhausted: false,
                        });
                    }
                    return Ok(Some((first, (roots, levels))));
                };
                if top.page.is_empty() && !top.exhausted {
                    let mut tx = service.meta().read().await?;
                    let rows = tx.children(top.id, top.after.as_deref(), WALK_PAGE).await?;
                    top.exhausted = (rows.len() as i64) < WALK_PAGE;
                    top.after = rows.last().map(|n| n.name.clone());
                    let mut page = VecDeque::with_capacity(rows.len());
                    for n in rows {
                        match (n.mount_namespace_id, &mounts) {
                            (None, _) => page.push_back(n),
                            (Some(_), Mounts::Skip) => {}
                            (Some(shared), Mounts::Follow(caller)) => {
                                // The shared folder's root, under the mount's name; left out
                                // if the caller is no longer a member.
                                if service.role_in(&mut tx, caller, shared).await.is_err() {
                                    continue;
                                }
                                let root = tx.namespace_root(shared).await?;
                                if let Some(mut r) = tx.node(root).await? {
                                    r.name = n.name.clone();
                                    page.push_back(r);
                                }
                            }
                        }
                    }
                    top.page = page;
                }
                let Some(child) = top.page.pop_front() else {
                    levels.pop();
                    continue;
                };
                let path = format!("{}/{}", top.path, child.name);
                let found = entry(&child, path.clone());
                if child.is_folder {
                    levels.push(Level { id: child.id, path, page: VecDeque::new(), after: None, exhausted: false });
                }
                return Ok(Some((found, (roots, levels))));
            }
        }
    })
}

impl Service {
    /// Walks a signed-in user's selection (paths of files and folders, each needing read
    /// access) for a zip: each item under its own name at the top of the archive, shared
    /// folders below them included. The whole tree (`/`) is named "Coffer".
    pub async fn walk(
        &self,
        caller: &Caller,
        paths: &[String],
    ) -> Result<impl Stream<Item = Result<LinkEntry>> + Send + 'static> {
        if paths.is_empty() || paths.len() > MAX_SELECTION {
            return Err(ServiceError::new(
                ErrorCode::BadRequest,
                format!("a selection names 1 to {MAX_SELECTION} items"),
            ));
        }
        let mut roots = Vec::with_capacity(paths.len());
        let mut names = std::collections::HashSet::new();
        let mut tx = self.meta().read().await?;
        for p in paths {
            let path = parse_path(p)?;
            let located = self.locate(&mut tx, caller, &path, Permission::Read).await?;
            let node = located.existing(&path)?;
            let name = path.file_name().map_or_else(|| "Coffer".to_owned(), |n| n.as_str().to_owned());
            // Two selected items of one name (from different folders) would collide in
            // the archive: the second is refused rather than silently merged.
            if !names.insert(name.to_lowercase()) {
                return Err(ServiceError::new(
                    ErrorCode::AlreadyExists,
                    format!("two selected items are named '{name}'; download them separately"),
                ));
            }
            roots.push((node, name));
        }
        Ok(walk_nodes(self.clone(), roots, Mounts::Follow(caller.clone())))
    }
}
