//! Bandwidth limits: a pacer per direction that spaces transfers so that, on average,
//! no more than the chosen bytes per second go up or come down.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Spaces transfers to `bytes_per_sec` on average, with up to one second of burst.
#[derive(Debug)]
pub struct RateLimit {
    bytes_per_sec: u64,
    /// When the bytes already let through will have been "paid" for.
    paid_until: Mutex<Instant>,
}

impl RateLimit {
    pub fn new(bytes_per_sec: u64) -> Self {
        Self { bytes_per_sec: bytes_per_sec.max(1), paid_until: Mutex::new(Instant::now()) }
    }

    /// How long to wait before `n` more bytes may go, booking them.
    fn book(&self, n: usize, now: Instant) -> Duration {
        let cost = Duration::from_secs_f64(n as f64 / self.bytes_per_sec as f64);
        let mut paid = self.paid_until.lock().unwrap_or_else(|p| p.into_inner());
        // Idle time earns at most one second of burst.
        let start = (*paid).max(now.checked_sub(Duration::from_secs(1)).unwrap_or(now));
        *paid = start + cost;
        paid.saturating_duration_since(now)
    }

    /// Waits until `n` more bytes may go.
    pub async fn take(&self, n: usize) {
        let wait = self.book(n, Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transfers_are_spaced_to_the_rate_after_one_second_of_burst() {
        let limit = RateLimit::new(1_000_000);
        let now = Instant::now() + Duration::from_secs(5);
        assert_eq!(limit.book(1_000_000, now), Duration::ZERO, "a second's worth goes at once");
        let wait = limit.book(500_000, now);
        assert!(wait >= Duration::from_millis(499) && wait <= Duration::from_millis(501), "{wait:?}");
        let wait = limit.book(2_000_000, now);
        assert!(wait >= Duration::from_millis(2499) && wait <= Duration::from_millis(2501), "{wait:?}");
        // After a long pause, one second of burst again, not more.
        let later = now + Duration::from_secs(60);
        assert_eq!(limit.book(1_000_000, later), Duration::ZERO);
        assert!(limit.book(1_000, later) > Duration::ZERO);
    }
}
