//! One function per subcommand: call the client (or the service for admin commands),
//! print text or JSON.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use coffer_client::transfer::{self, FileStatus, Progress, UploadItem, UploadOptions};
use coffer_client::{Client, DownloadSource, LinkAddress};
use coffer_core::ErrorCode;
use coffer_core::wire::{NodeInfo, NodeKind};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use tokio::io::AsyncWriteExt;

use crate::output::{format_time, human, parse_size, print_json, read_password};
use crate::profile::{self, Profile};
use crate::{AdminCommand, AdminUserCommand, Cli, Command, DbArgs, EXIT_CONFLICT};

pub async fn run(cli: Cli) -> Result<u8> {
    let json = cli.json;
    match cli.command {
        Command::Serve(args) => crate::serve::run(args).await,
        Command::Admin(AdminCommand::User(cmd)) => admin(cmd, json).await,
        Command::Admin(AdminCommand::Key(cmd)) => crate::keys::admin(cmd, json),
        Command::Admin(AdminCommand::TwoFactor(cmd)) => {
            use crate::AdminTwoFactorCommand as T;
            let (db, set) = match cmd {
                T::Require { db } => (db, Some(true)),
                T::Optional { db } => (db, Some(false)),
                T::Status { db } => (db, None),
            };
            let svc = coffer_service::Service::open_admin(&database_url(&db)).await?;
            if let Some(on) = set {
                svc.set_two_factor_required(on).await?;
            }
            let on = svc.two_factor_is_required().await?;
            if json {
                print_json(&serde_json::json!({"required": on}))?;
            } else if on {
                println!("two-factor sign-in is required for every account");
            } else {
                println!("two-factor sign-in is each user's choice");
            }
            Ok(0)
        }
        Command::Setup { url, token, user, transport } => {
            let client = reach(&url, None, &transport.ca_file, transport.allow_http)?;
            let password = read_password("New admin password: ")?;
            let info = client.setup(&token, &user, &password).await?;
            if json {
                print_json(&info)?
            } else {
                println!("created admin '{}'", info.name)
            }
            Ok(0)
        }
        Command::Login { url, user, device, code, transport } => {
            let url = url.trim_end_matches('/').to_owned();
            // Kept absolute: later commands run from other folders.
            let ca_file = transport.ca_file.map(|f| std::path::absolute(&f).unwrap_or(f));
            let client = reach(&url, None, &ca_file, transport.allow_http)?;
            let password = read_password(&format!("Password for {user}: "))?;
            let device = device.unwrap_or_else(default_device_name);
            let resp = match client.login(&user, &password, &device, code.as_deref()).await {
                // The account has two-factor sign-in and no code was given: ask for one.
                Err(e) if e.code() == Some(ErrorCode::TwoFactorRequired) && code.is_none() => {
                    let code = read_password("Code from your authenticator app (or a recovery code): ")?;
                    client.login(&user, &password, &device, Some(&code)).await?
                }
                other => other?,
            };
            // Signing in again to the same account keeps what is known of its synced
            // folders.
            let earlier = profile::load().ok().filter(|p| p.server == url && p.user == resp.user.name);
            profile::save(&Profile {
                server: url.clone(),
                user: resp.user.name.clone(),
                device: device.clone(),
                device_id: resp.device_id,
                token: resp.token.clone(),
                sync_dir: earlier.as_ref().and_then(|p| p.sync_dir.clone()),
                synced_folders: earlier.map(|p| p.synced_folders).unwrap_or_default(),
                ca_file,
                allow_http: transport.allow_http,
            })?;
            if json {
                print_json(
                    &serde_json::json!({"server": url, "user": resp.user, "device": device, "device_id": resp.device_id}),
                )?
            } else {
                println!("signed in to {url} as {} (device '{device}')", resp.user.name);
            }
            Ok(0)
        }
        Command::Logout => {
            if let Ok(p) = profile::load() {
                // Revoke on the server; forget locally even if the server is unreachable.
                if let Err(e) = client_for(&p)?.logout().await {
                    eprintln!("coffer: could not revoke the token on the server: {e}");
                }
            }
            profile::remove()?;
            if json {
                print_json(&serde_json::json!({"signed_out": true}))?
            } else {
                println!("signed out")
            }
            Ok(0)
        }
        Command::Whoami => {
            let p = profile::load()?;
            let me = client_for(&p)?.whoami().await?;
            if json {
                print_json(&serde_json::json!({"server": p.server, "device": p.device, "user": me}))?;
            } else {
                let quota = me.quota_bytes.map_or("unlimited".to_string(), human);
                println!(
                    "{} on {} (device '{}'), {} used of {quota}",
                    me.name,
                    p.server,
                    p.device,
                    human(me.used_bytes)
                );
            }
            Ok(0)
        }
        Command::Put { local, remote, jobs } => put(local, remote, jobs, json).await,
        Command::Sync(args) => crate::sync_cmd::run(args, json).await,
        Command::Status { dir } => crate::sync_cmd::status(dir, json).await,
        Command::Pause { dir } => crate::sync_cmd::pause(dir, true, json).await,
        Command::Resume { dir } => crate::sync_cmd::pause(dir, false, json).await,
        Command::Get { remote, local } => get(&remote, &local, json).await,
        Command::Ls { remote } => {
            let c = client()?;
            let entries = c.list(&remote).await?;
            if json {
                print_json(&entries)?;
            } else {
                for e in &entries {
                    let kind = if e.kind == NodeKind::Folder { "d" } else { "-" };
                    let name = if e.kind == NodeKind::Folder { format!("{}/", e.name) } else { e.name.clone() };
                    println!("{kind} {:>10}  {}  {name}", human(e.size), format_time(e.modified_at));
                }
            }
            Ok(0)
        }
        Command::Stat { remote } => {
            let n = client()?.stat(&remote).await?;
            print_node(&n, json)?;
            Ok(0)
        }
        Command::Mkdir { remote, parents } => {
            let n = client()?.mkdir(&remote, parents).await?;
            print_node(&n, json)?;
            Ok(0)
        }
        Command::Mv { from, to } => mv(&from, &to, json).await,
        Command::Rm { remotes } => {
            let c = client()?;
            let mut done = Vec::new();
            for r in &remotes {
                done.push(c.delete(r).await?);
                if !json {
                    println!("moved to trash: {r}");
                }
            }
            if json {
                print_json(&done)?;
            }
            Ok(0)
        }
        Command::Restore { path, at, dry_run } => crate::history_cmd::restore_at(&path, &at, dry_run, json).await,
        Command::Conflicts(cmd) => crate::history_cmd::conflicts(cmd, json).await,
        Command::TwoFactor(cmd) => crate::account_cmd::two_factor(cmd, json).await,
        Command::Password(cmd) => crate::account_cmd::password(cmd, json).await,
        Command::Trash(cmd) => crate::history_cmd::trash(cmd, json).await,
        Command::Versions(cmd) => crate::history_cmd::versions(cmd, json).await,
        Command::Share(args) => crate::share_cmd::share(args, json).await,
        Command::Comment(cmd) => crate::share_cmd::comment(cmd, json).await,
        Command::Link(cmd) => crate::share_cmd::link(cmd, json).await,
        Command::Devices(cmd) => crate::account_cmd::devices(cmd, json).await,
        Command::AppPassword(cmd) => crate::account_cmd::app_password(cmd, json).await,
        Command::Audit(cmd) => crate::account_cmd::audit(cmd, json).await,
    }
}

