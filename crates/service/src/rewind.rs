//! Point-in-time restore: a folder, a file or the whole account put back as it was at
//! a moment, from the journal (each node's last change at or before then).
//!
//! Nothing in the history is rewritten: old content comes back as a new revision, moved
//! and deleted items are moved back or restored from the trash, items made since go to
//! the trash. So a restore is undone the same way, and sync clients see ordinary changes.
//! The plan is made in one read; the changes are applied in batches of short write
//! transactions, each step checked again against the node as it is then.

use std::collections::{HashMap, HashSet};

use coffer_core::wire::{ChangeKind, NodeKind, RestoreAction, RestoreAtResponse, RestoreChange, RestoreSkip};
use coffer_core::{ErrorCode, Manifest, Name, NamespaceId, NodeId, Permission, RemotePath, RevisionId, UserId};
use coffer_metastore::{FileHead, JournalRecord, NodeRecord, RevisionRecord, Tx};

use crate::access::Caller;
use crate::tree::{change_name, create_folder, distinct_hashes, parse_path};
use crate::{Result, Service, ServiceError, now_ms};

/// Steps applied per write transaction.
const BATCH: usize = 500;

/// A node as it was at the moment restored to.
#[derive(Debug, Clone)]
struct Then {
    id: NodeId,
    /// `None` for the item restored (its place is the path asked for).
    parent: Option<NodeId>,
    name: String,
    is_folder: bool,
    rev: Option<RevisionId>,
    mtime: Option<i64>,
    /// The path the caller knows it by, as it was then.
    path: String,
}

#[derive(Debug, Clone)]
enum Step {
    /// Put a node (moved, renamed or in the trash) back at its place.
    Place { then: usize },
    /// Make a folder again in place of one deleted for good or moved out of reach.
    Recreate { then: usize },
    /// Make an old revision current again.
    Content { then: usize },
    /// Move an item made since to the trash.
    Trash { id: NodeId, path: String },
}

struct Plan {
    namespace: NamespaceId,
    /// The place of the item restored: its parent folder's path inside the namespace
    /// (made when missing) and its name; `None` for a namespace's root.
    place: Option<(RemotePath, Name)>,
    then: Vec<Then>,
    steps: Vec<Step>,
    changes: Vec<RestoreChange>,
    skipped: Vec<RestoreSkip>,
}

fn kind(is_folder: bool) -> NodeKind {
    if is_folder { NodeKind::Folder } else { NodeKind::File }
}

fn join(parent: &str, name: &str) -> String {
    if parent == "/" { format!("/{name}") } else { format!("{parent}/{name}") }
}

fn alive(r: &JournalRecord) -> bool {
    !r.trashed && r.kind != change_name(ChangeKind::Deleted)
}

impl Service {
    /// Puts `path` (a folder, a file, or `/`) back as it was at `at` (ms since the
    /// epoch), or with `dry_run` only says what that would change.
    pub async fn restore_at(&self, caller: &Caller, path: &str, at: i64, dry_run: bool) -> Result<RestoreAtResponse> {
        let path = parse_path(path)?;
        let now = now_ms();
        if at <= 0 || at > now {
            return Err(ServiceError::new(ErrorCode::BadRequest, "the moment to restore to must be in the past"));
        }
        let mut plan = {
            let mut tx = self.meta().read().await?;
            self.plan_restore(&mut tx, caller, &path, at).await?
        };
        if !dry_run && !plan.steps.is_empty() {
            self.apply_restore(caller, &mut plan).await?;
        }
        Ok(RestoreAtResponse { path: path.to_string(), at, dry_run, changes: plan.changes, skipped: plan.skipped })
    }

