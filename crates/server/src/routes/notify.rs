//! `GET /api/v1/notify`: a WebSocket that tells a device which of its namespaces
//! advanced (never what changed: the device asks `delta` for that). The first message
//! gives every namespace's latest seq, so a device that missed messages while away
//! compares it with its cursor. The credential is checked again as soon as one of its
//! account's credentials is revoked on this server (so a revoked one is disconnected at
//! once) and at every keep-alive ping (a revocation on another server node).

use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{Message, WebSocket};
use axum::http::HeaderMap;
use axum::response::Response;
use coffer_core::wire::{NamespacePosition, NotifyMessage};
use coffer_service::{Caller, ChangeFeed, FeedEvent};

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{ApiWebSocket, Auth, credential_secret};

/// How often the server pings (and re-checks the token).
const PING_EVERY: Duration = Duration::from_secs(30);

pub async fn notify(
    State(s): State<AppState>,
    Auth(caller): Auth,
    headers: HeaderMap,
    ApiWebSocket(ws): ApiWebSocket,
) -> ApiResult<Response> {
    // The credential re-checked at every ping: the client's token or the browser's cookie.
    let token = credential_secret(&headers);
    let slot = s.notify_sockets.take(caller.user_id())?;
    let feed = s.service.change_feed(&caller).await?;
    Ok(ws.max_message_size(64 * 1024).on_upgrade(move |socket| async move {
        run(socket, s, caller, token, feed).await;
        drop(slot);
    }))
}

/// Whether the socket's credential still stands (not revoked, not expired).
async fn still_valid(s: &AppState, token: &str, caller: &Caller) -> bool {
    s.service.authenticate(token).await.is_ok_and(|c| c.credential() == caller.credential())
}

async fn send(socket: &mut WebSocket, msg: &NotifyMessage) -> bool {
    match serde_json::to_string(msg) {
        Ok(text) => socket.send(Message::Text(text.into())).await.is_ok(),
        Err(_) => false,
    }
}

async fn run(mut socket: WebSocket, s: AppState, caller: Caller, token: String, mut feed: ChangeFeed) {
    metrics::gauge!("coffer_notify_connections").increment(1.0);
    let namespaces =
        feed.positions().iter().map(|(ns, seq)| NamespacePosition { namespace_id: ns.get(), seq: *seq }).collect();
    let hello = NotifyMessage::Hello { namespaces };
    if send(&mut socket, &hello).await {
        let mut ping = tokio::time::interval(PING_EVERY);
        ping.tick().await;
        loop {
            tokio::select! {
                event = feed.next() => {
                    let Ok(event) = event else { break };
                    let messages = match event {
                        FeedEvent::CredentialsChanged => {
                            if still_valid(&s, &token, &caller).await {
                                continue;
                            }
                            break;
                        }
                        FeedEvent::Advanced(advanced) => advanced
                            .into_iter()
                            .map(|(ns, seq)| NotifyMessage::Changed { namespace_id: ns.get(), seq })
                            .collect(),
                        FeedEvent::Comment { namespace, node, comment } => vec![NotifyMessage::Comment {
                            namespace_id: namespace.get(),
                            node_id: node.get(),
                            comment_id: comment.get(),
                        }],
                    };
                    let mut ok = true;
                    for message in &messages {
                        ok &= send(&mut socket, message).await;
                    }
                    if !ok {
                        break;
                    }
                }
                incoming = socket.recv() => match incoming {
                    // The client says nothing but pongs and close.
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => {}
                },
                _ = ping.tick() => {
                    if !still_valid(&s, &token, &caller).await || socket.send(Message::Ping(Vec::new().into())).await.is_err() {
                        break;
                    }
                }
            }
        }
    }
    let _ = socket.send(Message::Close(None)).await;
    metrics::gauge!("coffer_notify_connections").decrement(1.0);
}
