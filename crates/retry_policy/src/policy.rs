//! The retry policy and the one place that turns an attempt's outcome into the recipient's next
//! state. Native delivery retries temporary failures until the message is 24 hours old (by
//! default); relay delivery never retries, because a tenant's server hammered with retries may
//! block the platform as abusive (SPEC S1.2).

use sealpost_domain::{RecipientState, Route, Timestamp};

/// When to try again after a temporary failure, and when to give up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Seconds to wait after the first, second, ... failed attempt; the last value repeats.
    pub delays: Vec<i64>,
    /// Seconds after acceptance when temporary failures become final (`expired`).
    pub max_age: i64,
}

impl Default for RetryPolicy {
    /// Quick retries first (most temporary failures are greylisting or a busy server), then
    /// every four hours, until 24 hours after acceptance: 13 attempts in all.
    fn default() -> Self {
        Self {
            delays: vec![60, 300, 900, 1800, 3600, 7200, 10_800, 14_400],
            max_age: 86_400,
        }
    }
}

impl RetryPolicy {
    /// The wait after the `failures`-th failed attempt (1-based).
    pub fn delay_after(&self, failures: u32) -> i64 {
        let index = (failures.max(1) - 1) as usize;
        self.delays
            .get(index)
            .or(self.delays.last())
            .copied()
            .unwrap_or(self.max_age)
    }

    /// When a message accepted at `accepted_at` stops being retried.
    pub fn expires_at(&self, accepted_at: Timestamp) -> Timestamp {
        Timestamp(accepted_at.0 + self.max_age)
    }
}

/// What one delivery attempt for a recipient came to, classified by the delivery code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    Delivered { reply: String },
    Temporary { reply: String },
    Permanent { reply: String },
}

/// The recipient's state after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub state: RecipientState,
    pub next_attempt_at: Option<Timestamp>,
    pub last_reply: String,
}

/// Decides the next state. `failures` counts the failed attempts including this one; `expires_at`
/// is when native retries end. The last retry is scheduled at the expiry time itself, so the
/// full period is used; a temporary failure at or after it is final.
pub fn after_attempt(
    route: Route,
    outcome: &AttemptOutcome,
    failures: u32,
    now: Timestamp,
    expires_at: Timestamp,
    policy: &RetryPolicy,
) -> Transition {
    let finished = |state, reply: &str| Transition {
        state,
        next_attempt_at: None,
        last_reply: reply.to_owned(),
    };
    match (outcome, route) {
        (AttemptOutcome::Delivered { reply }, _) => finished(RecipientState::Sent, reply),
        (AttemptOutcome::Permanent { reply }, _) => finished(RecipientState::Failed, reply),
        (AttemptOutcome::Temporary { reply }, Route::Relay) => {
            finished(RecipientState::Failed, reply)
        }
        (AttemptOutcome::Temporary { reply }, Route::Native) => {
            if now >= expires_at {
                return finished(RecipientState::Expired, reply);
            }
            let next = Timestamp((now.0 + policy.delay_after(failures)).min(expires_at.0));
            Transition {
                state: RecipientState::Deferred,
                next_attempt_at: Some(next),
                last_reply: reply.clone(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCEPTED: i64 = 1_800_000_000;

    fn temporary() -> AttemptOutcome {
        AttemptOutcome::Temporary {
            reply: "451 4.7.1 greylisted".to_owned(),
        }
    }

    #[track_caller]
    fn check(
        route: Route,
        outcome: AttemptOutcome,
        failures: u32,
        now: i64,
        expected: (RecipientState, Option<i64>),
    ) {
        let policy = RetryPolicy::default();
        let expires = policy.expires_at(Timestamp(ACCEPTED));
        let transition = after_attempt(route, &outcome, failures, Timestamp(now), expires, &policy);
        assert_eq!(
            (transition.state, transition.next_attempt_at.map(|at| at.0)),
            expected
        );
    }

    #[test]
    fn transitions() {
        use RecipientState::*;
        let sent = AttemptOutcome::Delivered {
            reply: "250 ok".into(),
        };
        let rejected = AttemptOutcome::Permanent {
            reply: "550 5.1.1 no such user".into(),
        };
        check(Route::Native, sent.clone(), 0, ACCEPTED, (Sent, None));
        check(Route::Relay, sent, 0, ACCEPTED, (Sent, None));
        check(Route::Native, rejected.clone(), 1, ACCEPTED, (Failed, None));
        check(Route::Relay, rejected, 1, ACCEPTED, (Failed, None));
        // Relay failures are never retried, temporary or not.
        check(Route::Relay, temporary(), 1, ACCEPTED, (Failed, None));
        check(
            Route::Native,
            temporary(),
            1,
            ACCEPTED,
            (Deferred, Some(ACCEPTED + 60)),
        );
        check(
            Route::Native,
            temporary(),
            2,
            ACCEPTED + 60,
            (Deferred, Some(ACCEPTED + 360)),
        );
        check(
            Route::Native,
            temporary(),
            20,
            ACCEPTED + 3_600,
            (Deferred, Some(ACCEPTED + 18_000)),
        );
        // The last retry falls on the expiry time; a failure then is final.
        check(
            Route::Native,
            temporary(),
            9,
            ACCEPTED + 80_000,
            (Deferred, Some(ACCEPTED + 86_400)),
        );
        check(
            Route::Native,
            temporary(),
            10,
            ACCEPTED + 86_400,
            (Expired, None),
        );
    }

    #[test]
    fn the_default_schedule_fits_24_hours() {
        let policy = RetryPolicy::default();
        let expires = policy.expires_at(Timestamp(ACCEPTED));
        let mut now = ACCEPTED;
        let mut attempts = 0;
        loop {
            attempts += 1;
            let transition = after_attempt(
                Route::Native,
                &temporary(),
                attempts,
                Timestamp(now),
                expires,
                &policy,
            );
            match transition.next_attempt_at {
                Some(next) => now = next.0,
                None => break,
            }
        }
        assert_eq!(now, ACCEPTED + 86_400, "the last attempt is at 24 h");
        assert_eq!(attempts, 13);
    }
}
