//! A client for SpamAssassin's spamd, so that the built-in mail tester can show how a
//! content filter would score a message and which rules it hit.
//!
//! The crate is split the way the rest of Sealpost splits protocols: `protocol` builds the
//! request and reads the answer without any I/O, so every malformed answer can be tested with a
//! byte string, and `client` is the one place that opens a connection to spamd.
//!
//! The integration tests start a real spamd on loopback, so they need the Debian packages
//! `spamassassin` (the rules) and `spamd` (the daemon); they fail, rather than skip, without them.

mod client;
mod protocol;
#[cfg(feature = "testing")]
pub mod testing;

pub use client::{DEFAULT_MAX_MESSAGE_SIZE, SpamdClient, SpamdError};
pub use protocol::{ProtocolError, SpamReport, SpamRule};

/// Not an API: the reply parser alone, for the fuzz target `spamd_reply` (`fuzz/`) and its
/// corpus replay (`crates/fuzz-replay`).
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub use protocol::parse_report_response;
