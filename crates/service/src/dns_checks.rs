//! The DNS report of a signing domain (SPEC S3.9, S5.3): SPF for the platform's addresses, the
//! DKIM record against the domain's own key, DMARC and MX, with the platform settings the
//! operator configured; and the troubleshooting of one sender address (SPEC S5.1 to S5.3).

use sealpost_dnsauth::report::{DomainCheckRequest, DomainReport, check_domain};
use sealpost_domain::{
    DomainName, SigningDecision, SigningDomain, SigningDomainId, TenantId, decide_signing,
};

use crate::{Service, ServiceError};

/// What the support path concludes about a sender: its domains, whether the tenant would sign
/// its mail (and if not, why), and the DNS report of the From domain.
#[derive(Debug)]
pub struct SenderDiagnosis {
    pub from_domain: DomainName,
    pub mail_from_domain: DomainName,
    /// The tenant's signing domains for the From domain, active or not.
    pub from_signing_domains: Vec<SigningDomain>,
    /// The tenant's signing domains for the MAIL FROM domain, active or not.
    pub mail_from_signing_domains: Vec<SigningDomain>,
    /// `None` when the tenant signs; otherwise why not, as a sentence.
    pub unsigned_reason: Option<String>,
    pub report: DomainReport,
}

fn address_domain(field: &'static str, address: &str) -> Result<DomainName, ServiceError> {
    let domain = address.trim().rsplit_once('@').map(|(_, domain)| domain);
    let domain = domain.ok_or_else(|| ServiceError::Invalid {
        field,
        message: format!("{address:?} is not an e-mail address"),
    })?;
    DomainName::parse(domain).map_err(|error| ServiceError::invalid(field, error))
}

impl Service {
    /// Checks everything a signing domain needs published. The DKIM record is compared with the
    /// domain's key when it has one.
    pub async fn check_signing_domain_dns(
        &self,
        tenant: TenantId,
        id: SigningDomainId,
    ) -> Result<DomainReport, ServiceError> {
        let signing_domain = self.signing_domain(tenant, id).await?;
        let request = DomainCheckRequest {
            domain: signing_domain.domain.as_str(),
            selector: Some(signing_domain.selector.as_str()),
            public_key_der: signing_domain
                .key
                .as_ref()
                .map(|key| key.public_key_der.as_slice()),
            mail_from_domain: None,
            platform: self.platform.as_ref(),
        };
        Ok(check_domain(&self.resolver, request, self.clock.now()).await)
    }

    /// The troubleshooting path for one sender (SPEC S5): the sender domain, whether the From
    /// and MAIL FROM domains are active signing domains (the same decision signing makes), and
    /// the DKIM record, SPF and DMARC of the From domain. `mail_from` defaults to `from`.
    pub async fn diagnose_sender(
        &self,
        tenant: TenantId,
        from: &str,
        mail_from: Option<&str>,
    ) -> Result<SenderDiagnosis, ServiceError> {
        let from_domain = address_domain("from", from)?;
        let mail_from_domain = match mail_from.filter(|address| !address.trim().is_empty()) {
            Some(address) => address_domain("mail_from", address)?,
            None => from_domain.clone(),
        };
        let signing_domains = self.list_signing_domains(tenant).await?;
        let decision = decide_signing(&from_domain, &mail_from_domain, &signing_domains);
        // The key to compare the published record with: the one that signs, else the newest
        // key of the From domain, so an inactive domain's record can be checked before
        // activation.
        let checked = match &decision {
            SigningDecision::Sign(domain) => Some(*domain),
            SigningDecision::Unsigned(_) => signing_domains
                .iter()
                .filter(|candidate| candidate.domain == from_domain && candidate.key.is_some())
                .max_by_key(|candidate| candidate.key.as_ref().map(|key| key.created_at)),
        };
        let request = DomainCheckRequest {
            domain: from_domain.as_str(),
            selector: checked.map(|domain| domain.selector.as_str()),
            public_key_der: checked
                .and_then(|domain| domain.key.as_ref())
                .map(|key| key.public_key_der.as_slice()),
            mail_from_domain: Some(mail_from_domain.as_str()),
            platform: self.platform.as_ref(),
        };
        let report = check_domain(&self.resolver, request, self.clock.now()).await;
        let unsigned_reason = match &decision {
            SigningDecision::Sign(_) => None,
            SigningDecision::Unsigned(reason) => Some(reason.to_string()),
        };
        let matching = |domain: &DomainName| {
            signing_domains
                .iter()
                .filter(|candidate| &candidate.domain == domain)
                .cloned()
                .collect()
        };
        Ok(SenderDiagnosis {
            from_signing_domains: matching(&from_domain),
            mail_from_signing_domains: matching(&mail_from_domain),
            from_domain,
            mail_from_domain,
            unsigned_reason,
            report,
        })
    }
}
