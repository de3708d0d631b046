//! Sharing from the command line: shared folders and files (`coffer share`), public
//! links (`coffer link`, and `coffer get URL`), and comments (`coffer comment`).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use coffer_client::transfer::{self, FileStatus, UploadItem, UploadOptions};
use coffer_client::{Client, DownloadSource, LinkAddress};
use coffer_core::ErrorCode;
use coffer_core::wire::NodeKind;
use futures::StreamExt;
use tokio::io::AsyncWriteExt;

use crate::commands::{STDIO, bar, client, client_for, files, safe_name, usage};
use crate::output::{format_time, human, parse_expiry, print_json, read_password};
use crate::profile;
use crate::{CommentCommand, EXIT_CONFLICT, LinkCommand, ShareAction, ShareArgs};

fn print_shares(
    shares: &[coffer_core::wire::SharedFolderInfo],
    files: &[coffer_core::wire::SharedFileInfo],
    json: bool,
) -> Result<()> {
    if json {
        let tagged = |v: serde_json::Result<serde_json::Value>, kind: &str| {
            let mut v = v.unwrap_or_default();
            v["type"] = serde_json::Value::String(kind.into());
            v
        };
        let all: Vec<serde_json::Value> = shares
            .iter()
            .map(|s| tagged(serde_json::to_value(s), "folder"))
            .chain(files.iter().map(|f| tagged(serde_json::to_value(f), "file")))
            .collect();
        return print_json(&all);
    }
    for s in shares {
        println!("{}  (you: {}, owner: {})", s.path, s.role, s.owner);
        for m in &s.members {
            println!("    {:<10} {}", m.role.as_str(), m.user);
        }
    }
    for f in files {
        let name = f.path.as_deref().unwrap_or(&f.name);
        println!("file #{:<6} {name}  {}  (you: {}, owner: {})", f.id, human(f.size), f.role, f.owner);
        for m in f.members.iter().filter(|_| f.role == coffer_core::Role::Owner) {
            println!("    {:<10} {}", m.role.as_str(), m.user);
        }
    }
    Ok(())
}

pub(crate) async fn share(args: ShareArgs, json: bool) -> Result<u8> {
    let p = profile::load()?;
    let c = client_for(&p)?;
    match args.action {
        None => {
            let (Some(path), Some(user)) = (args.path, args.with) else {
                return Err(usage("give a folder or file and --with USER (see coffer share --help)"));
            };
            let role = coffer_core::Role::from(args.role);
            if c.stat(&path).await?.kind == NodeKind::File {
                let info = c.share_file(&path, &user, role).await?;
                if json {
                    print_json(&info)?
                } else {
                    println!("shared {path} with {user} as {role} (file #{}: they reach it by that id)", info.id)
                }
                return Ok(0);
            }
            let info = c.share(&path, &user, role).await?;
            if json { print_json(&info)? } else { println!("shared {} with {user} as {role}", info.path) }
        }
        Some(ShareAction::Ls { path, with_me }) => {
            let shares = c.shares(path.as_deref(), with_me).await?.shares;
            let files = if path.is_none() { c.file_shares(with_me).await? } else { Vec::new() };
            let files = if path.is_none() && !with_me {
                // Everything the user is in: files shared by them and with them.
                let mut all = files;
                all.extend(c.file_shares(true).await?);
                all
            } else {
                files
            };
            print_shares(&shares, &files, json)?;
        }
        Some(ShareAction::Rm { path, with }) => {
            let node = c.stat(&path).await?;
            if node.kind == NodeKind::File {
                c.unshare_file(node.id, &with).await?;
                if json {
                    print_json(&serde_json::json!({"file": node.id, "removed": with}))?
                } else {
                    println!("{path} is no longer shared with {with}")
                }
                return Ok(0);
            }
            let info = c.unshare(&path, &with).await?;
            if json { print_json(&info)? } else { println!("removed {with} from {}", info.path) }
        }
        Some(ShareAction::Leave { file: Some(id), .. }) => {
            c.unshare_file(id, &p.user).await?;
            if json { print_json(&serde_json::json!({"left_file": id}))? } else { println!("left file #{id}") }
        }
        Some(ShareAction::Leave { path, .. }) => {
            let path = path.unwrap_or_default();
            c.leave_share(&path).await?;
            if json { print_json(&serde_json::json!({"left": path}))? } else { println!("left {path}") }
        }
        Some(ShareAction::Get { id, local }) => {
            let node = c.stat_id(id).await?;
            if node.kind != NodeKind::File {
                return Err(usage(format!("#{id} is a folder; `share get` takes a shared file's id")));
            }
            let rev = node.rev.with_context(|| format!("file #{id} has no content yet"))?;
            if local == STDIO {
                if json {
                    return Err(usage("--json cannot be used with `-`: standard output carries the file's bytes"));
                }
                return stream_to_stdout(c.open_content(&DownloadSource::Revision(rev)).await?).await;
            }
            let local = PathBuf::from(local);
            let dest = if local.is_dir() { local.join(safe_name(&node.name)?) } else { local };
            let pb = bar(node.size, json);
            let report = c.download(DownloadSource::Revision(rev), &dest, &|n| pb.inc(n)).await?;
            pb.finish_and_clear();
            if json {
                print_json(&serde_json::json!({"file": id, "local": dest, "bytes": report.bytes}))?
            } else {
                println!("{} into {}", human(report.bytes), dest.display())
            }
        }
        Some(ShareAction::Put { local, id }) => {
            let node = c.stat_id(id).await?;
            let item = UploadItem {
                local: PathBuf::from(&local),
                remote: format!("/{}", node.name),
                expect: Some(transfer::Expect { content: None, parent_rev: node.rev, mode: None }),
                node_id: Some(id),
            };
            let report = transfer::upload(&c, vec![item], &UploadOptions::default(), Arc::new(|_| {})).await?;
            let Some(f) = report.files.first() else { bail!("nothing was uploaded") };
            if json {
                print_json(f)?;
            }
            match f.status {
                FileStatus::Conflict => {
                    if !json {
                        eprintln!("coffer: file #{id} changed on the server since you looked; get it again first");
                    }
                    return Ok(EXIT_CONFLICT);
                }
                FileStatus::Failed => {
                    let error = f.error.clone().unwrap_or_else(|| "the upload failed".into());
                    // The report carries the server's stable code first.
                    if error.starts_with("read_only") || error.starts_with("forbidden") {
                        if !json {
                            eprintln!("coffer: {error}");
                        }
                        return Ok(crate::EXIT_DENIED);
                    }
                    bail!("{error}")
                }
                _ if !json => println!("file #{id} updated ({} sent)", human(f.bytes_sent)),
                _ => {}
            }
        }
    }
    Ok(0)
}

