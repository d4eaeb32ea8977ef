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
    /// The SMTP command the failure answered (`RCPT`, `DATA`, ...), when the report says.
    pub command: Option<&'a str>,
    /// The failure is temporary (a 4xx class).
    pub temporary: bool,
    /// The reason a big provider's own answer settles (see `provider`).
    pub provider: Option<Reason>,
}

/// The reasons tried first, each matching on its words or on a status code that names it;
/// earlier entries win (a full mailbox beats "mailbox unavailable", a sender refusal a block).
const FIRST: &[Reason] = &[
    Reason::MailboxFull,
    Reason::MesgTooBig,
    Reason::ExceedLimit,
    Reason::Suspend,
    Reason::HasMoved,
    Reason::NoRelaying,
    Reason::AuthFailure,
    Reason::UserUnknown,
    Reason::Filtered,
    Reason::RequirePtr,
    Reason::NotCompliantRfc,
    Reason::BadReputation,
    Reason::SpamDetected,
    Reason::ContentError,
    Reason::Rejected,
    Reason::HostUnknown,
    Reason::TooManyConn,
    Reason::Speeding,
    Reason::Blocked,
];

/// The reasons tried next on words alone, when the status code names no definite reason.
const SECOND: &[Reason] = &[
    Reason::MailboxFull,
    Reason::AuthFailure,
    Reason::BadReputation,
    Reason::Speeding,
    Reason::SpamDetected,
    Reason::VirusDetected,
    Reason::PolicyViolation,
    Reason::NoRelaying,
    Reason::NotAccept,
    Reason::Expired,
    Reason::SystemError,
    Reason::NetworkError,
    Reason::Suspend,
    Reason::ContentError,
    Reason::SystemFull,
    Reason::FailedStartTls,
    Reason::SecurityError,
    Reason::MailerError,
    Reason::SyntaxError,
];

/// Reasons a status code names only vaguely: words may still say better.
fn is_vague(reason: Reason) -> bool {
    matches!(
        reason,
        Reason::Undefined
            | Reason::OnHold
            | Reason::SystemError
            | Reason::SecurityError
            | Reason::NetworkError
            | Reason::HostUnknown
            | Reason::UserUnknown
    )
}

