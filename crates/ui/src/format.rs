//! How values read on a page: times in UTC, counts with their nouns, algorithm names as the
//! help article writes them, state badges.

use sealpost_domain::{RecipientState, Timestamp};

/// `2026-11-28 07:15:04 UTC`.
pub fn time(timestamp: Timestamp) -> String {
    let civil = timestamp.civil();
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        civil.year, civil.month, civil.day, civil.hour, civil.minute, civil.second
    )
}

/// `1000` as `1,000`.
pub fn grouped(number: u64) -> String {
    let digits = number.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// A count with its noun in the right number: `1 recipient`, `0 recipients`, `1,234
/// messages`. `nouns` is the singular and the plural, since English plurals are not regular
/// ("address", "addresses").
pub fn count(number: u64, nouns: (&str, &str)) -> String {
    let noun = if number == 1 { nouns.0 } else { nouns.1 };
    format!("{} {noun}", grouped(number))
}

/// A hash algorithm's name as the help article and the standards write it (`SHA-256`), not as
/// DKIM's tag values spell it (`sha256`).
pub fn hash_algorithm(name: &str) -> String {
    match name {
        "sha256" => "SHA-256".to_owned(),
        "sha1" => "SHA-1".to_owned(),
        other => other.to_uppercase(),
    }
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

    #[test]
    fn counts_agree_with_their_nouns() {
        assert_eq!(count(1, ("recipient", "recipients")), "1 recipient");
        assert_eq!(count(0, ("recipient", "recipients")), "0 recipients");
        assert_eq!(count(2, ("address", "addresses")), "2 addresses");
        assert_eq!(count(1_234, ("message", "messages")), "1,234 messages");
        assert_eq!(grouped(1_000_000), "1,000,000");
        assert_eq!(grouped(999), "999");
    }

    #[test]
    fn hash_algorithms_are_written_as_in_the_article() {
        assert_eq!(hash_algorithm("sha256"), "SHA-256");
        assert_eq!(hash_algorithm("sha1"), "SHA-1");
    }
}
