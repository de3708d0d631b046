//! In-process change signals: one watch channel per namespace carrying its latest seq.
//! A signal is only a hint to re-read the journal, so a missed one can delay a client
//! but never lose a change.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::watch;

#[derive(Default)]
pub(crate) struct Notifier {
    channels: Mutex<HashMap<i64, watch::Sender<u64>>>,
}

impl Notifier {
    fn sender(&self, namespace: i64) -> watch::Sender<u64> {
        let mut map = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(namespace).or_insert_with(|| watch::channel(0).0).clone()
    }

    pub(crate) fn signal(&self, namespace: i64) {
        self.sender(namespace).send_modify(|v| *v = v.wrapping_add(1));
    }

    pub(crate) fn subscribe(&self, namespace: i64) -> watch::Receiver<u64> {
        self.sender(namespace).subscribe()
    }
}

impl crate::Service {
    pub(crate) fn notify(&self, namespaces: &[i64]) {
        for ns in namespaces {
            self.inner.notifier.signal(*ns);
        }
    }
}