/// The phrases of each reason, matched against the lower-case diagnostic.
#[rustfmt::skip]
const RULES: &[(Reason, &[&str])] = &[
    (Reason::MailboxFull, &[
        // "The mailbox is full" and "over capacity" as Japanese carriers write them.
        "メールボックスが一杯", "容量オーバー",
        "mailbox full", "mailbox is full", "mailbox is over quota", "over quota", "overquota",
        "quota exceeded", "exceeded storage allocation", "exceeds quota", "quota exceed",
        "mailbox has exceeded", "mailfolder is full", "too much mail data", "is over its quota",
        "not enough disk space", "mailbox size limit exceeded", "account is full", "disk quota",
        "storage quota", "inbox is full", "inbox full", "mailbox exceeded",
        "over the allowed quota", "full mailbox", "user has exceeded", "quota violation",
        "over its storage limit", "would exceed the quota", "mailbox is too full",
        "exceeded its quota", "boite du destinataire pleine", "box is full",
        "exceed mailbox quota", "mailbox would exceed",
    ]),
    (Reason::MesgTooBig, &[
        "line limit exceeded", "message too big", "message too large", "message is too big",
        "message is too large", "message size exceeds", "exceeds size limit",
        "exceeded maximum message size", "message file too big", "size exceeds the maximum",
        "exceeds the maximum size", "message exceeds maximum", "mail size limit",
        "larger than the maximum", "message size limit", "size of the message exceeds",
        "exceeds the size limit",
    ]),
    (Reason::ExceedLimit, &[
        "message length exceeds administrative limit", "exceeds recipient's size limit",
        "message too large for this recipient", "exceeded the limit",
    ]),
    (Reason::Suspend, &[
        "is disabled", "is inactive", "recipient account is blocked", "account disabled",
        "account has been disabled", "account is disabled", "account is suspended",
        "account suspended", "mailbox disabled", "mailbox is disabled",
        "mailbox has been disabled", "has been disabled", "has been suspended",
        "account is inactive", "account inactive", "account has been deactivated",
        "is deactivated", "account expired", "account is locked", "account locked",
        "recipient suspended", "is currently suspended", "temporarily disabled",
        "disabled mailbox", "mailbox is frozen", "account is not active", "not currently active",
        "inactive account", "mailbox currently suspended", "boite du destinataire archivee",
        "user suspended", "mailbox suspended", "account has been temporarily suspended",
        "is currently inactive",
    ]),
    (Reason::HasMoved, &[
        "has been replaced by", "has moved", "address has changed", "no longer at this",
        "user has moved",
    ]),
    (Reason::NoRelaying, &[
        "not configured to relay", "insecure mail relay", "address is not verified",
        "relaying denied", "relay access denied", "relay denied", "relaying not permitted",
        "not permitted to relay", "we do not relay", "relay not permitted", "unable to relay",
        "relay prohibited", "no relaying", "not allowed to relay", "relaying mail to",
        "relaying is prohibited", "relaying not allowed", "relay not allowed",
        "not a permitted relay", "relay rejected",
        "that domain isn't in my list of allowed rcpthosts", "is not a gateway",
    ]),
    (Reason::AuthFailure, &[
        "fails to pass", "authentication information", "spf check", "spf fail", "spf validation",
        "dmarc policy", "dmarc", "dkim", "sender policy framework", "does not designate",
        "unauthenticated email", "failed spf", "spf record", "spf=fail", "sender id", "spf: ",
        "authentication checks", "not pass authentication",
    ]),
    (Reason::UserUnknown, &[
        "doesn't have a", "address rejected.", "recipient address rejected: unknown",
        "recipient address rejected: user unknown", "recipient address rejected: invalid",
        "no mailbox here", "user unknown", "unknown user", "no such user", "does not exist",
        "not exist", "invalid recipient", "recipient unknown", "unknown recipient",
        "mailbox not found", "mailbox unavailable", "mailbox is unavailable", "user not found",
        "no mailbox", "no such mailbox", "invalid mailbox", "unknown address", "address unknown",
        "bad destination mailbox", "recipient not found", "no such recipient", "no such account",
        "address invalid", "invalid address", "mailbox unknown", "unknown mailbox", "badrcptto",
        "unknown local part", "unknown local-part", "no valid recipients", "recipient rejected",
        "addressee unknown", "no such person", "mailbox is inactive", "is not a known user",
        "could not be found", "couldn't be found", "wasn't found", "user doesn't exist",
        "not a valid mailbox", "not a valid recipient", "not a valid user", "user not known",
        "no account by that name", "unknown or illegal alias",
        "recipient does not exist", "unknown e-mail address", "no such address",
        "not listed in domino directory", "not listed in public name", "is not a valid",
        "address not present", "user not exist", "invalid user",
        "destination addresses were unknown", "recipient is not local",
        "user missing home directory", "not our customer", "no user", "does not have an account",
        "mailbox not present", "address lookup failed", "utilisateur inconnu", "invalid-recipient",
        "recipient no longer", "unknown account", "this address no longer accepts mail",
        "no longer valid", "accountnotfound", "resolver.adr.recipnotfound", "recipientnotfound",
        "not found in the directory", "user invalid", "unknown in virtual", "unknown in local",
        "user not local", "unknown recipient", "no longer available",
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
        "mismatches client ip", "reverse dns", "ptr record", "no ptr", "reverse lookup",
        "cannot find your hostname", "cannot resolve your address", "no reverse", "rdns",
        "does not have a reverse", "unresolvable", "reverse address", "ip name lookup failed",
        "reverse-dns", "cannot find your reverse", "reverse hostname", "not have a ptr",
        "ptr lookup", "hostname lookup failed", "reverse mapping", "please set up reverse",
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
        "improper use of 8-bit data", "message header size exceeds", "invalid header",
        "illegal characters", "message format error", "malformed message", "header is not",
        "content error", "headers too long",
    ]),
    (Reason::Rejected, &[
        "unroutable sender", "unrouteable sender",
        "due to unexpected volume or user complaints", "access denied",
        "rejected by destination domain", "purported responsible address", "permission to post",
        "sender address rejected", "sender rejected", "domain of sender address",
        "sender verify failed", "sender verification", "envelope sender", "sender is not allowed",
        "sender denied", "invalid sender", "bad sender", "sender unknown", "unknown sender",
        "sender domain", "sender not", "from address", "return path", "return-path",
        "sender blocked", "sender is blocked", "your email address has been", "senders address",
        "sender's address", "mail from rejected", "rejected sender", "sender is on", "sender must",
        "blocked sender", "not accept mail from your", "forbidden sender", "mail from address",
        "denied sender", "sender address is",
    ]),
    (Reason::HostUnknown, &[
        "unrouteable address", "domain is not reachable",
        "host unknown", "domain not found", "unknown host", "name or service not known",
        "no such domain", "domain does not exist", "host not found", "unrouteable mail domain",
        "domain name not found", "nxdomain", "host or domain name not found",
        "bad destination system address", "invalid domain", "unknown domain", "domain unknown",
        "no route to domain", "domain is not", "unrouteable domain", "domain no longer",
        "hostname not found", "no mail host", "name server: not found", "no such host",
        "does not have a valid mx", "domain lookup failed",
    ]),
    (Reason::SpamDetected, &[
        "spam classification", "spam message", "as spam", "is spam", "spam content", "spam score",
        "spam detected", "likely spam", "considered spam", "spam-like", "spammy", "spam filter",
        "spam policy", "junk", "unsolicited", "bulk mail", "bulk e-mail",
        "message content rejected", "looks suspicious", "suspicious", "spam rejected",
        "detected spam", "spam mail",
    ]),
    (Reason::Speeding, &[
        "rate limit", "too fast", "sending rate", "too many messages", "exceeded the rate",
        "rate of", "too many recipients this hour", "receiving mail at a rate",
        "rate that prevents", "ratelimit", "throttl",
    ]),
    (Reason::TooManyConn, &[
        "connection rate limit", "frequency limited", "too many recipients in",
        "too many connections", "too many concurrent", "too many sessions", "connection limit",
        "too many simultaneous", "too many smtp sessions", "connection count", "too many open",
    ]),
    (Reason::Blocked, &[
        "please use the smtp server of your isp", "invalid ip", "not accepting connections",
        "ip address is", "ip address has", "blocked", "blacklist", "blocklist", "block list",
        "black list", "listed in", "dnsbl", "rbl", "spamhaus", "spamcop", "barracuda",
        "client host rejected", "your ip", "banned", "not allowed to connect",
        "connection rejected", "host rejected", "denied access", "refused to talk", "client host",
        "rejected because", "on our block", "is listed", "dynamic ip", "dialup", "dial-up",
        "residential", "your host", "ip is", "you are not allowed", "bad dns hostname",
        "not authorized to connect", "connection refused by", "cannot accept your mail",
        "relaying from", "sorry, that domain", "service not available, closing", "unknown client",
        "ip was",
    ]),
    (Reason::VirusDetected, &[
        "virus", "malware", "infected", "trojan", "worm",
    ]),
    (Reason::PolicyViolation, &[
        "header error", "potential", "policy", "violates", "violation", "prohibited", "attachment",
        "executable", "because of its content", "content rejected", "forbidden",
    ]),
    (Reason::SystemError, &[
        "transaction failed", "service currently unavailable", "upstream error", "system error",
        "internal error", "server error", "local error", "configuration error", "misconfigured",
        "system is unable", "mail system problem", "temporary failure", "error in processing",
        "aborted", "internal server", "server failure", "system failure", "failed to", "exception",
        "database error", "unexpected error", "loop detected",
    ]),
    (Reason::NetworkError, &[
        "too many hops", "name service error", "dns query failed", "could not connect",
        "connection refused", "connection timed out", "connection reset", "host unreachable",
        "network is unreachable", "no route to host", "mail loops back", "loop", "routing",
        "name server", "dns lookup", "name resolution", "lost connection", "unable to connect",
        "mx lookup", "dns error", "dns failure", "host lookup", "lookup failure",
        "unexpected name server", "network error", "connection dropped", "connection closed",
    ]),
    (Reason::SystemFull, &[
        "insufficient disk space", "insufficient system resources", "insufficient system storage",
        "system storage", "disk full", "no space left", "file system full", "mail system full",
        "out of disk",
    ]),
    (Reason::NotAccept, &[
        "doesn't receive email", "no mx found", "couldn't find a mail exchanger",
        "does not accept mail", "null mx", "accepts no mail", "not accepting mail",
        "does not receive mail", "not accept any mail", "no mx", "accept no mail",
    ]),
    (Reason::Expired, &[
        "warning message only", "will be retried for",
        "timed out", "did not accept our requests to connect", "delivery failed 20 attempts",
        "attempts", "retry time not reached", "giving up", "delivery time expired",
        "message expired", "could not be delivered within", "retry timeout exceeded",
        "too long in queue", "in the queue too long", "maximum time", "expired", "queue lifetime",
        "unable to deliver for", "was not delivered for", "deliver the message for",
        "have been failing for", "failing for", "gave up",
    ]),
    (Reason::FailedStartTls, &[
        "starttls failed", "tls negotiation failed", "failed to start tls", "starttls error",
        "could not start tls",
    ]),
    (Reason::SecurityError, &[
        "unauthenticated senders", "authentication required", "authentication failed",
        "must issue a starttls", "encryption required", "not authenticated",
        "authentication is required", "tls required", "requires tls", "must use tls", "starttls",
        "authentication", "password", "certificate",
    ]),
    (Reason::MailerError, &[
        "procmail", "pipe to", "mailer error", "command died", "exited with", "unknown mailer",
        "program", "command output", "local delivery failed",
    ]),
    (Reason::SyntaxError, &[
        "parameter not implemented", "malformed address", "syntax error", "command unrecognized",
        "unrecognized command", "bad sequence", "command not recognized",
    ]),
];

