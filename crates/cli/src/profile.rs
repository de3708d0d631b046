//! The client profile: server URL and device token, in the config directory
//! (`COFFER_CONFIG_DIR`, else `$XDG_CONFIG_HOME/coffer`, else `~/.config/coffer`).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Profile {
    pub server: String,
    pub user: String,
    pub device: String,
    pub device_id: i64,
    pub token: String,
    /// The folder `coffer sync` last kept in sync with this profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_dir: Option<PathBuf>,
    /// Every folder this profile syncs, with what it was (wipe protection).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub synced_folders: Vec<SyncedFolder>,
    /// A CA certificate (PEM) trusted for this server besides the system's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// Plain HTTP to a server that is not on this machine was allowed at sign-in.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_http: bool,
}

/// A folder this profile syncs: where, and what it was when it was last attached.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SyncedFolder {
    pub path: PathBuf,
    #[serde(flatten)]
    pub identity: coffer_client::sync::FolderIdentity,
}

impl Profile {
    /// What this profile remembers of the synced folder at `dir` (as given, or as it
    /// resolves on disk).
    pub fn synced_folder(&self, dir: &std::path::Path) -> Option<&SyncedFolder> {
        let given = std::path::absolute(dir).ok();
        let resolved = std::fs::canonicalize(dir).ok();
        self.synced_folders.iter().find(|f| Some(&f.path) == given.as_ref() || Some(&f.path) == resolved.as_ref())
    }

    /// Remembers the synced folder at `dir` (replacing what was known of it).
    pub fn remember_folder(&mut self, dir: PathBuf, identity: coffer_client::sync::FolderIdentity) {
        self.synced_folders.retain(|f| f.path != dir);
        self.synced_folders.push(SyncedFolder { path: dir, identity });
    }
}

pub fn config_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("COFFER_CONFIG_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("XDG_CONFIG_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir).join("coffer"));
    }
    match std::env::var_os("HOME") {
        Some(home) => Ok(PathBuf::from(home).join(".config").join("coffer")),
        None => bail!("cannot find a config directory: set COFFER_CONFIG_DIR"),
    }
}

fn path() -> Result<PathBuf> {
    Ok(config_dir()?.join("profile.toml"))
}

pub fn load() -> Result<Profile> {
    let p = path()?;
    let text = std::fs::read_to_string(&p)
        .with_context(|| format!("not signed in (no {}); run `coffer login URL --user NAME`", p.display()))?;
    toml::from_str(&text).with_context(|| format!("{} is damaged; run `coffer login` again", p.display()))
}

/// Writes the profile readable by its owner only (it holds a token), atomically.
pub fn save(profile: &Profile) -> Result<()> {
    let p = path()?;
    let dir = p.parent().context("profile path has no parent")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let tmp = dir.join("profile.toml.tmp");
    {
        use std::io::Write;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts.open(&tmp).with_context(|| format!("writing {}", tmp.display()))?;
        f.write_all(toml::to_string(profile)?.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, &p)?;
    Ok(())
}

pub fn remove() -> Result<()> {
    match std::fs::remove_file(path()?) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e.into()),
    }
}
