//! The state of one SMTP session and what each command line does to it, without any I/O.
//!
//! The connection loop hands every line to [`Session::command`] and carries out the [`Step`]
//! it gets back: write a reply, close, start TLS, ask the backend, or receive a message. The
//! commands themselves live in `command/`, one file each, as `impl Session` blocks.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::Arc;

use smtp_proto::Request;

use crate::backend::{Identity, ReceivedEnvelope};
use crate::command::auth::{AuthExchange, Credentials, Login};
use crate::config::{Mode, SmtpdConfig};
use crate::reply::Reply;

/// What the connection loop must do next.
#[derive(Debug)]
pub(crate) enum Step {
    /// Write the reply and read the next command.
    Reply(Reply),
    /// Write the reply and close the connection.
    Close(Reply),
    /// Write the reply, then run the TLS handshake and call [`Session::tls_started`].
    StartTls(Reply),
    /// Check the credentials with the backend and pass the outcome to
    /// [`Session::auth_finished`].
    Authenticate(Credentials),
    /// Write the `354` reply, read the content and pass it with `pending` to
    /// [`Session::message_received`].
    ReceiveMessage {
        reply: Reply,
        pending: PendingMessage,
    },
    /// Hand the message to the backend and pass the outcome to [`Session::submit_finished`].
    Submit(Submission),
    /// Ask the backend whether the recipient has a mailbox here and pass the answer to
    /// [`Session::recipient_checked`] (inbound listeners only).
    CheckRecipient(String),
    /// Check the login's credentials with the backend again before `transaction` begins, and
    /// pass the answer to [`Session::login_rechecked`], so that a revoked key stops an open
    /// session at its next transaction.
    RecheckLogin {
        transaction: Transaction,
        credentials: Credentials,
    },
}

/// A transaction whose content is being received: DATA takes it out of the session, so a
/// client that goes away mid-DATA leaves nothing behind.
#[derive(Debug)]
pub(crate) struct PendingMessage {
    pub(crate) identity: Option<Identity>,
    pub(crate) envelope: ReceivedEnvelope,
}

/// A message ready for the backend.
#[derive(Debug)]
pub(crate) struct Submission {
    pub(crate) identity: Option<Identity>,
    pub(crate) envelope: ReceivedEnvelope,
    pub(crate) message: Vec<u8>,
}

/// The client's EHLO or HELO.
#[derive(Debug)]
pub(crate) struct Greeted {
    pub(crate) name: String,
    /// EHLO rather than HELO; AUTH needs it because only EHLO advertises AUTH.
    pub(crate) extended: bool,
}

/// One mail transaction, from MAIL FROM to DATA. It keeps the identity and the greeting it
/// began under, so that DATA finds everything the envelope needs in one place.
#[derive(Debug)]
pub(crate) struct Transaction {
    /// The authenticated client; `None` on an inbound listener.
    pub(crate) identity: Option<Identity>,
    pub(crate) helo: String,
    pub(crate) mail_from: String,
    pub(crate) rcpt_to: Vec<String>,
}

#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) config: Arc<SmtpdConfig>,
    pub(crate) peer: SocketAddr,
    pub(crate) tls_active: bool,
    pub(crate) greeted: Option<Greeted>,
    pub(crate) login: Option<Login>,
    pub(crate) transaction: Option<Transaction>,
    /// Set while an AUTH exchange waits for the client's next line.
    pub(crate) auth_exchange: Option<AuthExchange>,
    pub(crate) auth_failures: usize,
    errors: usize,
}

impl Session {
    pub(crate) fn new(config: Arc<SmtpdConfig>, peer: SocketAddr) -> Self {
        Self {
            config,
            peer,
            tls_active: false,
            greeted: None,
            login: None,
            transaction: None,
            auth_exchange: None,
            auth_failures: 0,
            errors: 0,
        }
    }

    pub(crate) fn greeting(&self) -> Reply {
        Reply::plain(
            220,
            vec![format!("{} ESMTP ready", self.config.hostname).into()],
        )
    }

    /// Handles one complete line from the client.
    pub(crate) fn command(&mut self, line: &[u8]) -> Step {
        if let Some(exchange) = self.auth_exchange.take() {
            return self.auth_response(exchange, line);
        }
        match Request::parse(&mut line.iter()) {
            Ok(request) => self.dispatch(request, line),
            Err(error) => self.parse_error(error),
        }
    }