/// The reason for one recipient.
pub fn classify(evidence: &Evidence<'_>) -> Reason {
    let success = evidence
        .status
        .is_some_and(|status| status.class == Class::Success);
    if success || evidence.action == Some(Action::Delivered) {
        return Reason::Delivered;
    }
    if let Some(reason) = evidence.reported.filter(|reason| !is_vague(*reason)) {
        return reason;
    }
    if let Some(reason) = evidence.provider {
        return reason;
    }
    let by_code = evidence.status.and_then(by_status);
    if let Some(reason) = FIRST
        .iter()
        .copied()
        .find(|reason| probe(*reason, evidence, by_code))
    {
        return reason;
    }
    if by_code.is_none_or(is_vague)
        && let Some(reason) = SECOND
            .iter()
            .copied()
            .find(|reason| says(*reason, evidence.text))
    {
        return reason;
    }
    if let Some(reason) = by_code.or(evidence.reported) {
        return reason;
    }
    if evidence.action == Some(Action::Delayed) {
        return Reason::Expired;
    }
    if evidence.from_mailer {
        return Reason::MailerError;
    }
    if matches!(evidence.command, Some("HELO" | "EHLO")) {
        return Reason::Blocked;
    }
    match evidence.status.map(|status| status.subject) {
        Some(6) => Reason::ContentError,
        Some(7) => Reason::SecurityError,
        _ if evidence.text.trim().is_empty() => Reason::Undefined,
        _ => Reason::OnHold,
    }
}

