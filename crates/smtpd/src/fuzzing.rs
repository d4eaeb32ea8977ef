//! The session driven from bytes without I/O, for the fuzz target `smtp_session` (`fuzz/`) and
//! its corpus replay (`crates/fuzz-replay`). Compiled only with the `fuzzing` feature.
//!
//! [`drive`] carries out each [`Step`] the way `connection` does, with a backend whose answers
//! are spelled in the input, and checks what must hold whatever the client sends: a submission
//! listener hands over mail only from an authenticated client whose login still holds at MAIL
//! FROM, a login the backend finds revoked with the message ends, an inbound listener hands over
//! mail only to recipients the backend accepted, no message holds a NUL byte, and every reply is
//! well-formed SMTP.

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, OnceLock};

use crate::backend::{BackendError, Identity, Rejection, SubmitError};
use crate::command::auth::{AuthOutcome, Credentials, Login};
use crate::config::{Limits, Mode, SmtpdConfig};
use crate::input::{InputBuffer, Line};
use crate::message::MessageReceiver;
use crate::reply::Reply;
use crate::session::{Session, Step, Submission};
use crate::tls::{TlsSettings, self_signed_tls};

/// Bits of the input's first byte that shape the listener.
const INBOUND: u8 = 1;
const WITH_TLS: u8 = 2;
const FROM_LOOPBACK: u8 = 4;
const SHORT_LINES: u8 = 8;

/// The password the backend grants, the one it grants at AUTH and revokes before the next
/// transaction, the one it grants at AUTH and MAIL FROM but finds revoked with the message, and
/// the one for which it is unavailable.
const GOOD_PASSWORD: &str = "secret";
const REVOKED_LATER: &str = "revoked";
const REVOKED_AT_SUBMISSION: &str = "revoked-at-submission";
const UNAVAILABLE: &str = "unavailable";

/// The tenant of a login whose key is revoked after AUTH: it must never get mail through.
const REVOKED_TENANT: &str = "revoked";
/// The tenant of a login whose key the backend finds revoked when it stores the message.
const REVOKED_AT_SUBMISSION_TENANT: &str = "revoked-at-submission";

/// Runs a session: the first byte chooses the mode (bit 0: inbound), TLS offered (bit 1), a
/// loopback client allowed to AUTH in the clear (bit 2) and 64-byte lines (bit 3); the rest is
/// what the client sends. The backend grants the password `secret` (and `revoked`, only at
/// AUTH: it refuses it when the session checks again at MAIL FROM; and `revoked-at-submission`,
/// whose messages it refuses as revoked), accepts inbound recipients
/// whose local part starts with `test-`, and refuses a message containing `REJECT` (permanently)
/// or `TEMPFAIL` (for now); `unavailable` as a password or local part makes it fail.
pub fn drive(data: &[u8]) {
    let Some((&flags, script)) = data.split_first() else {
        return;
    };
    let config = Arc::new(config(flags));
    let peer = match flags & FROM_LOOPBACK {
        0 => SocketAddr::from((Ipv4Addr::new(192, 0, 2, 1), 40000)),
        _ => SocketAddr::from((Ipv4Addr::LOCALHOST, 40000)),
    };
    let mut driver = Driver {
        session: Session::new(Arc::clone(&config), peer),
        input: InputBuffer::default(),
        output: Vec::new(),
        accepted: HashSet::new(),
    };
    driver.write(&driver.session.greeting());
    driver.input.extend(script);
    while let Some(line) = driver.input.next_line(config.limits.max_line_length) {
        let step = match line {
            Line::Complete(line) => driver.session.command(&line),
            Line::TooLong => driver.session.line_too_long(),
        };
        if driver.run(step) == Flow::Close {
            break;
        }
    }
    check_replies(&driver.output);
}

