//! What a delivery attempt concludes, per recipient, and the one `match` that decides whether a
//! failure is temporary (try again later) or permanent (give up now).

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use crate::connect_error::ConnectProblem;
use crate::data::MessageError;
use crate::reply::Reply;
use crate::tls::TlsInfo;
use crate::traffic::Deferral;
use crate::transcript::TranscriptLine;

/// Whether trying again later can help (RFC 5321 section 4.2.1: 4yz transient, 5yz permanent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Try again later: the queue retries native delivery until it expires (SPEC S1.1).
    Temporary,
    /// Give up: another attempt will meet the same answer.
    Permanent,
}

/// The step of the conversation at which a failure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Finding where to connect: MX and address lookups.
    Dns,
    /// Opening the TCP connection.
    Connect,
    /// Implicit TLS or STARTTLS.
    Tls,
    /// Waiting for the server's 220 greeting.
    Greeting,
    /// EHLO, or HELO after a rejected EHLO.
    Ehlo,
    /// SMTP AUTH with the relay.
    Auth,
    /// MAIL FROM, including the checks made before it (size limit, message form).
    MailFrom,
    /// RCPT TO for one recipient.
    RcptTo,
    /// DATA, the message and the reply after its end.
    Data,
}

impl fmt::Display for Stage {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            Self::Dns => "DNS lookup",
            Self::Connect => "connect",
            Self::Tls => "TLS",
            Self::Greeting => "greeting",
            Self::Ehlo => "EHLO",
            Self::Auth => "AUTH",
            Self::MailFrom => "MAIL FROM",
            Self::RcptTo => "RCPT TO",
            Self::Data => "DATA",
        })
    }
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// The server answered with a code other than the one that lets delivery go on.
    Reply(Reply),
    /// The server did not answer, or the connection did not open, within this time.
    Timeout(Duration),
    /// The connection to this address did not open (refused, no answer, no route).
    Connect {
        address: SocketAddr,
        problem: ConnectProblem,
    },
    /// The connection broke off in the middle of the conversation.
    Connection(ConnectProblem),
    /// The server sent something that is not SMTP.
    Protocol(String),
    /// The TLS handshake failed, or the relay's certificate was not trusted.
    Tls(String),
    /// TLS was required (relay TLS mode "required") but the server does not offer STARTTLS.
    TlsNotOffered,
    /// The relay does not offer STARTTLS, and the password is not sent unencrypted unless TLS
    /// mode "none" was chosen.
    CleartextAuthRefused,
    /// The relay offers no AUTH mechanism Sealpost can use (PLAIN or LOGIN).
    AuthNotOffered {
        /// The mechanisms it offers, possibly none.
        offered: Vec<String>,
    },
    /// The domain does not exist (NXDOMAIN).
    NoSuchDomain,
    /// The domain has neither MX records nor an address of its own.
    NoMailHost,
    /// A host (an MX host, the relay) has no address.
    NoAddress,
    /// The domain publishes a null MX (RFC 7505): it accepts no mail.
    NullMx,
    /// A DNS lookup failed in a way that may pass (SERVFAIL, timeout).
    DnsTemporary(String),
    /// The message exceeds the limit the server announced with SIZE (RFC 1870).
    MessageTooLarge {
        /// The message size in bytes.
        size: usize,
        /// The server's limit in bytes.
        limit: u64,
    },
    /// The message cannot be sent as it is.
    InvalidMessage(MessageError),
    /// The stored envelope cannot be sent (an address no release accepts today): the queue
    /// gives up on it instead of trying it again and again.
    EnvelopeUnsendable(String),
    /// The message goes through the tenant's own mail server, which is no longer configured.
    RelayNotConfigured,
    /// The attempt ended without an outcome for this recipient; a later one may have it.
    NotReported,
    /// Not attempted: the destination is throttled or busy (traffic shaping), and the message
    /// waits for a later attempt rather than adding to the load.
    Deferred(Deferral),
}

impl Cause {
    /// Temporary or permanent: the one place that decides it.
    pub fn kind(&self) -> FailureKind {
        match self {
            Self::Reply(reply) if (500..600).contains(&reply.code) => FailureKind::Permanent,
            // 4xx, and a code out of place (a 2xx or 3xx where another was due), which is a
            // confused server that a later attempt may not meet.
            Self::Reply(_) => FailureKind::Temporary,
            Self::Timeout(_)
            | Self::Connect { .. }
            | Self::Connection(_)
            | Self::Protocol(_)
            | Self::Tls(_)
            | Self::TlsNotOffered
            | Self::CleartextAuthRefused
            | Self::DnsTemporary(_)
            | Self::NotReported
            | Self::Deferred(_) => FailureKind::Temporary,
            Self::NoSuchDomain
            | Self::NoMailHost
            | Self::NoAddress
            | Self::NullMx
            | Self::AuthNotOffered { .. }
            | Self::MessageTooLarge { .. }
            | Self::InvalidMessage(_)
            | Self::EnvelopeUnsendable(_)
            | Self::RelayNotConfigured => FailureKind::Permanent,
        }
    }
}