/// Copies a download's body to standard output; a reader that went away (`| head`)
/// is not a failure.
async fn stream_to_stdout<B: AsRef<[u8]>>(
    body: impl futures::Stream<Item = Result<B, coffer_client::ClientError>>,
) -> Result<u8> {
    let mut body = std::pin::pin!(body);
    let mut out = tokio::io::stdout();
    while let Some(piece) = body.next().await {
        let piece = piece.context("reading the download")?;
        match out.write_all(piece.as_ref()).await {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(0),
            other => other.context("writing to standard output")?,
        }
    }
    match out.flush().await {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(0),
        other => other.context("writing to standard output")?,
    }
    Ok(0)
}

/// `get URL LOCAL`: what a public link points to, with no account. A password is
/// asked for when the link has one.
pub(crate) async fn get_link(url: &str, local: &str, json: bool) -> Result<u8> {
    let address = LinkAddress::parse(url)?;
    let c = Client::new(&address.server, None)?;
    let token = address.token.as_str();
    let (summary, key) = match c.link_summary(token, None).await {
        Err(e) if e.code() == Some(ErrorCode::PasswordRequired) => {
            let password = read_password("Password for this link: ")?;
            let key = c.unlock_link(token, &password).await?.key;
            (c.link_summary(token, Some(&key)).await?, Some(key))
        }
        other => (other?, None),
    };
    let item = &summary.item;
    if local == STDIO {
        if item.kind != NodeKind::File {
            return Err(usage(format!("'{url}' is a folder; only a file can be written to standard output")));
        }
        let source = DownloadSource::Link { token: token.to_owned(), path: "/".into(), key };
        return stream_to_stdout(c.open_content(&source).await?).await;
    }
    if item.kind == NodeKind::Folder && !summary.allow_download {
        bail!("this link lets visitors look at '{}', not download it", item.name);
    }
    let local = PathBuf::from(local);
    let dest = if local.is_dir() { local.join(safe_name(&item.name)?) } else { local };
    let pb = bar(item.size, json);
    let written: Vec<(PathBuf, u64)> = if item.kind == NodeKind::File {
        let source = DownloadSource::Link { token: token.to_owned(), path: "/".into(), key };
        let report = c.download(source, &dest, &|n| pb.inc(n)).await?;
        vec![(dest.clone(), report.bytes)]
    } else {
        if dest.exists() && !dest.is_dir() {
            return Err(usage(format!("{} exists and is not a folder", dest.display())));
        }
        c.get_link_folder(token, key.as_deref(), &dest, &|n| pb.inc(n)).await?
    };
    pb.finish_and_clear();
    if json {
        let out: Vec<_> =
            written.iter().map(|(p, b)| serde_json::json!({"remote": url, "local": p, "bytes": b})).collect();
        print_json(&out)?;
    } else {
        let bytes: u64 = written.iter().map(|w| w.1).sum();
        println!("{}, {} into {}", files(written.len()), human(bytes), dest.display());
    }
    Ok(0)
}

