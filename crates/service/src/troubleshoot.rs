//! The support path of SPEC S5 as one call, for the one screen and the one command: the sender
//! domain (S5.1), whether the From and MAIL FROM domains are active signing domains of the
//! tenant (S5.2), and the DNS report of the domain that signs (S5.3: DKIM record, SPF, DMARC with
//! alignment). Sending the test mailing (S5.4) is `send_test_mailing`, and the raw source with
//! its verification (S5.5) is on each message.

use sealpost_dkim::Mailbox;
use sealpost_dnsauth::report::{DomainCheckRequest, DomainReport, check_domain};
use sealpost_domain::{DomainName, SigningDomain, TenantId};

use crate::{Messages, ServiceError};

/// How one domain stands among the tenant's signing domains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainStanding {
    /// Active with a key: it signs.
    Active(SigningDomain),
    /// Present but switched off, or without a key.
    Inactive(SigningDomain),
    /// Not a signing domain of the tenant.
    Unknown,
}

/// Everything S5.1 to S5.3 find for one sender.
#[derive(Debug, Clone)]
pub struct Troubleshooting {
    /// The sender address as checked.
    pub sender: String,
    /// S5.1: the domain of the From address.
    pub sender_domain: DomainName,
    pub mail_from: String,
    pub mail_from_domain: DomainName,
    /// S5.2.
    pub from_standing: DomainStanding,
    pub mail_from_standing: DomainStanding,
    /// Why the tenant would not sign this sender's mail; `None` when it signs.
    pub unsigned_reason: Option<String>,
    /// S5.3: the DNS report of the From domain, compared with its key when it has one, with the
    /// MAIL FROM domain's alignment.
    pub dns: DomainReport,
}

impl Messages {
    /// Runs the support path for `sender`, with `mail_from` as the envelope sender (the sender
    /// itself by default, as the application usually sends).
    pub async fn troubleshoot(
        &self,
        tenant: TenantId,
        sender: &str,
        mail_from: Option<&str>,
    ) -> Result<Troubleshooting, ServiceError> {
        let parse = |field: &'static str, text: &str| {
            Mailbox::parse(text.trim()).map_err(|error| ServiceError::Invalid {
                field,
                message: error.to_string(),
            })
        };
        let from = parse("sender", sender)?;
        let envelope = match mail_from {
            Some(text) if !text.trim().is_empty() => parse("mail_from", text)?,
            _ => from.clone(),
        };
        let domains = self
            .service()
            .signing_domains()
            .list_signing_domains(tenant)
            .await?;
        let standing = |domain: &DomainName| {
            let mut candidates: Vec<&SigningDomain> = domains
                .iter()
                .filter(|candidate| &candidate.domain == domain)
                .collect();
            // The one that signs wins; among the rest, the newest.
            candidates
                .sort_by_key(|candidate| (candidate.signing_key().is_some(), candidate.updated_at));
            match candidates.last() {
                Some(found) if found.signing_key().is_some() => {
                    DomainStanding::Active((*found).clone())
                }
                Some(found) => DomainStanding::Inactive((*found).clone()),
                None => DomainStanding::Unknown,
            }
        };
        let from_standing = standing(&from.domain);
        let mail_from_standing = standing(&envelope.domain);
        let unsigned_reason =
            match sealpost_domain::decide_signing(&from.domain, &envelope.domain, &domains) {
                Ok(_) => None,
                Err(reason) => Some(reason.to_string()),
            };
        let signing_domain = match &from_standing {
            DomainStanding::Active(domain) | DomainStanding::Inactive(domain) => Some(domain),
            DomainStanding::Unknown => None,
        };
        let request = DomainCheckRequest {
            domain: from.domain.as_str(),
            selector: signing_domain.map(|domain| {
                domain
                    .current_key()
                    .map_or(domain.selector.as_str(), |key| key.selector.as_str())
            }),
            public_key_der: signing_domain
                .and_then(|domain| domain.current_key())
                .map(|key| key.public_key_der.as_slice()),
            mail_from_domain: Some(envelope.domain.as_str()),
            platform: self.platform.as_ref(),
            delegated_name: None,
        };
        let dns = check_domain(&self.resolver, request, self.clock.now()).await;
        Ok(Troubleshooting {
            sender: from.to_string(),
            sender_domain: from.domain.clone(),
            mail_from: envelope.to_string(),
            mail_from_domain: envelope.domain.clone(),
            from_standing,
            mail_from_standing,
            unsigned_reason,
            dns,
        })
    }
}
