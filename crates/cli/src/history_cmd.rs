//! `coffer restore --at`, `coffer conflicts`, `coffer trash` and `coffer versions`:
//! going back in the account's history.

use std::path::Path;

use anyhow::{Context, Result, bail};
use coffer_client::{Client, DownloadSource};
use coffer_core::wire::{NodeKind, RestoreAction};

use crate::commands::{client, now_ms};
use crate::output::{format_time, human, parse_moment, print_json};
use crate::{ConflictsCommand, KeepArg, TrashCommand, VersionsCommand};

/// `#ID` or an original path, to a trash entry id.
async fn trash_id(c: &Client, which: &str) -> Result<i64> {
    if let Some(id) = which.strip_prefix('#') {
        return id.parse().with_context(|| format!("'{which}' is not #ID"));
    }
    let wanted = format!("/{}", which.trim_matches('/'));
    c.trash_list()
        .await?
        .entries
        .into_iter()
        .find(|e| e.original_path == wanted)
        .map(|e| e.node.id)
        .with_context(|| format!("nothing deleted from '{wanted}' is in the trash"))
}

pub(crate) async fn restore_at(path: &str, at: &str, dry_run: bool, json: bool) -> Result<u8> {
    let at = parse_moment(at, now_ms())?;
    let c = client()?;
    let r = c.restore_at(path, at, dry_run).await?;
    if json {
        print_json(&r)?;
    } else {
        for ch in &r.changes {
            let folder = if ch.kind == NodeKind::Folder { "/" } else { "" };
            let detail = match (ch.action, &ch.from, ch.rev) {
                (RestoreAction::Move, Some(from), _) => format!("  (from {from})"),
                (RestoreAction::Content, _, Some(rev)) => format!("  (version {rev})"),
                (RestoreAction::Undelete, ..) => "  (from the trash)".into(),
                _ => String::new(),
            };
            let action = match ch.action {
                RestoreAction::Content => "content",
                RestoreAction::Move => "move",
                RestoreAction::Undelete => "undelete",
                RestoreAction::Recreate => "recreate",
                RestoreAction::Trash => "trash",
            };
            println!("{action:<9} {}{folder}{detail}", ch.path);
        }
        for sk in &r.skipped {
            println!("{:<9} {}: {}", "skipped", sk.path, sk.reason);
        }
        let what = if dry_run { "would change" } else { "changed" };
        let n = r.changes.len();
        eprintln!(
            "{n} item{} {what} to match {} UTC{}",
            if n == 1 { "" } else { "s" },
            format_time(r.at),
            if r.skipped.is_empty() { String::new() } else { format!("; {} could not be restored", r.skipped.len()) }
        );
    }
    Ok(if r.skipped.is_empty() { 0 } else { 1 })
}

pub(crate) async fn conflicts(cmd: ConflictsCommand, json: bool) -> Result<u8> {
    use coffer_client::conflicts::{self, Keep};
    let c = client()?;
    let found = conflicts::list(&c).await?;
    match cmd {
        ConflictsCommand::Ls => {
            if json {
                print_json(&found)?;
            } else {
                for f in &found {
                    let against = if f.original_exists { f.original.clone() } else { format!("{} (gone)", f.original) };
                    println!("{}  {:>10}  {}  ->  {against}", f.date, human(f.size), f.path);
                }
                eprintln!("{} conflicted cop{}", found.len(), if found.len() == 1 { "y" } else { "ies" });
            }
            Ok(0)
        }
        ConflictsCommand::Resolve { paths, keep, all } => {
            if paths.is_empty() && !all {
                bail!("name the conflicted copies (paths or patterns), or --all");
            }
            let mut patterns = globset::GlobSetBuilder::new();
            for p in &paths {
                let glob = globset::GlobBuilder::new(p).literal_separator(true).build();
                patterns.add(glob.with_context(|| format!("{p:?} is not a valid pattern"))?);
            }
            let patterns = patterns.build()?;
            let chosen: Vec<_> = found.iter().filter(|f| all || patterns.is_match(&f.path)).collect();
            if chosen.is_empty() {
                bail!("no conflicted copy matches (see `coffer conflicts ls`)");
            }
            let keep = match keep {
                KeepArg::Mine => Keep::Mine,
                KeepArg::Theirs => Keep::Theirs,
                KeepArg::Both => Keep::Both,
            };
            let mut results = Vec::new();
            let mut failed = 0;
            for f in chosen {
                match conflicts::resolve(&c, f, keep).await {
                    Ok(kept) => {
                        if !json {
                            println!("resolved {} -> {kept}", f.path);
                        }
                        results.push(serde_json::json!({"path": f.path, "kept": kept}));
                    }
                    Err(e) => {
                        failed += 1;
                        eprintln!("coffer: {}: {e}", f.path);
                        results.push(serde_json::json!({"path": f.path, "error": e.to_string()}));
                    }
                }
            }
            if json {
                print_json(&results)?;
            }
            Ok(if failed == 0 { 0 } else { crate::EXIT_ERROR })
        }
    }
}

pub(crate) async fn trash(cmd: TrashCommand, json: bool) -> Result<u8> {
    let c = client()?;
    match cmd {
        TrashCommand::Ls => {
            let entries = c.trash_list().await?.entries;
            if json {
                print_json(&entries)?;
            } else {
                for e in entries {
                    println!(
                        "#{:<6} {}  {:>10}  {}",
                        e.node.id,
                        format_time(e.trashed_at),
                        human(e.node.size),
                        e.original_path
                    );
                }
            }
        }
        TrashCommand::Restore { path } => {
            let id = trash_id(&c, &path).await?;
            let n = c.trash_restore(id).await?;
            if json { print_json(&n)? } else { println!("restored to {}", n.path.as_deref().unwrap_or(&n.name)) }
        }
        TrashCommand::Purge { path, all } => {
            let id = match (path, all) {
                (Some(p), false) => Some(trash_id(&c, &p).await?),
                (None, true) => None,
                _ => bail!("give one trashed path (or #ID), or --all"),
            };
            let purged = c.trash_purge(id).await?;
            if json { print_json(&purged)? } else { println!("purged {} items", purged.purged) }
        }
    }
    Ok(0)
}

pub(crate) async fn versions(cmd: VersionsCommand, json: bool) -> Result<u8> {
    let c = client()?;
    match cmd {
        VersionsCommand::Ls { path } => {
            let versions = c.versions(&path).await?.versions;
            if json {
                print_json(&versions)?;
            } else {
                for v in versions {
                    let mark = if v.current { "*" } else { " " };
                    let device = v.device.as_deref().unwrap_or("-");
                    println!("{mark} {:>8}  {}  {:>10}  {device}", v.rev, format_time(v.created_at), human(v.size));
                }
            }
        }
        VersionsCommand::Get { path, rev, local } => {
            let report = c.download(DownloadSource::Path(path, Some(rev)), Path::new(&local), &|_| {}).await?;
            if json {
                print_json(&serde_json::json!({"local": local, "bytes": report.bytes}))?
            } else {
                println!("{} written to {local}", human(report.bytes))
            }
        }
        VersionsCommand::Restore { path, rev } => {
            let n = c.restore_version(&path, rev).await?;
            if json {
                print_json(&n)?
            } else {
                println!("restored {path} to revision {rev} (now revision {})", n.rev.unwrap_or(0))
            }
        }
    }
    Ok(0)
}
