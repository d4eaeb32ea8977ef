//! The mail tester's test address and the report of a message that arrived at it (SPEC S4).

use sealpost_mail_tester::document::ReportDocument;
use sealpost_service::{CheckerReport, TestAddress};
use serde::Serialize;
#[cfg(feature = "openapi")]
use utoipa::ToSchema;

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TestAddressView {
    /// `test-<token>@<checker domain>`: send a message here and its report appears.
    pub address: String,
    pub token: String,
    pub created_at: i64,
    /// Mail to the address is refused after this time.
    pub expires_at: i64,
    /// The test mailing sent to it, for the closed loop.
    pub message_id: Option<String>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CheckerReportView {
    pub id: String,
    /// The test address the message arrived at.
    pub address: String,
    pub received_at: i64,
    /// The connecting SMTP client's address, HELO name and MAIL FROM.
    pub client_ip: String,
    pub helo: String,
    pub mail_from: String,
    pub report: ReportDocument,
}

impl From<TestAddress> for TestAddressView {
    fn from(address: TestAddress) -> Self {
        Self {
            address: address.address,
            token: address.token,
            created_at: address.created_at.0,
            expires_at: address.expires_at.0,
            message_id: address.message_id.map(|id| id.to_string()),
        }
    }
}

impl From<CheckerReport> for CheckerReportView {
    fn from(report: CheckerReport) -> Self {
        Self {
            id: report.record.id.to_string(),
            address: report.address,
            received_at: report.record.received_at.0,
            client_ip: report.record.client_ip,
            helo: report.record.helo,
            mail_from: report.record.mail_from,
            report: report.document,
        }
    }
}
