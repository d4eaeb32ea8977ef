//! Whether a message is signed by the tenant, and with which signing domain (SPEC S4.1): only when
//! the domain of the `From:` header and the domain of the envelope MAIL FROM are both active
//! signing domains of the tenant. Otherwise the message goes out unsigned by the tenant, and the
//! reason, naming the domain at fault, is recorded on the message.

use std::fmt;

use crate::{DomainName, Selector, SigningDomain, SigningKey};

/// What was decided about signing a message, from the decision to the stored row and back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SigningRecord {
    /// Signed with the signing domain's key under this domain and selector.
    Signed {
        domain: DomainName,
        selector: Selector,
    },
    Unsigned(UnsignedReason),
}

impl SigningRecord {
    /// The record of a message signed by `signing_domain` with its `key`.
    pub fn signed_by(signing_domain: &SigningDomain, key: &SigningKey) -> Self {
        Self::Signed {
            domain: signing_domain.domain.clone(),
            selector: key.selector.clone(),
        }
    }

    pub fn is_signed(&self) -> bool {
        matches!(self, Self::Signed { .. })
    }
}

/// Why the tenant does not sign a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnsignedReason {
    FromDomainUnknown(DomainName),
    FromDomainInactive(DomainName),
    MailFromDomainUnknown(DomainName),
    MailFromDomainInactive(DomainName),
}

/// How one reason is coded and worded: "the {role} domain {domain} {tail}". One table, so the
/// wording that is stored is the wording that is read back.
struct Form {
    code: &'static str,
    role: &'static str,
    tail: &'static str,
    make: fn(DomainName) -> UnsignedReason,
}

const NOT_SIGNING: &str = "is not one of the tenant's signing domains";
const INACTIVE: &str = "is a signing domain, but it is not active";

const FORMS: [Form; 4] = [
    Form {
        code: "from_domain_not_a_signing_domain",
        role: "From",
        tail: NOT_SIGNING,
        make: UnsignedReason::FromDomainUnknown,
    },
    Form {
        code: "from_domain_inactive",
        role: "From",
        tail: INACTIVE,
        make: UnsignedReason::FromDomainInactive,
    },
    Form {
        code: "mail_from_domain_not_a_signing_domain",
        role: "MAIL FROM",
        tail: NOT_SIGNING,
        make: UnsignedReason::MailFromDomainUnknown,
    },
    Form {
        code: "mail_from_domain_inactive",
        role: "MAIL FROM",
        tail: INACTIVE,
        make: UnsignedReason::MailFromDomainInactive,
    },
];

impl UnsignedReason {
    fn form(&self) -> (&'static Form, &DomainName) {
        match self {
            Self::FromDomainUnknown(domain) => (&FORMS[0], domain),
            Self::FromDomainInactive(domain) => (&FORMS[1], domain),
            Self::MailFromDomainUnknown(domain) => (&FORMS[2], domain),
            Self::MailFromDomainInactive(domain) => (&FORMS[3], domain),
        }
    }

    /// A stable code for APIs and metrics.
    pub fn code(&self) -> &'static str {
        self.form().0.code
    }

    /// The domain at fault.
    pub fn domain(&self) -> &DomainName {
        self.form().1
    }

    /// The reason as stored: its [`code`](Self::code) and its text. `None` when the two do not
    /// make one of the reasons.
    pub fn parse(code: &str, text: &str) -> Option<Self> {
        let form = FORMS.iter().find(|form| form.code == code)?;
        let written = text
            .strip_prefix("the ")?
            .strip_prefix(form.role)?
            .strip_prefix(" domain ")?
            .strip_suffix(form.tail)?
            .strip_suffix(' ')?;
        // Only a text as `Display` wrote it parses: the domain in its stored form.
        let domain = DomainName::parse(written).ok()?;
        (domain.as_str() == written).then(|| (form.make)(domain))
    }
}

impl fmt::Display for UnsignedReason {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (form, domain) = self.form();
        write!(formatter, "the {} domain {domain} {}", form.role, form.tail)
    }
}