/// Unknown-user words that only a directory lookup writes, never a filter in disguise: they
/// name the unknown user whatever SMTP command they answered.
#[rustfmt::skip]
const DIRECTORY_LOOKUPS: &[&str] = &[
    "recipientnotfound", "recipnotfound", "not listed in domino directory",
    "not listed in public name", "recipient name is not recognized", "no valid recipients",
    "because the address couldn't be found", "user unknown in local recipient table",
    "user unknown in virtual", "delivery error: dd this user doesn't have",
    "remote server returned unknown recipient", "unknown user: ",
];

/// Whether a reason of the first group fits. An unknown user counts when the status code says
/// so (and no other refusal is worded), or its words answered RCPT or an unnamed command; after
/// DATA the same words mean a filter refused the message, as sisimai reads them.
fn probe(reason: Reason, evidence: &Evidence<'_>, by_code: Option<Reason>) -> bool {
    let text = evidence.text;
    if by_code == Some(Reason::Suspend) && matches!(reason, Reason::UserUnknown | Reason::Filtered)
    {
        return false;
    }
    match reason {
        Reason::UserUnknown if by_code == Some(Reason::UserUnknown) => ![
            Reason::NoRelaying,
            Reason::Blocked,
            Reason::MailboxFull,
            Reason::HasMoved,
            Reason::Rejected,
            Reason::NotAccept,
        ]
        .iter()
        .any(|other| says(*other, text)),
        Reason::UserUnknown => {
            (evidence.command == Some("RCPT") && says(reason, text))
                || DIRECTORY_LOOKUPS.iter().any(|phrase| text.contains(phrase))
        }
        Reason::MesgTooBig if by_code == Some(Reason::ExceedLimit) => false,
        // A code that calls the domain unknown yields to words saying that the domain takes no
        // mail, or that the name server failed rather than answered "no such domain".
        Reason::HostUnknown if by_code == Some(reason) && !says(reason, text) => {
            !says(Reason::NotAccept, text) && !says(Reason::NetworkError, text)
        }
        // A name server that answers "try again" is a passing network fault, and a temporary
        // failure never proves that a domain does not exist.
        Reason::HostUnknown if evidence.temporary || text.contains("try again") => false,
        Reason::Filtered if by_code == Some(Reason::Filtered) => {
            says(Reason::UserUnknown, text) || says(reason, text)
        }
        // Unknown-user words next to words of an unknown domain are about the domain.
        Reason::Filtered => {
            !matches!(evidence.command, Some("MAIL" | "RCPT"))
                && (says(reason, text)
                    || (says(Reason::UserUnknown, text) && !says(Reason::HostUnknown, text)))
        }
        _ => by_code == Some(reason) || says(reason, text),
    }
}

