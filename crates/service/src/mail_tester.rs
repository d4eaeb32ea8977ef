//! The built-in mail tester's use cases (SPEC S7): test addresses issued per tenant, the
//! analysis and storage of what arrives at them, and the closed-loop test mailing (S7.3) that
//! goes out through the normal path (signing, queue, native delivery or the tenant's relay).

use sealpost_domain::{
    CheckerAddress, CheckerReportId, CheckerReportRecord, DomainName, MessageId, TenantId,
    Timestamp,
};
use sealpost_mail_tester::Received;
use sealpost_mail_tester::document::ReportDocument;
use sealpost_store::{Page, PageRequest, StoreError};

use crate::compose::{Composition, compose};
use crate::submit::Submission;
use crate::{MailTester, ServiceError};

/// A test address stops accepting mail this long after it was issued, so that a leaked address
/// does not become a mailbox anyone can fill.
const ADDRESS_LIFETIME_SECONDS: i64 = 7 * 24 * 3600;
/// At most this many reports are kept per test address, for the same reason.
const REPORTS_PER_ADDRESS: u32 = 20;

/// How this installation's mail tester is reached.
#[derive(Debug, Clone)]
pub struct CheckerSettings {
    /// The domain of the test addresses, whose MX points at the inbound listener.
    pub domain: DomainName,
    /// SpamAssassin's spamd, when the operator runs one.
    pub spamd: Option<sealpost_spamd::SpamdClient>,
}

/// A test address as shown to the tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestAddress {
    pub token: String,
    pub address: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    /// The test mailing sent to it, if it was issued for one.
    pub message_id: Option<MessageId>,
}

/// A stored report with its document.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckerReport {
    pub record: CheckerReportRecord,
    pub address: String,
    pub document: ReportDocument,
}

/// A message at the inbound listener: the recipients it was sent to, and the message with the
/// facts of its SMTP session that the analysis reads.
#[derive(Debug, Clone, Copy)]
pub struct Arrival<'a> {
    pub recipients: &'a [String],
    pub received: Received<'a>,
}

impl MailTester {
    fn checker_settings(&self) -> Result<&CheckerSettings, ServiceError> {
        self.checker.as_ref().ok_or_else(|| {
            ServiceError::Conflict(
                "the mail tester is not set up on this installation: the operator sets \
                 [checker] domain in the configuration"
                    .to_owned(),
            )
        })
    }

    fn test_address(&self, settings: &CheckerSettings, address: &CheckerAddress) -> TestAddress {
        TestAddress {
            token: address.token.clone(),
            address: address_of(&address.token, settings.domain.as_str()),
            created_at: address.created_at,
            expires_at: Timestamp(address.created_at.0 + ADDRESS_LIFETIME_SECONDS),
            message_id: address.message_id,
        }
    }

    /// Issues a fresh test address to the tenant.
    pub async fn issue_test_address(&self, tenant: TenantId) -> Result<TestAddress, ServiceError> {
        let settings = self.checker_settings()?;
        let address = CheckerAddress {
            token: new_token(),
            tenant_id: tenant,
            message_id: None,
            created_at: self.clock.now(),
        };
        self.store
            .insert_checker_address(&address)
            .await
            .map_err(|error| match error {
                StoreError::NotFound => ServiceError::NotFound("tenant"),
                other => other.into(),
            })?;
        Ok(self.test_address(settings, &address))
    }

    /// The closed loop (SPEC S5.4, S7.3): a fresh test address and a test message from
    /// `sender` to it, submitted like any other mail, so its signing, queue and route are the
    /// ones the tenant's real mail takes. The report appears when the message arrives.
    pub async fn send_test_mailing(
        &self,
        tenant: TenantId,
        sender: &str,
    ) -> Result<TestAddress, ServiceError> {
        let mut address = self.issue_test_address(tenant).await?;
        let raw = compose(&Composition {
            from: sender.trim().to_owned(),
            to: vec![address.address.clone()],
            subject: "Sealpost test mailing".to_owned(),
            text: Some(TEST_TEXT.to_owned()),
            html: Some(TEST_HTML.to_owned()),
            ..Composition::default()
        })
        .map_err(|error| ServiceError::Invalid {
            field: "sender",
            message: error.to_string(),
        })?;
        let accepted = self
            .service()
            .submissions()
            .submit(
                tenant,
                Submission {
                    mail_from: sender.trim().to_owned(),
                    recipients: vec![address.address.clone()],
                    raw,
                    idempotency_key: None,
                    source: sealpost_domain::SubmissionSource::Mailing,
                },
            )
            .await
            .map_err(|error| match error {
                ServiceError::Invalid {
                    field: "mail_from" | "from",
                    message,
                } => ServiceError::Invalid {
                    field: "sender",
                    message,
                },
                other => other,
            })?;
        self.store
            .set_checker_address_message(tenant, &address.token, accepted.id)
            .await?;
        address.message_id = Some(accepted.id);
        Ok(address)
    }