    fn dispatch(&mut self, request: Request<Cow<'_, str>>, line: &[u8]) -> Step {
        match request {
            Request::Ehlo { host } => self.ehlo(&host),
            Request::Helo { host } => self.helo(&host),
            Request::StartTls => self.starttls(line),
            Request::Auth {
                mechanism,
                initial_response,
            } => self.auth(mechanism, &initial_response),
            Request::Mail { from } => self.mail(from),
            Request::Rcpt { to } => self.rcpt(to),
            Request::Data => self.data(),
            Request::Rset => self.rset(),
            Request::Noop { .. } => self.noop(),
            Request::Quit => self.quit(),
            Request::Vrfy { .. } => self.vrfy(),
            Request::Help { .. } => self.help(),
            // These are SMTP commands of extensions that are not offered (CHUNKING, BURL,
            // ETRN, ATRN) or that a submission server has no reason to answer (EXPN).
            Request::Expn { .. }
            | Request::Bdat { .. }
            | Request::Burl { .. }
            | Request::Etrn { .. }
            | Request::Atrn { .. } => {
                self.error(Reply::new(502, [5, 5, 1], "Command not implemented"))
            }
            // LHLO is LMTP, not SMTP.
            Request::Lhlo { .. } => self.error(unrecognized()),
        }
    }

    fn parse_error(&mut self, error: smtp_proto::Error) -> Step {
        use smtp_proto::Error;
        let reply = match error {
            Error::UnknownCommand => unrecognized(),
            Error::InvalidSenderAddress => Reply::new(501, [5, 1, 7], "Bad sender address syntax"),
            Error::InvalidRecipientAddress => {
                Reply::new(501, [5, 1, 3], "Bad recipient address syntax")
            }
            Error::SyntaxError { syntax } => {
                Reply::new(501, [5, 5, 4], format!("Syntax: {syntax}"))
            }
            Error::InvalidParameter { param } => {
                Reply::new(501, [5, 5, 4], format!("Invalid {param} parameter"))
            }
            // RFC 5321 4.1.1.11: a parameter the server does not recognise gets 555.
            Error::UnsupportedParameter { param } => {
                Reply::new(555, [5, 5, 4], format!("Unsupported parameter {param}"))
            }
            // The parser was given a whole line, so running out of data or an over-long
            // response means the line itself is malformed.
            Error::NeedsMoreData { .. }
            | Error::ResponseTooLong
            | Error::InvalidResponse { .. } => Reply::new(500, [5, 5, 2], "Syntax error"),
        };
        self.error(reply)
    }

    /// Answers a protocol error (bad syntax, bad sequence, refused command) and counts it;
    /// past the limit the client is told `421` and the connection is closed, because a client
    /// that keeps erring is broken or probing.
    pub(crate) fn error(&mut self, reply: Reply) -> Step {
        self.errors += 1;
        if self.errors > self.config.limits.max_errors {
            tracing::warn!(errors = self.errors, "too many protocol errors, closing");
            return Step::Close(self.closing([4, 7, 0], "Too many errors, closing connection"));
        }
        Step::Reply(reply)
    }

    /// A `421` reply naming this host, as RFC 5321 3.8 asks for replies that close.
    pub(crate) fn closing(&self, enhanced: [u8; 3], text: &str) -> Reply {
        Reply::new(421, enhanced, format!("{} {text}", self.config.hostname))
    }

    /// The client sent a line longer than allowed; any AUTH exchange in progress ends.
    pub(crate) fn line_too_long(&mut self) -> Step {
        self.auth_exchange = None;
        self.error(Reply::new(500, [5, 5, 6], "Line too long"))
    }

    /// The reply when the client was silent for too long.
    pub(crate) fn timeout_reply(&self) -> Reply {
        self.closing([4, 4, 2], "Timeout, closing connection")
    }

    /// The reply when the listener shuts down while the session waits for a command.
    pub(crate) fn shutdown_reply(&self) -> Reply {
        self.closing([4, 3, 2], "Service shutting down, try again later")
    }

    /// Whether AUTH may be used now: on a submission listener, over TLS, or from loopback when
    /// the configuration allows plaintext there. Otherwise AUTH is neither advertised nor
    /// accepted.
    pub(crate) fn auth_permitted(&self) -> bool {
        self.config.mode == Mode::Submission
            && (self.tls_active
                || (self.config.allow_plain_auth_on_loopback
                    && self.peer.ip().to_canonical().is_loopback()))
    }

    /// Whether STARTTLS may be used now: TLS is configured and not yet active.
    pub(crate) fn starttls_permitted(&self) -> bool {
        self.config.tls.is_some() && !self.tls_active
    }
}

/// `500 5.5.2` for a command that is not SMTP at all.
fn unrecognized() -> Reply {
    Reply::new(500, [5, 5, 2], "Command unrecognized")
}