impl Cause {
    /// Whether the receiver is pushing back on how hard it is being sent to, so that the whole
    /// destination slows down (`shaping`) rather than this message alone waiting: 421 (the
    /// server closes the channel), a 4.7.x status (a policy of the receiver, such as a rate),
    /// or a temporary reply that says so in words. Only a temporary failure can be a throttle:
    /// a 5xx stays permanent whatever its text says, as [`Cause::kind`] decides.
    pub fn is_throttle(&self) -> bool {
        const WORDS: [&str; 8] = [
            "too many connections",
            "too many concurrent",
            "too many messages",
            "rate limit",
            "ratelimit",
            "rate-limit",
            "throttl",
            "try again later",
        ];
        let Self::Reply(reply) = self else {
            return false;
        };
        if self.kind() != FailureKind::Temporary || reply.code / 100 != 4 {
            return false;
        }
        let policy = reply
            .enhanced
            .as_ref()
            .is_some_and(|status| status.class == 4 && status.subject == 7);
        let text = reply.text().to_ascii_lowercase();
        reply.code == 421 || policy || WORDS.iter().any(|word| text.contains(word))
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Reply(reply) => write!(formatter, "the server replied {reply}"),
            Self::Timeout(limit) => write!(formatter, "no answer within {limit:?}"),
            Self::Connect { address, problem } => formatter.write_str(&problem.opening(*address)),
            Self::Connection(problem) => write!(formatter, "{problem}"),
            Self::Protocol(error) => write!(formatter, "{error}"),
            Self::Tls(error) => write!(formatter, "TLS failed: {error}"),
            Self::TlsNotOffered => {
                formatter.write_str("TLS is required but the server does not offer STARTTLS")
            }
            Self::CleartextAuthRefused => formatter.write_str(
                "the server does not offer STARTTLS, and the password is not sent unencrypted \
                 unless TLS mode \"none\" is chosen",
            ),
            Self::AuthNotOffered { offered } if offered.is_empty() => {
                formatter.write_str("the server offers no SMTP AUTH")
            }
            Self::AuthNotOffered { offered } => write!(
                formatter,
                "the server offers AUTH {} but Sealpost supports only PLAIN and LOGIN",
                offered.join(" ")
            ),
            Self::NoSuchDomain => formatter.write_str("the domain does not exist (NXDOMAIN)"),
            Self::NoMailHost => {
                formatter.write_str("the domain has neither MX records nor an address")
            }
            Self::NoAddress => formatter.write_str("the host has no address (A or AAAA)"),
            Self::NullMx => formatter.write_str("the domain accepts no mail (null MX, RFC 7505)"),
            Self::DnsTemporary(error) => write!(formatter, "{error}"),
            Self::MessageTooLarge { size, limit } => write!(
                formatter,
                "the message has {size} bytes and the server accepts at most {limit}"
            ),
            Self::InvalidMessage(error) => write!(formatter, "{error}"),
            Self::EnvelopeUnsendable(error) => {
                write!(formatter, "the envelope cannot be sent: {error}")
            }
            Self::RelayNotConfigured => {
                formatter.write_str("the tenant's own mail server is no longer configured")
            }
            Self::NotReported => {
                formatter.write_str("the delivery attempt reported nothing for this recipient")
            }
            Self::Deferred(deferral) => write!(formatter, "{deferral}"),
        }
    }
}

/// A failure: where it happened and why. Its kind follows from the cause ([`Cause::kind`]), so
/// the two can never disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The step at which it happened.
    pub stage: Stage,
    /// What happened.
    pub cause: Cause,
}

impl Failure {
    /// A failure at `stage` because of `cause`.
    pub fn new(stage: Stage, cause: Cause) -> Self {
        Self { stage, cause }
    }

    /// Temporary or permanent.
    pub fn kind(&self) -> FailureKind {
        self.cause.kind()
    }

    /// The server's reply, when the failure is one.
    pub fn reply(&self) -> Option<&Reply> {
        match &self.cause {
            Cause::Reply(reply) => Some(reply),
            _ => None,
        }
    }
}