pub(crate) async fn link(cmd: LinkCommand, json: bool) -> Result<u8> {
    let p = profile::load()?;
    let c = client_for(&p)?;
    let url_of = |l: &coffer_core::wire::LinkInfo| format!("{}{}", p.server.trim_end_matches('/'), l.url_path);
    let show = |l: &coffer_core::wire::LinkInfo| {
        let state = format!("{:?}", l.state).to_lowercase();
        let downloads = match l.max_downloads {
            Some(m) => format!("{}/{m}", l.downloads),
            None => l.downloads.to_string(),
        };
        let expires = l.expires_at.map(format_time).unwrap_or_else(|| "never".into());
        let mut flags = Vec::new();
        if l.has_password {
            flags.push("password");
        }
        if !l.allow_download {
            flags.push("view only");
        }
        println!(
            "#{:<5} {:<11} {:<9} expires {expires}  {}{}\n       {}",
            l.id,
            state,
            downloads,
            l.path.as_deref().unwrap_or("(in the trash)"),
            if flags.is_empty() { String::new() } else { format!(" [{}]", flags.join(", ")) },
            url_of(l)
        );
    };
    let with_url = |l: &coffer_core::wire::LinkInfo| {
        let mut v = serde_json::to_value(l).unwrap_or_default();
        v["url"] = serde_json::Value::String(url_of(l));
        v
    };
    match cmd {
        LinkCommand::Create { path, expires, password, max_downloads, no_download } => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or_default();
            let expires_at = expires.map(|w| parse_expiry(&w, now)).transpose().map_err(|e| usage(e.to_string()))?;
            let password = if password { Some(read_password("Password for the link: ")?) } else { None };
            let req = coffer_core::wire::LinkRequest {
                path,
                expires_at,
                password,
                max_downloads,
                allow_download: !no_download,
            };
            let l = c.create_link(&req).await?;
            if json { print_json(&with_url(&l))? } else { println!("{}", url_of(&l)) }
        }
        LinkCommand::Ls { path } => {
            let links = c.links(path.as_deref()).await?;
            if json {
                print_json(&links.iter().map(with_url).collect::<Vec<_>>())?
            } else {
                links.iter().for_each(show)
            }
        }
        LinkCommand::Rm { link } => {
            let id = match link.parse::<i64>() {
                Ok(id) => id,
                Err(_) => {
                    let token =
                        if LinkAddress::is_url(&link) { LinkAddress::parse(&link)?.token } else { link.clone() };
                    let all = c.links(None).await?;
                    all.iter()
                        .find(|l| l.token == token)
                        .map(|l| l.id)
                        .ok_or_else(|| anyhow!("no link of yours is {link}"))?
                }
            };
            let l = c.revoke_link(id).await?;
            if json { print_json(&with_url(&l))? } else { println!("link #{} removed", l.id) }
        }
    }
    Ok(0)
}

pub(crate) async fn comment(cmd: CommentCommand, json: bool) -> Result<u8> {
    let c = client()?;
    let show = |m: &coffer_core::wire::CommentInfo| {
        let edited = if m.edited_at.is_some() { " (edited)" } else { "" };
        let rev = m.rev.map(|r| format!(" on rev {r}")).unwrap_or_default();
        println!(
            "#{:<6} {} {}{rev}{edited}\n    {}",
            m.id,
            format_time(m.created_at),
            m.author,
            m.body.replace('\n', "\n    ")
        );
    };
    match cmd {
        CommentCommand::Add { path, text } => {
            let m = c.add_comment(&path, &text).await?;
            if json { print_json(&m)? } else { println!("comment #{} added to {path}", m.id) }
        }
        CommentCommand::Ls { path } => {
            let all = c.comments(&path).await?;
            if json { print_json(&all)? } else { all.iter().for_each(show) }
        }
        CommentCommand::Edit { id, text } => {
            let m = c.edit_comment(id, &text).await?;
            if json { print_json(&m)? } else { show(&m) }
        }
        CommentCommand::Rm { id } => {
            c.delete_comment(id).await?;
            if json { print_json(&serde_json::json!({"deleted": id}))? } else { println!("comment #{id} deleted") }
        }
    }
    Ok(0)
}
