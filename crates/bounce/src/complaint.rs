//! Complaints: ARF feedback reports (RFC 5965) and the few providers' formats without a
//! message/feedback-report part (Hotmail's forwarded copy, Apple Mail's unsubscribe request).

use crate::fields;
use crate::mime::Sections;
use crate::report::{Complaint, FeedbackType, OriginalMessage};

/// The complaint a message is, if it is one.
pub fn complaint(sections: &Sections) -> Option<Complaint> {
    if let Some(report) = &sections.feedback_report {
        return Some(arf(sections, report));
    }
    let original = sections.original.clone().unwrap_or_default();
    let subject = sections.subject.to_ascii_lowercase();
    let from = sections
        .header("from")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let hotmail = from.contains("@hotmail.") && subject.contains("complaint about message");
    let hotmail_recipient = original
        .headers
        .iter()
        .find(|(name, _)| name == "x-hmxmroriginalrecipient")
        .map(|(_, value)| value.clone());
    if hotmail || hotmail_recipient.is_some() {
        let recipients = hotmail_recipient.into_iter().collect::<Vec<_>>();
        return Some(without_arf(FeedbackType::Abuse, recipients, original));
    }
    let apple_unsubscribe = sections
        .header("x-apple-unsubscribe")
        .is_some_and(|value| value.eq_ignore_ascii_case("true"));
    if apple_unsubscribe {
        let from = sections.header("from").map(fields::bare_address);
        return Some(without_arf(
            FeedbackType::OptOut,
            from.into_iter().collect(),
            original,
        ));
    }
    None
}

fn without_arf(
    feedback_type: FeedbackType,
    original_rcpt_to: Vec<String>,
    original: OriginalMessage,
) -> Complaint {
    let original_rcpt_to = match original_rcpt_to.is_empty() {
        true => original.to.clone(),
        false => original_rcpt_to,
    };
    Complaint {
        feedback_type,
        user_agent: None,
        original_mail_from: None,
        original_rcpt_to,
        source_ip: None,
        arrival_date: None,
        reporting_mta: None,
        original,
    }
}

fn arf(sections: &Sections, report: &str) -> Complaint {
    let parsed = fields::parse(report);
    let value = |name: &str| fields::value(&parsed, name).map(str::to_owned);
    let original = sections.original.clone().unwrap_or_default();
    let mut original_rcpt_to: Vec<String> = parsed
        .iter()
        .filter(|field| field.name == "original-rcpt-to" || field.name == "removal-recipient")
        .map(|field| fields::bare_address(&field.value))
        .filter(|address| !address.is_empty())
        .collect();
    original_rcpt_to.dedup();
    if original_rcpt_to.is_empty() {
        original_rcpt_to = original.to.clone();
    }
    Complaint {
        feedback_type: FeedbackType::parse(&value("feedback-type").unwrap_or_default()),
        user_agent: value("user-agent"),
        original_mail_from: value("original-mail-from").map(|from| fields::bare_address(&from)),
        original_rcpt_to,
        source_ip: value("source-ip"),
        arrival_date: value("arrival-date").or_else(|| value("received-date")),
        reporting_mta: value("reporting-mta").map(|mta| fields::typed_value(&mta).to_owned()),
        original,
    }
}