/// A mistake in how a command was called that only the server's answer reveals (say,
/// `put - REMOTE` naming an existing folder): exit code 2, like the mistakes the
/// argument parser catches.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

pub(crate) fn usage(message: impl Into<String>) -> anyhow::Error {
    anyhow!(UsageError(message.into()))
}

/// "1 file", "2 files".
/// A name the server sent, checked before it becomes part of a local path: a server
/// (a public link can point anywhere) must not make a download leave its folder.
pub(crate) fn safe_name(name: &str) -> Result<String> {
    coffer_core::Name::new(name)
        .map(|n| n.as_str().to_owned())
        .map_err(|e| anyhow!("the server sent an unusable name {name:?}: {e}"))
}

pub(crate) fn files(n: usize) -> String {
    if n == 1 { "1 file".to_owned() } else { format!("{n} files") }
}

fn default_device_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "device".to_owned())
}

pub(crate) fn client_for(p: &Profile) -> Result<Client> {
    reach(&p.server, Some(p.token.clone()), &p.ca_file, p.allow_http)
}

/// A client for `url`: HTTPS certificates checked against the system's roots and
/// `ca_file`; plain HTTP only to this machine unless `allow_http`.
pub(crate) fn reach(
    url: &str,
    token: Option<String>,
    ca_file: &Option<std::path::PathBuf>,
    allow_http: bool,
) -> Result<Client> {
    if url.trim().starts_with("http://") && !allow_http && !coffer_client::is_loopback_url(url) {
        return Err(UsageError(format!(
            "'{url}' is plain HTTP to another machine: passwords, tokens and files would cross the \
             network unencrypted. Use https://, or --allow-http if the network is yours"
        ))
        .into());
    }
    let extra_roots_pem = match ca_file {
        Some(f) => Some(std::fs::read(f).with_context(|| format!("reading the CA certificate {}", f.display()))?),
        None => None,
    };
    Ok(Client::with_transport(url, token, &coffer_client::Transport { extra_roots_pem })?)
}

