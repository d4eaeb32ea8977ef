//! The sign-in rate limit: after a few wrong passwords for one address from one client, that
//! pair must wait, so a password cannot be guessed by trying many. It lives in memory because
//! it protects one process's sign-in form; a restart forgets it, which costs an attacker a
//! restart per few guesses.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use sealpost_domain::Timestamp;

/// Wrong passwords allowed per client address and e-mail address within one window.
const MAX_FAILURES: u32 = 5;
/// The window, in seconds, after whose end the count starts again.
const WINDOW_SECONDS: i64 = 15 * 60;
/// Entries kept before old ones are pruned, so the map cannot grow without bound.
const PRUNE_ABOVE: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    first_at: Timestamp,
}

#[derive(Debug, Default, Clone)]
pub(crate) struct SignInLimit {
    failures: Arc<Mutex<HashMap<(IpAddr, String), Failures>>>,
}

impl SignInLimit {
    /// `Err(seconds)` to wait when the pair used up its attempts.
    pub(crate) fn check(&self, client: IpAddr, email: &str, now: Timestamp) -> Result<(), i64> {
        let failures = self.failures.lock().expect("sign-in limit lock");
        match failures.get(&(client, email.to_owned())) {
            Some(entry) if entry.count >= MAX_FAILURES => {
                let wait = entry.first_at.0 + WINDOW_SECONDS - now.0;
                if wait > 0 { Err(wait) } else { Ok(()) }
            }
            _ => Ok(()),
        }
    }

    pub(crate) fn record_failure(&self, client: IpAddr, email: &str, now: Timestamp) {
        let mut failures = self.failures.lock().expect("sign-in limit lock");
        if failures.len() > PRUNE_ABOVE {
            failures.retain(|_, entry| now.0 - entry.first_at.0 < WINDOW_SECONDS);
        }
        let entry = failures
            .entry((client, email.to_owned()))
            .or_insert(Failures {
                count: 0,
                first_at: now,
            });
        if now.0 - entry.first_at.0 >= WINDOW_SECONDS {
            *entry = Failures {
                count: 0,
                first_at: now,
            };
        }
        entry.count += 1;
    }

    /// A successful sign-in forgets the pair's failures.
    pub(crate) fn record_success(&self, client: IpAddr, email: &str) {
        let mut failures = self.failures.lock().expect("sign-in limit lock");
        failures.remove(&(client, email.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_five_failures_until_the_window_ends() {
        let limit = SignInLimit::default();
        let client = IpAddr::from([192, 0, 2, 1]);
        for _ in 0..MAX_FAILURES {
            assert_eq!(limit.check(client, "a@b.example", Timestamp(100)), Ok(()));
            limit.record_failure(client, "a@b.example", Timestamp(100));
        }
        assert_eq!(
            limit.check(client, "a@b.example", Timestamp(160)),
            Err(WINDOW_SECONDS - 60)
        );
        let other_client = IpAddr::from([192, 0, 2, 2]);
        assert_eq!(
            limit.check(other_client, "a@b.example", Timestamp(160)),
            Ok(())
        );
        assert_eq!(
            limit.check(client, "a@b.example", Timestamp(100 + WINDOW_SECONDS)),
            Ok(())
        );
    }
}
