//! RFC 3464 delivery status fields: the per-message group and one group per recipient, from a
//! message/delivery-status part or from the same fields written into a text part.

use crate::fields::{self, Field};
use crate::finding::Finding;
use crate::report::Action;
use crate::status::{EnhancedStatus, ReplyCode};

/// One finding per recipient group (a group with Final-Recipient or Original-Recipient).
pub fn findings(text: &str) -> Vec<Finding> {
    let groups = fields::groups(text);
    let per_message = groups
        .iter()
        .find(|group| fields::value(group, "reporting-mta").is_some());
    let reporting_mta = per_message
        .and_then(|group| fields::value(group, "reporting-mta"))
        .map(|value| fields::typed_value(value).to_owned());
    groups
        .iter()
        .flat_map(|group| split_recipients(group))
        .filter(|group| is_recipient_group(group))
        .map(|group| recipient(group, reporting_mta.clone()))
        .collect()
}

/// Some MTAs leave out the blank line between recipients: a second Final-Recipient starts the
/// next recipient's group.
fn split_recipients(group: &[Field]) -> Vec<&[Field]> {
    let mut parts = Vec::new();
    let mut start = 0;
    for (index, field) in group.iter().enumerate() {
        let seen_final = group[start..index]
            .iter()
            .any(|earlier| earlier.name == "final-recipient");
        if field.name == "final-recipient" && seen_final {
            parts.push(&group[start..index]);
            start = index;
        }
    }
    parts.push(&group[start..]);
    parts
}

/// Whether a text carries delivery status fields written inline (some MTAs put them in the
/// text part instead of a message/delivery-status part).
pub fn written_inline(text: &str) -> bool {
    text.lines().any(|line| {
        let lower = line.trim_start().to_ascii_lowercase();
        lower.starts_with("final-recipient:") || lower.starts_with("original-recipient:")
    }) && text.lines().any(|line| {
        let lower = line.trim_start().to_ascii_lowercase();
        lower.starts_with("status:") || lower.starts_with("action:")
    })
}

fn is_recipient_group(group: &[Field]) -> bool {
    group.iter().any(|field| {
        matches!(
            field.name.as_str(),
            "final-recipient" | "original-recipient" | "x-actual-recipient"
        )
    })
}

fn recipient(group: &[Field], reporting_mta: Option<String>) -> Finding {
    let address = [
        "final-recipient",
        "original-recipient",
        "x-actual-recipient",
    ]
    .iter()
    .find_map(|name| fields::value(group, name))
    .map(|value| fields::bare_address(fields::typed_value(value)))
    .filter(|address| address.contains('@'));
    let diagnostic_field = fields::value(group, "diagnostic-code").unwrap_or_default();
    let diagnostic_type = match diagnostic_field.split_once(';') {
        Some((kind, _)) => kind.trim().to_ascii_lowercase(),
        None => String::new(),
    };
    let diagnostic = fields::typed_value(diagnostic_field).to_owned();
    let written = fields::value(group, "status")
        .and_then(|value| value.split_whitespace().next())
        .and_then(EnhancedStatus::parse);
    let status = preferred(written, EnhancedStatus::find(&diagnostic));
    Finding {
        address,
        status,
        reply_code: ReplyCode::find(&diagnostic),
        diagnostic_from_mailer: diagnostic_type.starts_with("x-unix"),
        diagnostic,
        reporting_mta,
        remote_mta: fields::value(group, "remote-mta")
            .map(|value| fields::typed_value(value).to_owned()),
        action: fields::value(group, "action").and_then(Action::parse),
        ..Finding::default()
    }
}

/// The Status field, unless it is missing or only repeats the class (`5.0.0`) or is the
/// catch-all of a queue that gave up (`4.4.7`), while the server's own answer carries a precise
/// code of the same class.
pub fn preferred(
    written: Option<EnhancedStatus>,
    in_diagnostic: Option<EnhancedStatus>,
) -> Option<EnhancedStatus> {
    match (written, in_diagnostic) {
        (None, found) => found,
        (Some(field), Some(found))
            if (field.is_generic() || field.to_string() == "4.4.7")
                && !found.is_generic()
                && field.class == found.class =>
        {
            Some(found)
        }
        (field, _) => field,
    }
}
