//! The answers of big mailbox providers, whose own wording or error labels settle a reason that
//! the generic phrases would get wrong (au answers "550 : User unknown" when the recipient's
//! filter refused the sender; Orange numbers every refusal). A provider counts when its host
//! names are seen: the remote MTA, the recipient's domain or a host the diagnostic names.
//! The tables are written from the providers' published error pages and observed answers, in
//! the manner of sisimai's per-host modules.

use crate::reason::Reason;

struct Provider {
    /// Host name endings (and the recipient domains) of the provider, lower case.
    hosts: &'static [&'static str],
    /// Lower-case phrases or error labels of its answers, first match wins.
    phrases: &'static [(Reason, &'static str)],
}

#[rustfmt::skip]
const PROVIDERS: &[Provider] = &[
    // au (KDDI): an empty address before "User unknown" is the recipient's reception filter.
    Provider { hosts: &["ezweb.ne.jp", "au.com"], phrases: &[
        (Reason::Filtered, "550 : user unknown"), (Reason::Filtered, "550: : user unknown"),
        (Reason::UserUnknown, ">: user unknown"),
    ]},
    Provider { hosts: &["messagelabs.com"], phrases: &[
        (Reason::SecurityError, "please turn on smtp authentication"),
        (Reason::UserUnknown, "no such user"),
    ]},
    Provider { hosts: &["yahoodns.net", "yahoo.com", "yahoo.co.jp"], phrases: &[
        (Reason::AuthFailure, "requires all senders to authenticate"),
        (Reason::Blocked, "in spamhaus's list"), (Reason::Blocked, "on spamhaus xbl"),
        (Reason::NotCompliantRfc, "headers are not rfc compliant"),
        (Reason::PolicyViolation, "not accepted for policy reasons"),
        (Reason::Speeding, "receiving mail too quickly"),
        (Reason::Suspend, "this mailbox is disabled"),
        (Reason::UserUnknown, "dd this user doesn't have a "),
    ]},
    Provider { hosts: &["hotmail.com"], phrases: &[
        (Reason::HostUnknown, "because the domain is not reachable"),
        (Reason::UserUnknown, "requested action not taken: mailbox unavailable"),
    ]},
    Provider { hosts: &["outlook.com", "onmicrosoft.com", "exchangelabs.com", "office365"], phrases: &[
        (Reason::Blocked, "access denied, banned sending ip"),
        (Reason::Blocked, "on our block list"), (Reason::Blocked, "access denied, bad helo"),
        (Reason::NetworkError, "dns query failed"), (Reason::NetworkError, "routing loop detected"),
        (Reason::NetworkError, "possible mail loop"),
        (Reason::UserUnknown, "recipient address rejected: access denied"),
        (Reason::UserUnknown, "recipient not found by smtp address lookup"),
        (Reason::UserUnknown, "remote server returned unknown recipient"),
        (Reason::UserUnknown, "resolver.adr.exrecipnotfound"),
        (Reason::Rejected, "access denied, bad outbound sender"),
        (Reason::SpamDetected, "content filter agent quarantined"),
    ]},
    Provider { hosts: &["facebook.com"], phrases: &[
        (Reason::Blocked, "pol-p1"), (Reason::Blocked, "pol-p2"), (Reason::Blocked, "pol-t1"),
        (Reason::ContentError, "msg-p2"), (Reason::Filtered, "rcp-p2"),
        (Reason::Filtered, "rcp-p3"), (Reason::MesgTooBig, "msg-p1"),
        (Reason::NotCompliantRfc, "msg-p3"), (Reason::Rejected, "dns-p1"),
        (Reason::Rejected, "dns-p2"), (Reason::RequirePtr, "dns-p3"),
        (Reason::Suspend, "rcp-t4"), (Reason::SystemError, "rcp-t1"),
        (Reason::TooManyConn, "con-t1"), (Reason::TooManyConn, "msg-t1"),
    ]},
    // GoDaddy labels its refusals IBnnn.
    Provider { hosts: &["secureserver.net"], phrases: &[
        (Reason::SecurityError, "ib401"), (Reason::NotCompliantRfc, "ib501"),
        (Reason::NotCompliantRfc, "ib502"), (Reason::Rejected, "ib506"),
        (Reason::AuthFailure, "ib508"), (Reason::RequirePtr, "ib108"),
        (Reason::SpamDetected, "ib212"), (Reason::VirusDetected, "ib705"),
        (Reason::TooManyConn, "ib605"), (Reason::TooManyConn, "ib007"),
        (Reason::Speeding, "ib101"), (Reason::Speeding, "ib504"), (Reason::Speeding, "ib510"),
        (Reason::Speeding, "ib607"), (Reason::BadReputation, "ib103"),
        (Reason::Blocked, "ib104"), (Reason::Blocked, "ib105"), (Reason::Blocked, "ib106"),
        (Reason::Blocked, "ib110"), (Reason::Blocked, "ib111"), (Reason::Blocked, "ib112"),
        (Reason::Blocked, "ib113"),
    ]},
    Provider { hosts: &["mimecast.com"], phrases: &[
        (Reason::PolicyViolation, "host network not allowed"),
        (Reason::PolicyViolation, "host network, not allowed"),
        (Reason::PolicyViolation, "anti-spoofing policy"),
        (Reason::Rejected, "envelope blocked"),
        (Reason::UserUnknown, "invalid recipient"),
    ]},
    Provider { hosts: &["cox.net"], phrases: &[
        (Reason::Blocked, "cxbl"), (Reason::Blocked, "cdrbl"), (Reason::Blocked, "ipbl"),
        (Reason::RequirePtr, "cxdns"), (Reason::AuthFailure, "cxsndr"),
        (Reason::Rejected, "cxsmtp"), (Reason::TooManyConn, "cxcnct"),
        (Reason::TooManyConn, "cxmxrt"), (Reason::SpamDetected, "urlbl"),
    ]},
];

