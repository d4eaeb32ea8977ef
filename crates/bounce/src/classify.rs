//! The one table from a recipient's status code and diagnostic text to a bounce reason, in the
//! spirit of sisimai: specific words in the remote server's answer decide first, in a fixed
//! order (so "550 5.1.1 mailbox full" is a full mailbox); the enhanced status code decides
//! when no words match; a few structural facts (a delayed action, a local mailer's failure)
//! come last.

use crate::reason::Reason;
use crate::report::Action;
use crate::status::{Class, EnhancedStatus};

/// What the classifier looks at.
#[derive(Debug, Clone, Copy)]
pub struct Evidence<'a> {
    pub status: Option<EnhancedStatus>,
    /// The diagnostic text, already in lower case.
    pub text: &'a str,
    pub action: Option<Action>,
    /// The diagnostic was written by a local delivery program.
    pub from_mailer: bool,
    /// The reason the report's own wording settles, if any.
    pub reported: Option<Reason>,
    /// The SMTP command the failure answered, in upper case, when the report says.
    pub command: Option<&'a str>,
}

/// The phrases of each reason, in the order they are tried. Earlier entries win: a full
/// mailbox is more specific than "mailbox unavailable", a sender refusal than a block.
const RULES: &[(Reason, &[&str])] = &[
    (Reason::MailboxFull, &[
        "mailbox full", "mailbox is full", "mailbox is over quota", "over quota", "overquota",
        "quota exceeded", "exceeded storage allocation", "exceeds quota", "quota exceed",
        "mailbox has exceeded", "mailfolder is full", "too much mail data", "is over its quota",
        "not enough disk space", "mailbox size limit exceeded", "account is full",
        "disk quota", "storage quota", "inbox is full", "inbox full", "mailbox exceeded",
        "over the allowed quota", "full mailbox", "user has exceeded", "quota violation",
        "over its storage limit", "insufficient disk space", "would exceed the quota",
        "mailbox is too full", "exceeded its quota", "boite du destinataire pleine",
        "box is full", "exceed mailbox quota", "mailbox would exceed",
    ]),
    (Reason::MesgTooBig, &[
        "message too big", "message too large", "message is too big", "message is too large",
        "message size exceeds", "exceeds size limit", "exceeded maximum message size",
        "message file too big", "size exceeds the maximum", "exceeds the maximum size",
        "message exceeds maximum", "mail size limit", "larger than the maximum",
        "message size limit", "size of the message exceeds", "exceeds the size limit",
    ]),
    (Reason::ExceedLimit, &[
        "message length exceeds administrative limit", "exceeds recipient's size limit",
        "message too large for this recipient", "exceeded the limit",
    ]),
    (Reason::Suspend, &[
        "account disabled", "account has been disabled", "account is disabled",
        "account is suspended", "account suspended", "mailbox disabled", "mailbox is disabled",
        "mailbox has been disabled", "has been disabled", "has been suspended",
        "account is inactive", "account inactive", "account has been deactivated",
        "is deactivated", "account expired", "account is locked", "account locked",
        "recipient suspended", "is currently suspended", "temporarily disabled",
        "disabled mailbox", "mailbox is frozen", "account is not active",
        "not currently active", "inactive account", "mailbox currently suspended",
        "boite du destinataire archivee", "user suspended", "mailbox suspended",
        "account has been temporarily suspended", "is currently inactive",
    ]),
    (Reason::HasMoved, &[
        "has been replaced by", "has moved", "address has changed", "no longer at this",
        "user has moved",
    ]),
    (Reason::NoRelaying, &[
        "relaying denied", "relay access denied", "relay denied", "relaying not permitted",
        "not permitted to relay", "we do not relay", "relay not permitted", "unable to relay",
        "relay prohibited", "no relaying", "not allowed to relay", "relaying mail to",
        "relaying is prohibited", "relaying not allowed", "relay not allowed",
        "not a permitted relay", "relay rejected", "that domain isn't in my list of allowed rcpthosts",
        "is not a gateway",
    ]),
    (Reason::AuthFailure, &[
        "spf check", "spf fail", "spf validation", "dmarc policy", "dmarc", "dkim",
        "sender policy framework", "does not designate", "unauthenticated email",
        "failed spf", "spf record", "spf=fail", "sender id", "spf: ", "authentication checks",
        "not pass authentication",
    ]),
    (Reason::UserUnknown, &[
        "user unknown", "unknown user", "no such user", "does not exist", "not exist",
        "invalid recipient", "recipient unknown", "unknown recipient", "mailbox not found",
        "mailbox unavailable", "mailbox is unavailable", "user not found", "no mailbox",
        "no such mailbox", "invalid mailbox", "unknown address", "address unknown",
        "bad destination mailbox", "recipient address rejected", "recipient not found",
        "no such recipient", "no such account", "address invalid", "invalid address",
        "mailbox unknown", "unknown mailbox", "badrcptto", "unknown local part",
        "unknown local-part", "no valid recipients", "recipient rejected",
        "addressee unknown", "no such person", "mailbox is inactive", "is not a known user",
        "could not be found", "couldn't be found", "wasn't found", "user doesn't exist",
        "not a valid mailbox", "not a valid recipient", "not a valid user", "user not known",
        "no account by that name", "unknown or illegal alias", "unrouteable address",
        "recipient does not exist", "unknown e-mail address", "no such address",
        "not listed in domino directory", "not listed in public name", "is not a valid",
        "address not present", "user not exist", "invalid user", "destination addresses were unknown",
        "recipient is not local", "user missing home directory", "not our customer",
        "no user", "does not have an account", "mailbox not present", "address lookup failed",
        "utilisateur inconnu", "invalid-recipient", "recipient no longer", "unknown account",
        "this address no longer accepts mail", "no longer valid", "accountnotfound",
        "resolver.adr.recipnotfound", "recipientnotfound", "not found in the directory",
        "user invalid", "unknown in virtual", "unknown in local", "user not local",
        "unknown recipient", "no longer available",
    ]),
    (Reason::Filtered, &[
        "due to recipient preferences", "rejected by recipient", "not accepting mail from",
        "does not accept mail from", "blocked by user", "user's filter", "recipient filter",
        "refused by the recipient", "message filtered", "rejected by the recipient",
        "rejected by mailbox filter", "recipient has refused", "filtered", "content filter",
        "mail from you is not accepted", "not authorized to send to", "delivery not authorized",
        "the user does not accept", "message has been rejected by", "recipient's email filter",
        "blocked by the recipient",
    ]),
    (Reason::RequirePtr, &[
        "reverse dns", "ptr record", "no ptr", "reverse lookup", "cannot find your hostname",
        "cannot resolve your address", "no reverse", "rdns", "does not have a reverse",
        "unresolvable", "reverse address", "ip name lookup failed", "reverse-dns",
        "cannot find your reverse", "reverse hostname", "not have a ptr", "ptr lookup",
        "hostname lookup failed", "reverse mapping", "please set up reverse",
        "client host rejected: cannot find your", "invalid ptr", "no dns ptr",
    ]),
    (Reason::NotCompliantRfc, &[
        "rfc 5322", "rfc5322", "rfc 2822", "rfc2822", "rfc 822", "rfc822 specifications",
        "duplicate header", "headers which are duplicates", "not rfc compliant",
        "not compliant with rfc", "multiple addresses in from", "multiple from",
        "message is not rfc",
    ]),
    (Reason::BadReputation, &[
        "poor reputation", "bad reputation", "low reputation", "ip reputation",
        "sender reputation", "reputation of", "reputation is",
    ]),
    (Reason::ContentError, &[
        "improper use of 8-bit data", "message header size exceeds", "header error",
        "invalid header", "illegal characters", "message format error", "malformed message",
        "header is not", "content error", "headers too long",
    ]),
    (Reason::Rejected, &[
        "sender address rejected", "sender rejected", "domain of sender address",
        "sender verify failed", "sender verification", "envelope sender", "sender is not allowed",
        "sender denied", "invalid sender", "bad sender", "sender unknown", "unknown sender",
        "sender domain", "please use the smtp server of your isp", "sender not",
        "from address", "return path", "return-path", "sender blocked", "sender is blocked",
        "your email address has been", "senders address", "sender's address", "mail from rejected",
        "address rejected by", "rejected sender", "sender is on", "sender must",
        "blocked sender", "not accept mail from your", "forbidden sender", "mail from address",
        "denied sender", "sender address is",
    ]),
    (Reason::HostUnknown, &[
        "host unknown", "domain not found", "unknown host", "name or service not known",
        "no such domain", "domain does not exist", "host not found", "unrouteable mail domain",
        "domain name not found", "nxdomain", "host or domain name not found",
        "bad destination system address", "invalid domain", "unknown domain", "domain unknown",
        "no route to domain", "domain is not", "unrouteable domain", "domain no longer",
        "hostname not found", "no mail host", "name server: not found", "no such host",
        "does not have a valid mx", "domain lookup failed",
    ]),
    (Reason::SpamDetected, &[
        "spam message", "as spam", "is spam", "spam content", "spam score", "spam detected",
        "likely spam", "considered spam", "spam-like", "spammy", "spam filter", "spam policy",
        "junk", "unsolicited", "bulk mail", "bulk e-mail", "message content rejected",
        "looks suspicious", "suspicious", "spam rejected", "detected spam", "spam mail",
    ]),
    (Reason::Speeding, &[
        "rate limit", "too fast", "sending rate", "too many messages", "exceeded the rate",
        "rate of", "too many recipients this hour", "receiving mail at a rate",
        "rate that prevents", "ratelimit", "throttl",
    ]),
    (Reason::TooManyConn, &[
        "too many connections", "too many concurrent", "too many sessions", "connection limit",
        "too many simultaneous", "too many recipients", "too many smtp sessions",
        "connection count", "too many open",
    ]),
    (Reason::Blocked, &[
        "blocked", "blacklist", "blocklist", "block list", "black list", "listed in", "dnsbl",
        "rbl", "spamhaus", "spamcop", "barracuda", "client host rejected", "your ip",
        "banned", "not allowed to connect", "connection rejected", "host rejected",
        "access denied", "ip address", "denied access", "refused to talk", "client host",
        "rejected because", "on our block", "is listed", "dynamic ip", "dialup", "dial-up",
        "residential", "your host", "ip is", "you are not allowed", "bad dns hostname",
        "not authorized to connect", "connection refused by", "cannot accept your mail",
        "relaying from", "sorry, that domain", "service not available, closing",
        "unknown client", "ip was",
    ]),
    (Reason::VirusDetected, &["virus", "malware", "infected", "trojan", "worm"]),
    (Reason::PolicyViolation, &[
        "policy", "violates", "violation", "prohibited", "attachment", "executable",
        "not allowed", "because of its content", "content rejected", "forbidden",
    ]),
    (Reason::SystemError, &[
        "system error", "internal error", "server error", "local error", "configuration error",
        "misconfigured", "system is unable", "mail system problem", "temporary failure",
        "error in processing", "aborted", "unable to deliver", "internal server",
        "server failure", "system failure", "failed to", "exception", "database error",
        "unexpected error", "too many hops", "loop detected",
    ]),
    (Reason::NetworkError, &[
        "could not connect", "connection refused", "connection timed out", "connection reset",
        "host unreachable", "network is unreachable", "no route to host", "mail loops back",
        "loop", "routing", "name server", "dns lookup", "name resolution", "lost connection",
        "unable to connect", "timed out", "mx lookup", "dns error", "dns failure",
        "host lookup", "lookup failure", "unexpected name server", "network error",
        "connection dropped", "connection closed",
    ]),
    (Reason::SystemFull, &[
        "insufficient system storage", "system storage", "disk full", "no space left",
        "file system full", "mail system full", "out of disk",
    ]),
    (Reason::NotAccept, &[
        "does not accept mail", "null mx", "accepts no mail", "not accepting mail",
        "does not receive mail", "not accept any mail", "no mx", "accept no mail",
    ]),
    (Reason::Expired, &[
        "retry time not reached", "giving up", "delivery time expired", "message expired",
        "could not be delivered within", "retry timeout exceeded", "too long in queue",
        "in the queue too long", "maximum time", "expired", "queue lifetime",
        "unable to deliver for", "was not delivered for", "deliver the message for",
        "have been failing for", "failing for", "gave up",
    ]),
    (Reason::FailedStartTls, &[
        "starttls failed", "tls negotiation failed", "failed to start tls", "starttls error",
        "could not start tls",
    ]),
    (Reason::SecurityError, &[
        "authentication required", "authentication failed", "must issue a starttls",
        "encryption required", "not authenticated", "authentication is required",
        "tls required", "requires tls", "must use tls", "starttls", "authentication",
        "password", "certificate",
    ]),
    (Reason::MailerError, &[
        "procmail", "pipe to", "mailer error", "command died", "exited with",
        "unknown mailer", "program", "command output", "local delivery failed",
    ]),
    (Reason::SyntaxError, &[
        "syntax error", "command unrecognized", "unrecognized command", "bad sequence",
        "command not recognized",
    ]),
];

