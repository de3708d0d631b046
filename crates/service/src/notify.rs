//! In-process change signals: one watch channel per namespace carrying its latest seq.
//! A signal is only a hint to re-read the journal, so a missed one can delay a client
//! but never lose a change.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use tokio::sync::watch;

use coffer_core::NamespaceId;

use crate::access::Caller;
use crate::{Result, Service};

#[derive(Default)]
pub(crate) struct Notifier {
    channels: Mutex<HashMap<NamespaceId, watch::Sender<u64>>>,
}

impl Notifier {
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
    last: BTreeMap<NamespaceId, i64>,
}

impl ChangeFeed {
    /// The latest seq of each namespace as of the feed's start.
    pub fn positions(&self) -> &BTreeMap<NamespaceId, i64> {
        &self.last
    }

    /// Waits until some namespace advances; returns each advanced `(namespace, seq)`.
    pub async fn next(&mut self) -> Result<Vec<(NamespaceId, i64)>> {
        loop {
            if self.receivers.is_empty() {
                std::future::pending::<()>().await;
            }
            let waits = self.receivers.iter_mut().map(|r| Box::pin(r.changed()));
            let (result, _, _) = futures::future::select_all(waits).await;
            if result.is_err() {
                // The notifier is gone (shutting down): nothing more will come.
                std::future::pending::<()>().await;
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
                return Ok(advanced);
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
        Ok(ChangeFeed { service: self.clone(), caller: caller.clone(), namespaces, receivers, last })
    }
}
