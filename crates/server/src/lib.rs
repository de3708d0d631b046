//! Coffer's HTTP front end: the REST API under `/api/v1`, the web app, health and metrics.
//!
//! Handlers only translate: parse and validate the request, call one service operation,
//! serialize its result. Every error leaves as JSON with a stable code.
//!
//! Architecture invariant: this crate reaches data only through `coffer_service`; it
//! never depends on the metadata or chunk stores, and HTTP types never go below it.

mod error;
mod extract;
mod openapi;
mod routes;
pub mod tls;
mod web;
mod zip;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use coffer_service::Service;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tower::Service as _;

pub use error::ApiError;
pub use tls::TlsSource;

/// How the HTTP front end protects itself. The defaults suit a server reachable from the
/// internet and need no configuration.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Who may read `/metrics`: loopback clients always; others only with
    /// `Authorization: Bearer <this token>` (with no token, nobody else).
    pub metrics_token: Option<String>,
    /// Behind a reverse proxy: take the client's address from the last entry of
    /// `X-Forwarded-For` (the one the proxy added) instead of the TCP peer.
    pub trust_forwarded_for: bool,
    /// Time a client has to send a request's headers; also how long an idle
    /// keep-alive connection stays open.
    pub header_timeout: Duration,
    /// Open connections at once; more wait in the listen backlog until one closes.
    pub max_connections: usize,
    /// Downloads one user may stream at once; more are refused `rate_limited`.
    pub downloads_per_user: usize,
    /// Notify WebSockets one user may hold open at once (they outlive the connection
    /// cap, which counts connections until they are upgraded).
    pub notify_sockets_per_user: usize,
    /// A connection whose writes make no progress this long (a client that stopped
    /// reading) is closed, releasing what its response held.
    pub send_timeout: Duration,
    /// Serve HTTPS with this certificate (then HSTS is sent and the session cookie is
    /// `Secure`); plain HTTP without.
    pub tls: Option<TlsSource>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            metrics_token: None,
            trust_forwarded_for: false,
            header_timeout: Duration::from_secs(30),
            max_connections: 1024,
            downloads_per_user: 32,
            notify_sockets_per_user: 16,
            send_timeout: Duration::from_secs(60),
            tls: None,
        }
    }
}

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub service: Service,
    pub metrics: PrometheusHandle,
    pub http: Arc<HttpConfig>,
    pub(crate) downloads: routes::UserSlots,
    pub(crate) notify_sockets: routes::UserSlots,
}

/// The process-wide Prometheus recorder (installed once, shared by every router).
fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (tests); then metrics go there.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// A connection's byte stream: TCP, or TLS over it.
trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin> Io for T {}

/// Stops a background task when the server stops.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The whole HTTP application, with the default [`HttpConfig`].
pub fn app(service: Service) -> Router {
    app_with(service, HttpConfig::default())
}

/// The whole HTTP application.
pub fn app_with(service: Service, http: HttpConfig) -> Router {
    let downloads = routes::UserSlots::new("downloads", http.downloads_per_user);
    let notify_sockets = routes::UserSlots::new("notify sockets", http.notify_sockets_per_user);
    routes::router(AppState { service, metrics: metrics_handle(), http: Arc::new(http), downloads, notify_sockets })
}

/// Serves on `listener` until `shutdown` completes, running maintenance every
/// `maintenance_every`.
///
/// Connections are served by hyper with a timer, so a client that does not send its
/// headers in time (or idles on a keep-alive connection) is disconnected, and at most
/// `max_connections` are open at once.
pub async fn serve(
    service: Service,
    listener: TcpListener,
    http: HttpConfig,
    maintenance_every: Duration,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let upkeep = service.clone();
    let maintenance = tokio::spawn(async move {
        let mut tick = tokio::time::interval(maintenance_every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = upkeep.run_maintenance().await {
                tracing::warn!(error = %e, "maintenance pass failed");
            }
            metrics_handle().run_upkeep();
        }
    });
    let slots = Arc::new(tokio::sync::Semaphore::new(http.max_connections.max(1)));
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(http.header_timeout);
    builder.http2().timer(TokioTimer::new()).keep_alive_interval(Some(http.header_timeout));
    let send_timeout = http.send_timeout;
    let handshake_timeout = http.header_timeout;
    let tls = match &http.tls {
        Some(source) => Some(Arc::new(tls::Tls::new(source.clone()).map_err(std::io::Error::other)?)),
        None => None,
    };
    let _reload = tls.as_ref().and_then(|t| t.watch()).map(AbortOnDrop);
    let app = app_with(service, http);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
            () = &mut shutdown => break,
        };
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Small responses go out at once: with Nagle's algorithm a reply written in two
        // pieces waits for the peer's delayed acknowledgement (up to 40 ms).
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY not set");
        }
        let app = app.clone();
        let svc = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            app.clone().call(req)
        });
        let builder = builder.clone();
        let watcher = graceful.watcher();
        let tls = tls.clone();
        tokio::spawn(async move {
            let io: Box<dyn Io> = match tls {
                // The handshake has the same time as a request's headers.
                Some(tls) => match tokio::time::timeout(handshake_timeout, tls.acceptor.accept(tcp)).await {
                    Ok(Ok(stream)) => Box::new(stream),
                    Ok(Err(e)) => {
                        tracing::debug!(error = %e, %peer, "TLS handshake failed");
                        return;
                    }
                    Err(_) => return,
                },
                None => Box::new(tcp),
            };
            let mut io = tokio_io_timeout::TimeoutStream::new(io);
            io.set_write_timeout(Some(send_timeout));
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(Box::pin(io)), svc).into_owned();
            if let Err(e) = watcher.watch(conn).await {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    // In-flight requests get a moment to finish; then the process may go.
    let _ = tokio::time::timeout(Duration::from_secs(10), graceful.shutdown()).await;
    maintenance.abort();
    Ok(())
}