    async fn plan_restore(&self, tx: &mut Tx, caller: &Caller, path: &RemotePath, at: i64) -> Result<Plan> {
        let located = self.locate(tx, caller, path, Permission::Write).await?;
        let namespace = located.node.namespace_id;
        let root = tx.namespace_root(namespace).await?;
        // The path inside the namespace: where the walk reached, plus what is missing.
        let mut inner = RemotePath::parse(&self.path_of(tx, located.node.id).await?)?;
        for name in &located.missing {
            inner = inner.join(name.clone());
        }
        let current_at_path = if located.missing.is_empty() { Some(located.node.id) } else { None };

        // The namespace as it was: children of each folder alive then.
        let mut children: HashMap<NodeId, Vec<JournalRecord>> = HashMap::new();
        for r in tx.journal_state_at(namespace, at).await? {
            if alive(&r)
                && let Some(p) = r.parent_id
            {
                children.entry(p).or_default().push(r);
            }
        }
        let not_then = || ServiceError::not_found(format!("nothing was at '{path}' at that moment"));
        let mut target = Then {
            id: root,
            parent: None,
            name: String::new(),
            is_folder: true,
            rev: None,
            mtime: None,
            path: path.to_string(),
        };
        for name in inner.names() {
            let key = name.collision_key();
            let found = children
                .get(&target.id)
                .and_then(|c| c.iter().find(|r| Name::new(&r.name).is_ok_and(|n| n.collision_key() == key)))
                .ok_or_else(not_then)?;
            if !target.is_folder {
                return Err(not_then());
            }
            target = Then {
                id: found.node_id,
                parent: None,
                name: found.name.clone(),
                is_folder: found.is_folder,
                rev: found.rev,
                mtime: found.mtime,
                path: path.to_string(),
            };
        }
        let place = match (inner.parent(), inner.file_name()) {
            (Some(parent), Some(_)) => Some((parent, Name::new(&target.name)?)),
            _ => None,
        };

        // Everything below it then, parents before children.
        let mut then = vec![target];
        let mut i = 0;
        while i < then.len() {
            if then[i].is_folder {
                let (id, base) = (then[i].id, then[i].path.clone());
                let mut kids = children.remove(&id).unwrap_or_default();
                kids.sort_by(|a, b| a.name.cmp(&b.name));
                for r in kids {
                    then.push(Then {
                        id: r.node_id,
                        parent: Some(id),
                        path: join(&base, &r.name),
                        name: r.name,
                        is_folder: r.is_folder,
                        rev: r.rev,
                        mtime: r.mtime,
                    });
                }
            }
            i += 1;
        }
        drop(children);

        // Everything that is there now: below the item, below each folder of then that
        // is elsewhere now, and whatever holds the path now.
        let then_ids: HashSet<NodeId> = then.iter().map(|t| t.id).collect();
        let mut outline: Vec<(NodeId, Option<NodeId>, i64, bool)> = Vec::new();
        let mut seen: HashSet<NodeId> = HashSet::new();
        let mut tops: Vec<NodeId> = current_at_path.into_iter().collect();
        tops.push(then[0].id);
        let ids: Vec<NodeId> = then.iter().map(|t| t.id).collect();
        let mut now: HashMap<NodeId, NodeRecord> =
            tx.nodes_by_ids(&ids).await?.into_iter().map(|n| (n.id, n)).collect();
        tops.extend(
            then.iter()
                .filter(|t| t.is_folder && now.get(&t.id).is_some_and(|n| n.namespace_id == namespace))
                .map(|t| t.id),
        );
        for top in tops {
            if seen.contains(&top) || (!now.contains_key(&top) && current_at_path != Some(top)) {
                continue;
            }
            for o in tx.subtree_outline(top).await? {
                if seen.insert(o.0) {
                    outline.push(o);
                }
            }
        }
        let missing: Vec<NodeId> = outline.iter().map(|o| o.0).filter(|id| !now.contains_key(id)).collect();
        now.extend(tx.nodes_by_ids(&missing).await?.into_iter().map(|n| (n.id, n)));

        let view = self.view(tx, caller).await?;
        let mut plan = Plan { namespace, place, then, steps: Vec::new(), changes: Vec::new(), skipped: Vec::new() };
        let mut paths = PathCache::default();

        // Items of then: put back, made again, or given their old content.
        let mut recreated: HashSet<NodeId> = HashSet::new();
        let target_place = self.place_now(tx, &plan).await?;
        for (idx, t) in plan.then.iter().enumerate() {
            let cur = now.get(&t.id).filter(|n| n.namespace_id == namespace);
            let parent_recreated = t.parent.is_some_and(|p| recreated.contains(&p));
            let Some(cur) = cur else {
                if t.is_folder {
                    recreated.insert(t.id);
                    plan.steps.push(Step::Recreate { then: idx });
                    plan.changes.push(RestoreChange {
                        action: RestoreAction::Recreate,
                        kind: NodeKind::Folder,
                        path: t.path.clone(),
                        from: None,
                        rev: None,
                    });
                } else {
                    let reason = match now.get(&t.id) {
                        Some(_) => "the file is now in another shared folder",
                        None => "the file was deleted for good (removed from the trash)",
                    };
                    plan.skipped.push(RestoreSkip { path: t.path.clone(), reason: reason.into() });
                }
                continue;
            };
            if t.parent.is_none() && plan.place.is_none() {
                // A namespace's root: it has no place to go back to.
            } else {
                let parent_now = match t.parent {
                    Some(p) => Some(p),
                    None => target_place,
                };
                let moved = parent_recreated || cur.parent_id != parent_now || cur.name != t.name;
                if cur.trashed_at.is_some() || moved {
                    plan.steps.push(Step::Place { then: idx });
                    let undelete = cur.trashed_at.is_some();
                    let from = if undelete { None } else { paths.get(self, tx, &view, &now, cur.id).await? };
                    plan.changes.push(RestoreChange {
                        action: if undelete { RestoreAction::Undelete } else { RestoreAction::Move },
                        kind: kind(t.is_folder),
                        path: t.path.clone(),
                        from,
                        rev: None,
                    });
                }
            }
            if !t.is_folder
                && let Some(rev) = t.rev
                && cur.current_rev != Some(rev)
            {
                if tx.revision(rev).await?.is_some_and(|r| r.node_id == t.id) {
                    plan.steps.push(Step::Content { then: idx });
                    plan.changes.push(RestoreChange {
                        action: RestoreAction::Content,
                        kind: NodeKind::File,
                        path: t.path.clone(),
                        from: None,
                        rev: Some(rev.get()),
                    });
                } else {
                    plan.skipped.push(RestoreSkip {
                        path: t.path.clone(),
                        reason: "the version it had then is no longer kept".into(),
                    });
                }
            }
        }

        // Items made (or moved in) since: the topmost of those still there after the
        // items of then are back go to the trash, with what is below them.
        let mut live_extra: HashSet<NodeId> = HashSet::new();
        for (id, parent, _, trashed) in &outline {
            if then_ids.contains(id) || *trashed {
                continue;
            }
            let Some(node) = now.get(id) else { continue };
            let under_then = parent.is_some_and(|p| then_ids.contains(&p));
            let under_extra = parent.is_some_and(|p| live_extra.contains(&p));
            let at_path = current_at_path == Some(*id);
            if !(under_then || under_extra || at_path) {
                continue;
            }
            live_extra.insert(*id);
            if under_extra {
                continue;
            }
            let shown = paths.get(self, tx, &view, &now, *id).await?.unwrap_or_else(|| node.name.clone());
            if node.mount_namespace_id.is_some() || node.is_folder && tx.subtree_has_mount(*id).await? {
                plan.skipped.push(RestoreSkip {
                    path: shown,
                    reason: "a shared folder (or a folder holding one) joined since stays; leave it to remove it"
                        .into(),
                });
                continue;
            }
            plan.steps.push(Step::Trash { id: *id, path: shown.clone() });
            plan.changes.push(RestoreChange {
                action: RestoreAction::Trash,
                kind: kind(node.is_folder),
                path: shown,
                from: None,
                rev: None,
            });
        }
        Ok(plan)
    }