/// Whether the lower-case text holds one of the reason's phrases.
fn says(reason: Reason, text: &str) -> bool {
    !text.is_empty()
        && RULES
            .iter()
            .filter(|(candidate, _)| *candidate == reason)
            .any(|(_, phrases)| phrases.iter().any(|phrase| text.contains(phrase)))
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
            temporary: false,
            provider: None,
        };
        assert_eq!(classify(&evidence), expect, "{status} {text:?}");
    }

    #[test]
    fn words_then_status_then_structure() {
        check(
            "5.1.1",
            "550 5.1.1 <a@b.example>... User Unknown",
            Reason::UserUnknown,
        );
        check(
            "5.1.1",
            "550 5.1.1 mailbox is over quota",
            Reason::MailboxFull,
        );
        check("5.2.2", "", Reason::MailboxFull);
        check("4.4.7", "", Reason::Expired);
        check("5.0.0", "", Reason::Undefined);
        check("5.0.0", "550 go away", Reason::OnHold);
        check("2.1.5", "250 ok", Reason::Delivered);
        check(
            "5.7.1",
            "554 5.7.1 Service unavailable; client host blocked using zen.spamhaus.org",
            Reason::Blocked,
        );
        check(
            "5.7.26",
            "550 5.7.26 Unauthenticated email is not accepted due to DMARC policy",
            Reason::AuthFailure,
        );
    }
}
