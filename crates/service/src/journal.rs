//! The journal as clients see it: `delta(cursor)` and a long-poll.
//!
//! A cursor is `v1:` followed by `namespace=seq` pairs for every namespace the caller
//! can see; it stays valid across restarts and server nodes.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use coffer_core::ErrorCode;
use coffer_core::wire::{Change, ChangeKind, DeltaResponse, NodeInfo, NodeKind};
use coffer_core::{ContentHash, Cursor, NamespaceId, NodeId, RevisionId};
use coffer_metastore::{JournalRecord, NodeRecord};

use crate::access::Caller;
use crate::tree::node_info;
use crate::{Result, Service, ServiceError};

pub const MAX_DELTA_PAGE: i64 = 2000;

fn decode_cursor(cursor: Option<&str>) -> Result<BTreeMap<NamespaceId, i64>> {
    Cursor::parse(cursor.unwrap_or(""))
        .map(|c| c.positions.into_iter().map(|(ns, seq)| (NamespaceId(ns), seq)).collect())
        .map_err(|_| ServiceError::new(ErrorCode::InvalidCursor, "the cursor is malformed"))
}

fn encode_cursor(map: &BTreeMap<NamespaceId, i64>) -> String {
    Cursor { positions: map.iter().map(|(ns, seq)| (ns.get(), *seq)).collect() }.to_string()
}

fn change_kind(s: &str) -> ChangeKind {
    match s {
        "created" => ChangeKind::Created,
        "modified" => ChangeKind::Modified,
        "moved" => ChangeKind::Moved,
        "trashed" => ChangeKind::Trashed,
        "restored" => ChangeKind::Restored,
        _ => ChangeKind::Deleted,
    }
}

fn change_of(r: &JournalRecord) -> Change {
    Change {
        namespace_id: r.namespace_id.get(),
        seq: r.seq,
        kind: change_kind(&r.kind),
        node: NodeInfo {
            id: r.node_id.get(),
            namespace_id: r.namespace_id.get(),
            parent_id: r.parent_id.map(NodeId::get),
            name: r.name.clone(),
            kind: if r.is_folder { NodeKind::Folder } else { NodeKind::File },
            path: None,
            size: r.size.max(0) as u64,
            rev: r.rev.map(RevisionId::get),
            content_hash: r.content_hash.as_deref().and_then(ContentHash::from_slice),
            modified_at: r.at,
            mtime: r.mtime,
            mode: r.mode,
            trashed: r.trashed,
        },
    }
}

