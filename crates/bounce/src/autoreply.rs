//! Automatic replies (RFC 3834): out-of-office notices and other answers written by software
//! on the recipient's behalf.

use crate::fields;
use crate::mime::Sections;
use crate::report::AutoReply;

/// Subject openings that auto-responders use when they omit the Auto-Submitted field.
const SUBJECT_OPENINGS: &[&str] = &[
    "auto:",
    "auto reply",
    "auto-reply",
    "autoreply",
    "automatic reply",
    "autorespons",
    "auto response",
    "auto-response",
    "out of office",
    "out of the office",
    "vacation",
    "away from",
    "abwesenheit",
    "absence",
];

pub fn auto_reply(sections: &Sections) -> Option<AutoReply> {
    let auto_submitted = sections
        .header("auto-submitted")
        .is_some_and(|value| value.to_ascii_lowercase().starts_with("auto-replied"));
    let flagged = ["x-autoreply", "x-autorespond", "x-autoresponder"]
        .iter()
        .any(|name| sections.header(name).is_some());
    let subject = sections.subject.trim().to_ascii_lowercase();
    let by_subject = SUBJECT_OPENINGS
        .iter()
        .any(|opening| subject.starts_with(opening));
    (auto_submitted || flagged || by_subject).then(|| AutoReply {
        from: sections.header("from").map(fields::bare_address),
        subject: Some(sections.subject.clone()),
        original: sections.original.clone().unwrap_or_default(),
    })
}
