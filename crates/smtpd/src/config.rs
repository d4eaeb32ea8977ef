//! The listener's settings: the name it greets with, TLS, limits and timeouts.
//!
//! The binary maps its own configuration file onto these types, so this crate needs no serde.

use std::time::Duration;

use sealpost_domain::limits::connection;

use crate::tls::TlsSettings;

/// Everything a running listener needs besides the socket and the backend.
#[derive(Debug, Clone)]
pub struct SmtpdConfig {
    /// The host name in the greeting, the EHLO reply and 421/221 replies.
    pub hostname: String,
    /// STARTTLS is offered only when this is set.
    pub tls: Option<TlsSettings>,
    /// Offers and accepts AUTH without TLS when the client connects from a loopback address,
    /// for an application on the same host (and for tests). Off by default: credentials
    /// otherwise never cross the network in the clear.
    pub allow_plain_auth_on_loopback: bool,
    pub mode: Mode,
    pub limits: Limits,
    pub timeouts: Timeouts,
}

impl SmtpdConfig {
    /// A configuration with the default limits and timeouts, without TLS.
    pub fn new(hostname: impl Into<String>) -> Self {
        Self {
            hostname: hostname.into(),
            tls: None,
            allow_plain_auth_on_loopback: false,
            mode: Mode::Submission,
            limits: Limits::default(),
            timeouts: Timeouts::default(),
        }
    }
}

/// What the listener is for; it decides who may send and to whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Mail submission (SPEC S8.2): only an authenticated client may start a transaction, and
    /// then to any recipient, because the tenant answers for its mail.
    Submission,
    /// Inbound mail for mailboxes of this host, such as the mail tester's addresses (SPEC
    /// S7.1): any client may send without AUTH, but only to recipients the backend accepts
    /// ([`crate::SubmissionBackend::accept_recipient`]), so the listener is never a relay.
    Inbound,
}

/// Bounds on what one client can make the listener hold or do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// The largest message accepted, in bytes after dot un-stuffing; advertised as `SIZE`.
    pub max_message_size: usize,
    /// Recipients per message; one more gets `452 4.5.3`.
    pub max_recipients: usize,
    /// Connections served at once; one more gets `421 4.7.0` and is closed.
    pub max_connections: usize,
    /// Connections from one client address (IPv6: one /64) served at once; one more gets
    /// `421 4.7.0` and is closed, so one client cannot take every connection.
    pub max_connections_per_client: usize,
    /// The longest command or AUTH line, CRLF included. RFC 5321 asks for 512 octets for
    /// commands and RFC 4954 for 12,288 for AUTH lines; the default, 4,096, is the bound of the
    /// smtp-proto receiver and leaves room for long AUTH PLAIN responses.
    pub max_line_length: usize,
    /// Protocol errors (unknown commands, bad syntax, bad sequence) answered as such; the
    /// next one is answered `421` and the connection closed.
    pub max_errors: usize,
    /// Failed AUTH attempts on one connection; the last one is answered `421` and the
    /// connection closed.
    pub max_auth_failures_per_connection: usize,
    /// Failed AUTH attempts from one client IP address, over all its connections, within
    /// `auth_failure_window`; beyond it AUTH is answered `421` without asking the backend.
    pub max_auth_failures_per_ip: usize,
    pub auth_failure_window: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_size: 25 * 1024 * 1024,
            max_recipients: 100,
            max_connections: connection::SMTP_CONNECTIONS,
            max_connections_per_client: connection::SMTP_CONNECTIONS_PER_CLIENT,
            max_line_length: 4096,
            max_errors: 10,
            max_auth_failures_per_connection: 3,
            max_auth_failures_per_ip: 10,
            auth_failure_window: Duration::from_secs(15 * 60),
        }
    }
}

/// How long the listener waits for a client, and for sessions at shutdown. Each is a total
/// deadline for one phase, not a timeout per read, so a client that sends one byte at a time
/// is cut off as surely as a silent one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeouts {
    /// One command line, from the moment the listener waits for it (idle time included) to
    /// its end; also the bound on writing a reply.
    pub command: Duration,
    /// The whole content of one message, from `354` to the final `.` line.
    pub data: Duration,
    /// The TLS handshake after `220` to STARTTLS.
    pub tls_handshake: Duration,
    /// After shutdown is signalled, how long sessions that are receiving or submitting a message
    /// may take to finish before they are cut off.
    pub shutdown_grace: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            command: connection::SMTP_COMMAND_LINE,
            data: connection::SMTP_MESSAGE,
            tls_handshake: connection::SMTP_TLS_HANDSHAKE,
            shutdown_grace: connection::SMTP_SHUTDOWN_GRACE,
        }
    }
}
