//! The SMTP submission listener (SPEC S8.2): the only place Sealpost speaks server-side SMTP.
//!
//! The application hands mail over with EHLO, STARTTLS, AUTH PLAIN or LOGIN, MAIL, RCPT and
//! DATA. smtpd parses with smtp-proto, keeps the session state without I/O (`session` and
//! `command/`), runs the socket in `connection` and accepts in `server`. It never accepts
//! mail from a client that has not authenticated, and answers 250 to DATA only after
//! [`SubmissionBackend::submit`] has stored the message (SPEC S9.3). It has no database: the
//! service implements [`SubmissionBackend`].

mod address;
mod backend;
mod command;
mod config;
mod connection;
/// Not an API: the fuzz targets' entry to the session (`fuzz/`, `crates/fuzz-replay`).
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod input;
mod limiter;
mod message;
mod reply;
mod server;
mod session;
mod tls;

pub use backend::{
    BackendError, Identity, ReceivedEnvelope, Rejection, SubmissionBackend, SubmitError,
};
pub use config::{Limits, Mode, SmtpdConfig, Timeouts};
pub use server::serve;
pub use tls::{TlsError, TlsSettings, self_signed_tls};
pub use tokio_util::sync::CancellationToken;
