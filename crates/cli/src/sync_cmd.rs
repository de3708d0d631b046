//! `coffer sync`, `coffer sync exclude` and `coffer status`: a folder kept in sync
//! with the account, and what is known about it.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use coffer_client::sync::{Brake, DeleteSide, Engine, HeldDelete, Kind, SyncError};
use coffer_core::RemotePath;

use crate::commands::{client_for, now_ms};
use crate::output::{format_time, parse_size, print_json};
use crate::profile;
use crate::{ExcludeCommand, SyncAction, SyncArgs};

/// How long the file watcher waits for writing to pause before it reports a change.
const WATCH_QUIET: std::time::Duration = std::time::Duration::from_millis(50);
/// How long `sync --once` waits for files still being written to settle.
const ONCE_SETTLE_LIMIT: std::time::Duration = std::time::Duration::from_secs(60);
/// The pause between its passes while it waits.
const ONCE_SETTLE_PAUSE: std::time::Duration = std::time::Duration::from_millis(500);

/// `coffer sync`: the folder, or a selective-sync subcommand.
pub async fn run(args: SyncArgs, json: bool) -> Result<u8> {
    match args.action {
        Some(SyncAction::Exclude(cmd)) => exclude(cmd, json).await,
        Some(SyncAction::ConfirmDeletes { dir }) => held_deletes(dir, true, json).await,
        Some(SyncAction::UndoDeletes { dir }) => held_deletes(dir, false, json).await,
        None => {
            let Some(dir) = args.dir.clone() else { bail!("which folder? `coffer sync DIR` (see --help)") };
            sync(&dir, &args, json).await
        }
    }
}