pub(crate) fn client() -> Result<Client> {
    client_for(&profile::load()?)
}

fn print_node(n: &NodeInfo, json: bool) -> Result<()> {
    if json {
        return print_json(n);
    }
    let kind = if n.kind == NodeKind::Folder { "folder" } else { "file" };
    println!("{}", n.path.as_deref().unwrap_or(&n.name));
    println!("  id:        {}", n.id);
    println!("  kind:      {kind}");
    if n.kind == NodeKind::File {
        println!("  size:      {} ({} bytes)", human(n.size), n.size);
        if let Some(rev) = n.rev {
            println!("  revision:  {rev}");
        }
        if let Some(h) = &n.content_hash {
            println!("  hash:      {h}");
        }
    }
    println!("  modified:  {}", format_time(n.modified_at));
    Ok(())
}

/// `mv FROM TO`: into TO when it is an existing folder (or ends in `/`), else as TO.
async fn mv(from: &str, to: &str, json: bool) -> Result<u8> {
    let c = client()?;
    let source = c.stat(from).await?;
    let named = to.trim_end_matches('/');
    let target = match c.stat_optional(to).await? {
        // `mv a dir` puts a into dir, like the shell.
        Some(t) if t.kind == NodeKind::Folder && t.id != source.id => format!("{named}/{}", source.name),
        // `mv a dir/` means into dir, which must then be a folder and exist.
        Some(t) if t.kind != NodeKind::Folder && to.ends_with('/') => bail!("'{named}' is a file, not a folder"),
        None if to.ends_with('/') && !named.is_empty() => bail!("{}", missing_folder(named)),
        _ => to.to_owned(),
    };
    let n = match c.move_node(from, &target).await {
        Ok(n) => n,
        // The source was just seen, so this is most likely the folder the target should
        // land in: name it rather than leave a bare "not found".
        Err(e) if e.code() == Some(ErrorCode::NotFound) => {
            if let Some((parent, _)) = target.trim_end_matches('/').rsplit_once('/')
                && !parent.is_empty()
                && c.stat_optional(parent).await?.is_none()
            {
                bail!("{}", missing_folder(parent));
            }
            return Err(e.into());
        }
        Err(e) => return Err(e.into()),
    };
    print_node(&n, json)?;
    Ok(0)
}

fn missing_folder(path: &str) -> String {
    // Below a top-level folder, its parents may be missing too.
    let parents = if path.trim_start_matches('/').contains('/') { " -p" } else { "" };
    format!("'{path}' does not exist; create it with coffer mkdir{parents}")
}

fn database_url(db: &DbArgs) -> String {
    db.database.clone().unwrap_or_else(|| crate::serve::sqlite_url(&db.data.join("meta.db")))
}

async fn admin(cmd: AdminUserCommand, json: bool) -> Result<u8> {
    match cmd {
        AdminUserCommand::Add { name, admin, quota, db } => {
            let quota = match quota {
                Some(q) => parse_size(&q)?,
                None => None,
            };
            if db.database.is_none() {
                std::fs::create_dir_all(&db.data).with_context(|| format!("creating {}", db.data.display()))?;
            }
            let password = read_password(&format!("Password for {name}: "))?;
            let svc = coffer_service::Service::open_admin(&database_url(&db)).await?;
            let user = svc.create_user(&name, &password, admin, quota).await?;
            if json { print_json(&user)? } else { println!("created user '{}'", user.name) }
        }
        AdminUserCommand::List { db } => {
            let svc = coffer_service::Service::open_admin(&database_url(&db)).await?;
            let users = svc.list_users().await?;
            if json {
                print_json(&users)?;
            } else {
                for u in users {
                    let quota = u.quota_bytes.map_or("unlimited".to_string(), human);
                    let role = if u.is_admin { "admin" } else { "user" };
                    println!("{:<24} {role:<6} {} used of {quota}", u.name, human(u.used_bytes));
                }
            }
        }
        AdminUserCommand::SetQuota { name, quota, db } => {
            let quota = parse_size(&quota)?;
            let svc = coffer_service::Service::open_admin(&database_url(&db)).await?;
            let user = svc.set_quota(&name, quota).await?;
            if json { print_json(&user)? } else { println!("quota of '{}' set", user.name) }
        }
    }
    Ok(0)
}

