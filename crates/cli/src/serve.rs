//! `coffer serve`: configuration (flags > `COFFER_*` environment > config file >
//! defaults) and the server's life cycle.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use coffer_server::HttpConfig;
use coffer_service::{Service, ServiceConfig, StorageConfig};
use serde::Deserialize;

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Data directory: the embedded database and the chunk store live here.
    #[arg(long, env = "COFFER_DATA")]
    pub data: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, env = "COFFER_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Metadata database: sqlite://PATH (default DATA/meta.db) or postgres://USER@HOST/DB.
    #[arg(long, env = "COFFER_DATABASE")]
    pub database: Option<String>,
    /// A TOML config file (see the README's configuration reference).
    #[arg(long, env = "COFFER_CONFIG")]
    pub config: Option<PathBuf>,
    /// The master key file of encryption at rest (default: DATA.key beside the data
    /// directory, made at first start; or the key in COFFER_MASTER_KEY).
    #[arg(long, env = "COFFER_KEY_FILE", conflicts_with = "no_encryption")]
    pub key_file: Option<PathBuf>,
    /// Store files without encryption at rest (for a disk encrypted another way); an
    /// encrypted store still needs its key.
    #[arg(long)]
    pub no_encryption: bool,
    /// Serve HTTPS with this certificate chain (PEM; read again when the file changes).
    #[arg(long, env = "COFFER_TLS_CERT", requires = "tls_key", value_name = "PEM")]
    pub tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, env = "COFFER_TLS_KEY", requires = "tls_cert", value_name = "PEM")]
    pub tls_key: Option<PathBuf>,
    /// Serve HTTPS with a certificate made at start, for development: its PEM is written
    /// to DATA/tls-self-signed.pem for `coffer login --ca-file`.
    #[arg(long, conflicts_with_all = ["tls_cert", "tls_key"])]
    pub tls_self_signed: bool,
}

/// The config file. Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub data: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
    pub database: Option<String>,
    pub trash_retention_days: Option<u64>,
    /// Days audit log events are kept; 0 keeps them for ever.
    pub audit_retention_days: Option<u64>,
    pub key_file: Option<PathBuf>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub uploads_per_user: Option<i64>,
    pub sign_in_failures_per_address: Option<u32>,
    pub sign_in_failures_per_account: Option<u32>,
    pub upload_ttl_hours: Option<u64>,
    pub maintenance_interval_secs: Option<u64>,
    pub metrics_token: Option<String>,
    pub trust_forwarded_for: Option<bool>,
    pub header_timeout_secs: Option<u64>,
    pub max_connections: Option<usize>,
    pub downloads_per_user: Option<usize>,
    pub notify_sockets_per_user: Option<usize>,
    pub download_memory_mib: Option<usize>,
    pub send_timeout_secs: Option<u64>,
}

/// Everything `serve` needs, resolved.
#[derive(Debug)]
pub struct Resolved {
    pub listen: SocketAddr,
    pub data: PathBuf,
    pub key_file: Option<PathBuf>,
    pub storage: StorageConfig,
    pub service: ServiceConfig,
    pub http: HttpConfig,
    pub maintenance_every: Duration,
}

