//! The boundary between the SMTP listener and the rest of Sealpost: credentials and storage.
//!
//! smtpd knows nothing about tenants, databases or queues. It asks a [`SubmissionBackend`] to
//! check credentials and to store an accepted message, and turns the answers into SMTP replies.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;

/// What smtpd needs from the rest of Sealpost.
pub trait SubmissionBackend: Send + Sync + 'static {
    /// Checks SMTP credentials; `Ok(Some(identity))` names the tenant, `Ok(None)` means the
    /// credentials are wrong (535), `Err` means they could not be checked (454).
    fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> impl Future<Output = Result<Option<Identity>, BackendError>> + Send;

    /// Checks a login's credentials again before each transaction, so that revoked credentials
    /// send nothing more; the answers mean what [`Self::authenticate`]'s mean. By default it is
    /// `authenticate`. A backend whose `submit` confirms the credentials itself (answering
    /// [`SubmitError::LoginRevoked`]) may answer from what it remembers instead.
    fn recheck_login(
        &self,
        username: &str,
        password: &str,
    ) -> impl Future<Output = Result<Option<Identity>, BackendError>> + Send {
        self.authenticate(username, password)
    }

    /// Whether an inbound listener ([`crate::Mode::Inbound`]) has a mailbox for `address`;
    /// `Ok(false)` is answered `550 5.1.1`, `Err` `451 4.3.0`. A submission listener never asks,
    /// so the default accepts.
    fn accept_recipient(
        &self,
        address: &str,
    ) -> impl Future<Output = Result<bool, BackendError>> + Send {
        let _ = address;
        async { Ok(true) }
    }

    /// Durably stores the message and returns its id. smtpd answers 250 only after this
    /// returns `Ok` (SPEC S9.3). `message` is the message exactly as the client sent it, without
    /// dot-stuffing and without the terminating `.` line; smtpd adds no header. `identity` is
    /// the authenticated client; an inbound listener has none.
    fn submit(
        &self,
        identity: Option<&Identity>,
        envelope: ReceivedEnvelope,
        message: Vec<u8>,
    ) -> impl Future<Output = Result<String, SubmitError>> + Send;
}

/// Who is submitting: the tenant the credentials belong to and the user name that was used.
/// The tenant is opaque to smtpd; it only passes it back to [`SubmissionBackend::submit`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub tenant: String,
    pub username: String,
    /// The backend's own handle on the credentials (never the password), opaque to smtpd and
    /// passed back with each submission, so the backend can confirm them with the message.
    pub credential: String,
}

/// What a client gave in MAIL FROM and RCPT TO for one message, plus the facts about the
/// session that a trace header or an audit log would want. Not the envelope delivery sends
/// (`sealpost_delivery::Envelope`), which holds checked addresses only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedEnvelope {
    /// The MAIL FROM address; empty only for the null sender, which only an inbound listener
    /// accepts.
    pub mail_from: String,
    /// The RCPT TO addresses in the order they were given, at least one.
    pub rcpt_to: Vec<String>,
    /// The client's address.
    pub peer: SocketAddr,
    /// The name the client gave in EHLO or HELO.
    pub helo: String,
    /// Whether the message came over TLS.
    pub tls: bool,
}

/// A failure inside the backend (database down, timeout): the client is told to try again
/// later and the cause is logged, never shown to the client.
#[derive(Debug)]
pub struct BackendError {
    source: Box<dyn StdError + Send + Sync>,
}

impl BackendError {
    pub fn new(source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self {
            source: source.into(),
        }
    }
}

impl fmt::Display for BackendError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "backend unavailable: {}", self.source)
    }
}

impl StdError for BackendError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(self.source.as_ref())
    }
}

/// Why a message was not accepted.
#[derive(Debug)]
pub enum SubmitError {
    /// The message could not be stored now; the client gets `451 4.3.0` and retries later. The
    /// cause is logged, not shown.
    Temporary(BackendError),
    /// The backend refuses this message for good (for example `550 5.7.1 From domain not
    /// allowed` or `552 5.3.4`); the client gets exactly this reply.
    Permanent(Rejection),
    /// The login's credentials were revoked since they were last checked: the client gets
    /// `530 5.7.0`, as at a transaction's recheck, and its login ends.
    LoginRevoked,
}

impl fmt::Display for SubmitError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubmitError::Temporary(error) => write!(formatter, "temporary failure: {error}"),
            SubmitError::Permanent(rejection) => write!(formatter, "rejected: {rejection}"),
            SubmitError::LoginRevoked => {
                formatter.write_str("the login's credentials were revoked")
            }
        }
    }
}

impl StdError for SubmitError {}

/// A permanent rejection the backend chose: a 5xx code, its enhanced status code and the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    code: u16,
    enhanced: [u8; 3],
    text: String,
}

impl Rejection {
    /// Builds a permanent rejection. A code outside 500..=599 becomes 554 and the enhanced
    /// code's class becomes 5, because a permanent rejection must never read as a success or a
    /// temporary failure to the client; control characters in the text become spaces so that
    /// the text cannot end the reply line early.
    pub fn new(code: u16, enhanced: [u8; 3], text: impl Into<String>) -> Self {
        let code = if (500..=599).contains(&code) {
            code
        } else {
            554
        };
        let text = text
            .into()
            .chars()
            .map(|character| {
                if character.is_control() {
                    ' '
                } else {
                    character
                }
            })
            .collect();
        Self {
            code,
            enhanced: [5, enhanced[1], enhanced[2]],
            text,
        }
    }

    pub fn code(&self) -> u16 {
        self.code
    }

    pub fn enhanced(&self) -> [u8; 3] {
        self.enhanced
    }

    pub fn text(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [class, subject, detail] = self.enhanced;
        write!(
            formatter,
            "{} {class}.{subject}.{detail} {}",
            self.code, self.text
        )
    }
}

#[cfg(test)]
mod tests {
    use super::Rejection;

    #[track_caller]
    fn check(code: u16, enhanced: [u8; 3], text: &str, expect: &str) {
        assert_eq!(Rejection::new(code, enhanced, text).to_string(), expect);
    }

    #[test]
    fn rejections_stay_permanent_and_on_one_line() {
        check(
            550,
            [5, 7, 1],
            "From domain not allowed",
            "550 5.7.1 From domain not allowed",
        );
        check(552, [5, 3, 4], "Too big", "552 5.3.4 Too big");
        check(250, [2, 0, 0], "Ok", "554 5.0.0 Ok");
        check(451, [4, 3, 0], "Later", "554 5.3.0 Later");
        check(550, [5, 7, 1], "a\r\n250 ok", "550 5.7.1 a  250 ok");
    }
}