impl fmt::Display for Failure {
    /// The message shown to people, such as "RCPT TO: the server replied 550 5.1.1 No such user".
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.cause {
            // Sentences of their own that name the address or the destination; "connect:"
            // would add nothing.
            Cause::Connect { .. } | Cause::Deferred(_) => write!(formatter, "{}", self.cause),
            _ => write!(formatter, "{}: {}", self.stage, self.cause),
        }
    }
}

impl std::error::Error for Failure {}

/// What became of one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecipientResult {
    /// The server took responsibility for the message (its reply to the end of DATA).
    Delivered {
        /// The reply to the end of DATA, with the server's queue id as a rule.
        reply: Reply,
    },
    /// The recipient did not get the message.
    Failed {
        /// Why, and whether to try again.
        failure: Failure,
    },
}

/// The outcome for one recipient of the envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientOutcome {
    /// The address as given in the envelope.
    pub recipient: String,
    /// Delivered or failed.
    pub result: RecipientResult,
}

impl RecipientOutcome {
    /// The failure, when the recipient did not get the message.
    pub fn failure(&self) -> Option<&Failure> {
        match &self.result {
            RecipientResult::Delivered { .. } => None,
            RecipientResult::Failed { failure } => Some(failure),
        }
    }
}

/// What one delivery attempt did, for the queue (outcomes) and for people (the rest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReport {
    /// The host whose answers decided the outcomes (the MX host or the relay); `None` when the
    /// attempt ended before a connection was tried, as after a failed MX lookup.
    pub host: Option<String>,
    /// The address connected to for that host.
    pub address: Option<SocketAddr>,
    /// The TLS of that connection; `None` when it was unencrypted.
    pub tls: Option<TlsInfo>,
    /// One outcome per envelope recipient, in envelope order.
    pub outcomes: Vec<RecipientOutcome>,
    /// Everything that happened, hosts passed over included, with secrets redacted.
    pub transcript: Vec<TranscriptLine>,
}

/// Every recipient failed for the same reason.
pub(crate) fn all_failed(recipients: &[String], failure: &Failure) -> Vec<RecipientOutcome> {
    recipients
        .iter()
        .map(|recipient| failed(recipient, failure.clone()))
        .collect()
}

/// The outcome of a recipient that did not get the message.
pub(crate) fn failed(recipient: &str, failure: Failure) -> RecipientOutcome {
    RecipientOutcome {
        recipient: recipient.to_owned(),
        result: RecipientResult::Failed { failure },
    }
}