async fn sync(dir: &Path, args: &SyncArgs, json: bool) -> Result<u8> {
    let (once, exclude) = (args.once, &args.exclude);
    let device = args.device.clone();
    let mut p = profile::load()?;
    let rate = |flag: &str, value: &Option<String>| -> Result<Option<u64>> {
        match value {
            None => Ok(None),
            Some(v) => match parse_size(v).with_context(|| format!("{flag} {v:?}"))? {
                Some(0) => bail!("{flag} must be more than 0 (or 'none')"),
                other => Ok(other),
            },
        }
    };
    let (up, down) = (rate("--limit-up", &args.limit_up)?, rate("--limit-down", &args.limit_down)?);
    let client = client_for(&p)?.with_limits(up, down);
    let device = device.unwrap_or_else(|| p.device.clone());
    let known = p.synced_folder(dir).map(|f| f.identity.clone());
    // A folder synced before is never made again here: if it is gone, that is for a
    // person to look into (`attach` says why).
    if known.is_none() || args.relink {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let dir = &std::fs::canonicalize(dir).unwrap_or_else(|_| std::path::absolute(dir).unwrap_or(dir.to_path_buf()));
    let (mut engine, identity) = Engine::attach(client.clone(), dir, &device, known.as_ref(), args.relink).await?;
    if p.sync_dir.as_deref() != Some(dir.as_path()) || known.as_ref() != Some(&identity) {
        p.sync_dir = Some(dir.clone());
        p.remember_folder(dir.clone(), identity);
        profile::save(&p)?;
    }
    engine.set_brake(Brake { max_files: args.max_deletes, max_percent: args.max_delete_percent });
    if !exclude.is_empty() {
        let mut excluded = engine.excluded().await?;
        for path in exclude {
            excluded.push(RemotePath::parse(path).with_context(|| format!("--exclude {path:?}"))?);
        }
        engine.set_excluded(&excluded).await?;
    }
    let mut watcher = client.watcher();
    // Local changes: a file watcher wakes the loop once writing has paused; the periodic
    // scan stays the source of truth (events can overflow or miss moves across mounts).
    let (local_tx, mut local_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let state_dir = dir.join(".coffer");
    let mut _fs_watch = None;
    if !once {
        let handler = move |res: notify_debouncer_full::DebounceEventResult| {
            let relevant = match &res {
                Ok(events) => events.iter().any(|e| e.paths.iter().any(|p| !p.starts_with(&state_dir))),
                Err(_) => true,
            };
            if relevant {
                let _ = local_tx.send(());
            }
        };
        match notify_debouncer_full::new_debouncer(WATCH_QUIET, None, handler) {
            Ok(mut d) => match d.watch(dir, notify_debouncer_full::notify::RecursiveMode::Recursive) {
                Ok(()) => {
                    // The watcher reports a file once writing to it paused: no need to wait
                    // much longer (a file written in bursts is uploaded again when it
                    // changes; the re-check after hashing keeps a half-read file out).
                    engine.set_settle_time(WATCH_QUIET);
                    _fs_watch = Some(d);
                }
                Err(e) => eprintln!("coffer: no file watcher ({e}); scanning every few seconds"),
            },
            Err(e) => eprintln!("coffer: no file watcher ({e}); scanning every few seconds"),
        }
    }
    // `--once` stops when nothing is pending: files still being written when a pass
    // scanned them are waited for (they are read once writing pauses), up to a bound.
    let started = std::time::Instant::now();
    let mut total = coffer_client::sync::SyncReport::default();
    loop {
        let today = format_time(now_ms())[..10].to_owned();
        let result = engine.sync_until_idle(&today).await;
        let error = result.as_ref().err().map(|e| e.to_string());
        let _ = engine.note_result(now_ms(), error.as_deref()).await;
        let report = match result {
            Ok(r) => r,
            // These need a person to decide: stop and say so.
            Err(e @ (SyncError::FolderEmptied(..) | SyncError::RemoteEmptied(..) | SyncError::FolderGone(..))) => {
                eprintln!("coffer: sync stopped");
                return Err(e.into());
            }
            Err(e) if once => return Err(e.into()),
            Err(e) => {
                eprintln!("coffer: sync failed, retrying: {e}");
                tokio::select! {
                    _ = tokio::time::sleep(std::time::Duration::from_secs(5)) => continue,
                    _ = tokio::signal::ctrl_c() => return Ok(0),
                }
            }
        };
        if report.paused {
            if once {
                eprintln!("coffer: {} is paused; `coffer resume {}` to sync it", dir.display(), dir.display());
                return Ok(crate::EXIT_ERROR);
            }
            if !total.paused {
                eprintln!("coffer: paused; waiting for `coffer resume`");
            }
            total.paused = true;
            tokio::select! {
                _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => continue,
                _ = tokio::signal::ctrl_c() => return Ok(0),
            }
        }
        if total.paused && !once {
            eprintln!("coffer: resumed");
            total.paused = false;
        }
        let settling = report.still_being_written() > 0;
        if once {
            total.absorb(report);
            if settling && started.elapsed() < ONCE_SETTLE_LIMIT {
                tokio::select! {
                    _ = tokio::time::sleep(ONCE_SETTLE_PAUSE) => continue,
                    _ = tokio::signal::ctrl_c() => return Ok(crate::EXIT_ERROR),
                }
            }
            print_report(&total, json, true)?;
            if settling {
                eprintln!(
                    "coffer: {} file(s) kept changing for {}s and were left for the next sync",
                    total.still_being_written(),
                    ONCE_SETTLE_LIMIT.as_secs()
                );
            }
            let held = !total.held_deletes.is_empty();
            return Ok(if total.failed.is_empty() && !settling && !held { 0 } else { crate::EXIT_ERROR });
        }
        print_report(&report, json, false)?;
        let cursor = match client.latest_cursor().await {
            Ok(c) => coffer_core::Cursor::parse(&c).unwrap_or_default(),
            Err(_) => coffer_core::Cursor::default(),
        };
        // Files still being written are looked at again as soon as they may have settled.
        let rescan = match (settling, _fs_watch.is_some()) {
            (true, true) => WATCH_QUIET * 2,
            (true, false) => std::time::Duration::from_millis(600),
            (false, true) => std::time::Duration::from_secs(30),
            (false, false) => std::time::Duration::from_secs(3),
        };
        tokio::select! {
            _ = watcher.wait(&cursor, rescan) => {}
            Some(()) = local_rx.recv() => {
                // Several events may be queued: one round handles them all.
                while local_rx.try_recv().is_ok() {}
            }
            _ = tokio::signal::ctrl_c() => return Ok(0),
        }
    }
}

/// What a sync did: JSON, or a line of counts (always with `--once`, else only when
/// something happened) and what failed or was not synced.
fn print_report(report: &coffer_client::sync::SyncReport, json: bool, once: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string(report)?);
        return Ok(());
    }
    let moved = report.moved_local + report.moved_remote;
    let changed = report.uploaded + report.downloaded + moved + report.deleted_local + report.deleted_remote;
    if changed > 0 || report.conflicts > 0 || once {
        println!(
            "synced: {} up, {} down, {moved} moved, {} deleted here, {} deleted there, {} merged, {} conflicts",
            report.uploaded,
            report.downloaded,
            report.deleted_local,
            report.deleted_remote,
            report.merged,
            report.conflicts
        );
    }
    for (what, why) in &report.failed {
        eprintln!("coffer: will retry: {what}: {why}");
    }
    for (path, why) in &report.not_synced {
        eprintln!("coffer: not synced: {path}: {why}");
    }
    if !report.held_deletes.is_empty() {
        eprintln!("coffer: {}", held_summary(&report.held_deletes));
    }
    Ok(())
}

