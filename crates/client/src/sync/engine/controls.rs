//! What a person decides about a synced folder, beside the rounds themselves: attaching
//! to it (wipe protection), pausing it, and the deletions the mass-delete brake holds.

use std::path::Path;

use coffer_core::RemotePath;

use super::{Brake, CONFIRMED_DELETES, Engine, FolderIdentity, HELD_DELETES, HeldDelete, SyncError, identity};
use crate::api::Client;

impl Engine {
    /// Opens a synced folder the way `coffer sync` does: a folder this profile synced
    /// before (`known`) must still be that folder (there, holding its own state, on the
    /// same filesystem), else [`SyncError::FolderGone`] and nothing is touched; `relink`
    /// accepts it as it is now. Returns the folder's identity to remember.
    pub async fn attach(
        client: Client,
        root: &Path,
        device: &str,
        known: Option<&FolderIdentity>,
        relink: bool,
    ) -> Result<(Self, FolderIdentity), SyncError> {
        let checked = known.filter(|_| !relink);
        if let Some(why) = checked.and_then(|k| identity::problem(root, k)) {
            return Err(SyncError::FolderGone(root.to_path_buf(), why));
        }
        let mut engine = Self::open(client, root, device).await?;
        let folder_id = match engine.state.meta_json::<String>("folder_id").await? {
            Some(id) => id,
            None => {
                let id = identity::new_folder_id(root);
                engine.state.set_meta_json("folder_id", &id).await?;
                id
            }
        };
        if checked.is_some_and(|k| k.folder_id != folder_id) {
            let why = "holds the sync state of another folder (a copy?)".to_string();
            return Err(SyncError::FolderGone(root.to_path_buf(), why));
        }
        let filesystem = identity::filesystem_of(&std::fs::metadata(root)?);
        let id = FolderIdentity { folder_id, filesystem };
        engine.identity = Some(id.clone());
        Ok((engine, id))
    }

    /// Why the folder is no longer the one this profile synced, if it is not (for
    /// `status` of a folder whose state may be gone).
    pub fn folder_problem(root: &Path, known: &FolderIdentity) -> Option<String> {
        identity::problem(root, known)
    }

    /// Pauses or resumes syncing this folder; a running sync honours it at its next round.
    pub async fn set_paused(&self, paused: bool) -> Result<(), SyncError> {
        Ok(self.state.set_meta_json("paused", &paused).await?)
    }

    /// Whether syncing this folder is paused.
    pub async fn paused(&self) -> Result<bool, SyncError> {
        Ok(self.state.meta_json("paused").await?.unwrap_or(false))
    }

    /// Sets when the mass-delete brake holds deletions.
    pub fn set_brake(&mut self, brake: Brake) {
        self.brake = brake;
    }

    /// The deletions the brake held in the last round.
    pub async fn held_deletes(&self) -> Result<Vec<HeldDelete>, SyncError> {
        Ok(self.state.meta_json(HELD_DELETES).await?.unwrap_or_default())
    }

    /// Lets the held deletions through on the next sync. Returns them.
    pub async fn confirm_deletes(&self) -> Result<Vec<HeldDelete>, SyncError> {
        let held = self.held_deletes().await?;
        let mut confirmed: Vec<HeldDelete> = self.state.meta_json(CONFIRMED_DELETES).await?.unwrap_or_default();
        confirmed.extend(held.iter().cloned());
        self.state.set_meta_json(CONFIRMED_DELETES, &confirmed).await?;
        self.state.set_meta_json::<Vec<HeldDelete>>(HELD_DELETES, &Vec::new()).await?;
        Ok(held)
    }

    /// Undoes the held deletions: the base forgets those items, so the next sync gives
    /// them back to the side that deleted them (downloaded again here, or uploaded again
    /// as new files to the server). Returns them.
    pub async fn undo_deletes(&self) -> Result<Vec<HeldDelete>, SyncError> {
        let held = self.held_deletes().await?;
        for h in &held {
            if let Ok(path) = RemotePath::parse(&h.path) {
                self.state.forget_below(&path).await?;
            }
        }
        self.state.set_meta_json::<Vec<HeldDelete>>(HELD_DELETES, &Vec::new()).await?;
        Ok(held)
    }
}