    /// Whether the inbound listener has a mailbox for `recipient`: a test address of this
    /// installation's checker domain, issued and not expired.
    pub async fn accepts_test_recipient(&self, recipient: &str) -> Result<bool, ServiceError> {
        Ok(self.live_test_address(recipient).await?.is_some())
    }

    async fn live_test_address(
        &self,
        recipient: &str,
    ) -> Result<Option<CheckerAddress>, ServiceError> {
        let Some(settings) = self.checker.as_ref() else {
            return Ok(None);
        };
        let Some(token) = token_of(recipient, &settings.domain) else {
            return Ok(None);
        };
        let address = self.store.checker_address(&token).await?;
        let now = self.clock.now();
        Ok(address.filter(|address| now.0 < address.created_at.0 + ADDRESS_LIFETIME_SECONDS))
    }

    /// Analyses a message that arrived at the inbound listener and stores one report per
    /// test address it was sent to; returns their ids. The analysis runs once, since the
    /// message and its session are the same for every recipient.
    pub async fn receive_test_message(
        &self,
        arrival: Arrival<'_>,
    ) -> Result<Vec<CheckerReportId>, ServiceError> {
        let mut addresses: Vec<CheckerAddress> = Vec::new();
        for recipient in arrival.recipients {
            if let Some(address) = self.live_test_address(recipient).await?
                && !addresses.iter().any(|known| known.token == address.token)
            {
                addresses.push(address);
            }
        }
        if addresses.is_empty() {
            return Err(ServiceError::NotFound("test address"));
        }
        let now = self.clock.now();
        let received = arrival.received;
        let report = sealpost_mail_tester::analyse(&self.resolver, &received, now).await;
        let report = self.add_spam_filter(report, received.message).await;
        let document = ReportDocument::from(&report);
        let json = serde_json::to_string(&document)
            .map_err(|error| ServiceError::Internal(error.into()))?;
        let mut ids = Vec::with_capacity(addresses.len());
        for address in addresses {
            let kept = self
                .store
                .checker_reports(address.tenant_id, Some(&address.token), REPORTS_PER_ADDRESS)
                .await?;
            if kept.len() >= REPORTS_PER_ADDRESS as usize {
                tracing::info!(token = %address.token, "test address full, report not kept");
                continue;
            }
            let record = CheckerReportRecord {
                id: CheckerReportId::new(&self.clock),
                token: address.token.clone(),
                tenant_id: address.tenant_id,
                received_at: now,
                client_ip: received.client_ip.to_canonical().to_string(),
                helo: received.helo.to_owned(),
                mail_from: received.mail_from.to_owned(),
                score: report.score,
                report: json.clone(),
            };
            self.store
                .insert_checker_report(&record, received.message)
                .await?;
            ids.push(record.id);
        }
        Ok(ids)
    }

    /// Adds SpamAssassin's verdict when spamd is configured. A spamd that cannot be reached
    /// costs the report its spam-filter check, not the report itself: the check says why.
    async fn add_spam_filter(
        &self,
        mut report: sealpost_mail_tester::Report,
        message: &[u8],
    ) -> sealpost_mail_tester::Report {
        let Some(spamd) = self
            .checker
            .as_ref()
            .and_then(|settings| settings.spamd.as_ref())
        else {
            return report;
        };
        let verdict = spamd
            .check(message)
            .await
            .map(|answer| sealpost_mail_tester::SpamVerdict {
                score: answer.score,
                threshold: answer.threshold,
                rules: answer
                    .rules
                    .into_iter()
                    .map(|rule| (rule.name, rule.score, rule.description))
                    .collect(),
            });
        report.add_spam_filter(verdict.map_err(|error| error.to_string()));
        report
    }

    /// The tenant's newest reports; with a token, only that test address's.
    pub async fn checker_reports(
        &self,
        tenant: TenantId,
        token: Option<&str>,
        limit: u32,
    ) -> Result<Vec<CheckerReport>, ServiceError> {
        let records = self.store.checker_reports(tenant, token, limit).await?;
        records
            .into_iter()
            .map(|record| self.report(record))
            .collect()
    }

