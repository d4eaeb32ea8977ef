//! DKIM by CNAME delegation (SPEC S11.4): instead of a TXT record, the tenant publishes
//! `<selector>._domainkey.<domain> CNAME <selector>.<encoded domain>.<tenant id>.<zone>` once per
//! selector, and Sealpost serves the zone (`dkim.<platform domain>` by default) itself, so the
//! record behind the CNAME follows the key's state without a DNS change by the tenant.
//!
//! The domain is carried in one label, encoded injectively: each hyphen is doubled and each dot
//! becomes one hyphen (`a-b.example` -> `a--b-example`). A host label never starts or ends with a
//! hyphen, so a dot's hyphen is never next to a label's hyphens: a run of one hyphen is a dot and
//! a run of 2k hyphens is k hyphens, and two domains never share an encoding. The tenant id keeps
//! tenants apart, and the selector stays in front as the labels it is.

use std::fmt;

use crate::limits::address::MAX_DOMAIN;
use crate::{DomainName, NameError, Selector, TenantId};

/// The longest DNS label (RFC 1035 section 2.3.4).
const MAX_LABEL: usize = 63;

/// The zone Sealpost serves the delegated key records from, such as `dkim.sealpost.example`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DkimZone(DomainName);

impl DkimZone {
    pub fn new(name: DomainName) -> Self {
        Self(name)
    }

    /// The default zone for a platform domain: `dkim.<platform domain>`.
    pub fn under(platform: &DomainName) -> Result<Self, NameError> {
        DomainName::parse(&format!("dkim.{platform}")).map(Self)
    }

    pub fn name(&self) -> &DomainName {
        &self.0
    }

    /// The name under which this zone serves the key record of `selector` at `domain` of
    /// `tenant`, or why it cannot exist.
    ///
    /// # Errors
    /// When the encoded domain would be longer than one label, or the whole name longer than DNS
    /// allows; the tenant then publishes the TXT record instead.
    pub fn served_name(
        &self,
        tenant: TenantId,
        domain: &DomainName,
        selector: &Selector,
    ) -> Result<String, DelegationError> {
        let label = encode_domain(domain);
        if label.len() > MAX_LABEL {
            return Err(DelegationError::DomainTooLong {
                domain: domain.to_string(),
                encoded: label.len(),
            });
        }
        let name = format!("{selector}.{label}.{tenant}.{}", self.0);
        if name.len() > MAX_DOMAIN {
            return Err(DelegationError::NameTooLong { length: name.len() });
        }
        Ok(name)
    }

    /// The CNAME the tenant publishes instead of the TXT record of `selector` at `domain`.
    ///
    /// # Errors
    /// See [`served_name`](Self::served_name).
    pub fn delegation(
        &self,
        tenant: TenantId,
        domain: &DomainName,
        selector: &Selector,
    ) -> Result<DkimDelegation, DelegationError> {
        let target = self.served_name(tenant, domain, selector)?;
        let name = format!("{selector}._domainkey.{domain}");
        let zone_line = format!("{name}. 3600 IN CNAME {target}.");
        Ok(DkimDelegation {
            name,
            target,
            zone_line,
        })
    }

    /// True when `name` (without a trailing dot, any case) is inside this zone.
    pub fn contains(&self, name: &str) -> bool {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        let zone = self.0.as_str();
        name == zone || name.ends_with(&format!(".{zone}"))
    }
}

impl fmt::Display for DkimZone {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(formatter)
    }
}

/// The CNAME record that delegates one selector's key record to Sealpost's zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DkimDelegation {
    /// `<selector>._domainkey.<domain>`, without the trailing dot.
    pub name: String,
    /// The name in Sealpost's zone, without the trailing dot.
    pub target: String,
    /// A line for a BIND-style zone file.
    pub zone_line: String,
}

/// Why a domain cannot be delegated; the TXT record still works.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DelegationError {
    #[error(
        "DKIM by CNAME delegation is not available for {domain}: its encoded name would be \
         {encoded} characters, more than the 63 one DNS label may hold; publish the TXT record"
    )]
    DomainTooLong { domain: String, encoded: usize },
    #[error(
        "DKIM by CNAME delegation is not available here: the delegated name would be {length} \
         characters, more than the 253 DNS allows; publish the TXT record"
    )]
    NameTooLong { length: usize },
}

/// The domain as one label: hyphens doubled, dots made hyphens (see the module's text).
pub fn encode_domain(domain: &DomainName) -> String {
    domain.as_str().replace('-', "--").replace('.', "-")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domain(text: &str) -> DomainName {
        DomainName::parse(text).unwrap()
    }

    fn zone() -> DkimZone {
        DkimZone::under(&domain("sealpost.example")).unwrap()
    }

    fn tenant() -> TenantId {
        "0190f2a4-0000-7000-8000-000000000001".parse().unwrap()
    }

    #[test]
    fn the_served_name_puts_selector_domain_and_tenant_under_the_zone() {
        let delegation = zone()
            .delegation(
                tenant(),
                &domain("client.example"),
                &Selector::parse("workplace").unwrap(),
            )
            .unwrap();
        assert_eq!(delegation.name, "workplace._domainkey.client.example");
        assert_eq!(
            delegation.target,
            "workplace.client-example.0190f2a4-0000-7000-8000-000000000001.dkim.sealpost.example"
        );
        assert_eq!(
            delegation.zone_line,
            format!("{}. 3600 IN CNAME {}.", delegation.name, delegation.target)
        );
    }

    #[test]
    fn the_encoding_keeps_hyphens_and_dots_apart() {
        // Without doubling, these two would both be "a-b-example".
        assert_eq!(encode_domain(&domain("a-b.example")), "a--b-example");
        assert_eq!(encode_domain(&domain("a.b.example")), "a-b-example");
        assert_eq!(encode_domain(&domain("a--b.example")), "a----b-example");
        assert_eq!(
            encode_domain(&domain("xn--bcher-kva.example")),
            "xn----bcher--kva-example"
        );
    }

    #[test]
    fn a_domain_too_long_for_one_label_is_refused_with_the_reason() {
        let long = domain(&format!("{}.example", "a".repeat(60)));
        let refused = zone()
            .served_name(tenant(), &long, &Selector::parse("s").unwrap())
            .unwrap_err();
        assert_eq!(
            refused,
            DelegationError::DomainTooLong {
                domain: long.to_string(),
                encoded: 68
            }
        );
        assert!(refused.to_string().contains("publish the TXT record"));
    }

    #[test]
    fn a_name_too_long_for_dns_is_refused() {
        let zone = DkimZone::new(domain(&format!("{0}.{0}.{0}.example", "z".repeat(50))));
        let selector = Selector::parse(&"s".repeat(63)).unwrap();
        let refused = zone
            .served_name(tenant(), &domain("client.example"), &selector)
            .unwrap_err();
        assert!(
            matches!(refused, DelegationError::NameTooLong { length } if length > 253),
            "{refused:?}"
        );
    }

    #[test]
    fn the_zone_knows_its_names() {
        assert!(zone().contains("x.dkim.sealpost.example"));
        assert!(zone().contains("DKIM.sealpost.example."));
        assert!(!zone().contains("xdkim.sealpost.example"));
        assert!(!zone().contains("sealpost.example"));
    }
}