/// Orange and La Poste (France) end each answer with a label such as `LPN007_416`; the number
/// after the underscore names the refusal.
#[rustfmt::skip]
const ORANGE_CODES: &[(&str, Reason)] = &[
    ("101", Reason::Blocked), ("102", Reason::Blocked), ("103", Reason::Blocked),
    ("104", Reason::TooManyConn), ("305", Reason::SecurityError), ("401", Reason::AuthFailure),
    ("402", Reason::SecurityError), ("403", Reason::Rejected), ("405", Reason::Rejected),
    ("415", Reason::Rejected), ("416", Reason::UserUnknown), ("417", Reason::MailboxFull),
    ("420", Reason::Suspend), ("421", Reason::Rejected), ("426", Reason::Suspend),
    ("505", Reason::SystemError), ("506", Reason::SpamDetected), ("510", Reason::Blocked),
    ("514", Reason::MesgTooBig), ("517", Reason::AuthFailure), ("630", Reason::PolicyViolation),
    ("999", Reason::Blocked),
];

const ORANGE_HOSTS: &[&str] = &["orange.fr", "wanadoo.fr", "laposte.net"];

/// Spectrum (Charter) writes `AUP#nnnn`; ranges of the number name the refusal.
#[rustfmt::skip]
const SPECTRUM_CODES: &[(u16, u16, Reason)] = &[
    (1000, 1000, Reason::Blocked), (1010, 1080, Reason::Rejected),
    (1090, 1090, Reason::SystemError), (1100, 1150, Reason::RequirePtr),
    (1160, 1190, Reason::PolicyViolation), (1200, 1250, Reason::Blocked),
    (1260, 1260, Reason::NetworkError), (1300, 1340, Reason::TooManyConn),
    (1350, 1490, Reason::Speeding), (1500, 1520, Reason::Rejected),
    (1530, 1530, Reason::MesgTooBig), (1540, 1550, Reason::Speeding),
    (1560, 1560, Reason::PolicyViolation), (1580, 1580, Reason::Speeding),
];

/// The reason a provider's own answer settles. `hosts` holds the remote MTA and the recipient
/// domain, `text` the lower-case diagnostic (which often names the remote host too).
pub fn reason(hosts: &str, text: &str) -> Option<Reason> {
    let seen = |names: &[&str]| {
        names
            .iter()
            .any(|name| hosts.contains(name) || text.contains(name))
    };
    if text.is_empty() {
        return None;
    }
    let phrase = PROVIDERS
        .iter()
        .filter(|provider| seen(provider.hosts))
        .flat_map(|provider| provider.phrases.iter())
        .find(|(_, phrase)| text.contains(phrase))
        .map(|(reason, _)| *reason);
    phrase
        .or_else(|| seen(ORANGE_HOSTS).then(|| orange(text)).flatten())
        .or_else(|| {
            seen(&["charter.net", "spectrum.net"])
                .then(|| spectrum(text))
                .flatten()
        })
}

fn orange(text: &str) -> Option<Reason> {
    let at = ["lpn", "ofr", "ouk"]
        .iter()
        .filter_map(|label| text.rfind(label))
        .max()?;
    let label = &text[at..];
    let number: String = label
        .split_once('_')?
        .1
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    ORANGE_CODES
        .iter()
        .find(|(code, _)| number.ends_with(code))
        .map(|(_, reason)| *reason)
}

fn spectrum(text: &str) -> Option<Reason> {
    // The number may follow a label: `AUP#1310` and `AUP#In-1310` alike.
    let at = text.find("aup#")? + 4;
    let rest = &text[at..];
    let start = rest.find(|character: char| character.is_ascii_digit())?;
    let digits: String = rest[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let number: u16 = digits.get(..4)?.parse().ok()?;
    SPECTRUM_CODES
        .iter()
        .find(|(low, high, _)| (*low..=*high).contains(&number))
        .map(|(_, _, reason)| *reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_answers() {
        assert_eq!(
            reason("lsean.ezweb.ne.jp", "550 : user unknown"),
            Some(Reason::Filtered)
        );
        assert_eq!(
            reason("lsean.ezweb.ne.jp", "550 <a@ezweb.ne.jp>: user unknown"),
            Some(Reason::UserUnknown)
        );
        assert_eq!(reason("mx.example", "550 : user unknown"), None);
        assert_eq!(
            reason("smtp.wanadoo.fr", "550 5.5.0 invalid recipient. lpn007_416"),
            Some(Reason::UserUnknown)
        );
        assert_eq!(
            reason("mx.charter.net", "550 5.1.0 sender rejected aup#in-1310"),
            Some(Reason::TooManyConn)
        );
    }
}
