//! Whether a message is signed by the tenant, and with which signing domain (SPEC S4.1): only when
//! the domain of the `From:` header and the domain of the envelope MAIL FROM are both active
//! signing domains of the tenant. Otherwise the message goes out unsigned by the tenant, and the
//! reason, naming the domain at fault, is recorded on the message.

use std::fmt;

use crate::{DomainName, SigningDomain};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SigningDecision<'a> {
    /// Sign with this signing domain (the one of the From domain).
    Sign(&'a SigningDomain),
    Unsigned(UnsignedReason),
}

/// Why the tenant does not sign a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnsignedReason {
    FromDomainUnknown(DomainName),
    FromDomainInactive(DomainName),
    MailFromDomainUnknown(DomainName),
    MailFromDomainInactive(DomainName),
}

impl UnsignedReason {
    /// A stable code for APIs and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Self::FromDomainUnknown(_) => "from_domain_not_a_signing_domain",
            Self::FromDomainInactive(_) => "from_domain_inactive",
            Self::MailFromDomainUnknown(_) => "mail_from_domain_not_a_signing_domain",
            Self::MailFromDomainInactive(_) => "mail_from_domain_inactive",
        }
    }
}

impl fmt::Display for UnsignedReason {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::FromDomainUnknown(domain) => write!(
                formatter,
                "the From domain {domain} is not one of the tenant's signing domains"
            ),
            Self::FromDomainInactive(domain) => write!(
                formatter,
                "the From domain {domain} is a signing domain, but it is not active"
            ),
            Self::MailFromDomainUnknown(domain) => write!(
                formatter,
                "the MAIL FROM domain {domain} is not one of the tenant's signing domains"
            ),
            Self::MailFromDomainInactive(domain) => write!(
                formatter,
                "the MAIL FROM domain {domain} is a signing domain, but it is not active"
            ),
        }
    }
}

/// Decides for a message whose author domain is `from` and envelope sender domain is
/// `mail_from`. Domains compare exactly: a subdomain needs its own signing domain, because its
/// key record lives under its own name. When a domain has several active signing domains (a key
/// rotation in progress), the one with the newest key signs.
pub fn decide<'a>(
    from: &DomainName,
    mail_from: &DomainName,
    signing_domains: &'a [SigningDomain],
) -> SigningDecision<'a> {
    let active = |domain: &DomainName| {
        signing_domains
            .iter()
            .filter(|candidate| &candidate.domain == domain && candidate.active)
            .filter(|candidate| candidate.key.is_some())
            .max_by_key(|candidate| candidate.key.as_ref().map(|key| key.created_at))
    };
    let known = |domain: &DomainName| {
        signing_domains
            .iter()
            .any(|candidate| &candidate.domain == domain)
    };
    let Some(signing_domain) = active(from) else {
        return SigningDecision::Unsigned(if known(from) {
            UnsignedReason::FromDomainInactive(from.clone())
        } else {
            UnsignedReason::FromDomainUnknown(from.clone())
        });
    };
    if active(mail_from).is_none() {
        return SigningDecision::Unsigned(if known(mail_from) {
            UnsignedReason::MailFromDomainInactive(mail_from.clone())
        } else {
            UnsignedReason::MailFromDomainUnknown(mail_from.clone())
        });
    }
    SigningDecision::Sign(signing_domain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{KeyId, KeyOrigin, Selector, SigningDomainId, SigningKey, TenantId, Timestamp};

    fn signing_domain(domain: &str, selector: &str, active: bool, key_time: i64) -> SigningDomain {
        SigningDomain {
            id: SigningDomainId::new(),
            tenant_id: TenantId::new(),
            domain: DomainName::parse(domain).unwrap(),
            selector: Selector::parse(selector).unwrap(),
            active,
            key: Some(SigningKey {
                id: KeyId::new(),
                public_key_der: vec![1],
                bits: 2048,
                origin: KeyOrigin::Generated,
                created_at: Timestamp(key_time),
            }),
            version: 1,
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
        }
    }

    fn name(text: &str) -> DomainName {
        DomainName::parse(text).unwrap()
    }

    #[track_caller]
    fn check(domains: &[SigningDomain], from: &str, mail_from: &str, expected: Result<&str, &str>) {
        let decision = decide(&name(from), &name(mail_from), domains);
        let outcome = match decision {
            SigningDecision::Sign(domain) => Ok(domain.selector.as_str().to_owned()),
            SigningDecision::Unsigned(reason) => Err(reason.to_string()),
        };
        assert_eq!(outcome, expected.map(str::to_owned).map_err(str::to_owned));
    }

    #[test]
    fn decisions() {
        let domains = [
            signing_domain("client.example", "old", true, 1),
            signing_domain("client.example", "new", true, 2),
            signing_domain("bounce.client.example", "workplace", true, 1),
            signing_domain("paused.example", "workplace", false, 1),
        ];
        check(&domains, "client.example", "client.example", Ok("new"));
        check(
            &domains,
            "client.example",
            "bounce.client.example",
            Ok("new"),
        );
        check(
            &domains,
            "other.example",
            "client.example",
            Err("the From domain other.example is not one of the tenant's signing domains"),
        );
        check(
            &domains,
            "paused.example",
            "client.example",
            Err("the From domain paused.example is a signing domain, but it is not active"),
        );
        check(
            &domains,
            "client.example",
            "platform.example",
            Err("the MAIL FROM domain platform.example is not one of the tenant's signing domains"),
        );
        check(
            &domains,
            "client.example",
            "paused.example",
            Err("the MAIL FROM domain paused.example is a signing domain, but it is not active"),
        );
        check(
            &domains,
            "sub.client.example",
            "client.example",
            Err("the From domain sub.client.example is not one of the tenant's signing domains"),
        );
    }
}