    /// The folder the item restored goes into, as it is now (`None` when it does not
    /// exist yet or the item is a namespace's root).
    async fn place_now(&self, tx: &mut Tx, plan: &Plan) -> Result<Option<NodeId>> {
        let Some((parent, _)) = &plan.place else { return Ok(None) };
        let mut node = tx.namespace_root(plan.namespace).await?;
        for name in parent.names() {
            match tx.child(plan.namespace, node, &name.collision_key()).await? {
                Some(c) if c.is_folder && c.mount_namespace_id.is_none() => node = c.id,
                _ => return Ok(None),
            }
        }
        Ok(Some(node))
    }

    async fn apply_restore(&self, caller: &Caller, plan: &mut Plan) -> Result<()> {
        let namespace = plan.namespace;
        // Folders made again, by their id of then.
        let mut actual: HashMap<NodeId, NodeId> = HashMap::new();
        // Items moved out of the way, with the name they had.
        let mut aside: HashMap<NodeId, String> = HashMap::new();
        let mut undeleted: Vec<NodeId> = Vec::new();
        let owner = {
            let mut tx = self.meta().read().await?;
            self.quota_owner(&mut tx, namespace).await?
        };
        let steps = std::mem::take(&mut plan.steps);
        for batch in steps.chunks(BATCH) {
            let now = now_ms();
            let mut tx = self.meta().write().await?;
            tx.lock_namespace(caller.home()).await?;
            if namespace != caller.home() {
                tx.lock_namespace(namespace).await?;
            }
            self.access_namespace(&mut tx, caller, namespace, Permission::Write).await?;
            for step in batch {
                let mut ctx = Apply { tx: &mut tx, plan, actual: &mut actual, aside: &mut aside, now };
                match step {
                    Step::Place { then } => {
                        if let Some(folder) = self.apply_place(&mut ctx, *then).await? {
                            undeleted.push(folder);
                        }
                    }
                    Step::Recreate { then } => self.apply_recreate(&mut ctx, *then).await?,
                    Step::Content { then } => self.apply_content(&mut ctx, caller, owner, *then).await?,
                    Step::Trash { id, path } => self.apply_trash(&mut ctx, *id, path).await?,
                }
            }
            self.check_node_limit(&mut tx, namespace).await?;
            tx.commit().await?;
            self.notify(&[namespace]);
        }
        // What came back inside folders restored from the trash is told of in batches.
        for folder in undeleted {
            let mut tx = self.meta().write().await?;
            tx.start_restore_job(folder, namespace).await?;
            tx.commit().await?;
            self.journal_restore(folder, namespace, (0, folder)).await?;
        }
        Ok(())
    }