/// "N deletions held ..." with what to do about them.
fn held_summary(held: &[HeldDelete]) -> String {
    let files = |side| held.iter().filter(|h| h.side == side && h.kind == Kind::File).count();
    let (here, there) = (files(DeleteSide::Server), files(DeleteSide::Device));
    let mut parts = Vec::new();
    if here > 0 {
        parts.push(format!("{here} file(s) deleted on this device not deleted on the server"));
    }
    if there > 0 {
        parts.push(format!("{there} file(s) deleted on the server not deleted here"));
    }
    format!(
        "mass deletion held: {}. Run `coffer sync confirm-deletes` to let them through, or \
         `coffer sync undo-deletes` to bring the files back (`coffer status` lists them)",
        parts.join("; ")
    )
}

/// `coffer pause` / `coffer resume`.
pub async fn pause(dir: Option<PathBuf>, paused: bool, json: bool) -> Result<u8> {
    let dir = synced_folder(dir)?;
    inspect(&dir).await?.set_paused(paused).await?;
    if json {
        print_json(&serde_json::json!({"folder": dir, "paused": paused}))?;
    } else {
        println!("{} {}", dir.display(), if paused { "is paused" } else { "syncs again" });
    }
    Ok(0)
}

/// `coffer sync confirm-deletes` / `undo-deletes`.
async fn held_deletes(dir: Option<PathBuf>, confirm: bool, json: bool) -> Result<u8> {
    let dir = synced_folder(dir)?;
    let engine = inspect(&dir).await?;
    let done = if confirm { engine.confirm_deletes().await? } else { engine.undo_deletes().await? };
    if json {
        print_json(&serde_json::json!({"folder": dir, "confirmed": confirm, "deletions": done}))?;
    } else if done.is_empty() {
        println!("no deletions are held in {}", dir.display());
    } else if confirm {
        println!("{} deletion(s) will be carried out by the next sync of {}", done.len(), dir.display());
    } else {
        println!("{} item(s) will be brought back by the next sync of {}", done.len(), dir.display());
    }
    Ok(0)
}

/// The synced folder a command is about: the one given, else the one this profile
/// last synced.
fn synced_folder(dir: Option<PathBuf>) -> Result<PathBuf> {
    match dir.or(profile::load()?.sync_dir) {
        Some(d) => Ok(d),
        None => bail!("no synced folder yet: give its path, or run `coffer sync DIR` first"),
    }
}

