//! In-process change signals: one watch channel per namespace carrying its latest seq.
//! A signal is only a hint to re-read the journal, so a missed one can delay a client
//! but never lose a change. Comment events go on one broadcast channel, and each feed
//! passes on those of its namespaces.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use tokio::sync::{broadcast, watch};

use coffer_core::{CommentId, NamespaceId, NodeId, UserId};

use crate::access::Caller;
use crate::{Result, Service};

/// A comment added, edited or deleted: `(namespace, file, comment)`.
pub(crate) type CommentEvent = (NamespaceId, NodeId, CommentId);

pub(crate) struct Notifier {
    channels: Mutex<HashMap<NamespaceId, watch::Sender<u64>>>,
    comments: broadcast::Sender<CommentEvent>,
    /// Accounts whose credentials were revoked: their feeds re-check their own at once.
    credentials: broadcast::Sender<UserId>,
}

impl Default for Notifier {
    fn default() -> Self {
        Self {
            channels: Mutex::default(),
            comments: broadcast::channel(1024).0,
            credentials: broadcast::channel(256).0,
        }
    }
}

impl Notifier {
    /// Tells every feed of the account that some of its credentials were revoked.
    pub(crate) fn credentials_changed(&self, user: UserId) {
        let _ = self.credentials.send(user);
    }

    /// Tells every feed of the namespace that a comment changed.
    pub(crate) fn comment(&self, namespace: NamespaceId, node: NodeId, comment: CommentId) {
        // No feed listening is fine.
        let _ = self.comments.send((namespace, node, comment));
    }

    fn sender(&self, namespace: NamespaceId) -> watch::Sender<u64> {
        let mut map = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(namespace).or_insert_with(|| watch::channel(0).0).clone()
    }

    pub(crate) fn signal(&self, namespace: NamespaceId) {
        self.sender(namespace).send_modify(|v| *v = v.wrapping_add(1));
    }

    pub(crate) fn subscribe(&self, namespace: NamespaceId) -> watch::Receiver<u64> {
        self.sender(namespace).subscribe()
    }
}

impl crate::Service {
    pub(crate) fn notify(&self, namespaces: &[NamespaceId]) {
        for ns in namespaces {
            self.inner.notifier.signal(*ns);
        }
    }
}

/// A device's live view of its namespaces' sequence numbers: the source of the notify
/// WebSocket. Signals are hints; every report is read from the database, so a missed
/// signal delays a report until the next one, and nothing is reported twice. The
/// namespaces are looked up again at every signal, so a shared folder the user joins is
/// followed from then on, and one they leave (or are removed from) is told of no more.
pub struct ChangeFeed {
    service: Service,
    caller: Caller,
    namespaces: Vec<NamespaceId>,
    receivers: Vec<watch::Receiver<u64>>,
    comments: broadcast::Receiver<CommentEvent>,
    credentials: broadcast::Receiver<UserId>,
    last: BTreeMap<NamespaceId, i64>,
}

/// What a change feed reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedEvent {
    /// Namespaces that advanced, with their new seq.
    Advanced(Vec<(NamespaceId, i64)>),
    /// A comment on a file of a namespace the caller is in was added, edited or deleted.
    Comment { namespace: NamespaceId, node: NodeId, comment: CommentId },
    /// Some credential of the caller's account was revoked: the holder of the feed checks
    /// its own at once (and closes if it was the one).
    CredentialsChanged,
}

impl ChangeFeed {
    /// The latest seq of each namespace as of the feed's start.
    pub fn positions(&self) -> &BTreeMap<NamespaceId, i64> {
        &self.last
    }

    /// Waits until some namespace advances (returning each advanced `(namespace, seq)`)
    /// or a comment in one of them changes.
    pub async fn next(&mut self) -> Result<FeedEvent> {
        loop {
            let changed = {
                let waits = self.receivers.iter_mut().map(|r| Box::pin(r.changed()));
                let namespaces = async {
                    if waits.len() == 0 {
                        std::future::pending::<()>().await;
                    }
                    let (result, _, _) = futures::future::select_all(waits).await;
                    if result.is_err() {
                        // The notifier is gone (shutting down): nothing more will come.
                        std::future::pending::<()>().await;
                    }
                };
                tokio::select! {
                    _ = namespaces => None,
                    event = self.comments.recv() => Some(event),
                    user = self.credentials.recv() => match user {
                        Ok(user) if user != self.caller.user_id() => continue,
                        // One of ours, or missed some: check.
                        Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => return Ok(FeedEvent::CredentialsChanged),
                        Err(broadcast::error::RecvError::Closed) => std::future::pending().await,
                    },
                }
            };
            match changed {
                Some(Ok((namespace, node, comment))) => {
                    if self.namespaces.contains(&namespace) {
                        return Ok(FeedEvent::Comment { namespace, node, comment });
                    }
                    continue;
                }
                // Fell behind on comments: they are hints too; carry on.
                Some(Err(broadcast::error::RecvError::Lagged(_))) => continue,
                Some(Err(broadcast::error::RecvError::Closed)) => std::future::pending::<()>().await,
                None => {}
            }
            let mut advanced = Vec::new();
            let mut tx = self.service.meta().read().await?;
            let now = tx.namespace_positions(self.caller.user_id()).await?;
            let now_visible: Vec<NamespaceId> = now.iter().map(|(ns, _)| *ns).collect();
            if now_visible != self.namespaces {
                self.follow(now_visible);
            }
            for (ns, seq) in now {
                if self.last.get(&ns).is_none_or(|last| seq > *last) {
                    self.last.insert(ns, seq);
                    advanced.push((ns, seq));
                }
            }
            if !advanced.is_empty() {
                return Ok(FeedEvent::Advanced(advanced));
            }
        }
    }

    /// Follows exactly `namespaces` from now on (joined ones start from 0, so their
    /// whole journal counts as news).
    fn follow(&mut self, namespaces: Vec<NamespaceId>) {
        self.receivers = namespaces.iter().map(|ns| self.service.inner.notifier.subscribe(*ns)).collect();
        self.last.retain(|ns, _| namespaces.contains(ns));
        self.namespaces = namespaces;
    }
}

impl Service {
    /// Starts a change feed over the namespaces the caller can see.
    pub async fn change_feed(&self, caller: &Caller) -> Result<ChangeFeed> {
        let namespaces = {
            let mut tx = self.meta().read().await?;
            self.visible_namespaces(&mut tx, caller).await?
        };
        // Subscribe before reading, so a change in between is not missed.
        let receivers = namespaces.iter().map(|ns| self.inner.notifier.subscribe(*ns)).collect();
        let mut tx = self.meta().read().await?;
        let last: BTreeMap<NamespaceId, i64> = tx
            .namespace_positions(caller.user_id())
            .await?
            .into_iter()
            .filter(|(ns, _)| namespaces.contains(ns))
            .collect();
        let comments = self.inner.notifier.comments.subscribe();
        let credentials = self.inner.notifier.credentials.subscribe();
        Ok(ChangeFeed {
            service: self.clone(),
            caller: caller.clone(),
            namespaces,
            receivers,
            comments,
            credentials,
            last,
        })
    }
}
