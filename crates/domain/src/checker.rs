//! The mail tester's records (SPEC S7): test addresses issued to a tenant and the reports of the
//! messages that arrived at them.

use crate::{CheckerReportId, MessageId, TenantId, Timestamp};

/// A test address `test-<token>@<checker domain>` issued to a tenant. The token is the
/// address's only secret: whoever knows it can send to it, and only its tenant sees the reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckerAddress {
    pub token: String,
    pub tenant_id: TenantId,
    /// The test mailing sent to it, when it was issued for one (SPEC S7.3).
    pub message_id: Option<MessageId>,
    pub created_at: Timestamp,
}

/// A message that arrived at a test address, with its analysis as a JSON document. The message
/// itself is read separately, because lists of reports do not need it.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckerReportRecord {
    pub id: CheckerReportId,
    pub token: String,
    pub tenant_id: TenantId,
    pub received_at: Timestamp,
    pub client_ip: String,
    pub helo: String,
    pub mail_from: String,
    pub score: f32,
    /// The report document (`sealpost_mail_tester::document::ReportDocument`) as JSON.
    pub report: String,
}
