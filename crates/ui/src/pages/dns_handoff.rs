//! "Send these records to your IT department": every record the signing domain needs in one
//! section, each with its full name, its name relative to the zone, its type and its value,
//! each with a copy button, and the whole request as a message to paste into a ticket. The
//! DKIM key is shown once; the forms some DNS providers need (strings of at most 255
//! characters, a zone-file line) are folded away under it.

use sealpost_domain::KeyAlgorithm;
use sealpost_service::{DnsHandoff, HandoffPurpose, HandoffRecord};

/// A record as the section shows it.
pub struct RecordView {
    /// The prefix of its element ids: `dkim`, `dkim-ed25519`, `spf` or `dmarc`.
    pub id: &'static str,
    pub title: &'static str,
    pub why: String,
    pub name: String,
    pub host: String,
    pub record_type: &'static str,
    pub value: String,
    /// The value now published that this one replaces (an SPF record's edit).
    pub replaces: Option<String>,
    /// The value as quoted strings, one a line.
    pub strings: String,
    pub zone_line: String,
}

/// One CNAME of the delegation alternative.
pub struct CnameView {
    pub name: String,
    pub host: String,
    pub value: String,
}

/// The section's content.
pub struct Handoff {
    pub zone: String,
    pub records: Vec<RecordView>,
    pub spf_note: Option<String>,
    /// The CNAMEs that replace the DKIM TXT records for good (SPEC S11.4), when the platform
    /// serves a DKIM zone.
    pub delegation: Vec<CnameView>,
    /// Why this domain cannot delegate, when the platform serves a zone.
    pub delegation_note: Option<String>,
    /// The request as a message to the IT department.
    pub message: String,
}

fn quoted(strings: &[String]) -> Vec<String> {
    strings
        .iter()
        .map(|string| format!("\"{string}\""))
        .collect()
}

impl RecordView {
    fn new(record: &HandoffRecord, domain: &str) -> Self {
        let (id, title, why) = match record.purpose {
            // The Ed25519 key's record stands beside the RSA key's, so it needs ids of its own
            // (its copy buttons would otherwise copy the RSA record).
            HandoffPurpose::Dkim(KeyAlgorithm::Ed25519) => (
                "dkim-ed25519",
                "DKIM key (Ed25519)",
                "Receivers that know Ed25519 check the second signature of your mail with this \
                 key."
                    .to_owned(),
            ),
            HandoffPurpose::Dkim(KeyAlgorithm::Rsa) => (
                "dkim",
                "DKIM key",
                "Receivers check the signature of your mail with this key.".to_owned(),
            ),
            HandoffPurpose::Spf if record.replaces.is_some() => (
                "spf",
                "SPF: add the platform",
                format!(
                    "Replace the SPF record of {domain} with this one: it is your record with \
                     the platform's servers added, nothing else changed."
                ),
            ),
            HandoffPurpose::Spf => (
                "spf",
                "SPF: allow the platform",
                format!("{domain} has no SPF record yet: publish this one."),
            ),
            HandoffPurpose::Dmarc => (
                "dmarc",
                "DMARC policy",
                format!(
                    "{domain} has no DMARC policy. This one only asks for reports and changes \
                     no delivery; large mailbox providers expect one."
                ),
            ),
        };
        let strings = quoted(&record.strings);
        Self {
            id,
            title,
            why,
            name: record.name.clone(),
            host: record.host.clone(),
            record_type: record.record_type,
            value: record.value.clone(),
            replaces: record.replaces.clone(),
            zone_line: format!(
                "{}. 3600 IN {} ( {} )",
                record.name,
                record.record_type,
                strings.join(" ")
            ),
            strings: strings.join("\n"),
        }
    }
}

impl Handoff {
    pub fn of(handoff: &DnsHandoff) -> Self {
        let domain = handoff.domain.as_str();
        let records: Vec<RecordView> = handoff
            .records
            .iter()
            .map(|record| RecordView::new(record, domain))
            .collect();
        Self {
            message: message(domain, &handoff.zone, &records),
            zone: handoff.zone.clone(),
            records,
            spf_note: handoff.spf_note.clone(),
            delegation: handoff
                .delegation
                .iter()
                .map(|record| CnameView {
                    name: record.name.clone(),
                    host: record.host.clone(),
                    value: record.value.clone(),
                })
                .collect(),
            delegation_note: handoff.delegation_note.clone(),
        }
    }
}

/// The request as a message, ready to paste into a ticket or an e-mail.
fn message(domain: &str, zone: &str, records: &[RecordView]) -> String {
    let mut text = format!(
        "Hello,\n\nplease publish these DNS records for {domain}, so that the mail we send from \
         it is signed and accepted:\n"
    );
    for (number, record) in records.iter().enumerate() {
        text.push_str(&format!(
            "\n{}. {}\n   Name:  {}\n   Host:  {} (in the zone {zone})\n   Type:  {}\n   \
             Value: {}\n   {}\n",
            number + 1,
            record.title,
            record.name,
            record.host,
            record.record_type,
            record.value,
            record.why,
        ));
        if let Some(current) = &record.replaces {
            text.push_str(&format!(
                "   It replaces the record published now: {current}\n"
            ));
        }
        if record.strings.contains('\n') {
            text.push_str(&format!(
                "   If your DNS provider limits a TXT string to 255 characters, enter the value \
                 as these strings:\n   {}\n",
                record.strings.replace('\n', "\n   ")
            ));
        }
    }
    text.push_str("\nThank you.\n");
    text
}