impl Service {
    /// Changes since `cursor` (all of history for no cursor), oldest first, paged.
    pub async fn delta(&self, caller: &Caller, cursor: Option<&str>, limit: Option<i64>) -> Result<DeltaResponse> {
        let mut positions = decode_cursor(cursor)?;
        let limit = limit.unwrap_or(1000).clamp(1, MAX_DELTA_PAGE);
        let mut tx = self.meta().read().await?;
        let joined = tx.namespace_positions_joined(caller.user_id()).await?;
        let visible: Vec<(NamespaceId, i64)> = joined.iter().map(|(ns, seq, _)| (*ns, *seq)).collect();
        let view = self.view(&mut tx, caller).await?;
        // Namespaces the caller can no longer see drop out of the cursor.
        positions.retain(|ns, _| visible.iter().any(|(v, _)| v == ns));
        // A position from before the membership began (the mark the join left in the
        // folder's journal) was reached in an earlier membership: the caller was removed
        // and added again before this device looked, and the device dropped its copy of
        // the folder with the old mount, so it gets the whole history again.
        for (ns, _, start) in &joined {
            if positions.get(ns).is_some_and(|p| p < start) {
                positions.remove(ns);
            }
        }
        let visible_set: HashSet<NamespaceId> = visible.iter().map(|(ns, _)| *ns).collect();
        let mut picked: Vec<JournalRecord> = Vec::new();
        let mut has_more = false;
        for (ns, latest) in visible {
            let after = positions.get(&ns).copied().unwrap_or(0);
            if latest <= after {
                // Nothing new here: no query.
                positions.insert(ns, after);
                continue;
            }
            let budget = limit - picked.len() as i64;
            if budget <= 0 {
                has_more = true;
                break;
            }
            let rows = tx.journal_since(ns, after, budget + 1).await?;
            if rows.len() as i64 > budget {
                has_more = true;
            }
            for r in rows.into_iter().take(budget as usize) {
                positions.insert(ns, r.seq);
                picked.push(r);
            }
            positions.entry(ns).or_insert(after);
        }
        // Each row says which node changed; what it is now is read from the node itself.
        // Journals of different namespaces have no common order, and a node that moved
        // between two of them is told of in both: were each row's own snapshot applied, the
        // older one could come last. Current state in every row makes the order moot.
        let mut ids: Vec<NodeId> = picked.iter().map(|r| r.node_id).collect();
        ids.sort();
        ids.dedup();
        let current: HashMap<NodeId, NodeRecord> =
            tx.nodes_by_ids(&ids).await?.into_iter().map(|n| (n.id, n)).collect();
        let mut changes = Vec::with_capacity(picked.len());
        for r in &picked {
            // One tree per device: a shared folder's root is the caller's mount (told of
            // in their home's journal), and its children hang below that mount.
            if view.is_shared_root(r.node_id) {
                continue;
            }
            let mut change = match current.get(&r.node_id) {
                Some(n) if visible_set.contains(&n.namespace_id) => {
                    let kind = match change_kind(&r.kind) {
                        // The node is back (restored, or moved in again) since.
                        ChangeKind::Deleted => ChangeKind::Moved,
                        kind => kind,
                    };
                    Change { namespace_id: r.namespace_id.get(), seq: r.seq, kind, node: node_info(n, None) }
                }
                // Purged, or moved where the caller cannot see it.
                _ => Change { kind: ChangeKind::Deleted, ..change_of(r) },
            };
            if let Some(mount) = change.node.parent_id.and_then(|p| view.mount_of_root(NodeId(p))) {
                change.node.parent_id = Some(mount.id.get());
            }
            changes.push(change);
        }
        Ok(DeltaResponse { changes, cursor: encode_cursor(&positions), has_more })
    }

    /// The cursor for "now": where a client that just listed everything starts.
    pub async fn latest_cursor(&self, caller: &Caller) -> Result<String> {
        let mut tx = self.meta().read().await?;
        let positions: BTreeMap<NamespaceId, i64> =
            tx.namespace_positions(caller.user_id()).await?.into_iter().collect();
        Ok(encode_cursor(&positions))
    }

    /// Waits until something changes after `cursor` or `timeout` passes; true if changed.
    pub async fn wait_for_change(&self, caller: &Caller, cursor: Option<&str>, timeout: Duration) -> Result<bool> {
        let positions = decode_cursor(cursor)?;
        let namespaces = {
            let mut tx = self.meta().read().await?;
            self.visible_namespaces(&mut tx, caller).await?
        };
        // Subscribe before reading, so a change between the read and the wait is seen.
        let mut receivers: Vec<_> = namespaces.iter().map(|ns| self.inner.notifier.subscribe(*ns)).collect();
        let changed_now = {
            let mut tx = self.meta().read().await?;
            let now = tx.namespace_positions(caller.user_id()).await?;
            now.iter().any(|(ns, seq)| *seq > positions.get(ns).copied().unwrap_or(0))
        };
        if changed_now {
            return Ok(true);
        }
        if receivers.is_empty() {
            tokio::time::sleep(timeout).await;
            return Ok(false);
        }
        let waits = receivers.iter_mut().map(|r| Box::pin(r.changed()));
        let any = futures::future::select_all(waits);
        Ok(tokio::time::timeout(timeout, any).await.is_ok())
    }
}