fn config(flags: u8) -> SmtpdConfig {
    let mut config = SmtpdConfig::new("mx.fuzz.example");
    config.mode = match flags & INBOUND {
        0 => Mode::Submission,
        _ => Mode::Inbound,
    };
    config.allow_plain_auth_on_loopback = true;
    if flags & WITH_TLS != 0 {
        config.tls = Some(tls().clone());
    }
    config.limits = Limits {
        max_message_size: 64 * 1024,
        max_recipients: 5,
        max_line_length: match flags & SHORT_LINES {
            0 => Limits::default().max_line_length,
            _ => 64,
        },
        ..Limits::default()
    };
    config
}

/// One certificate for every run: generating a key per input would dominate the campaign.
fn tls() -> &'static TlsSettings {
    static TLS: OnceLock<TlsSettings> = OnceLock::new();
    TLS.get_or_init(|| self_signed_tls("mx.fuzz.example").expect("a self-signed certificate"))
}

#[derive(Debug, PartialEq, Eq)]
enum Flow {
    Continue,
    Close,
}

struct Driver {
    session: Session,
    input: InputBuffer,
    output: Vec<u8>,
    /// Recipients the inbound backend said yes to.
    accepted: HashSet<String>,
}

impl Driver {
    fn write(&mut self, reply: &Reply) {
        reply.write_to(&mut self.output);
    }

    /// Carries out a step and those that follow from it, as `connection::run_step` does.
    fn run(&mut self, mut step: Step) -> Flow {
        loop {
            step = match step {
                Step::Reply(reply) => {
                    self.write(&reply);
                    return Flow::Continue;
                }
                Step::Close(reply) => {
                    self.write(&reply);
                    return Flow::Close;
                }
                Step::StartTls(reply) => {
                    // The rest of the input stands for what arrives after the handshake (the
                    // connection drops what was pipelined before it; that is not the session's
                    // concern).
                    self.write(&reply);
                    self.session.tls_started();
                    return Flow::Continue;
                }
                Step::Authenticate(credentials) => {
                    let outcome = match check_credentials(&credentials, Check::Auth) {
                        Ok(Some(identity)) => AuthOutcome::Granted(Login {
                            identity,
                            credentials,
                        }),
                        Ok(None) => AuthOutcome::Denied {
                            username: credentials.username,
                        },
                        Err(error) => AuthOutcome::Unavailable(error),
                    };
                    self.session.auth_finished(outcome)
                }
                Step::RecheckLogin {
                    transaction,
                    credentials,
                } => {
                    let checked = check_credentials(&credentials, Check::Transaction);
                    self.session.login_rechecked(transaction, checked)
                }
                Step::ReceiveMessage { reply, pending } => {
                    self.write(&reply);
                    let mut receiver =
                        MessageReceiver::new(self.session.config.limits.max_message_size);
                    let Some(consumed) = receiver.ingest(self.input.pending()) else {
                        // The client went away during DATA: nothing is submitted.
                        return Flow::Close;
                    };
                    self.input.consume(consumed);
                    self.session.message_received(pending, receiver.finish())
                }
                Step::Submit(submission) => {
                    self.check_submission(&submission);
                    let result = submit(&submission);
                    let revoked = matches!(result, Err(SubmitError::LoginRevoked));
                    let reply = self.session.submit_finished(result);
                    assert!(
                        !revoked || self.session.login.is_none(),
                        "a login found revoked with its message stayed logged in"
                    );
                    Step::Reply(reply)
                }
                Step::CheckRecipient(address) => {
                    let answer = accept_recipient(&address);
                    if let Ok(true) = answer {
                        self.accepted.insert(address.clone());
                    }
                    self.session.recipient_checked(address, answer)
                }
            };
        }
    }

