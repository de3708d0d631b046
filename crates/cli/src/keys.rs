//! Where the master keys of encryption at rest come from, and `coffer admin key`.
//!
//! The keys live outside the data directory, so a copy of the data directory (or of
//! the disk it is on, or of a backup of it) holds no key: by default in a key file
//! beside it (`coffer-data.key` for `coffer-data`), or at the path `--key-file` /
//! `COFFER_KEY_FILE` / `key_file` names, or as base64 in `COFFER_MASTER_KEY`. A new
//! deployment gets a key file at first start; an existing plaintext one keeps running in
//! plaintext until `coffer admin key init`, after which its chunks are sealed by the
//! server's maintenance passes.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use coffer_blobstore::{Keyring, LocalDirStore, MasterKey};

use crate::output::print_json;

/// The environment variable that may carry the master key (base64 of 32 bytes).
pub const KEY_ENV: &str = "COFFER_MASTER_KEY";

/// The key file beside a data directory: `coffer-data` → `coffer-data.key`.
pub fn default_key_file(data: &Path) -> PathBuf {
    let name = data.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "coffer-data".into());
    data.with_file_name(format!("{name}.key"))
}

/// Refuses a key file inside the data directory: a copy of the directory would carry
/// the key with the data it protects.
fn check_outside(file: &Path, data: &Path) -> Result<()> {
    let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let (file, data) = (abs(file), abs(data));
    if file.starts_with(&data) {
        bail!(
            "the key file {} is inside the data directory {}: keep it elsewhere, or a copy of \
             the data carries its key",
            file.display(),
            data.display()
        );
    }
    Ok(())
}

pub fn load(file: &Path) -> Result<Keyring> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading the key file {}", file.display()))?;
    Keyring::parse(&text).map_err(|e| anyhow::anyhow!("the key file {}: {e}", file.display()))
}