/// Decides for a message whose author domain is `from` and envelope sender domain is
/// `mail_from`. Domains compare exactly: a subdomain needs its own signing domain, because its
/// key record lives under its own name. When a tenant has the domain as several active signing
/// domains, the one whose active key is newest signs: `Ok` is the signing domain and its key.
pub fn decide<'a>(
    from: &DomainName,
    mail_from: &DomainName,
    signing_domains: &'a [SigningDomain],
) -> Result<(&'a SigningDomain, &'a SigningKey), UnsignedReason> {
    let active = |domain: &DomainName| {
        signing_domains
            .iter()
            .filter(|candidate| &candidate.domain == domain)
            .filter_map(|candidate| Some((candidate, candidate.signing_key()?)))
            .max_by_key(|(_, key)| key.created_at)
    };
    let known = |domain: &DomainName| {
        signing_domains
            .iter()
            .any(|candidate| &candidate.domain == domain)
    };
    let Some(signing_domain) = active(from) else {
        return Err(if known(from) {
            UnsignedReason::FromDomainInactive(from.clone())
        } else {
            UnsignedReason::FromDomainUnknown(from.clone())
        });
    };
    if active(mail_from).is_none() {
        return Err(if known(mail_from) {
            UnsignedReason::MailFromDomainInactive(mail_from.clone())
        } else {
            UnsignedReason::MailFromDomainUnknown(mail_from.clone())
        });
    }
    Ok(signing_domain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        DnsStatus, KeyId, KeyOrigin, KeyState, Selector, SigningDomainId, SigningKey, SystemClock,
        TenantId, Timestamp,
    };

    fn signing_domain(domain: &str, selector: &str, active: bool, key_time: i64) -> SigningDomain {
        SigningDomain {
            id: SigningDomainId::new(&SystemClock),
            tenant_id: TenantId::new(&SystemClock),
            domain: DomainName::parse(domain).unwrap(),
            selector: Selector::parse(selector).unwrap(),
            active,
            keys: vec![
                SigningKey {
                    id: KeyId::new(&SystemClock),
                    selector: Selector::parse("retired").unwrap(),
                    state: KeyState::Retiring,
                    state_since: Timestamp(key_time),
                    forced: false,
                    algorithm: crate::KeyAlgorithm::Rsa,
                    public_key_der: vec![1],
                    bits: 2048,
                    origin: KeyOrigin::Generated,
                    created_at: Timestamp(key_time + 10),
                },
                SigningKey {
                    id: KeyId::new(&SystemClock),
                    selector: Selector::parse(selector).unwrap(),
                    state: KeyState::Active,
                    state_since: Timestamp(key_time),
                    forced: false,
                    algorithm: crate::KeyAlgorithm::Rsa,
                    public_key_der: vec![1],
                    bits: 2048,
                    origin: KeyOrigin::Generated,
                    created_at: Timestamp(key_time),
                },
            ],
            dns: DnsStatus::new(Timestamp(0)),
            records: Vec::new(),
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
        let outcome = decide(&name(from), &name(mail_from), domains)
            .map(|(_, key)| key.selector.as_str().to_owned())
            .map_err(|reason| {
                assert_eq!(
                    UnsignedReason::parse(reason.code(), &reason.to_string()),
                    Some(reason.clone()),
                    "a stored reason reads back as itself"
                );
                reason.to_string()
            });
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

    #[test]
    fn stored_reasons_that_do_not_parse() {
        let text = "the From domain client.example is not one of the tenant's signing domains";
        assert!(UnsignedReason::parse("from_domain_not_a_signing_domain", text).is_some());
        assert_eq!(UnsignedReason::parse("from_domain_inactive", text), None);
        assert_eq!(UnsignedReason::parse("unknown_code", text), None);
        assert_eq!(
            UnsignedReason::parse("from_domain_not_a_signing_domain", "not signed"),
            None
        );
        let upper = "the From domain CLIENT.example is not one of the tenant's signing domains";
        assert_eq!(
            UnsignedReason::parse("from_domain_not_a_signing_domain", upper),
            None
        );
    }
}