async fn inspect(dir: &Path) -> Result<Engine> {
    let client = client_for(&profile::load()?)?;
    match Engine::inspect(client, dir).await? {
        Some(engine) => Ok(engine),
        None => bail!("{} is not a synced folder (run `coffer sync {}` first)", dir.display(), dir.display()),
    }
}

async fn exclude(cmd: ExcludeCommand, json: bool) -> Result<u8> {
    let (dir, change) = match cmd {
        ExcludeCommand::Add { path, dir } => (dir, Some((path, true))),
        ExcludeCommand::Rm { path, dir } => (dir, Some((path, false))),
        ExcludeCommand::Ls { dir } => (dir, None),
    };
    let dir = synced_folder(dir)?;
    let engine = inspect(&dir).await?;
    let mut excluded = engine.excluded().await?;
    if let Some((path, add)) = change {
        let path = RemotePath::parse(&path).with_context(|| format!("{path:?}"))?;
        if path.is_root() {
            bail!("the root cannot be excluded: stop `coffer sync` instead");
        }
        if add {
            excluded.push(path);
        } else {
            let before = excluded.len();
            excluded.retain(|p| p.to_string().to_lowercase() != path.to_string().to_lowercase());
            if excluded.len() == before {
                bail!("{path} is not excluded");
            }
        }
        engine.set_excluded(&excluded).await?;
        excluded = engine.excluded().await?;
    }
    let list: Vec<String> = excluded.iter().map(|p| p.to_string()).collect();
    if json {
        print_json(&serde_json::json!({ "folder": dir, "excluded": list }))?;
    } else {
        for p in &list {
            println!("{p}");
        }
    }
    Ok(0)
}

/// `coffer status [DIR]`.
pub async fn status(dir: Option<PathBuf>, json: bool) -> Result<u8> {
    let dir = synced_folder(dir)?;
    if let Some(known) = profile::load()?.synced_folder(&dir)
        && let Some(why) = Engine::folder_problem(&dir, &known.identity)
    {
        let message = format!(
            "sync stopped: '{}' {why}; run `coffer sync {} --relink` if this is the folder to sync now",
            dir.display(),
            dir.display()
        );
        if json {
            print_json(&serde_json::json!({"folder": dir, "up_to_date": false, "stopped": message}))?;
        } else {
            println!("{}: {message}", dir.display());
        }
        return Ok(crate::EXIT_ERROR);
    }
    let st = inspect(&dir).await?.status().await?;
    if json {
        print_json(&st)?;
        return Ok(0);
    }
    if st.paused {
        println!("{}: paused (`coffer resume` to sync again)", st.folder);
    }
    if st.up_to_date {
        println!("{}: up to date", st.folder);
    } else {
        println!(
            "{}: {} to upload, {} to download, {} edited on both sides",
            st.folder, st.to_upload, st.to_download, st.to_resolve
        );
    }
    for c in &st.conflicted_copies {
        println!("conflicted copy: {c}");
    }
    for e in &st.excluded {
        println!("excluded: {e}");
    }
    for (p, why) in &st.detached {
        println!("kept, not synced: {p}: {why}");
    }
    for (p, why) in &st.not_synced {
        println!("not synced: {p}: {why}");
    }
    println!("disk: {}", st.disk);
    for (what, why) in &st.failed {
        println!("failed, will retry: {what}: {why}");
    }
    for h in &st.held_deletes {
        let folder = if h.kind == Kind::Folder { "/" } else { "" };
        let side = match h.side {
            DeleteSide::Server => "deleted here, held from the server",
            DeleteSide::Device => "deleted on the server, held here",
        };
        println!("held deletion: {}{folder}: {side}", h.path);
    }
    if !st.held_deletes.is_empty() {
        println!("{}", held_summary(&st.held_deletes));
    }
    match (st.last_sync_at, &st.last_error) {
        (Some(at), Some(e)) => println!("last sync failed at {}: {e}", format_time(at)),
        (Some(at), None) => println!("last synced at {}", format_time(at)),
        (None, _) => println!("not synced yet"),
    }
    Ok(0)
}