pub fn resolve(args: &ServeArgs) -> Result<Resolved> {
    let file: FileConfig = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?
        }
        None => FileConfig::default(),
    };
    let data = args.data.clone().or(file.data).unwrap_or_else(|| PathBuf::from("coffer-data"));
    let listen = args.listen.or(file.listen).unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
    let database = args.database.clone().or(file.database).unwrap_or_else(|| sqlite_url(&data.join("meta.db")));
    let mut service =
        ServiceConfig { thumbnail_dir: Some(data.join("cache").join("thumbnails")), ..ServiceConfig::default() };
    if let Some(days) = file.trash_retention_days {
        service.trash_retention = Duration::from_secs(days * 24 * 3600);
    }
    if let Some(days) = file.audit_retention_days {
        service.audit_retention = (days > 0).then(|| Duration::from_secs(days * 24 * 3600));
    }
    if let Some(hours) = file.upload_ttl_hours {
        service.upload_ttl = Duration::from_secs(hours * 3600);
    }
    let metrics_token = std::env::var("COFFER_METRICS_TOKEN").ok().filter(|t| !t.is_empty()).or(file.metrics_token);
    if metrics_token.as_ref().is_some_and(|t| t.len() < 16) {
        anyhow::bail!("metrics_token must be at least 16 characters");
    }
    let mut http = HttpConfig {
        metrics_token,
        trust_forwarded_for: file.trust_forwarded_for.unwrap_or(false),
        ..HttpConfig::default()
    };
    if let Some(secs) = file.header_timeout_secs {
        http.header_timeout = Duration::from_secs(secs.max(1));
    }
    if let Some(n) = file.max_connections {
        http.max_connections = n.max(1);
    }
    if let Some(n) = file.downloads_per_user {
        http.downloads_per_user = n.max(1);
    }
    if let Some(n) = file.notify_sockets_per_user {
        http.notify_sockets_per_user = n.max(1);
    }
    if let Some(secs) = file.send_timeout_secs {
        http.send_timeout = Duration::from_secs(secs.max(1));
    }
    if let Some(mib) = file.download_memory_mib {
        service.download_memory = mib.max(8) << 20;
    }
    if let Some(n) = file.uploads_per_user {
        service.max_open_uploads = n.max(1);
    }
    if let Some(n) = file.sign_in_failures_per_address {
        service.passwords.address_free_failures = n;
    }
    if let Some(n) = file.sign_in_failures_per_account {
        service.passwords.account_free_failures = n;
    }
    http.tls = match (args.tls_cert.clone().or(file.tls_cert), args.tls_key.clone().or(file.tls_key)) {
        (Some(cert), Some(key)) => Some(coffer_server::TlsSource::Files { cert, key }),
        (None, None) if args.tls_self_signed => {
            let mut names = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
            if !listen.ip().is_unspecified() && !listen.ip().is_loopback() {
                names.push(listen.ip().to_string());
            }
            Some(coffer_server::TlsSource::SelfSigned { names, write_to: Some(data.join("tls-self-signed.pem")) })
        }
        (None, None) => None,
        _ => anyhow::bail!("tls_cert and tls_key go together: give both, or neither"),
    };
    Ok(Resolved {
        listen,
        data: data.clone(),
        key_file: args.key_file.clone().or(file.key_file),
        storage: StorageConfig { database_url: database, chunk_dir: data.join("chunks") },
        service,
        http,
        maintenance_every: Duration::from_secs(file.maintenance_interval_secs.unwrap_or(600).max(1)),
    })
}

pub fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

pub async fn run(args: ServeArgs) -> Result<u8> {
    let cfg = resolve(&args)?;
    if let Some(data) = cfg.storage.chunk_dir.parent() {
        prepare_data_dir(data, &cfg.storage.database_url)?;
    }
    let keys = if args.no_encryption {
        crate::keys::ServeKeys { keyring: None, file: None }
    } else {
        crate::keys::for_serve(&cfg.data, &cfg.storage.chunk_dir, cfg.key_file.clone())?
    };
    let mut service_config = cfg.service.clone();
    if keys.keyring.is_some() {
        // Thumbnails are made from file bytes: not kept on disk when those are sealed.
        service_config.thumbnail_dir = None;
    }
    let service =
        Service::open_with_keys(&cfg.storage, keys.keyring, service_config).await.context("opening the stores")?;
    if let Some(file) = keys.file {
        tokio::spawn(watch_key_file(service.clone(), file));
    }
    let listener =
        tokio::net::TcpListener::bind(cfg.listen).await.with_context(|| format!("listening on {}", cfg.listen))?;
    let addr = listener.local_addr()?;
    let scheme = if cfg.http.tls.is_some() { "https" } else { "http" };
    if let Some(token) = service.prepare_setup_token().await? {
        eprintln!("No users yet. Create the first admin with this one-time setup token,");
        eprintln!("in a browser at {scheme}://{addr}/ or with:");
        eprintln!("  coffer setup {scheme}://{addr} --token={token} --user NAME");
        eprintln!("(or: coffer admin user add NAME --admin --data DIR)");
    }
    tracing::info!(%addr, database = %redact(&cfg.storage.database_url), "coffer server listening");
    if let Some(coffer_server::TlsSource::SelfSigned { write_to: Some(pem), .. }) = &cfg.http.tls {
        eprintln!("coffer: self-signed certificate (for development) in {}", pem.display());
        eprintln!(
            "coffer: clients trust it with: coffer login {scheme}://{addr} --ca-file {} --user NAME",
            pem.display()
        );
    }
    eprintln!("coffer: listening on {scheme}://{addr}");
    coffer_server::serve(service, listener, cfg.http, cfg.maintenance_every, shutdown_signal()).await?;
    tracing::info!("coffer server stopped");
    Ok(0)
}