    /// The folder a node of then goes into now.
    async fn parent_for(&self, ctx: &mut Apply<'_>, idx: usize) -> Result<Option<NodeId>> {
        let t = &ctx.plan.then[idx];
        match t.parent {
            Some(p) => Ok(Some(*ctx.actual.get(&p).unwrap_or(&p))),
            None => {
                let Some((parent, _)) = ctx.plan.place.clone() else { return Ok(None) };
                let root_id = ctx.tx.namespace_root(ctx.plan.namespace).await?;
                let root = ctx.tx.node(root_id).await?.ok_or_else(|| ServiceError::not_found("root"))?;
                Ok(Some(self.ensure_folders_below(ctx.tx, root, &parent, ctx.now).await?.id))
            }
        }
    }

    /// Moves whatever holds `name` in `parent` (other than `keep`) out of the way, with
    /// a suffixed name; it is trashed later if it is an item made since.
    async fn clear_place(&self, ctx: &mut Apply<'_>, parent: NodeId, name: &Name, keep: Option<NodeId>) -> Result<()> {
        let ns = ctx.plan.namespace;
        let Some(o) = ctx.tx.child(ns, parent, &name.collision_key()).await? else { return Ok(()) };
        if Some(o.id) == keep {
            return Ok(());
        }
        let base = Name::new(&o.name)?;
        let mut attempt = 1;
        let mut other = base.with_suffix("before restore");
        while ctx.tx.child(ns, parent, &other.collision_key()).await?.is_some() {
            attempt += 1;
            other = base.with_suffix(&format!("before restore {attempt}"));
        }
        ctx.tx.relocate_node(o.id, parent, other.as_str(), &other.collision_key(), ctx.now).await?;
        ctx.aside.entry(o.id).or_insert(o.name.clone());
        let moved = ctx.tx.node(o.id).await?.ok_or_else(|| ServiceError::not_found("item"))?;
        ctx.tx.append_journal(change_name(ChangeKind::Moved), &moved, ctx.now).await?;
        Ok(())
    }

