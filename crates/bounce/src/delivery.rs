//! Delivery reports: the machine-readable RFC 3464 fields when there are any, the text
//! otherwise, and each recipient's reason and class.

use crate::classify::{self, Evidence};
use crate::finding::Finding;
use crate::mime::Sections;
use crate::reason::Reason;
use crate::report::{Action, DeliveryReport, Recipient};
use crate::status::{Class, EnhancedStatus, ReplyCode};
use crate::{dsn, limits, plain, provider};

/// Sender names and subject words of messages that report a delivery problem.
#[rustfmt::skip]
const BOUNCE_SENDERS: &[&str] = &[
    "mailer-daemon", "postmaster", "post_master", "mail delivery", "mail administrator",
    "mailer", "delivery subsystem", "mdaemon", "mail system", "nobody", "bounce",
];
#[rustfmt::skip]
const BOUNCE_SUBJECTS: &[&str] = &[
    "undeliver", "delivery status", "returned mail", "delivery fail", "failure notice",
    "mail delivery", "could not be delivered", "non-deliver", "nondeliver", "non deliver",
    "delivery notification", "not delivered", "bounce", "rejected", "delivery report",
    "unable to deliver", "could not send", "delayed mail", "delivery problem", "failed mail",
    "mail failure", "error", "warning", "returned", "delivery final failure",
    // "Mail error notification" and "undeliverable" as Japanese carriers write them.
    "エラー", "不達",
];

pub fn delivery(sections: &Sections) -> Option<DeliveryReport> {
    let text = plain::report_text(sections);
    let mut findings: Vec<Finding> = sections
        .delivery_status
        .iter()
        .flat_map(|part| dsn::findings(part))
        .collect();
    if findings.is_empty() && dsn::written_inline(&text) {
        findings = dsn::findings(&text);
    }
    if findings.is_empty() {
        if !looks_like_bounce(sections) {
            return None;
        }
        findings = plain::findings(sections, &text);
    } else {
        fill_diagnostics(sections, &text, &mut findings);
    }
    findings.truncate(limits::MAX_RECIPIENTS);
    let lower_text = text.to_ascii_lowercase();
    let recipients = findings
        .into_iter()
        .map(|finding| recipient(finding, &lower_text))
        .collect();
    Some(DeliveryReport {
        recipients,
        original: sections.original.clone().unwrap_or_default(),
    })
}

fn looks_like_bounce(sections: &Sections) -> bool {
    if sections.header("x-failed-recipients").is_some() {
        return true;
    }
    let from = sections
        .header("from")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let subject = sections.subject.to_ascii_lowercase();
    BOUNCE_SENDERS.iter().any(|sender| from.contains(sender))
        || BOUNCE_SUBJECTS.iter().any(|word| subject.contains(word))
}

/// Recipients whose machine-readable fields carry no diagnostic take it from the text.
fn fill_diagnostics(sections: &Sections, text: &str, findings: &mut [Finding]) {
    if findings
        .iter()
        .all(|finding| !finding.diagnostic.is_empty())
    {
        return;
    }
    let from_text = plain::findings(sections, text);
    let single = findings.len() == 1;
    for finding in findings
        .iter_mut()
        .filter(|finding| finding.diagnostic.is_empty())
    {
        let same =
            from_text
                .iter()
                .find(|candidate| match (&candidate.address, &finding.address) {
                    (Some(left), Some(right)) => left.eq_ignore_ascii_case(right),
                    _ => false,
                });
        let chosen = same.or(match single && from_text.len() == 1 {
            true => from_text.first(),
            false => None,
        });
        if let Some(chosen) = chosen {
            finding.diagnostic = chosen.diagnostic.clone();
            finding.reply_code = finding.reply_code.or(chosen.reply_code);
            finding.status = dsn::preferred(finding.status, chosen.status);
        }
    }
}

fn recipient(finding: Finding, report_text: &str) -> Recipient {
    let lower = unfolded(&finding.diagnostic).to_ascii_lowercase();
    let command = command(&lower, report_text);
    let mut class = class(&finding, &lower, report_text);
    // The hosts that may name a provider: the remote MTA, the recipient's domain, and the
    // reporting MTA (a provider's own bounce service).
    let hosts = format!(
        "{} {} {}",
        finding.remote_mta.as_deref().unwrap_or_default(),
        finding.reporting_mta.as_deref().unwrap_or_default(),
        finding
            .address
            .as_deref()
            .and_then(|address| address.rsplit_once('@'))
            .map_or("", |(_, domain)| domain)
    )
    .to_ascii_lowercase();
    let reason = classify::classify(&Evidence {
        status: finding.status,
        text: &lower,
        action: finding.action,
        from_mailer: finding.diagnostic_from_mailer,
        reported: finding.reason,
        command,
        temporary: class == Class::Transient,
        provider: provider::reason(&hosts, &lower),
    });
    // Exim's "retry timeout exceeded" gives no code: the failures behind it were temporary.
    if reason == Reason::Expired
        && finding.status.is_none()
        && finding.reply_code.is_none()
        && lower.starts_with("retry timeout exceeded")
    {
        class = Class::Transient;
    }
    Recipient {
        address: finding.address,
        status: finding.status,
        reply_code: finding.reply_code,
        class,
        diagnostic: finding.diagnostic,
        reporting_mta: finding.reporting_mta,
        remote_mta: finding.remote_mta,
        action: finding.action,
        reason,
    }
}