pub(crate) fn bar(len: u64, json: bool) -> ProgressBar {
    if json || !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template("{spinner} {bytes}/{total_bytes} {bytes_per_sec} {wide_bar} {eta}")
    {
        pb.set_style(style);
    }
    pb
}

/// `put LOCAL... REMOTE` with `cp -r` semantics: into REMOTE when it is an existing
/// folder or several sources are given, else as REMOTE. `put - REMOTE` uploads standard
/// input as the file REMOTE.
async fn put(paths: Vec<String>, remote: String, jobs: usize, json: bool) -> Result<u8> {
    let from_stdin = paths.iter().any(|p| p == STDIO);
    if from_stdin && paths.len() > 1 {
        return Err(usage("'-' (standard input) must be the only source; name a local file called - as ./-"));
    }
    // Standard input has no name to land under, so the destination must name the file.
    if from_stdin && remote.ends_with('/') {
        return Err(usage(format!(
            "'{remote}' ends in '/': with '-' give the file's full path, e.g. {remote}notes.txt"
        )));
    }
    let c = client()?;
    let dest = c.stat_optional(&remote).await?;
    if from_stdin && dest.as_ref().is_some_and(|d| d.kind == NodeKind::Folder) {
        return Err(usage(format!(
            "'{remote}' is a folder: with '-' give the file's full path, e.g. {remote}/notes.txt"
        )));
    }
    let into = paths.len() > 1 || remote.ends_with('/') || dest.as_ref().is_some_and(|d| d.kind == NodeKind::Folder);
    if paths.len() > 1 && dest.as_ref().is_some_and(|d| d.kind != NodeKind::Folder) {
        bail!("'{remote}' is not a folder");
    }
    let base = remote.trim_end_matches('/');
    let mut items = Vec::new();
    let mut dirs = Vec::new();
    let mut targets = Vec::new();
    // Kept until the upload is done: the engine reads the file twice.
    let mut spool = None;
    for local in &paths {
        if local == STDIO {
            let s = tokio::task::spawn_blocking(Spool::from_stdin).await.context("reading standard input")??;
            items.push(UploadItem::new(s.path.clone(), remote.clone()));
            targets.push(remote.clone());
            spool = Some(s);
            continue;
        }
        let local_path = PathBuf::from(local);
        let meta = std::fs::symlink_metadata(&local_path).with_context(|| format!("cannot read '{local}'"))?;
        let name = local_path
            .canonicalize()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .context("a source needs a name")?;
        let target = if into { format!("{base}/{name}") } else { remote.clone() };
        targets.push(target.clone());
        if meta.is_dir() {
            dirs.push(target.clone());
            dirs.extend(transfer::collect_dirs(&local_path, &target)?);
            items.extend(transfer::collect_items(&local_path, &target)?);
        } else if meta.is_file() {
            items.push(UploadItem::new(local_path, target));
        } else {
            bail!("'{local}' is neither a file nor a folder");
        }
    }
    // Commits create the folders files land in; only folders that stay empty need a
    // request of their own.
    let empty = empty_leaf_folders(&dirs, &items);
    let made: Vec<Result<_, _>> =
        futures::stream::iter(empty.iter()).map(|d| c.mkdir(d, true)).buffer_unordered(8).collect().await;
    for m in made {
        m?;
    }
    let total: u64 = items.iter().filter_map(|i| std::fs::metadata(&i.local).ok()).map(|m| m.len()).sum();
    let pb = bar(total, json);
    let progress_bar = pb.clone();
    let progress: Arc<dyn Fn(Progress) + Send + Sync> = Arc::new(move |p| {
        if let Progress::BytesHashed(n) = p {
            progress_bar.inc(n);
        }
    });
    // Destinations that do not exist hold nothing to overwrite: no need to look.
    let mut fresh = true;
    for t in &targets {
        if c.stat_optional(t).await?.is_some() {
            fresh = false;
            break;
        }
    }
    let opts = UploadOptions { concurrency: jobs.max(1), fresh_destination: fresh, ..UploadOptions::default() };
    let mut report = transfer::upload(&c, items, &opts, progress).await?;
    pb.finish_and_clear();
    if let Some(spool) = spool.take() {
        drop(spool);
        // The spool file is gone now; the report names where the bytes came from.
        for f in &mut report.files {
            f.local = PathBuf::from(STDIO);
        }
    }
    let conflicts = report.files.iter().filter(|f| matches!(f.status, FileStatus::Conflict)).count();
    let failed = report.files.iter().filter(|f| matches!(f.status, FileStatus::Failed)).count();
    if json {
        print_json(&report)?;
    } else {
        for f in report
            .files
            .iter()
            .filter(|f| !matches!(f.status, FileStatus::Created | FileStatus::Modified | FileStatus::Unchanged))
        {
            eprintln!("coffer: {}: {}", f.remote, f.error.as_deref().unwrap_or("failed"));
        }
        println!(
            "{}, {} total, {} sent ({} saved by deduplication)",
            files(report.files.len()),
            human(report.bytes_total),
            human(report.bytes_sent),
            human(report.bytes_total.saturating_sub(report.bytes_sent))
        );
    }
    Ok(if conflicts > 0 {
        EXIT_CONFLICT
    } else if failed > 0 {
        crate::EXIT_ERROR
    } else {
        0
    })
}

