//! The SPAMC/1.5 `REPORT` exchange without I/O: the request as bytes and the answer read from
//! bytes, so that every shape of answer spamd (or something pretending to be spamd) can give is
//! tested without a socket.
//!
//! `REPORT` is the one command that returns both the verdict (the `Spam` header: verdict, score
//! and threshold) and, in its body, the table of rules hit with their scores and descriptions.
//! `SYMBOLS` names the rules but gives neither their scores nor their descriptions, and `CHECK`
//! gives only the verdict, so either would need a second round trip and a second scan.

mod error;
mod reply;
mod report;
mod request;

pub use error::ProtocolError;
pub use reply::parse_report_response;
pub use report::{SpamReport, SpamRule};
pub(crate) use request::encode_report_request;
