//! How values read on a page: times in UTC, durations from now, state badges.

use sealpost_domain::{RecipientState, Timestamp};

/// `2026-11-28 07:15:04 UTC`.
pub fn time(timestamp: Timestamp) -> String {
    let civil = timestamp.civil();
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        civil.year, civil.month, civil.day, civil.hour, civil.minute, civil.second
    )
}

/// The CSS class of a recipient state's badge: good, waiting or bad.
pub fn state_class(state: RecipientState) -> &'static str {
    match state {
        RecipientState::Sent => "ok",
        RecipientState::Queued | RecipientState::Sending | RecipientState::Deferred => "wait",
        RecipientState::Failed
        | RecipientState::Expired
        | RecipientState::Cancelled
        | RecipientState::Suppressed
        | RecipientState::Bounced
        | RecipientState::Complained => "bad",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(seconds: i64, expect: &str) {
        assert_eq!(time(Timestamp(seconds)), expect);
    }

    #[test]
    fn times() {
        check(0, "1970-01-01 00:00:00 UTC");
        check(951_782_400, "2000-02-29 00:00:00 UTC");
        check(1_795_849_200, "2026-11-28 07:00:00 UTC");
    }
}