/// A multi-line SMTP answer read as one sentence: the `550-5.7.1` openings of its continuation
/// lines and the repeated `550 5.7.1` of its last line are dropped, so that the phrases which
/// span two lines ("multiple 550 5.7.1 addresses in From") match.
fn unfolded(diagnostic: &str) -> String {
    let words: Vec<&str> = diagnostic.split_whitespace().collect();
    let is_code = |word: &str| ReplyCode::parse(word).is_some();
    let mut kept: Vec<&str> = Vec::with_capacity(words.len());
    let mut index = 0;
    while index < words.len() {
        let word = words[index];
        let continuation = word.split_once('-').is_some_and(|(code, _)| is_code(code));
        let repeated = index > 0
            && is_code(word)
            && words
                .get(index + 1)
                .is_some_and(|next| EnhancedStatus::parse(next).is_some())
            && kept.contains(&word);
        match (continuation, repeated) {
            (true, _) if index > 0 => {}
            (true, _) => kept.push(word.split_once('-').map_or(word, |(code, _)| code)),
            (false, true) => index += 1,
            (false, false) => kept.push(word),
        }
        index += 1;
    }
    kept.join(" ")
}

/// Success, temporary or permanent: the status code, else the reply code, else the action and
/// the report's words, else permanent (a report that says nothing more is a final failure).
fn class(finding: &Finding, diagnostic: &str, report_text: &str) -> Class {
    if let Some(status) = finding.status {
        return status.class;
    }
    if let Some(class) = finding.reply_code.and_then(|code| code.class()) {
        return class;
    }
    match finding.action {
        Some(Action::Delivered | Action::Relayed | Action::Expanded) => return Class::Success,
        Some(Action::Delayed) => return Class::Transient,
        _ => {}
    }
    let temporary = [
        "temporary",
        "temporarily",
        "deferred",
        "will be retried",
        "will retry",
        "still trying",
        "delayed",
    ];
    let said = |text: &str| temporary.iter().any(|word| text.contains(word));
    match said(diagnostic) || (!report_text.contains("permanent") && said(report_text)) {
        true => Class::Transient,
        false => Class::Permanent,
    }
}

/// The SMTP command the failure answered: said in the diagnostic ("after RCPT TO", "in reply
/// to end of DATA command", "[RCPT_TO]"), else in the report's text, else the last command of
/// a session transcript (`>>> DATA`).
fn command(diagnostic: &str, report_text: &str) -> Option<&'static str> {
    said_command(diagnostic)
        .or_else(|| implied_command(diagnostic))
        .or_else(|| said_command(report_text))
        .or_else(|| transcript_command(report_text))
}

/// Refusals that only one SMTP command can get: Postfix's "Sender address rejected" answers
/// MAIL FROM. (Its "Recipient address rejected" is also what a filter answers after DATA.)
fn implied_command(diagnostic: &str) -> Option<&'static str> {
    diagnostic
        .contains("sender address rejected")
        .then_some("MAIL")
}

const COMMANDS: &[(&str, &str)] = &[
    ("rcpt to", "RCPT"),
    ("rcpt_to", "RCPT"),
    ("rcpt", "RCPT"),
    ("mail from", "MAIL"),
    ("end of data", "DATA"),
    ("final data", "DATA"),
    ("data", "DATA"),
    ("ehlo", "EHLO"),
    ("helo", "HELO"),
    ("initial connection", "CONN"),
    ("connect", "CONN"),
];

fn said_command(text: &str) -> Option<&'static str> {
    let leads = [
        "after ",
        "in reply to ",
        "response to ",
        "did not like our ",
        "smtp command ",
        "progress was ",
        "smtp:",
        "[",
    ];
    leads
        .iter()
        .flat_map(|lead| {
            text.match_indices(lead)
                .map(|(index, _)| index + lead.len())
        })
        .filter_map(|at| {
            let rest = text[at..].trim_start_matches(['-', ' ']);
            COMMANDS
                .iter()
                .find(|(word, _)| rest.starts_with(word))
                .map(|(_, name)| (at, *name))
        })
        .min()
        .map(|(_, name)| name)
}

fn transcript_command(text: &str) -> Option<&'static str> {
    let last = text
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix(">>> "))
        .next_back()?;
    COMMANDS
        .iter()
        .find(|(word, _)| last.starts_with(word))
        .map(|(_, name)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_line_answers_read_as_one_sentence() {
        assert_eq!(
            unfolded("550-5.7.1 Messages with multiple 550 5.7.1 addresses in From"),
            "550 Messages with multiple addresses in From"
        );
        assert_eq!(unfolded("550 5.1.1 user unknown"), "550 5.1.1 user unknown");
    }
}