    /// One page of the tenant's reports, newest first, with how many match in all; with a
    /// token only that test address's, with a search those whose MAIL FROM, HELO name or
    /// client address contains it.
    pub async fn checker_report_page(
        &self,
        tenant: TenantId,
        token: Option<&str>,
        search: Option<&str>,
        request: &PageRequest,
    ) -> Result<Page<CheckerReport>, ServiceError> {
        let page = self
            .store
            .checker_report_page(tenant, token, search, request)
            .await?;
        let reports = page
            .items
            .into_iter()
            .map(|record| self.report(record))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page {
            items: reports,
            total: page.total,
            next: page.next,
        })
    }

    pub async fn checker_report(
        &self,
        tenant: TenantId,
        id: CheckerReportId,
    ) -> Result<CheckerReport, ServiceError> {
        let record = self
            .store
            .checker_report(tenant, id)
            .await
            .map_err(report_not_found)?;
        self.report(record)
    }

    /// The message a report was made from, exactly as it arrived.
    pub async fn checker_report_raw(
        &self,
        tenant: TenantId,
        id: CheckerReportId,
    ) -> Result<Vec<u8>, ServiceError> {
        self.store
            .checker_report_raw(tenant, id)
            .await
            .map_err(report_not_found)
    }

    fn report(&self, record: CheckerReportRecord) -> Result<CheckerReport, ServiceError> {
        let document = serde_json::from_str(&record.report).map_err(|error| {
            ServiceError::Internal(format!("stored checker report {}: {error}", record.id).into())
        })?;
        // A report outlives a change of configuration; without a checker domain now, the
        // address is shown with the placeholder `checker`.
        let domain = self
            .checker
            .as_ref()
            .map_or("checker", |settings| settings.domain.as_str());
        Ok(CheckerReport {
            address: address_of(&record.token, domain),
            record,
            document,
        })
    }
}

fn report_not_found(error: StoreError) -> ServiceError {
    match error {
        StoreError::NotFound => ServiceError::NotFound("checker report"),
        other => other.into(),
    }
}

/// The test address of a token: the one place its form is written; `token_of` reads it back.
fn address_of(token: &str, domain: &str) -> String {
    format!("test-{token}@{domain}")
}

/// 96 random bits as 24 lowercase hex digits: unguessable, and unchanged by the case folding
/// some mail systems apply to local parts.
fn new_token() -> String {
    let mut bytes = [0u8; 12];
    aws_lc_rs::rand::fill(&mut bytes).expect("the system random generator works");
    hex::encode(bytes)
}

/// The token of `test-<token>@<domain>`, when the address has that form for this domain.
fn token_of(recipient: &str, domain: &DomainName) -> Option<String> {
    let (local, host) = recipient.trim().rsplit_once('@')?;
    let host = host.trim_end_matches('.');
    if !host.eq_ignore_ascii_case(domain.as_str()) {
        return None;
    }
    let token = local
        .get(..5)
        .filter(|prefix| prefix.eq_ignore_ascii_case("test-"))?;
    let token = &local[token.len()..];
    let valid = token.len() == 24 && token.bytes().all(|byte| byte.is_ascii_hexdigit());
    valid.then(|| token.to_ascii_lowercase())
}

const TEST_TEXT: &str = "This is a test mailing sent by Sealpost to its built-in mail tester.\n\n\
It went out exactly as your application's mail does: signed with your DKIM key, queued, and \
delivered by your delivery route. The report shows how a receiving mail server sees it.\n";

const TEST_HTML: &str = "<!DOCTYPE html><html><body>\
<p>This is a test mailing sent by Sealpost to its built-in mail tester.</p>\
<p>It went out exactly as your application's mail does: signed with your DKIM key, queued, and \
delivered by your delivery route. The report shows how a receiving mail server sees it.</p>\
</body></html>\n";

#[cfg(test)]
mod tests {
    use super::token_of;
    use sealpost_domain::DomainName;

    #[test]
    fn only_well_formed_test_addresses_of_the_checker_domain_have_tokens() {
        let domain = DomainName::parse("checker.example").unwrap();
        let token = "0123456789abcdef01234567";
        assert_eq!(
            token_of(&format!("test-{token}@checker.example"), &domain).as_deref(),
            Some(token)
        );
        assert_eq!(
            token_of(
                &format!("TEST-{}@Checker.Example.", token.to_uppercase()),
                &domain
            )
            .as_deref(),
            Some(token)
        );
        for refused in [
            format!("test-{token}@other.example"),
            format!("probe-{token}@checker.example"),
            "test-0123@checker.example".to_owned(),
            "test-0123456789abcdef0123456z@checker.example".to_owned(),
            "postmaster@checker.example".to_owned(),
            "test-".to_owned(),
        ] {
            assert_eq!(token_of(&refused, &domain), None, "{refused}");
        }
    }
}
