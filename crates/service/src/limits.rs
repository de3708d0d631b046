//! Limits on what a caller who has not proved anything yet can make the server spend.
//!
//! Password checks: argon2id costs about 19 MiB and tens of milliseconds per check, so
//! every check (sign-in, first-admin setup, and every password the product will check
//! later) runs on a small fixed set of threads behind a bounded queue. A full queue is
//! answered `busy` (503) at once, so a flood costs a bounded amount of memory: the
//! threads' working memory, never one allocation per request. The threads are long-lived
//! on purpose: the allocator keeps freed argon2 blocks per thread, so few threads means
//! little retained memory.
//!
//! Guessing: failures are counted per client address and per account, and past a free
//! allowance each further failure doubles a wait during which that key is refused with
//! `rate_limited` (429 with Retry-After) before any hashing happens.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::time::{Duration, Instant};

use coffer_core::ErrorCode;

use crate::{Result, ServiceError};

/// How password checks and guessing back-off are bounded.
#[derive(Debug, Clone)]
pub struct PasswordLimits {
    /// Password checks running at once (each holds about 19 MiB while it runs).
    pub workers: usize,
    /// Checks waiting for a worker; past this a request is refused `busy`.
    pub queue: usize,
    /// Failures from one address before back-off starts.
    pub address_free_failures: u32,
    /// Failures on one account before back-off starts.
    pub account_free_failures: u32,
    /// The first wait; each further failure doubles it.
    pub first_wait: Duration,
    /// The longest wait for an address.
    pub address_max_wait: Duration,
    /// The longest wait for an account (short, so that nobody can lock a user out for long).
    pub account_max_wait: Duration,
    /// Failures are forgotten after this long without a new one.
    pub forget_after: Duration,
}

impl Default for PasswordLimits {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            workers: cores.clamp(1, 4),
            queue: 32,
            address_free_failures: 10,
            account_free_failures: 5,
            first_wait: Duration::from_secs(1),
            address_max_wait: Duration::from_secs(15 * 60),
            account_max_wait: Duration::from_secs(5 * 60),
            forget_after: Duration::from_secs(3600),
        }
    }
}

/// Keys tracked per back-off table; past this the stalest entries are forgotten.
const MAX_TRACKED: usize = 65_536;

type Job = Box<dyn FnOnce() + Send>;

/// The password-check pool and the guessing back-off, shared by every request.
pub(crate) struct PasswordGate {
    jobs: SyncSender<Job>,
    limits: PasswordLimits,
    by_address: Backoff,
    by_account: Backoff,
}

/// Who is trying a password: the key of the account (or link, or other secret) and the
/// address the attempt came from.
pub(crate) struct Attempt<'a> {
    pub account: &'a str,
    pub address: Option<IpAddr>,
}

impl Attempt<'_> {
    fn address_key(&self) -> Option<String> {
        self.address.map(|a| match a {
            // One IPv6 host usually holds a whole /64: count it as one address.
            IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(|v4| v4.to_string()).unwrap_or_default(),
            IpAddr::V4(v4) => v4.to_string(),
        })
    }
}

impl PasswordGate {
    pub(crate) fn new(limits: PasswordLimits) -> Self {
        let (jobs, rx) = sync_channel::<Job>(limits.queue.max(1));
        let rx = std::sync::Arc::new(Mutex::new(rx));
        for i in 0..limits.workers.max(1) {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new().name(format!("coffer-password-{i}")).spawn(move || {
                loop {
                    let job = match rx.lock() {
                        Ok(guard) => guard.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                }
            });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a password-check thread");
            }
        }
        Self {
            jobs,
            by_address: Backoff::new(limits.address_free_failures, limits.address_max_wait),
            by_account: Backoff::new(limits.account_free_failures, limits.account_max_wait),
            limits,
        }
    }