/// Takes a rotated key file while the server runs: checked every few seconds; a new
/// current key is used for new chunks at once, and every chunk is sealed again under it
/// in the background.
async fn watch_key_file(service: Service, file: PathBuf) {
    let stamp = |f: &Path| std::fs::metadata(f).ok().map(|m| (m.modified().ok(), m.len()));
    let mut seen = stamp(&file);
    loop {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let now = stamp(&file);
        if now == seen || now.is_none() {
            continue;
        }
        seen = now;
        let ring = match crate::keys::load(&file) {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(error = %e, "the key file changed but cannot be read; keeping the keys in use");
                continue;
            }
        };
        let id = ring.current_id();
        if let Err(e) = service.set_keyring(ring) {
            tracing::error!(error = %e, "the key file changed but its keys cannot be used; keeping the keys in use");
            continue;
        }
        tracing::info!(key = %id, "new master key in use; sealing every chunk under it");
        let s = service.clone();
        tokio::spawn(async move {
            if let Err(e) = s.reseal_pending().await {
                tracing::error!(error = %e, "sealing chunks under the new key stopped; the next upkeep carries on");
            }
        });
    }
}

/// Creates the data directory readable by its owner only (0700) and the embedded
/// database file 0600 before SQLite opens it (SQLite gives its journal files the
/// database's mode). Existing looser permissions are reported, not changed: the
/// operator may have chosen them.
fn prepare_data_dir(data: &Path, database_url: &str) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
        if !data.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(data)
                .with_context(|| format!("creating {}", data.display()))?;
        }
        let mut looser = Vec::new();
        let mode = std::fs::metadata(data).with_context(|| format!("reading {}", data.display()))?.permissions().mode();
        if mode & 0o077 != 0 {
            looser.push(format!("{} is {:o}", data.display(), mode & 0o777));
        }
        if let Some(db) = database_url.strip_prefix("sqlite://").and_then(|p| p.split('?').next()).map(Path::new) {
            if !db.exists() {
                std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(db)
                    .with_context(|| format!("creating {}", db.display()))?;
            }
            for suffix in ["", "-wal", "-shm"] {
                let f = PathBuf::from(format!("{}{suffix}", db.display()));
                if let Ok(m) = std::fs::metadata(&f)
                    && m.permissions().mode() & 0o077 != 0
                {
                    looser.push(format!("{} is {:o}", f.display(), m.permissions().mode() & 0o777));
                }
            }
        }
        for l in looser {
            tracing::warn!("{l}: other users of this machine can read it (chmod go-rwx)");
            eprintln!("coffer: warning: {l}: other users of this machine can read it (chmod go-rwx)");
        }
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(data).with_context(|| format!("creating {}", data.display()))?;
    Ok(())
}

/// Hides a password in a database URL before it is logged.
fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite://x"), "sqlite://x");
    }

    #[test]
    fn flags_beat_the_file_and_defaults_need_nothing() {
        let args = ServeArgs {
            data: None,
            listen: None,
            database: None,
            config: None,
            key_file: None,
            no_encryption: false,
            tls_cert: None,
            tls_key: None,
            tls_self_signed: false,
        };
        let r = resolve(&args).expect("defaults");
        assert_eq!(r.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(r.storage.database_url, "sqlite://coffer-data/meta.db");
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("coffer.toml");
        std::fs::write(&file, "listen = \"0.0.0.0:9000\"\ndata = \"/srv/coffer\"\n").expect("write");
        let args = ServeArgs {
            data: Some("/other".into()),
            listen: None,
            database: None,
            config: Some(file.clone()),
            key_file: None,
            no_encryption: false,
            tls_cert: None,
            tls_key: None,
            tls_self_signed: false,
        };
        let r = resolve(&args).expect("file");
        assert_eq!(r.listen.to_string(), "0.0.0.0:9000");
        assert_eq!(r.storage.chunk_dir, PathBuf::from("/other/chunks"));
        std::fs::write(&file, "lisen = \"typo\"\n").expect("write");
        assert!(resolve(&args).is_err(), "unknown keys are refused");
    }
}