/// The name standing for standard input (`put - REMOTE`) or output (`get FILE -`).
pub(crate) const STDIO: &str = "-";

/// Standard input copied to a private file in the system's temporary folder, removed
/// when dropped. The upload engine reads a file twice (once to hash it, once to send
/// the missing chunks) to keep memory bounded, and a pipe can only be read once.
struct Spool {
    path: PathBuf,
}

impl Spool {
    fn from_stdin() -> Result<Spool> {
        use std::io::{IsTerminal, Write};
        if std::io::stdin().is_terminal() {
            eprintln!("coffer: reading standard input; end it with Ctrl-D");
        }
        let dir = std::env::temp_dir();
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        for attempt in 0..100 {
            let path = dir.join(format!(".coffer-stdin-{}-{nanos}-{attempt}", std::process::id()));
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                // Only this user may read what was piped in.
                options.mode(0o600);
            }
            let file = match options.open(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e).with_context(|| format!("creating a temporary file in {}", dir.display())),
            };
            // From here on, dropping the spool (on any error too) removes the file.
            let spool = Spool { path };
            let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
            std::io::copy(&mut std::io::stdin().lock(), &mut out)
                .with_context(|| format!("copying standard input to {}", spool.path.display()))?;
            out.flush().with_context(|| format!("writing {}", spool.path.display()))?;
            return Ok(spool);
        }
        bail!("could not create a temporary file in {}", dir.display())
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The folders (remote paths) with no file and no other listed folder below them.
fn empty_leaf_folders(dirs: &[String], items: &[UploadItem]) -> Vec<String> {
    let mut occupied: std::collections::HashSet<String> = std::collections::HashSet::new();
    let parents = items.iter().map(|i| i.remote.as_str()).chain(dirs.iter().map(String::as_str));
    for path in parents {
        let mut p = path;
        while let Some((parent, _)) = p.rsplit_once('/') {
            if !occupied.insert(parent.to_lowercase()) {
                break;
            }
            p = parent;
        }
    }
    let mut out: Vec<String> = dirs.iter().filter(|d| !occupied.contains(&d.to_lowercase())).cloned().collect();
    out.sort();
    out.dedup();
    out
}