    /// Returns the node when a folder came back from the trash.
    async fn apply_place(&self, ctx: &mut Apply<'_>, idx: usize) -> Result<Option<NodeId>> {
        let t = ctx.plan.then[idx].clone();
        let Some(parent) = self.parent_for(ctx, idx).await? else { return Ok(None) };
        let node = ctx.tx.node(t.id).await?.filter(|n| n.namespace_id == ctx.plan.namespace);
        let Some(node) = node else {
            ctx.skip(&t.path, "it was deleted for good during the restore");
            return Ok(None);
        };
        if node.trashed_at.is_none() && node.parent_id == Some(parent) && node.name == t.name {
            return Ok(None);
        }
        if node.is_folder && ctx.tx.ancestry(parent).await?.iter().any(|a| a.id == node.id) {
            ctx.skip(&t.path, "its old folder is now inside it; move that folder out first");
            return Ok(None);
        }
        let name = Name::new(&t.name)?;
        self.clear_place(ctx, parent, &name, Some(node.id)).await?;
        let kind = if node.trashed_at.is_some() {
            ctx.tx.untrash_node(node.id, parent, name.as_str(), &name.collision_key(), ctx.now).await?;
            ChangeKind::Restored
        } else {
            ctx.tx.relocate_node(node.id, parent, name.as_str(), &name.collision_key(), ctx.now).await?;
            ChangeKind::Moved
        };
        ctx.aside.remove(&node.id);
        let placed = ctx.tx.node(node.id).await?.ok_or_else(|| ServiceError::not_found("item"))?;
        ctx.tx.append_journal(change_name(kind), &placed, ctx.now).await?;
        Ok((kind == ChangeKind::Restored && placed.is_folder).then_some(placed.id))
    }

    async fn apply_recreate(&self, ctx: &mut Apply<'_>, idx: usize) -> Result<()> {
        let t = ctx.plan.then[idx].clone();
        let Some(parent) = self.parent_for(ctx, idx).await? else { return Ok(()) };
        let name = Name::new(&t.name)?;
        self.clear_place(ctx, parent, &name, None).await?;
        let made = create_folder(ctx.tx, ctx.plan.namespace, parent, &name, ctx.now).await?;
        ctx.actual.insert(t.id, made.id);
        Ok(())
    }

    async fn apply_content(&self, ctx: &mut Apply<'_>, caller: &Caller, owner: UserId, idx: usize) -> Result<()> {
        let t = ctx.plan.then[idx].clone();
        let Some(rev) = t.rev else { return Ok(()) };
        let node = ctx.tx.node(t.id).await?.filter(|n| n.namespace_id == ctx.plan.namespace);
        let Some(node) = node else {
            ctx.skip(&t.path, "it was deleted for good during the restore");
            return Ok(());
        };
        if node.current_rev == Some(rev) {
            return Ok(());
        }
        let Some(old) = ctx.tx.revision(rev).await?.filter(|r| r.node_id == node.id) else {
            ctx.skip(&t.path, "the version it had then is no longer kept");
            return Ok(());
        };
        if self.revert_to(ctx.tx, owner, &node, &old, caller, t.mtime, ctx.now).await?.is_none() {
            ctx.skip(&t.path, "it changed during the restore");
        }
        Ok(())
    }