    /// Never an open relay (SPEC S8.2), whatever the client sends.
    fn check_submission(&self, submission: &Submission) {
        let envelope = &submission.envelope;
        assert!(!envelope.rcpt_to.is_empty(), "a message without recipients");
        // Issue 14, item 9: a NUL byte in DATA is refused, never handed over.
        assert!(
            !submission.message.contains(&0),
            "a message with a NUL byte was handed to the backend"
        );
        assert!(
            envelope.rcpt_to.len() <= self.session.config.limits.max_recipients,
            "{} recipients past the limit",
            envelope.rcpt_to.len()
        );
        match self.session.config.mode {
            Mode::Submission => {
                let identity = submission.identity.as_ref();
                let identity = identity.expect("a submission listener took mail without AUTH");
                assert_ne!(
                    identity.tenant, REVOKED_TENANT,
                    "a login revoked after AUTH still got mail through"
                );
            }
            Mode::Inbound => {
                assert!(
                    submission.identity.is_none(),
                    "an inbound client authenticated"
                );
                for recipient in &envelope.rcpt_to {
                    assert!(
                        self.accepted.contains(recipient),
                        "an inbound listener took mail for {recipient:?}, which the backend did \
                         not accept"
                    );
                }
            }
        }
    }
}

/// When the backend is asked about credentials: at AUTH, or again before a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    Auth,
    Transaction,
}

fn check_credentials(
    credentials: &Credentials,
    check: Check,
) -> Result<Option<Identity>, BackendError> {
    let identity = |tenant: &str| Identity {
        tenant: tenant.to_owned(),
        username: credentials.username.clone(),
        credential: tenant.to_owned(),
    };
    match (credentials.password.as_str(), check) {
        (GOOD_PASSWORD, _) => Ok(Some(identity("fuzz"))),
        (REVOKED_AT_SUBMISSION, _) => Ok(Some(identity(REVOKED_AT_SUBMISSION_TENANT))),
        (REVOKED_LATER, Check::Auth) => Ok(Some(identity(REVOKED_TENANT))),
        (UNAVAILABLE, _) => Err(BackendError::new("the backend is down")),
        _ => Ok(None),
    }
}

fn accept_recipient(address: &str) -> Result<bool, BackendError> {
    let local_part = address.rsplit_once('@').map_or(address, |(local, _)| local);
    match local_part {
        UNAVAILABLE => Err(BackendError::new("the backend is down")),
        local_part => Ok(local_part.starts_with("test-")),
    }
}

fn submit(submission: &Submission) -> Result<String, SubmitError> {
    let tenant = submission
        .identity
        .as_ref()
        .map(|identity| identity.tenant.as_str());
    if tenant == Some(REVOKED_AT_SUBMISSION_TENANT) {
        return Err(SubmitError::LoginRevoked);
    }
    let message = &submission.message;
    let contains = |word: &[u8]| message.windows(word.len()).any(|window| window == word);
    if contains(b"REJECT") {
        return Err(SubmitError::Permanent(Rejection::new(
            550,
            [5, 7, 1],
            "Refused by the backend",
        )));
    }
    if contains(b"TEMPFAIL") {
        return Err(SubmitError::Temporary(BackendError::new(
            "the store is down",
        )));
    }
    Ok("fuzz-message".to_owned())
}

/// Every reply line is `NNN` and a space or a hyphen, a code from 2xx to 5xx, its text without
/// control characters, and CRLF: nothing the client sends may end a reply line early.
fn check_replies(output: &[u8]) {
    let text = std::str::from_utf8(output).expect("replies are UTF-8");
    let body = text.strip_suffix("\r\n").expect("replies end with CRLF");
    for line in body.split("\r\n") {
        let code: u16 = line
            .get(..3)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("reply line without a code: {line:?}"));
        assert!((200..600).contains(&code), "reply code {code} in {line:?}");
        assert!(
            matches!(line.as_bytes().get(3), Some(b' ' | b'-')),
            "reply line {line:?} has no separator after its code"
        );
        assert!(
            !line.chars().any(char::is_control),
            "control character in reply line {line:?}"
        );
    }
}
