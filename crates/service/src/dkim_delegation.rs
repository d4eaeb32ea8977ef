//! DKIM by CNAME delegation (SPEC S11.4) as the service sees it: the name in the platform's DKIM
//! zone a CNAME must point at, whether a domain has delegated, and the CNAME records of the
//! hand-off. The zone itself is served by `sealpost-dkimzone`.

use sealpost_domain::{
    DelegationError, DkimDelegation, DomainName, KeyAlgorithm, Selector, SigningDomain, TenantId,
};

use crate::Context;

impl Context {
    /// The name under which the platform's zone serves the record of `selector` at `domain`;
    /// `None` when the platform serves no zone or the name cannot exist.
    pub(crate) fn delegated_name(
        &self,
        tenant: TenantId,
        domain: &DomainName,
        selector: &Selector,
    ) -> Option<String> {
        let zone = self.dkim_zone.as_ref()?;
        zone.served_name(tenant, domain, selector).ok()
    }

    /// The CNAMEs a tenant publishes once to delegate the keys of `algorithm`: one per selector
    /// the keys alternate between. `None` when the platform serves no zone.
    pub(crate) fn delegations(
        &self,
        domain: &SigningDomain,
        algorithm: KeyAlgorithm,
    ) -> Option<Result<Vec<DkimDelegation>, DelegationError>> {
        let zone = self.dkim_zone.as_ref()?;
        Some(
            domain
                .delegation_selectors(algorithm)
                .iter()
                .map(|selector| zone.delegation(domain.tenant_id, &domain.domain, selector))
                .collect(),
        )
    }

    /// Whether DNS shows the domain's first selector of `algorithm` delegated to the platform's
    /// zone: its name is a CNAME to the served name. A new key then takes a delegation selector,
    /// so the rotation needs no DNS change.
    pub(crate) async fn is_delegated(
        &self,
        domain: &SigningDomain,
        algorithm: KeyAlgorithm,
    ) -> bool {
        let Some(first) = domain.delegation_selectors(algorithm).into_iter().next() else {
            return false;
        };
        let Some(expected) = self.delegated_name(domain.tenant_id, &domain.domain, &first) else {
            return false;
        };
        let name = format!("{first}._domainkey.{}", domain.domain);
        self.resolver
            .cname_chain(&name)
            .await
            .first()
            .is_some_and(|target| target.trim_end_matches('.').eq_ignore_ascii_case(&expected))
    }
}
