//! What a format reader found about one recipient, before the reason is decided.

use crate::reason::Reason;
use crate::report::Action;
use crate::status::{EnhancedStatus, ReplyCode};

#[derive(Debug, Clone, Default)]
pub struct Finding {
    pub address: Option<String>,
    pub status: Option<EnhancedStatus>,
    pub reply_code: Option<ReplyCode>,
    pub diagnostic: String,
    /// The Diagnostic-Code was written by a local delivery program (`X-Unix;`), not a server.
    pub diagnostic_from_mailer: bool,
    pub reporting_mta: Option<String>,
    pub remote_mta: Option<String>,
    pub action: Option<Action>,
    /// The reason the report's own wording settles (a queue that gave up), when it does.
    pub reason: Option<Reason>,
}
