//! The DNS report of a signing domain (SPEC S3.9, S5.3): SPF for the platform's addresses, the
//! DKIM record against the domain's own key, DMARC and MX, with the platform settings the
//! operator configured.

use sealpost_dnsauth::report::{DomainCheckRequest, DomainReport, check_domain};
use sealpost_domain::{SigningDomainId, TenantId};

use crate::{ServiceError, SigningDomains};

impl SigningDomains {
    /// Checks everything a signing domain needs published ("Check now"). The keys' records are
    /// re-checked first and what follows is committed (a published pending key is promoted, the
    /// DNS state and the last check are recorded), then the report compares the DKIM record with
    /// the current key: the active one, else the newest pending one.
    pub async fn check_signing_domain_dns(
        &self,
        tenant: TenantId,
        id: SigningDomainId,
    ) -> Result<DomainReport, ServiceError> {
        let signing_domain = self.recheck_domain(tenant, id).await?.domain;
        let key = signing_domain.current_key();
        let selector = key.map_or(&signing_domain.selector, |key| &key.selector);
        let delegated =
            self.delegated_name(signing_domain.tenant_id, &signing_domain.domain, selector);
        let request = DomainCheckRequest {
            domain: signing_domain.domain.as_str(),
            selector: Some(key.map_or(signing_domain.selector.as_str(), |key| {
                key.selector.as_str()
            })),
            public_key_der: key.map(|key| key.public_key_der.as_slice()),
            mail_from_domain: None,
            platform: self.platform.as_ref(),
            delegated_name: delegated.as_deref(),
        };
        Ok(check_domain(&self.resolver, request, self.clock.now()).await)
    }
}