/// Writes a key file durably (0600): to a temporary file, flushed, renamed over.
pub fn store(file: &Path, ring: &Keyring, replace: bool) -> Result<()> {
    if !replace && file.exists() {
        bail!("{} exists already", file.display());
    }
    let tmp = file.with_extension("key.tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(&tmp).with_context(|| format!("writing {}", tmp.display()))?;
    f.write_all(ring.to_file_text().as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, file).with_context(|| format!("writing {}", file.display()))?;
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Whether the chunk store holds no chunk at all (a new deployment).
fn store_is_empty(chunk_dir: &Path) -> bool {
    let Ok(prefixes) = std::fs::read_dir(chunk_dir.join("chunks")) else { return true };
    prefixes.flatten().all(|p| std::fs::read_dir(p.path()).map(|mut d| d.next().is_none()).unwrap_or(true))
}

/// The keys `coffer serve` starts with, and the key file to watch for a rotation.
pub struct ServeKeys {
    pub keyring: Option<Keyring>,
    pub file: Option<PathBuf>,
}

/// Finds the keys for a server over `data`: the environment, the named or default key
/// file, or a new key file for a new deployment. An encrypted store without its key is
/// an error; an existing plaintext store without a key runs in plaintext (with a
/// warning).
pub fn for_serve(data: &Path, chunk_dir: &Path, named: Option<PathBuf>) -> Result<ServeKeys> {
    if let Ok(text) = std::env::var(KEY_ENV)
        && !text.trim().is_empty()
    {
        let key = MasterKey::parse(&text).with_context(|| format!("{KEY_ENV} is not the base64 of a 32-byte key"))?;
        return Ok(ServeKeys { keyring: Some(Keyring::new(key, Vec::new())), file: None });
    }
    let file = named.clone().unwrap_or_else(|| default_key_file(data));
    check_outside(&file, data)?;
    if file.exists() {
        return Ok(ServeKeys { keyring: Some(load(&file)?), file: Some(file) });
    }
    if LocalDirStore::seal_state(chunk_dir).ok().flatten().is_some() {
        bail!(
            "the chunk store is encrypted and its key file {} is missing: start with the key \
             the chunks were sealed with (--key-file, or {KEY_ENV})",
            file.display()
        );
    }
    let empty = store_is_empty(chunk_dir);
    if named.is_some() && !empty {
        bail!(
            "the key file {} is missing and the chunk store holds unencrypted files: \
             `coffer admin key init --key-file {}` makes it",
            file.display(),
            file.display()
        );
    }
    if empty {
        let ring = Keyring::new(MasterKey::generate(), Vec::new());
        store(&file, &ring, false)?;
        eprintln!(
            "coffer: files are encrypted at rest with a new master key in {} (id {}).",
            file.display(),
            ring.current_id()
        );
        eprintln!("coffer: keep a copy of that file somewhere safe: without it the files cannot be read.");
        return Ok(ServeKeys { keyring: Some(ring), file: Some(file) });
    }
    tracing::warn!("the chunk store is not encrypted at rest (`coffer admin key init` encrypts it)");
    eprintln!("coffer: warning: files are stored unencrypted; `coffer admin key init` encrypts them");
    Ok(ServeKeys { keyring: None, file: None })
}

/// `coffer admin key init|rotate|status`.
pub fn admin(cmd: crate::AdminKeyCommand, json: bool) -> Result<u8> {
    use crate::AdminKeyCommand as K;
    let (data, named) = match &cmd {
        K::Init { data, key_file } | K::Rotate { data, key_file } | K::Status { data, key_file } => {
            (data.clone(), key_file.clone())
        }
    };
    let file = named.unwrap_or_else(|| default_key_file(&data));
    check_outside(&file, &data)?;
    let chunk_dir = data.join("chunks");
    match cmd {
        K::Init { .. } => {
            if file.exists() {
                bail!("{} exists already: the store has its key (`coffer admin key status`)", file.display());
            }
            if LocalDirStore::seal_state(&chunk_dir)?.is_some() {
                bail!("the chunk store is encrypted already, with a key that is not at {}", file.display());
            }
            let ring = Keyring::new(MasterKey::generate(), Vec::new());
            store(&file, &ring, false)?;
            if json {
                print_json(&serde_json::json!({"key_file": file, "key_id": ring.current_id().to_string()}))?;
            } else {
                println!("master key {} written to {}", ring.current_id(), file.display());
                println!("Keep a copy of that file somewhere safe: without it the files cannot be read.");
                println!("Restart the server: new files are encrypted at once, existing ones by its upkeep.");
            }
        }
        K::Rotate { .. } => {
            let ring = load(&file)?;
            let rotated = ring.rotated();
            store(&file, &rotated, true)?;
            if json {
                print_json(&serde_json::json!({
                    "key_file": file,
                    "key_id": rotated.current_id().to_string(),
                    "older": rotated.ids()[1..].iter().map(|k| k.to_string()).collect::<Vec<_>>(),
                }))?;
            } else {
                println!("new master key {} in {} (older keys kept for reading)", rotated.current_id(), file.display());
                println!("A running server takes it within seconds and seals every chunk again, in the");
                println!("background; `coffer admin key status` tells when no chunk needs an older key.");
            }
        }
        K::Status { .. } => {
            let state = LocalDirStore::seal_state(&chunk_dir)?;
            let ring = if file.exists() { Some(load(&file)?) } else { None };
            let pending: Vec<String> = match (&state, &ring) {
                (Some(s), Some(r)) => s.keys.iter().filter(|k| **k != r.current_id()).map(|k| k.to_string()).collect(),
                (Some(s), None) => s.keys.iter().map(|k| k.to_string()).collect(),
                _ => Vec::new(),
            };
            let plaintext = state.as_ref().is_none_or(|s| s.plaintext);
            let encrypted = state.is_some();
            if json {
                print_json(&serde_json::json!({
                    "encrypted": encrypted,
                    "key_file": ring.as_ref().map(|_| &file),
                    "key_id": ring.as_ref().map(|r| r.current_id().to_string()),
                    "older_keys_in_use": pending,
                    "plaintext_chunks_remain": encrypted && plaintext,
                }))?;
            } else if !encrypted {
                match &ring {
                    Some(r) => println!(
                        "not encrypted yet: the key {} in {} takes effect when the server starts",
                        r.current_id(),
                        file.display()
                    ),
                    None => println!("not encrypted at rest (`coffer admin key init` to encrypt)"),
                }
            } else {
                match &ring {
                    Some(r) => println!("encrypted at rest; current key {} in {}", r.current_id(), file.display()),
                    None => println!("encrypted at rest; the key file {} is missing", file.display()),
                }
                if plaintext {
                    println!("some chunks from before encryption are still in plaintext (the server seals them)");
                }
                if pending.is_empty() && !plaintext {
                    println!("every chunk is sealed under the current key");
                } else if !pending.is_empty() {
                    println!("chunks still sealed under older key(s): {}", pending.join(", "));
                }
            }
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_file_sits_beside_the_data_directory_never_inside() {
        assert_eq!(default_key_file(Path::new("coffer-data")), PathBuf::from("coffer-data.key"));
        assert_eq!(default_key_file(Path::new("/srv/coffer/data")), PathBuf::from("/srv/coffer/data.key"));
        assert!(check_outside(Path::new("/srv/data/k.key"), Path::new("/srv/data")).is_err());
        assert!(check_outside(Path::new("/srv/data.key"), Path::new("/srv/data")).is_ok());
    }
}
