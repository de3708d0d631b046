//! Coffer's HTTP front end: the REST API under `/api/v1`, health and metrics.
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

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use axum::Router;
use coffer_service::Service;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;

pub use error::ApiError;

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub service: Service,
    pub metrics: PrometheusHandle,
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

/// The whole HTTP application.
pub fn app(service: Service) -> Router {
    routes::router(AppState { service, metrics: metrics_handle() })
}

/// Serves on `listener` until `shutdown` completes, running maintenance every
/// `maintenance_every`.
pub async fn serve(
    service: Service,
    listener: TcpListener,
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
    let app = app(service).into_make_service_with_connect_info::<SocketAddr>();
    // Small responses go out at once: with Nagle's algorithm a reply written in two
    // pieces waits for the peer's delayed acknowledgement (up to 40 ms).
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY not set");
        }
    });
    let result = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
    maintenance.abort();
    result
}