/// The reason for one recipient.
pub fn classify(evidence: &Evidence<'_>) -> Reason {
    let success = evidence.status.is_some_and(|status| status.class == Class::Success);
    if success || evidence.action == Some(Action::Delivered) {
        return Reason::Delivered;
    }
    if let Some(reason) = by_text(evidence.text) {
        return reason;
    }
    if let Some(reason) = evidence.status.and_then(by_status) {
        return reason;
    }
    if let Some(reason) = evidence.reported {
        return reason;
    }
    if evidence.action == Some(Action::Delayed) {
        return Reason::Expired;
    }
    if evidence.from_mailer {
        return Reason::MailerError;
    }
    match evidence.command {
        Some("MAIL") => return Reason::Rejected,
        Some("HELO" | "EHLO") => return Reason::Blocked,
        _ => {}
    }
    match evidence.status.map(|status| status.subject) {
        Some(6) => Reason::ContentError,
        Some(7) => Reason::SecurityError,
        _ if evidence.text.trim().is_empty() => Reason::Undefined,
        _ => Reason::OnHold,
    }
}

/// The first reason whose phrases occur in the lower-case text.
pub fn by_text(text: &str) -> Option<Reason> {
    if text.is_empty() {
        return None;
    }
    RULES
        .iter()
        .find(|(_, phrases)| phrases.iter().any(|phrase| text.contains(phrase)))
        .map(|(reason, _)| *reason)
}

