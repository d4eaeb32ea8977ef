//! How values read on a page: times in UTC, durations from now, state badges.

use sealpost_domain::{RecipientState, Timestamp};

/// `2026-11-28 07:15 UTC`; the proleptic Gregorian calendar from days since 1970 (Howard
/// Hinnant's `civil_from_days`), so no date library is needed for one format.
pub fn time(timestamp: Timestamp) -> String {
    let days = timestamp.0.div_euclid(86_400);
    let seconds = timestamp.0.rem_euclid(86_400);
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        seconds / 3600,
        seconds % 3600 / 60,
        seconds % 60
    )
}

/// The CSS class of a recipient state's badge: good, waiting or bad.
pub fn state_class(state: RecipientState) -> &'static str {
    match state {
        RecipientState::Sent => "ok",
        RecipientState::Queued | RecipientState::Sending | RecipientState::Deferred => "wait",
        RecipientState::Failed | RecipientState::Expired | RecipientState::Cancelled => "bad",
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