/// The outcomes of a transaction: a recipient refused at RCPT TO keeps its refusal, and every
/// accepted one shares the `verdict` on the message, the reply to the end of DATA or what went
/// wrong after RCPT TO. `refusals` has one entry per recipient, `None` for an accepted one.
pub(crate) fn conclude(
    recipients: &[String],
    refusals: &[Option<Failure>],
    verdict: &Result<Reply, Failure>,
) -> Vec<RecipientOutcome> {
    recipients
        .iter()
        .zip(refusals)
        .map(|(recipient, refusal)| match (refusal, verdict) {
            (Some(refusal), _) => failed(recipient, refusal.clone()),
            (None, Ok(reply)) => RecipientOutcome {
                recipient: recipient.clone(),
                result: RecipientResult::Delivered {
                    reply: reply.clone(),
                },
            },
            (None, Err(failure)) => failed(recipient, failure.clone()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply::parse_reply;

    fn parsed(text: &str) -> Reply {
        let (reply, _) = parse_reply(text.as_bytes()).unwrap().unwrap();
        reply
    }

    fn reply(text: &str) -> Cause {
        Cause::Reply(parsed(text))
    }

    #[track_caller]
    fn check(cause: Cause, expect: FailureKind) {
        assert_eq!(cause.kind(), expect, "{cause}");
    }

    #[test]
    fn classification() {
        use FailureKind::{Permanent, Temporary};
        check(reply("421 4.3.2 shutting down\r\n"), Temporary);
        check(reply("451 4.3.0 try later\r\n"), Temporary);
        check(reply("452 4.2.2 mailbox full\r\n"), Temporary);
        check(reply("550 5.1.1 no such user\r\n"), Permanent);
        check(reply("552 5.3.4 too big\r\n"), Permanent);
        check(reply("554 no service\r\n"), Permanent);
        check(reply("250 odd place for success\r\n"), Temporary);
        check(Cause::Timeout(Duration::from_secs(1)), Temporary);
        check(Cause::Connection(ConnectProblem::Reset), Temporary);
        check(
            Cause::Connect {
                address: "127.0.0.1:9".parse().unwrap(),
                problem: ConnectProblem::Refused,
            },
            Temporary,
        );
        check(Cause::Protocol("garbage".into()), Temporary);
        check(Cause::Tls("bad record".into()), Temporary);
        check(Cause::TlsNotOffered, Temporary);
        check(Cause::CleartextAuthRefused, Temporary);
        check(Cause::DnsTemporary("SERVFAIL".into()), Temporary);
        check(Cause::NullMx, Permanent);
        check(Cause::NoSuchDomain, Permanent);
        check(Cause::NoMailHost, Permanent);
        check(Cause::NoAddress, Permanent);
        check(Cause::AuthNotOffered { offered: vec![] }, Permanent);
        check(Cause::MessageTooLarge { size: 2, limit: 1 }, Permanent);
        check(
            Cause::InvalidMessage(MessageError::BareLineEnding(0)),
            Permanent,
        );
        check(Cause::EnvelopeUnsendable("no recipient".into()), Permanent);
        check(Cause::RelayNotConfigured, Permanent);
        check(Cause::NotReported, Temporary);
        check(
            Cause::Deferred(Deferral::Busy {
                destination: "google".into(),
                wait: Duration::from_secs(5),
            }),
            Temporary,
        );
    }

    #[track_caller]
    fn check_throttle(cause: Cause, expect: bool) {
        assert_eq!(cause.is_throttle(), expect, "{cause}");
        // A throttle is always something to try again later.
        if expect {
            assert_eq!(cause.kind(), FailureKind::Temporary, "{cause}");
        }
    }

    #[test]
    fn throttles() {
        check_throttle(
            reply("421 4.7.0 Try again later, closing connection.\r\n"),
            true,
        );
        check_throttle(reply("421 4.3.2 System shutting down\r\n"), true);
        check_throttle(reply("421 Too many connections from your IP\r\n"), true);
        check_throttle(reply("451 4.7.1 Please try again later\r\n"), true);
        check_throttle(reply("450 4.7.28 unusual rate of mail\r\n"), true);
        check_throttle(reply("451 4.3.0 Rate limited, slow down\r\n"), true);
        check_throttle(reply("452 too many messages in this session\r\n"), true);
        check_throttle(reply("450 Requested action aborted: throttling\r\n"), true);
        check_throttle(reply("451 4.3.0 Temporary lookup failure\r\n"), false);
        check_throttle(reply("452 4.2.2 Mailbox full\r\n"), false);
        check_throttle(reply("450 4.2.1 Mailbox busy\r\n"), false);
        // Permanent refusals stay permanent, whatever their words.
        check_throttle(reply("550 5.7.1 Rate limited, message refused\r\n"), false);
        check_throttle(reply("554 5.7.0 Too many connections\r\n"), false);
        check_throttle(reply("250 too many connections\r\n"), false);
        check_throttle(Cause::Timeout(Duration::from_secs(1)), false);
        check_throttle(Cause::Connection(ConnectProblem::Reset), false);
        check_throttle(Cause::NullMx, false);
    }

    #[test]
    fn messages_name_the_stage_and_the_reply() {
        let failure = Failure::new(Stage::RcptTo, reply("550 5.1.1 No such user\r\n"));
        assert_eq!(
            failure.to_string(),
            "RCPT TO: the server replied 550 5.1.1 No such user"
        );
        assert_eq!(failure.reply().map(|reply| reply.code), Some(550));
    }

    #[test]
    fn the_data_verdict_applies_to_accepted_recipients_only() {
        let recipients = ["a@x.test".to_owned(), "b@x.test".to_owned()];
        let refused = Failure::new(Stage::RcptTo, reply("550 5.1.1 unknown\r\n"));
        let refusals = [None, Some(refused.clone())];
        let queued = parsed("250 2.0.0 queued\r\n");
        let outcomes = conclude(&recipients, &refusals, &Ok(queued));
        assert_eq!(
            outcomes
                .iter()
                .map(RecipientOutcome::failure)
                .collect::<Vec<_>>(),
            [None, Some(&refused)]
        );
        let later = Failure::new(Stage::Data, reply("451 4.3.0 later\r\n"));
        let outcomes = conclude(&recipients, &refusals, &Err(later.clone()));
        assert_eq!(
            outcomes
                .iter()
                .map(RecipientOutcome::failure)
                .collect::<Vec<_>>(),
            [Some(&later), Some(&refused)]
        );
    }
}