/// The reason an enhanced status code names by itself (RFC 3463 and the IANA registry of
/// enhanced status codes); generic codes such as 5.0.0 or 5.7.0 name none.
pub fn by_status(status: EnhancedStatus) -> Option<Reason> {
    let permanent = status.class == Class::Permanent;
    let reason = match (status.subject, status.detail) {
        (1, 0 | 1 | 3) => Reason::UserUnknown,
        (1, 2) => Reason::HostUnknown,
        (1, 4) => Reason::Filtered,
        (1, 6) => Reason::HasMoved,
        (1, 7 | 8) => Reason::Rejected,
        (1, 9) => Reason::SystemError,
        (1, 10) => Reason::NotAccept,
        (2, 0 | 4) => Reason::Filtered,
        (2, 1) if permanent => Reason::Filtered,
        (2, 1) => Reason::Blocked,
        (2, 2) => Reason::MailboxFull,
        (2, 3) => Reason::ExceedLimit,
        (3, 0 | 3 | 5) => Reason::SystemError,
        (3, 1) => Reason::SystemFull,
        (3, 2) => Reason::NotAccept,
        (3, 4) => Reason::MesgTooBig,
        (4, 1 | 7) if !permanent => Reason::Expired,
        (4, 0 | 2 | 6 | 8) => Reason::NetworkError,
        (4, 4) if permanent => Reason::HostUnknown,
        (4, 4) => Reason::NetworkError,
        (4, 3) => Reason::SystemError,
        (4, 5) => Reason::SystemFull,
        (4, 7) => Reason::Expired,
        (5, 2 | 6) => Reason::SyntaxError,
        (5, 3) => Reason::TooManyConn,
        (5, 4 | 5) => Reason::SystemError,
        (6, _) => Reason::ContentError,
        (7, 1 | 2) if !permanent => Reason::Blocked,
        (7, 13) => Reason::Suspend,
        (7, 16) => Reason::MesgTooBig,
        (7, 17 | 18) => Reason::HasMoved,
        (7, 20..=24 | 26 | 29) => Reason::AuthFailure,
        (7, 25) => Reason::RequirePtr,
        (7, 27) => Reason::NotAccept,
        (7, 28) => Reason::SpamDetected,
        (7, 30) => Reason::FailedStartTls,
        (7, 1..=15 | 19) => Reason::SecurityError,
        _ => return None,
    };
    Some(reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(status: &str, text: &str, expect: Reason) {
        let evidence = Evidence {
            status: EnhancedStatus::parse(status),
            text: &text.to_ascii_lowercase(),
            action: None,
            from_mailer: false,
            reported: None,
            command: None,
        };
        assert_eq!(classify(&evidence), expect, "{status} {text:?}");
    }

    #[test]
    fn words_then_status_then_structure() {
        check("5.1.1", "550 5.1.1 <a@b.example>... User Unknown", Reason::UserUnknown);
        check("5.1.1", "550 5.1.1 mailbox is over quota", Reason::MailboxFull);
        check("5.2.2", "", Reason::MailboxFull);
        check("4.4.7", "", Reason::Expired);
        check("5.0.0", "", Reason::Undefined);
        check("5.0.0", "550 go away", Reason::OnHold);
        check("2.1.5", "250 ok", Reason::Delivered);
        check("5.7.1", "554 5.7.1 Service unavailable; client host blocked using zen.spamhaus.org", Reason::Blocked);
        check("5.7.26", "550 5.7.26 Unauthenticated email is not accepted due to DMARC policy", Reason::AuthFailure);
    }
}