    /// Refuses an attempt whose address or account is waiting out a back-off. Cheap: no
    /// hashing happens before this.
    pub(crate) fn admit(&self, attempt: &Attempt<'_>) -> Result<()> {
        let now = Instant::now();
        let wait = [
            attempt.address_key().and_then(|k| self.by_address.waiting(&k, now)),
            self.by_account.waiting(&attempt.account.to_lowercase(), now),
        ]
        .into_iter()
        .flatten()
        .max();
        match wait {
            Some(wait) => {
                // Debug only: a flood of refused attempts must not flood the log too (the
                // failures that led here were logged as warnings).
                tracing::debug!(account = attempt.account, address = ?attempt.address, wait_secs = wait.as_secs(), "password attempt refused: too many failures");
                metrics::counter!("coffer_password_attempts_refused_total", "why" => "backoff").increment(1);
                Err(rate_limited(wait))
            }
            None => Ok(()),
        }
    }

    /// Records a wrong password.
    pub(crate) fn failed(&self, attempt: &Attempt<'_>) {
        let now = Instant::now();
        if let Some(k) = attempt.address_key() {
            self.by_address.fail(k, now, &self.limits);
        }
        self.by_account.fail(attempt.account.to_lowercase(), now, &self.limits);
        metrics::counter!("coffer_password_failures_total").increment(1);
    }

    /// Records a right password: the account's failures are forgotten (the address's
    /// are not, so one good account does not clear guessing at others).
    pub(crate) fn succeeded(&self, attempt: &Attempt<'_>) {
        self.by_account.forget(&attempt.account.to_lowercase());
    }

    /// Runs `work` (a password hash or check) on the pool; `busy` at once when the
    /// queue is full.
    pub(crate) async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(work());
        });
        match self.jobs.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                metrics::counter!("coffer_password_attempts_refused_total", "why" => "queue_full").increment(1);
                let mut e = ServiceError::new(ErrorCode::Busy, "too many password checks at once; retry shortly");
                e.retry_after = Some(Duration::from_secs(1));
                return Err(e);
            }
            Err(TrySendError::Disconnected(_)) => {
                return Err(ServiceError::new(ErrorCode::Internal, "password checks are unavailable"));
            }
        }
        rx.await.map_err(|_| ServiceError::new(ErrorCode::Internal, "a password check failed"))
    }
}

fn rate_limited(wait: Duration) -> ServiceError {
    let secs = wait.as_secs().max(1);
    let mut e =
        ServiceError::new(ErrorCode::RateLimited, format!("too many failed attempts; try again in {secs} seconds"));
    e.retry_after = Some(Duration::from_secs(secs));
    e
}

/// Failure counts with a doubling wait, per key.
struct Backoff {
    entries: Mutex<HashMap<String, Entry>>,
    free_failures: u32,
    max_wait: Duration,
}

#[derive(Clone, Copy)]
struct Entry {
    failures: u32,
    last_failure: Instant,
    blocked_until: Option<Instant>,
}

impl Backoff {
    fn new(free_failures: u32, max_wait: Duration) -> Self {
        Self { entries: Mutex::new(HashMap::new()), free_failures, max_wait }
    }

    /// How long `key` must still wait, if it must.
    fn waiting(&self, key: &str, now: Instant) -> Option<Duration> {
        let entries = self.entries.lock().ok()?;
        let until = entries.get(key)?.blocked_until?;
        (until > now).then(|| until - now)
    }

