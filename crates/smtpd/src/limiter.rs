//! Counts failed AUTH attempts per client address across connections, in a sliding window.
//!
//! The limiter is in memory and per listener: a restart forgets it and nodes do not share it.
//! That is enough to make guessing passwords slow; the per-connection limit in the session
//! covers the single connection.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use sealpost_domain::client_key;

/// Above this many tracked addresses every call first drops the addresses whose failures
/// have all left the window, so that a scan from many addresses cannot grow the map forever.
const PRUNE_ABOVE: usize = 4096;

#[derive(Debug)]
pub(crate) struct AuthLimiter {
    max_failures: usize,
    window: Duration,
    failures: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
}

impl AuthLimiter {
    pub(crate) fn new(max_failures: usize, window: Duration) -> Self {
        Self {
            max_failures,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `address` has used up its failures within the window ending at `now`.
    pub(crate) fn is_blocked(&self, address: IpAddr, now: Instant) -> bool {
        let mut failures = self.lock();
        let Some(times) = failures.get_mut(&client_key(address)) else {
            return false;
        };
        forget_old(times, now, self.window);
        times.len() >= self.max_failures
    }

    pub(crate) fn record_failure(&self, address: IpAddr, now: Instant) {
        let window = self.window;
        let mut failures = self.lock();
        if failures.len() > PRUNE_ABOVE {
            failures.retain(|_, times| {
                forget_old(times, now, window);
                !times.is_empty()
            });
        }
        let times = failures.entry(client_key(address)).or_default();
        forget_old(times, now, window);
        times.push_back(now);
        // Only whether the count reached the limit matters, so older entries beyond it are
        // dropped and one address costs at most `max_failures` timestamps.
        while times.len() > self.max_failures {
            times.pop_front();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, VecDeque<Instant>>> {
        // A panic while the lock was held leaves only counters behind, which are still valid.
        self.failures.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn forget_old(times: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while times
        .front()
        .is_some_and(|&time| now.saturating_duration_since(time) >= window)
    {
        times.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;
    use std::time::Duration;

    use tokio::time::Instant;

    use super::AuthLimiter;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("test address")
    }

    #[test]
    fn blocks_within_the_window_and_forgets_after_it() {
        let limiter = AuthLimiter::new(2, Duration::from_secs(60));
        let start = Instant::now();
        let client = ip("192.0.2.7");
        limiter.record_failure(client, start);
        assert!(!limiter.is_blocked(client, start));
        limiter.record_failure(client, start + Duration::from_secs(30));
        assert!(limiter.is_blocked(client, start + Duration::from_secs(31)));
        assert!(!limiter.is_blocked(ip("192.0.2.8"), start));
        assert!(!limiter.is_blocked(client, start + Duration::from_secs(60)));
    }

    #[test]
    fn ipv6_counts_per_slash_64_and_mapped_ipv4_as_ipv4() {
        let limiter = AuthLimiter::new(2, Duration::from_secs(60));
        let now = Instant::now();
        limiter.record_failure(ip("2001:db8:1:2::1"), now);
        limiter.record_failure(ip("2001:db8:1:2::ffff"), now);
        assert!(limiter.is_blocked(ip("2001:db8:1:2::42"), now));
        assert!(!limiter.is_blocked(ip("2001:db8:1:3::1"), now));
        limiter.record_failure(ip("::ffff:192.0.2.9"), now);
        limiter.record_failure(ip("192.0.2.9"), now);
        assert!(limiter.is_blocked(ip("192.0.2.9"), now));
    }
}
