//! The SMTP listener's certificate chain judged from its parsed facts: the dates of every
//! certificate, the issuer links, the name the listener answers to, and self-signed leaves.

use sealpost_domain::Timestamp;

use super::{Check, CheckKind, CheckStatus, same_name};

/// A certificate expiring within this many days is reported, so it is renewed in time.
const RENEW_DAYS: i64 = 14;

/// What the judge needs of one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateFacts {
    pub subject: String,
    pub issuer: String,
    pub not_before: Timestamp,
    pub not_after: Timestamp,
    /// DNS names of the subject alternative name extension.
    pub names: Vec<String>,
}

/// The chain as the listener presents it (leaf first) for `hostname`, at `now`. `source` names
/// where it came from (a file), for the report.
pub fn certificate(
    source: &str,
    hostname: &str,
    chain: &[CertificateFacts],
    now: Timestamp,
) -> Check {
    let fail = |found: String, fix: String| {
        Check::new(CheckKind::TlsCertificate, CheckStatus::Fail, source)
            .found(found)
            .fix(fix)
    };
    let renew = format!(
        "Renew the certificate for {hostname}, write it to {source} and reload Sealpost \
         (systemctl reload sealpost)."
    );
    let Some(leaf) = chain.first() else {
        return fail("no certificate".to_owned(), renew);
    };
    for certificate in chain {
        if certificate.not_after.0 < now.0 {
            return fail(
                format!(
                    "{} expired {} days ago",
                    certificate.subject,
                    (now.0 - certificate.not_after.0) / 86_400
                ),
                renew,
            );
        }
        if certificate.not_before.0 > now.0 {
            return fail(
                format!("{} is not valid yet", certificate.subject),
                "Check the system clock, or install a certificate valid today.".to_owned(),
            );
        }
    }
    if let Some(pair) = chain
        .windows(2)
        .find(|pair| pair[0].issuer != pair[1].subject)
    {
        return fail(
            format!(
                "{} is issued by {}, but the next certificate is {}",
                pair[0].subject, pair[0].issuer, pair[1].subject
            ),
            format!(
                "Put the certificates in {source} in order: the server's first, then each \
                 issuer (the full chain file of the certificate authority)."
            ),
        );
    }
    if !leaf.names.iter().any(|name| covers(name, hostname)) {
        return fail(
            format!(
                "{} is for {}, not {hostname}",
                leaf.subject,
                leaf.names.join(", ")
            ),
            format!("Install a certificate whose names include {hostname}."),
        );
    }
    let days_left = (leaf.not_after.0 - now.0) / 86_400;
    let check = Check::new(CheckKind::TlsCertificate, CheckStatus::Pass, source);
    if chain.len() == 1 && leaf.issuer == leaf.subject {
        return Check {
            status: CheckStatus::Warn,
            ..check
        }
        .found(format!(
            "self-signed certificate for {hostname}, {days_left} days left"
        ))
        .fix(
            "Clients must be told to trust it; a certificate from a public authority (such as \
             Let's Encrypt) needs no such step.",
        );
    }
    if days_left < RENEW_DAYS {
        return Check {
            status: CheckStatus::Warn,
            ..check
        }
        .found(format!("{} expires in {days_left} days", leaf.subject))
        .fix(renew);
    }
    check.found(format!(
        "{} for {hostname}, issued by {}, {days_left} days left",
        leaf.subject, leaf.issuer
    ))
}

/// Whether a certificate name covers `hostname`, a `*.` wildcard covering one label.
fn covers(name: &str, hostname: &str) -> bool {
    match name.strip_prefix("*.") {
        Some(parent) => hostname
            .split_once('.')
            .is_some_and(|(_, rest)| same_name(rest, parent)),
        None => same_name(name, hostname),
    }
}