    fn fail(&self, key: String, now: Instant, limits: &PasswordLimits) {
        let Ok(mut entries) = self.entries.lock() else { return };
        if entries.len() >= MAX_TRACKED && !entries.contains_key(&key) {
            entries.retain(|_, e| now.duration_since(e.last_failure) < limits.forget_after);
            if entries.len() >= MAX_TRACKED {
                // Still full: forget the stalest eighth rather than stop counting.
                let mut ages: Vec<Instant> = entries.values().map(|e| e.last_failure).collect();
                ages.sort_unstable();
                let cutoff = ages[ages.len() / 8];
                entries.retain(|_, e| e.last_failure > cutoff);
            }
        }
        let shown = key.clone();
        let entry = entries.entry(key).or_insert(Entry { failures: 0, last_failure: now, blocked_until: None });
        if now.duration_since(entry.last_failure) >= limits.forget_after {
            *entry = Entry { failures: 0, last_failure: now, blocked_until: None };
        }
        entry.failures = entry.failures.saturating_add(1);
        entry.last_failure = now;
        if entry.failures > self.free_failures {
            let doublings = (entry.failures - self.free_failures - 1).min(30);
            let wait = limits.first_wait.saturating_mul(1u32 << doublings).min(self.max_wait);
            entry.blocked_until = Some(now + wait);
            tracing::warn!(key = %shown, failures = entry.failures, wait_secs = wait.as_secs(), "password attempts backed off");
        }
    }

    fn forget(&self, key: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> PasswordLimits {
        PasswordLimits { workers: 1, queue: 1, ..PasswordLimits::default() }
    }

    #[test]
    fn waits_double_after_the_free_failures_and_are_capped() {
        let l = limits();
        let b = Backoff::new(2, Duration::from_secs(10));
        let t = Instant::now();
        b.fail("k".into(), t, &l);
        b.fail("k".into(), t, &l);
        assert_eq!(b.waiting("k", t), None, "two failures are free");
        b.fail("k".into(), t, &l);
        assert_eq!(b.waiting("k", t), Some(Duration::from_secs(1)));
        b.fail("k".into(), t, &l);
        assert_eq!(b.waiting("k", t), Some(Duration::from_secs(2)));
        for _ in 0..40 {
            b.fail("k".into(), t, &l);
        }
        assert_eq!(b.waiting("k", t), Some(Duration::from_secs(10)), "capped at the maximum");
        assert_eq!(b.waiting("k", t + Duration::from_secs(11)), None, "the wait ends");
        assert_eq!(b.waiting("other", t), None, "keys are separate");
        b.forget("k");
        assert_eq!(b.waiting("k", t), None);
    }

    #[test]
    fn failures_are_forgotten_after_a_quiet_hour() {
        let l = limits();
        let b = Backoff::new(1, Duration::from_secs(60));
        let t = Instant::now();
        b.fail("k".into(), t, &l);
        b.fail("k".into(), t, &l);
        assert!(b.waiting("k", t).is_some());
        let later = t + l.forget_after + Duration::from_secs(1);
        b.fail("k".into(), later, &l);
        assert_eq!(b.waiting("k", later), None, "the count started again");
    }

    #[test]
    fn ipv6_hosts_count_by_their_64_prefix() {
        let a = Attempt { account: "x", address: Some("2001:db8:1:2:aaaa::1".parse().expect("ip")) };
        let b = Attempt { account: "x", address: Some("2001:db8:1:2:bbbb::9".parse().expect("ip")) };
        assert_eq!(a.address_key(), b.address_key());
        let mapped = Attempt { account: "x", address: Some("::ffff:10.0.0.1".parse().expect("ip")) };
        assert_eq!(mapped.address_key().as_deref(), Some("10.0.0.1"));
    }

    #[tokio::test]
    async fn a_full_queue_is_busy_at_once() {
        let gate = std::sync::Arc::new(PasswordGate::new(limits()));
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let hold = Mutex::new(hold);
        // One running, one queued: the third is refused.
        let g = gate.clone();
        let running = tokio::spawn(async move {
            g.run(move || {
                let _ = hold.lock().map(|h| h.recv());
            })
            .await
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        let g = gate.clone();
        let queued = tokio::spawn(async move { g.run(|| 1).await });
        tokio::time::sleep(Duration::from_millis(100)).await;
        let refused = gate.run(|| 2).await.expect_err("queue full");
        assert_eq!(refused.code, ErrorCode::Busy);
        assert!(refused.retry_after.is_some());
        release.send(()).expect("release");
        running.await.expect("join").expect("ran");
        assert_eq!(queued.await.expect("join").expect("ran"), 1);
    }
}