/// `get REMOTE LOCAL`: a file to LOCAL (or into it when it is a folder), or to standard
/// output when LOCAL is `-`; a folder recursively.
async fn get(remote: &str, local: &str, json: bool) -> Result<u8> {
    if LinkAddress::is_url(remote) {
        return crate::share_cmd::get_link(remote, local, json).await;
    }
    let c = client()?;
    let node = c.stat(remote).await?;
    if local == STDIO {
        if node.kind != NodeKind::File {
            return Err(usage(format!("'{remote}' is a folder; only a file can be written to standard output")));
        }
        return get_to_stdout(&c, remote, &node).await;
    }
    let local = PathBuf::from(local);
    let mut downloaded: Vec<serde_json::Value> = Vec::new();
    if node.kind == NodeKind::File {
        let dest = if local.is_dir() { local.join(safe_name(&node.name)?) } else { local };
        let pb = bar(node.size, json);
        let report = c.download(DownloadSource::Path(remote.to_owned(), None), &dest, &|n| pb.inc(n)).await?;
        pb.finish_and_clear();
        // A program stays one; a symbolic link arrives as a file holding its target.
        if node.mode == coffer_core::wire::FileMode::Executable {
            coffer_client::set_executable(&dest, true)?;
        }
        downloaded.push(serde_json::json!({"remote": remote, "local": dest, "bytes": report.bytes}));
    } else {
        let root = if local.is_dir() { local.join(safe_name(&node.name)?) } else { local };
        get_folder(&c, remote.trim_end_matches('/'), &root, json, &mut downloaded).await?;
    }
    if json {
        print_json(&downloaded)?;
    } else {
        let bytes: u64 = downloaded.iter().filter_map(|d| d["bytes"].as_u64()).sum();
        println!("{}, {}", files(downloaded.len()), human(bytes));
    }
    Ok(0)
}

/// `get FILE -`: the bytes of the revision `stat` saw, chunk by chunk in order (each
/// checked against its hash), so memory stays bounded whatever the size and a file
/// replaced meanwhile is never mixed with its successor. Nothing else goes to standard
/// output; the progress bar, if any, is on standard error.
async fn get_to_stdout(c: &Client, remote: &str, node: &NodeInfo) -> Result<u8> {
    // A few chunks fetched ahead keep the pipe busy; at most this many are in memory.
    const AHEAD: usize = 4;
    let rev = node.rev.with_context(|| format!("the server sent no revision for '{remote}'"))?;
    let manifest = c.manifest(rev).await?;
    let pb = bar(manifest.size, false);
    let mut out = tokio::io::stdout();
    let mut chunks = futures::stream::iter(&manifest.chunks).map(|r| c.chunk(&r.hash)).buffered(AHEAD);
    let mut written = 0u64;
    while let Some(data) = chunks.next().await {
        let data = data?;
        match out.write_all(&data).await {
            // The reader is gone (`| head`, say): nothing left to deliver, not a failure.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(0),
            other => other.context("writing to standard output")?,
        }
        written += data.len() as u64;
        pb.inc(data.len() as u64);
    }
    match out.flush().await {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(0),
        other => other.context("writing to standard output")?,
    }
    pb.finish_and_clear();
    if written != manifest.size {
        bail!("'{remote}' should have {} bytes, the server sent {written}", manifest.size);
    }
    Ok(0)
}

/// Downloads a folder tree: lists it, creates the folders, fetches the files several
/// at a time, then makes them durable with one filesystem flush instead of an fsync each.
async fn get_folder(
    c: &Client,
    remote: &str,
    local: &Path,
    json: bool,
    out: &mut Vec<serde_json::Value>,
) -> Result<()> {
    const PARALLEL: usize = 8;
    let mut files = Vec::new();
    let mut stack = vec![(remote.to_owned(), local.to_path_buf())];
    while let Some((r, l)) = stack.pop() {
        std::fs::create_dir_all(&l).with_context(|| format!("creating {}", l.display()))?;
        for e in c.list(if r.is_empty() { "/" } else { &r }).await? {
            let child = (format!("{r}/{}", e.name), l.join(&e.name));
            if e.kind == NodeKind::Folder { stack.push(child) } else { files.push((child, e.size)) }
        }
    }
    let pb = bar(files.iter().map(|f| f.1).sum(), json);
    let results: Vec<Result<serde_json::Value>> = futures::stream::iter(files)
        .map(|((r, l), _)| {
            let pb = pb.clone();
            async move {
                let report = c.download_with(DownloadSource::Path(r.clone(), None), &l, &|n| pb.inc(n), false).await?;
                Ok(serde_json::json!({"remote": r, "local": l, "bytes": report.bytes}))
            }
        })
        .buffer_unordered(PARALLEL)
        .collect()
        .await;
    pb.finish_and_clear();
    for r in results {
        out.push(r?);
    }
    coffer_client::sync_filesystem(local).with_context(|| format!("flushing {}", local.display()))?;
    Ok(())
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}