    async fn apply_trash(&self, ctx: &mut Apply<'_>, id: NodeId, shown: &str) -> Result<()> {
        let Some(node) = ctx.tx.node(id).await?.filter(|n| n.trashed_at.is_none()) else { return Ok(()) };
        if node.mount_namespace_id.is_some() || node.is_folder && ctx.tx.subtree_has_mount(id).await? {
            ctx.skip(shown, "it holds a shared folder now");
            return Ok(());
        }
        // The place it is remembered by in the trash: its name before it was moved aside.
        let name = ctx.aside.remove(&id).unwrap_or_else(|| node.name.clone());
        let parent_path = match node.parent_id {
            Some(p) => self.path_of(ctx.tx, p).await?,
            None => "/".into(),
        };
        ctx.tx.trash_node(id, &join(&parent_path, &name), ctx.now).await?;
        let trashed = ctx.tx.node(id).await?.ok_or_else(|| ServiceError::not_found("item"))?;
        ctx.tx.append_journal(change_name(ChangeKind::Trashed), &trashed, ctx.now).await?;
        Ok(())
    }

    /// Makes `old` (a revision of `node`) current again as a new revision, with its
    /// modification time and mode, counted in full against `owner`'s quota. `mtime` is
    /// for revisions stored before they kept their own. `None` when the file changed
    /// meanwhile.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn revert_to(
        &self,
        tx: &mut Tx,
        owner: UserId,
        node: &NodeRecord,
        old: &RevisionRecord,
        caller: &Caller,
        mtime: Option<i64>,
        now: i64,
    ) -> Result<Option<NodeRecord>> {
        let manifest = Manifest::decode(&old.manifest)
            .map_err(|_| ServiceError::new(ErrorCode::Internal, "the version's manifest is damaged"))?;
        self.ensure_room(tx, owner, node.namespace_id, old.size, now).await?;
        let head = FileHead { mtime: old.mtime.or(mtime), ..FileHead::of(old) };
        let new_rev = tx.insert_revision(node.id, &head, &old.manifest, caller.device_id(), now).await?;
        if !tx.set_current_revision(node.id, node.current_rev, new_rev, &head, now).await? {
            return Ok(None);
        }
        let hashes = distinct_hashes(&manifest);
        if tx.add_chunk_refs(&hashes, 1, now).await? != hashes.len() as u64 {
            return Err(ServiceError::new(ErrorCode::Busy, "a chunk of that version is being collected; retry"));
        }
        tx.add_used_bytes(owner, old.size).await?;
        let updated = tx.node(node.id).await?.ok_or_else(|| ServiceError::not_found("item"))?;
        tx.append_journal(change_name(ChangeKind::Modified), &updated, now).await?;
        Ok(Some(updated))
    }
}

/// What one batch of a restore works with.
struct Apply<'a> {
    tx: &'a mut Tx,
    plan: &'a mut Plan,
    actual: &'a mut HashMap<NodeId, NodeId>,
    aside: &'a mut HashMap<NodeId, String>,
    now: i64,
}

impl Apply<'_> {
    fn skip(&mut self, path: &str, reason: &str) {
        self.plan.skipped.push(RestoreSkip { path: path.to_string(), reason: reason.to_string() });
    }
}

/// Paths of nodes as the caller sees them now, from the nodes already read where their
/// folders are among them.
#[derive(Default)]
struct PathCache {
    known: HashMap<NodeId, Option<String>>,
}

impl PathCache {
    async fn get(
        &mut self,
        service: &Service,
        tx: &mut Tx,
        view: &crate::access::View,
        now: &HashMap<NodeId, NodeRecord>,
        id: NodeId,
    ) -> Result<Option<String>> {
        if let Some(p) = self.known.get(&id) {
            return Ok(p.clone());
        }
        let path = match now.get(&id) {
            Some(n) if n.trashed_at.is_none() => match n.parent_id {
                Some(parent) if now.contains_key(&parent) || self.known.contains_key(&parent) => {
                    let parent_path = Box::pin(self.get(service, tx, view, now, parent)).await?;
                    parent_path.map(|p| join(&p, &n.name))
                }
                _ => service.visible_path(tx, view, id).await?,
            },
            _ => None,
        };
        self.known.insert(id, path.clone());
        Ok(path)
    }
}
