//! TLS for the server (rustls, with the ring provider): a certificate and key from PEM
//! files, read again whenever they change on disk (a renewal needs no restart), or a
//! self-signed certificate made at start for development.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

/// Where the server's certificate comes from.
#[derive(Debug, Clone)]
pub enum TlsSource {
    /// A certificate chain and its private key, PEM files (as certbot writes them).
    Files { cert: PathBuf, key: PathBuf },
    /// A certificate made at start for these names (development only); its PEM is
    /// written to `write_to` so clients can be told to trust it.
    SelfSigned { names: Vec<String>, write_to: Option<PathBuf> },
}

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("making a self-signed certificate: {0}")]
    SelfSigned(String),
    #[error("TLS setup: {0}")]
    Setup(String),
}

/// The certificate in use, swapped when its files change.
#[derive(Debug)]
struct CurrentCert(RwLock<Arc<CertifiedKey>>);

impl ResolvesServerCert for CurrentCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.read().unwrap_or_else(|p| p.into_inner()).clone())
    }
}

/// rustls with the ring provider: it builds without the C toolchain aws-lc needs. (rustls
/// marks it deprecated because it offers no post-quantum key exchange.)
#[allow(deprecated)]
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Makes the ring provider the process's default, for HTTP clients in the same process
/// (tests, benchmarks) that do not choose one; a second call changes nothing.
pub fn install_default_provider() {
    let _ = Arc::unwrap_or_clone(provider()).install_default();
}

fn certified(chain: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>) -> Result<CertifiedKey, TlsError> {
    CertifiedKey::from_der(chain, key, &provider()).map_err(|e| TlsError::Setup(e.to_string()))
}

/// Reads a PEM certificate chain and private key.
fn load_files(cert: &Path, key: &Path) -> Result<CertifiedKey, TlsError> {
    let file_err = |path: &Path, message: String| TlsError::File { path: path.to_path_buf(), message };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| file_err(cert, e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| file_err(cert, e.to_string()))?;
    if chain.is_empty() {
        return Err(file_err(cert, "no certificate in it (a PEM file with BEGIN CERTIFICATE)".into()));
    }
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| file_err(key, format!("no private key: {e}")))?;
    certified(chain, key_der).map_err(|e| file_err(key, e.to_string()))
}

fn self_signed(names: &[String], write_to: Option<&Path>) -> Result<CertifiedKey, TlsError> {
    let made = rcgen::generate_simple_self_signed(names.to_vec()).map_err(|e| TlsError::SelfSigned(e.to_string()))?;
    if let Some(path) = write_to {
        std::fs::write(path, made.cert.pem())
            .map_err(|e| TlsError::File { path: path.into(), message: e.to_string() })?;
    }
    let key = PrivateKeyDer::try_from(made.signing_key.serialize_der()).map_err(|e| TlsError::SelfSigned(e.into()))?;
    certified(vec![made.cert.der().clone()], key)
}

/// The server's TLS: an acceptor whose certificate follows its files.
pub struct Tls {
    pub acceptor: tokio_rustls::TlsAcceptor,
    current: Arc<CurrentCert>,
    source: TlsSource,
}

impl Tls {
    pub fn new(source: TlsSource) -> Result<Self, TlsError> {
        let cert = match &source {
            TlsSource::Files { cert, key } => load_files(cert, key)?,
            TlsSource::SelfSigned { names, write_to } => self_signed(names, write_to.as_deref())?,
        };
        let current = Arc::new(CurrentCert(RwLock::new(Arc::new(cert))));
        let mut config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Setup(e.to_string()))?
            .with_no_client_auth()
            .with_cert_resolver(current.clone());
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Self { acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)), current, source })
    }

    /// Reads the certificate files again whenever they change (checked every few
    /// seconds); a file that does not parse leaves the certificate in use.
    pub fn watch(&self) -> Option<tokio::task::JoinHandle<()>> {
        let TlsSource::Files { cert, key } = self.source.clone() else { return None };
        let current = self.current.clone();
        Some(tokio::spawn(async move {
            let stamp = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
            let mut seen: (Option<SystemTime>, Option<SystemTime>) = (stamp(&cert), stamp(&key));
            let mut reported = None;
            loop {
                tokio::time::sleep(Duration::from_secs(2)).await;
                let now = (stamp(&cert), stamp(&key));
                if now == seen {
                    continue;
                }
                // The files may be half renewed (the certificate before its key): tried
                // again at every check until they load, reported once.
                match load_files(&cert, &key) {
                    Ok(c) => {
                        *current.0.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(c);
                        seen = now;
                        tracing::info!(cert = %cert.display(), "TLS certificate reloaded");
                    }
                    Err(e) if reported != Some(now) => {
                        reported = Some(now);
                        tracing::error!(error = %e, "the TLS certificate changed but cannot be used yet; keeping the old one");
                    }
                    Err(_) => {}
                }
            }
        }))
    }
}
