//! Webhook event types as the Webhooks pages name them: in words, in the two groups the add
//! form's checkboxes show ("Messages", "Keys and domains"), so that no page shows a type's API
//! name such as `message.soft_bounced`. The form sends the API names as checkbox values.

use sealpost_domain::{EventType, EventTypes};

/// The checkbox groups, in the form's order.
pub const GROUPS: [&str; 2] = ["Messages", "Keys and domains"];

/// What an event says happened, in lower case. The `match` names every type, so a new type
/// cannot reach the pages without words.
pub fn words(kind: EventType) -> &'static str {
    match kind {
        EventType::Accepted => "accepted",
        EventType::Delivered => "delivered",
        EventType::Deferred => "delayed, to be tried again",
        EventType::Failed => "failed",
        EventType::Expired => "given up after retrying",
        EventType::Bounced => "bounced",
        EventType::SoftBounced => "bounced for now (such as a full mailbox)",
        EventType::Complained => "marked as spam",
        EventType::Suppressed => "not sent: address suppressed",
        EventType::Unsubscribed => "unsubscribed",
        EventType::Retried => "sent again by hand",
        EventType::Cancelled => "cancelled by hand",
        EventType::KeyPending => "new key waits for its DNS record",
        EventType::KeyRotationStarted => "automatic key rotation started",
        EventType::KeyActive => "key signs mail",
        EventType::KeyRetiring => "key retiring",
        EventType::KeyRetired => "key retired: its record may go",
        EventType::DomainPending => "domain's records not verified yet",
        EventType::DomainVerified => "domain's records verified",
        EventType::DomainWarning => "domain's records failed a re-check",
        EventType::DomainFailed => "domain's records kept failing",
        EventType::DomainRecordChanged => "SPF, DMARC or return-path record changed",
        EventType::DomainActivated => "signing switched on",
        EventType::DomainDeactivated => "signing switched off",
        EventType::Test => "test event",
    }
}

/// The group a type's checkbox is in; none for the test event, which every endpoint gets when
/// it is sent by hand.
fn group(kind: EventType) -> Option<&'static str> {
    let name = kind.name();
    if name.starts_with("message.") {
        Some(GROUPS[0])
    } else if name.starts_with("key.") || name.starts_with("domain.") {
        Some(GROUPS[1])
    } else {
        None
    }
}

/// An event type as a stored delivery names it, in words; a name this version does not know
/// is shown as it is.
pub fn words_of_name(name: &str) -> String {
    EventType::parse(name).map_or_else(|| name.to_owned(), |kind| words(kind).to_owned())
}

/// What an endpoint receives, in words: "All events", or each group's types.
pub fn summary(types: &EventTypes) -> String {
    let EventTypes::Only(kinds) = types else {
        return "All events".to_owned();
    };
    let parts: Vec<String> = GROUPS
        .iter()
        .filter_map(|name| {
            let chosen: Vec<&str> = kinds
                .iter()
                .filter(|kind| group(**kind) == Some(*name))
                .map(|kind| words(*kind))
                .collect();
            (!chosen.is_empty()).then(|| format!("{name}: {}", chosen.join(", ")))
        })
        .collect();
    parts.join(". ")
}

/// One checkbox of the form.
pub struct Choice {
    /// The API name, sent as the checkbox's value.
    pub value: &'static str,
    /// The words, with a capital.
    pub label: String,
    pub checked: bool,
}

/// The form's checkboxes by group, with those in `checked` ticked.
pub fn choices(checked: &[String]) -> Vec<(&'static str, Vec<Choice>)> {
    GROUPS
        .iter()
        .map(|name| {
            let boxes = EventType::ALL
                .iter()
                .filter(|kind| group(**kind) == Some(*name))
                .map(|kind| Choice {
                    value: kind.name(),
                    label: capitalised(words(*kind)),
                    checked: checked.iter().any(|value| value == kind.name()),
                })
                .collect();
            (*name, boxes)
        })
        .collect()
}

fn capitalised(text: &str) -> String {
    let mut characters = text.chars();
    characters
        .next()
        .map(|first| first.to_uppercase().chain(characters).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(names: &[&str], expect: &str) {
        let types = EventTypes::parse(names.iter().copied()).unwrap();
        assert_eq!(summary(&types), expect);
    }

    #[test]
    fn an_endpoint_s_events_read_in_words_by_group() {
        check(&[], "All events");
        check(
            &["message.bounced", "message.delivered"],
            "Messages: delivered, bounced",
        );
        check(
            &["domain.failed", "message.complained"],
            "Messages: marked as spam. Keys and domains: domain's records kept failing",
        );
    }

    #[test]
    fn every_type_but_the_test_event_has_a_checkbox() {
        let boxes: usize = choices(&[]).iter().map(|(_, boxes)| boxes.len()).sum();
        assert_eq!(boxes, EventType::ALL.len() - 1);
        let ticked = choices(&["key.active".to_owned()]);
        let active = ticked[1].1.iter().find(|choice| choice.checked).unwrap();
        assert_eq!(active.label, "Key signs mail");
    }
}
