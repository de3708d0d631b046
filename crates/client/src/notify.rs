//! Waiting for changes: the notify WebSocket, reconnected with backoff, and the
//! long-poll when WebSockets keep failing (a proxy that does not pass them, say).
//!
//! A notification is only a hint. The server's first message on every connection gives
//! the latest position of each namespace, and the watcher compares positions with the
//! caller's cursor, so a message missed while disconnected can delay a change but never
//! lose it.

use std::collections::BTreeMap;
use std::time::Duration;

use coffer_core::Cursor;
use coffer_core::wire::NotifyMessage;
use futures::StreamExt;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::api::Client;
use crate::error::ClientError;

/// WebSocket failures in a row after which the watcher long-polls instead.
const FALLBACK_AFTER: u32 = 5;
/// While long-polling, try the WebSocket again this often.
const RETRY_WEBSOCKET_EVERY: Duration = Duration::from_secs(300);

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Watches the caller's namespaces; see [`Client::watcher`].
pub struct ChangeWatcher {
    client: Client,
    socket: Option<Socket>,
    failures: u32,
    fell_back_at: Option<Instant>,
    latest: BTreeMap<i64, i64>,
}

impl Client {
    /// A watcher of this account's namespaces.
    pub fn watcher(&self) -> ChangeWatcher {
        ChangeWatcher { client: self.clone(), socket: None, failures: 0, fell_back_at: None, latest: BTreeMap::new() }
    }
}

fn backoff(failures: u32) -> Duration {
    Duration::from_millis(200u64.saturating_mul(1 << failures.min(7))).min(Duration::from_secs(30))
}

impl ChangeWatcher {
    /// True when the WebSocket is connected (not long-polling).
    pub fn is_connected(&self) -> bool {
        self.socket.is_some()
    }

    fn ahead_of(&self, cursor: &Cursor) -> bool {
        self.latest.iter().any(|(ns, seq)| *seq > cursor.seq(*ns))
    }

    async fn connect(&self) -> Result<Socket, ClientError> {
        let base = self.client.base_url();
        let ws_base = if let Some(rest) = base.strip_prefix("http://") {
            format!("ws://{rest}")
        } else if let Some(rest) = base.strip_prefix("https://") {
            format!("wss://{rest}")
        } else {
            return Err(ClientError::InvalidUrl(base.to_owned()));
        };
        let url = format!("{}/api/v1/notify", ws_base.trim_end_matches('/'));
        let mut req = url.as_str().into_client_request().map_err(|e| ClientError::Transport(format!("{url}: {e}")))?;
        if let Some(token) = self.client.token()
            && let Ok(v) = format!("Bearer {token}").parse()
        {
            req.headers_mut().insert("authorization", v);
        }
        tokio_tungstenite::connect_async(req)
            .await
            .map(|(socket, _)| socket)
            .map_err(|e| ClientError::Transport(format!("{url}: {e}")))
    }

    /// Waits until the server is ahead of `cursor` in some namespace (true), or
    /// `max_wait` passes (false).
    pub async fn wait(&mut self, cursor: &Cursor, max_wait: Duration) -> Result<bool, ClientError> {
        let deadline = Instant::now() + max_wait;
        loop {
            if self.ahead_of(cursor) {
                return Ok(true);
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(false);
            }
            let remaining = deadline - now;
            let long_polling = self.failures >= FALLBACK_AFTER
                && self.fell_back_at.is_some_and(|at| now.duration_since(at) < RETRY_WEBSOCKET_EVERY);
            if long_polling {
                let secs = remaining.as_secs().clamp(1, 300);
                return Ok(self.client.longpoll(&cursor.to_string(), secs).await?.changed);
            }
            let Some(socket) = self.socket.as_mut() else {
                match self.connect().await {
                    Ok(s) => self.socket = Some(s),
                    Err(e) => {
                        self.failures += 1;
                        if self.failures >= FALLBACK_AFTER {
                            tracing::info!(error = %e, "notify WebSocket keeps failing; long-polling");
                            self.fell_back_at = Some(Instant::now());
                        } else {
                            tokio::time::sleep(backoff(self.failures).min(remaining)).await;
                        }
                    }
                }
                continue;
            };
            match tokio::time::timeout(remaining, socket.next()).await {
                Err(_) => return Ok(false),
                Ok(Some(Ok(Message::Text(text)))) => match serde_json::from_str::<NotifyMessage>(&text) {
                    Ok(NotifyMessage::Hello { namespaces }) => {
                        self.failures = 0;
                        self.fell_back_at = None;
                        for p in namespaces {
                            let seq = self.latest.entry(p.namespace_id).or_insert(p.seq);
                            *seq = (*seq).max(p.seq);
                        }
                    }
                    Ok(NotifyMessage::Changed { namespace_id, seq }) => {
                        let latest = self.latest.entry(namespace_id).or_insert(seq);
                        *latest = (*latest).max(seq);
                    }
                    // Comments do not change the tree a device syncs.
                    Ok(NotifyMessage::Comment { .. }) => {}
                    // A message of a newer server: ignore it.
                    Err(_) => {}
                },
                Ok(Some(Ok(_))) => {}
                Ok(Some(Err(_)) | None) => {
                    self.socket = None;
                    self.failures += 1;
                    tokio::time::sleep(backoff(self.failures).min(remaining)).await;
                }
            }
        }
    }
}
